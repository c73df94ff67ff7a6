/**
 * The transaction coordinator's shard (Kafka's TransactionStateManager, for
 * one partition of `__transaction_state`): the metadata of the transactional
 * ids of that partition, rebuilt from it at load and kept in memory as the
 * authority afterwards.
 *
 * Writes. An operation prepares a transition on an id's metadata
 * (transaction-metadata.ts: the metadata is then pending) and hands the
 * target to `appendTransition`, which writes it as the id's record
 * (replayRecords: false: the metadata, not the replay, is the state) and, once
 * written, completes the transition; a failed write aborts it, so the state is
 * as before. The append error is mapped as Kafka's appendTransactionToLog
 * maps it for the client: a missing partition or topic COORDINATOR_NOT_AVAILABLE,
 * a storage failure NOT_COORDINATOR, a record too large and anything else
 * UNKNOWN_SERVER_ERROR. A shard unloaded meanwhile completes nothing and
 * answers NOT_COORDINATOR.
 *
 * Replay (loading only): a value record puts the id's metadata, a tombstone
 * removes it; the latest record of each id wins (every record is the id's
 * whole state). Once loaded, transactions found in PrepareCommit or
 * PrepareAbort have their markers written again (`onLoadedPrepared`, the
 * coordinator's), as Kafka's load does.
 *
 * Timers: the abort of timed-out transactions every
 * transaction.abort.timed.out.transaction.cleanup.interval.ms and the removal
 * of expired transactional ids every
 * transaction.remove.expired.transaction.cleanup.interval.ms (both the
 * coordinator's tasks, run per shard).
 */
import { ErrorCode } from '../../../protocol/index.js';
import type { Logger } from '../../logger.js';
import type { CoordinatorShard, ShardContext } from '../coordinator-shard.js';
import type { TransactionConfig } from './transaction-config.js';
import type { TransactionMetadata, TxnTransitMetadata } from './transaction-metadata.js';
import { metadataOf, type TransactionLogRecord } from './transaction-records.js';
import { isExpirationAllowed } from './transaction-state.js';

/** What the coordinator gives each shard. */
export interface TransactionShardHooks {
  /** A loaded transaction in PrepareCommit/PrepareAbort: write its markers and complete it. */
  onLoadedPrepared(shard: TransactionCoordinatorShard, metadata: TransactionMetadata): void;
  /** Runs every abort interval: abort the shard's timed-out transactions. */
  abortTimedOut(shard: TransactionCoordinatorShard, now: number): void;
}

/** Kafka's mapping of a failed transaction log append to the client's error. */
export function appendErrorToClient(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

export class TransactionCoordinatorShard implements CoordinatorShard<TransactionLogRecord> {
  /** The metadata of each transactional id of this partition. */
  readonly transactions = new Map<string, TransactionMetadata>();
  private unloaded = false;

  constructor(
    private readonly ctx: ShardContext<TransactionLogRecord>,
    readonly config: TransactionConfig,
    readonly log: Logger,
    private readonly hooks: TransactionShardHooks,
  ) {}

  get partition(): number {
    return this.ctx.partition;
  }

  get isUnloaded(): boolean {
    return this.unloaded;
  }

  replay(record: TransactionLogRecord): void {
    if (record.value === null) this.transactions.delete(record.transactionalId);
    else this.transactions.set(record.transactionalId, metadataOf(record.transactionalId, record.value));
  }

  onLoaded(): void {
    for (const m of this.transactions.values()) {
      if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') this.hooks.onLoadedPrepared(this, m);
    }
    this.ctx.timer.scheduleRepeating('abort-timed-out-transactions', this.config.abortTimedOutTransactionsIntervalMs, () => this.hooks.abortTimedOut(this, Date.now()));
    this.ctx.timer.scheduleRepeating('remove-expired-transactional-ids', this.config.removeExpiredTransactionalIdsIntervalMs, () => {
      void this.removeExpired(Date.now());
    });
  }

  onUnloaded(): void {
    this.unloaded = true;
    this.transactions.clear();
  }

  /** Schedules a task of this shard (cancelled when it unloads). */
  schedule(key: string, delayMs: number, task: () => void): void {
    this.ctx.timer.schedule(key, delayMs, task);
  }

  /**
   * Writes a prepared transition as the id's record, then completes it on the
   * metadata (or aborts it when the write failed). Resolves to the client's
   * error code (NONE once complete).
   */
  async appendTransition(metadata: TransactionMetadata, transit: TxnTransitMetadata): Promise<number> {
    const { errorCode } = await this.ctx.write({
      records: [{ transactionalId: metadata.transactionalId, value: transit }],
      response: undefined,
      replayRecords: false,
      sync: this.config.syncWrites,
    });
    if (this.unloaded || this.transactions.get(metadata.transactionalId) !== metadata) return ErrorCode.NOT_COORDINATOR;
    if (errorCode !== ErrorCode.NONE) {
      metadata.abortPendingTransition();
      this.log.info({ transactionalId: metadata.transactionalId, state: transit.txnState, error: errorCode }, 'transaction log append failed');
      return appendErrorToClient(errorCode);
    }
    metadata.completeTransitionTo(transit);
    return ErrorCode.NONE;
  }

  /**
   * Removes the ids that may expire (Empty, CompleteCommit, CompleteAbort, no
   * transition pending) and have seen no update for
   * transactional.id.expiration.ms: each goes Dead, its tombstone is written,
   * then it is forgotten (a failed write takes it back to its state). Resolves
   * to the number removed.
   */
  async removeExpired(now: number): Promise<number> {
    const expired: Array<{ metadata: TransactionMetadata; transit: TxnTransitMetadata }> = [];
    for (const m of this.transactions.values()) {
      if (!isExpirationAllowed(m.state) || m.pendingTransitionInProgress) continue;
      if (m.txnLastUpdateTimestamp > now - this.config.transactionalIdExpirationMs) continue;
      expired.push({ metadata: m, transit: m.prepareDead() });
    }
    if (expired.length === 0) return 0;
    const { errorCode } = await this.ctx.write({
      records: expired.map(({ metadata }) => ({ transactionalId: metadata.transactionalId, value: null })),
      response: undefined,
      replayRecords: false,
      sync: false,
    });
    let removed = 0;
    for (const { metadata } of expired) {
      if (this.unloaded || this.transactions.get(metadata.transactionalId) !== metadata) continue;
      if (errorCode === ErrorCode.NONE && metadata.pendingState === 'Dead') {
        this.transactions.delete(metadata.transactionalId);
        removed++;
      } else {
        metadata.abortPendingTransition();
      }
    }
    if (errorCode !== ErrorCode.NONE) this.log.warn({ partition: this.partition, error: errorCode }, 'failed to write the tombstones of expired transactional ids');
    else if (removed > 0) this.log.info({ partition: this.partition, removed }, 'removed expired transactional ids');
    return removed;
  }
}
