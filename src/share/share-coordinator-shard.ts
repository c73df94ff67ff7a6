/**
 * One partition of `__share_group_state` (Kafka's ShareCoordinatorShard): the
 * persisted state of the share-partitions whose key hashes to it, rebuilt by
 * replaying its ShareSnapshot and ShareUpdate records, changed only by its own
 * writes (the coordinator runtime's cycle: compute the records, append them,
 * replay them, answer).
 *
 * The state of a share-partition is its last snapshot with the updates after
 * it merged in (state-batch-combiner.ts). A write becomes a ShareUpdate with
 * just the batches that changed, or, once share.coordinator.snapshot.update.
 * records.per.snapshot updates followed the last snapshot (or for the first
 * write of a share-partition), a ShareSnapshot of the whole merged state with
 * the next snapshot epoch. Initialize writes a snapshot at the new state
 * epoch; delete writes tombstones for both keys.
 *
 * Fencing, as Kafka's: a write or read whose leader epoch is below the held
 * one gets FENCED_LEADER_EPOCH; a write or initialize whose state epoch is
 * below the held one gets FENCED_STATE_EPOCH (-1 epochs are not checked).
 *
 * Writes of one share-partition run one after the other (each is computed
 * against the state its predecessor left, which a snapshot needs: computed
 * in parallel, a snapshot would miss the batches of an update still in
 * flight). Writes of different share-partitions pipeline through the log.
 *
 * Pruning: the records a share-partition needs start at its last snapshot;
 * every share.coordinator.state.topic.prune.interval.ms the shard moves its
 * partition's log start offset up to the oldest such snapshot (to the end
 * when no share-partition has state), as Kafka's ShareCoordinatorService
 * prunes with DeleteRecords.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { CoordinatorResult, CoordinatorShard, ShardContext } from '../coordinator/coordinator-shard.js';
import type { Logger } from '../logger.js';
import type { PersistedShareState, ShareStateWrite } from './persister-state-batch.js';
import type { RecordState } from './record-state.js';
import { combineStateBatches } from './state-batch-combiner.js';
import { UNKNOWN_DELIVERY_COMPLETE_COUNT, type SharePartitionKey, type ShareStateRecord, type StateBatch } from './share-state-records.js';

export interface ShareCoordinatorConfig {
  /** share.coordinator.snapshot.update.records.per.snapshot */
  readonly updatesPerSnapshot: number;
  /** share.coordinator.state.topic.prune.interval.ms */
  readonly pruneIntervalMs: number;
}

/** The merged state of one share-partition, as the shard holds it. */
export interface ShareStateEntry {
  readonly snapshotEpoch: number;
  readonly stateEpoch: number;
  readonly leaderEpoch: number;
  readonly startOffset: number;
  readonly deliveryCompleteCount: number;
  readonly createTimestamp: number;
  readonly stateBatches: readonly StateBatch[];
  /** ShareUpdate records since the last snapshot. */
  readonly updatesSinceSnapshot: number;
  /** The offset of the last snapshot: where the records this share-partition needs start. */
  readonly snapshotOffset: number;
}

/** An answer of one share-partition: its error code (0 none) and message. */
export interface PartitionAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const OK: PartitionAnswer = { errorCode: ErrorCode.NONE, errorMessage: null };

function keyOf(k: SharePartitionKey): string {
  return `${k.group}\u0000${k.topicId}\u0000${k.partition}`;
}

export interface ShareShardDeps {
  readonly config: ShareCoordinatorConfig;
  readonly logger: Logger;
  /** Moves this partition's log start offset up to `offset` (DeleteRecords). */
  prune(partition: number, offset: number): Promise<unknown>;
  /** This partition's high watermark (the end to prune to when nothing is needed). */
  highWatermark(partition: number): number;
  now(): number;
}

export class ShareCoordinatorShard implements CoordinatorShard<ShareStateRecord> {
  private readonly states = new Map<string, ShareStateEntry>();
  /** The tail of each share-partition's chain of writes. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly context: ShardContext<ShareStateRecord>,
    private readonly deps: ShareShardDeps,
  ) {}

  // ---- replay

  replay(record: ShareStateRecord, offset: number): void {
    const key = keyOf(record);
    if (record.type === 'share-snapshot') {
      const v = record.value;
      if (v === null) {
        this.states.delete(key);
        return;
      }
      this.states.set(key, {
        snapshotEpoch: v.snapshotEpoch,
        stateEpoch: v.stateEpoch,
        leaderEpoch: v.leaderEpoch,
        startOffset: v.startOffset,
        deliveryCompleteCount: v.deliveryCompleteCount,
        createTimestamp: v.createTimestamp,
        stateBatches: combineStateBatches([], v.stateBatches, v.startOffset),
        updatesSinceSnapshot: 0,
        snapshotOffset: offset,
      });
      return;
    }
    const v = record.value;
    const current = this.states.get(key);
    // a tombstone of the update key comes with the snapshot's; an update without a snapshot is not ours to read
    if (v === null || current === undefined) return;
    const startOffset = v.startOffset === -1 ? current.startOffset : v.startOffset;
    this.states.set(key, {
      ...current,
      leaderEpoch: v.leaderEpoch,
      startOffset,
      deliveryCompleteCount: v.deliveryCompleteCount,
      stateBatches: combineStateBatches(current.stateBatches, v.stateBatches, startOffset),
      updatesSinceSnapshot: current.updatesSinceSnapshot + 1,
    });
  }

  onLoaded(): void {
    this.context.timer.scheduleRepeating('prune', this.deps.config.pruneIntervalMs, () => void this.prune());
  }

  onUnloaded(): void {
    this.states.clear();
  }

  // ---- reads

  /** The held state, or undefined when the share-partition has none. */
  state(k: SharePartitionKey): ShareStateEntry | undefined {
    return this.states.get(keyOf(k));
  }

  /** ReadShareGroupState: start offset -1 and no batches when nothing is held (the first fetch initializes it). */
  read(k: SharePartitionKey, leaderEpoch: number): PartitionAnswer & { state?: PersistedShareState } {
    const s = this.states.get(keyOf(k));
    if (s === undefined) return { ...OK, state: { startOffset: -1, stateEpoch: 0, stateBatches: [] } };
    if (leaderEpoch !== -1 && leaderEpoch < s.leaderEpoch) return fenced('FENCED_LEADER_EPOCH', ErrorCode.FENCED_LEADER_EPOCH);
    return {
      ...OK,
      state: {
        startOffset: s.startOffset,
        stateEpoch: s.stateEpoch,
        stateBatches: s.stateBatches.map((b) => ({ ...b, deliveryState: b.deliveryState as RecordState })),
      },
    };
  }

  // ---- writes

  /** WriteShareGroupState of one share-partition. */
  write(k: SharePartitionKey, w: ShareStateWrite & { leaderEpoch: number }): Promise<PartitionAnswer> {
    return this.serialized(k, () => {
      const s = this.states.get(keyOf(k));
      if (s !== undefined) {
        if (w.leaderEpoch !== -1 && w.leaderEpoch < s.leaderEpoch) return fenced('FENCED_LEADER_EPOCH', ErrorCode.FENCED_LEADER_EPOCH);
        if (w.stateEpoch !== -1 && w.stateEpoch < s.stateEpoch) return fenced('FENCED_STATE_EPOCH', ErrorCode.FENCED_STATE_EPOCH);
      }
      const batches: StateBatch[] = w.stateBatches.map((b) => ({ firstOffset: b.firstOffset, lastOffset: b.lastOffset, deliveryState: b.deliveryState, deliveryCount: b.deliveryCount }));
      const leaderEpoch = w.leaderEpoch === -1 ? (s?.leaderEpoch ?? 0) : w.leaderEpoch;
      if (s === undefined || s.updatesSinceSnapshot >= this.deps.config.updatesPerSnapshot) {
        const startOffset = w.startOffset === -1 ? (s?.startOffset ?? -1) : w.startOffset;
        return this.snapshot(k, {
          snapshotEpoch: s === undefined ? 0 : s.snapshotEpoch + 1,
          stateEpoch: w.stateEpoch === -1 ? (s?.stateEpoch ?? 0) : w.stateEpoch,
          leaderEpoch,
          startOffset,
          deliveryCompleteCount: w.deliveryCompleteCount,
          createTimestamp: s?.createTimestamp ?? this.deps.now(),
          stateBatches: combineStateBatches(s?.stateBatches ?? [], batches, startOffset),
        });
      }
      const record: ShareStateRecord = {
        type: 'share-update',
        ...k,
        value: { snapshotEpoch: s.snapshotEpoch, leaderEpoch, startOffset: w.startOffset, deliveryCompleteCount: w.deliveryCompleteCount, stateBatches: batches },
      };
      return this.append([record]);
    });
  }

  /** InitializeShareGroupState: a fresh snapshot at the state epoch, with the start offset (-1: chosen at the first fetch). */
  initialize(k: SharePartitionKey, stateEpoch: number, startOffset: number): Promise<PartitionAnswer> {
    return this.serialized(k, () => {
      const s = this.states.get(keyOf(k));
      if (s !== undefined && stateEpoch < s.stateEpoch) return fenced('FENCED_STATE_EPOCH', ErrorCode.FENCED_STATE_EPOCH);
      return this.snapshot(k, {
        snapshotEpoch: s === undefined ? 0 : s.snapshotEpoch + 1,
        stateEpoch,
        leaderEpoch: -1,
        startOffset,
        deliveryCompleteCount: UNKNOWN_DELIVERY_COMPLETE_COUNT,
        createTimestamp: this.deps.now(),
        stateBatches: [],
      });
    });
  }

  /** DeleteShareGroupState: tombstones for the snapshot and update keys. */
  delete(k: SharePartitionKey): Promise<PartitionAnswer> {
    return this.serialized(k, () => {
      if (!this.states.has(keyOf(k))) return OK;
      return this.append([
        { type: 'share-snapshot', ...k, value: null },
        { type: 'share-update', ...k, value: null },
      ]);
    });
  }

  private snapshot(k: SharePartitionKey, v: Omit<ShareStateEntry, 'updatesSinceSnapshot' | 'snapshotOffset'>): Promise<PartitionAnswer> {
    return this.append([{ type: 'share-snapshot', ...k, value: { ...v, writeTimestamp: this.deps.now() } }]);
  }

  /** Appends durably (fdatasync before the answer) and replays. */
  private async append(records: ShareStateRecord[]): Promise<PartitionAnswer> {
    const result: CoordinatorResult<PartitionAnswer, ShareStateRecord> = { records, response: OK, sync: true };
    const outcome = await this.context.write(result);
    if (outcome.errorCode === ErrorCode.NONE) return OK;
    return { errorCode: appendErrorCode(outcome.errorCode), errorMessage: null };
  }

  private serialized(k: SharePartitionKey, op: () => PartitionAnswer | Promise<PartitionAnswer>): Promise<PartitionAnswer> {
    const key = keyOf(k);
    const before = this.chains.get(key) ?? Promise.resolve();
    const run = before.then(op, op);
    const tail = run.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return run;
  }

  // ---- pruning

  /** The offset below which no share-partition of this shard needs a record. */
  prunableOffset(): number {
    let min = this.deps.highWatermark(this.context.partition);
    for (const s of this.states.values()) min = Math.min(min, s.snapshotOffset);
    return min;
  }

  private async prune(): Promise<void> {
    // not while writes are in flight: their records are not replayed yet
    if (this.chains.size > 0) return;
    try {
      await this.deps.prune(this.context.partition, this.prunableOffset());
    } catch (err) {
      this.deps.logger.warn({ err, partition: this.context.partition }, 'pruning __share_group_state failed');
    }
  }
}

function fenced(message: string, errorCode: number): PartitionAnswer {
  return { errorCode, errorMessage: message };
}

/** A failed append as the share coordinator answers it (Kafka's ShareCoordinatorService maps the same way). */
function appendErrorCode(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}
