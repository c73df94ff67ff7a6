/**
 * ProducerStateManager: the producer state (producer-state.ts) of every partition this broker appends to,
 * kept in step with the log, so idempotent producers' retries are de-duplicated and their sequences checked.
 *
 * - Produce appends go through `append`: the batches are checked against the state and appended by one
 *   synchronous run (PartitionLog.append writes before its first await, and the broker is one thread), so
 *   no other append to the partition can come between the check and the write; the state is updated right
 *   after the write, before the append's fdatasync, so a retry arriving meanwhile is already recognised.
 *   The produce pipeline (produce-pipeline.ts) passes the batches as validation parsed them
 *   (`opts.batches`): the checks use those fields, and the log gets them too, so neither reads the headers
 *   again; an append given only as bytes (tests, benchmarks) has its headers read here.
 * - State is loaded lazily, at the first append to a partition after start: the newest snapshot
 *   (producer-snapshot.ts) at or below the log's recovery point (the log end after a clean shutdown; newer
 *   ones are kept but not used) that names no batch at or past its own offset
 *   (others are removed with a WARN: the state is derived from the log, never trusted over it), minus
 *   producers idle past producer.id.expiration.ms, then the batch headers of the log after the snapshot offset (from the log
 *   start when there is none). A rebuild that read batches is snapshotted at the log end offset right away.
 * - Snapshots are written when an append rolls a new segment (at its base offset, with the state before the
 *   append) and at close (at the log end offset, when anything was appended since the last one). Storage
 *   deletes the snapshot at a segment's base offset with the segment; each new snapshot prunes older ones
 *   that are not at a segment base or lie below the first segment.
 * - A truncated log (end offset below what the state has seen) is reloaded from the snapshots; appends made
 *   outside `append` are read back from the log before the next check.
 * - Idle producers are removed every producer.id.expiration.check.interval.ms (never one with an ongoing
 *   transaction).
 *
 * Transactions (Kafka's ProducerStateManager ongoingTxns, UnifiedLog's marker append):
 * - Each partition keeps its ongoing transactions, producer id -> first offset, in the order they began
 *   (which is first-offset order: a transaction begins at the log end). The last stable offset (LSO) is the
 *   first offset of the earliest one, or the high watermark when there is none (`lastStableOffset`).
 * - A transactional batch is appended only when `verifyTransaction` accepts it (the transaction coordinator
 *   knows the producer's transaction includes the partition); otherwise INVALID_TXN_STATE, as before there
 *   was a coordinator, or the error the coordinator names (INVALID_PRODUCER_EPOCH for a fenced producer).
 * - `appendTxnMarker` is the one way a COMMIT or ABORT marker enters a log: it checks the marker against the
 *   producer (epoch, coordinator epoch), appends the control batch, completes the transaction, and for an
 *   abort records it in the `.txnindex` of the marker's segment with the LSO as of right after the marker
 *   (PartitionLog.appendAbortedTxn), all in the synchronous run of the append.
 * - When the log start moves (retention, DeleteRecords: PartitionLog.onLogStartMoved, and once after each
 *   load), a transaction that began below it and whose producer has no data at or above it stops being
 *   ongoing; one with data above it holds the LSO at the log start. Producer entries themselves stay until
 *   they expire (Kafka 3.9).
 * - Snapshots carry each producer's ongoing transaction and coordinator epoch (version 2); replay reads
 *   transactional batches and markers like appends do and writes every abort it meets into the .txnindex
 *   again (skipped when there), which rebuilds what an unclean shutdown lost.
 */
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, RECORD_BATCH_OVERHEAD, buildTransactionMarkerBatch, entrySizeAt, readBatchHeader, readTransactionMarker } from '../../protocol/records/index.js';
import { nodeFs, writeFileAtomic, type AppendBatch, type AppendInfo, type AppendOptions, type PartitionLog, type StorageFs } from '../../storage/index.js';
import type { Logger } from '../logger.js';
import { decodeSnapshot, encodeSnapshot, parseSnapshotFileName, snapshotFileName } from './producer-snapshot.js';
import {
  applyMarker,
  checkAppend,
  checkMarker,
  incrementSequence,
  isExpired,
  producerBatchesFrom,
  producerBatchesOf,
  recordBatch,
  removeExpired,
  type BatchMetadata,
  type BatchProducerFields,
  type CompletedTxn,
  type ProducerBatch,
  type ProducerEntry,
  type ProducerTable,
  type TransactionVerification,
} from './producer-state.js';

export interface ProducerStateOptions {
  readonly logger: Logger;
  /** producer.id.expiration.ms */
  readonly expirationMs: number;
  /** producer.id.expiration.check.interval.ms */
  readonly expirationCheckIntervalMs: number;
  readonly fs?: StorageFs;
  readonly clock?: () => number;
  /** False for a log no longer served (its topic was deleted): its state is dropped. */
  readonly isLive?: (log: PartitionLog) => boolean;
  /**
   * Whether a transactional batch of this producer (id, epoch) may be appended to `log`: the transaction
   * coordinator has the partition in the producer's ongoing transaction. Without it every transactional
   * batch is refused with INVALID_TXN_STATE. See TransactionVerification for the answer.
   */
  readonly verifyTransaction?: (log: PartitionLog, producerId: number, producerEpoch: number) => TransactionVerification;
}

/** A producer of a partition as DescribeProducers reports it. */
export interface ActiveProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastTimestamp: number;
  readonly coordinatorEpoch: number;
  readonly currentTxnStartOffset: number;
}

/** A COMMIT or ABORT marker the transaction coordinator writes to one partition (appendTxnMarker). */
export interface TxnMarker {
  readonly commit: boolean;
  readonly producerId: number;
  /** The producer epoch the transaction ends with (the coordinator's, possibly bumped). */
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
}

export interface TxnMarkerAppendOptions {
  /** The partition leader epoch stamped on the marker batch. */
  readonly leaderEpoch: number;
  /** Resolve only after fdatasync. */
  readonly sync?: boolean;
  /** The marker's timestamp (default: the clock). */
  readonly timestamp?: number;
}

export interface TxnMarkerAppendInfo {
  /** The marker's offset. */
  readonly offset: number;
  /** The transaction the marker completed (its first offset is the marker's own when it had no data here). */
  readonly completed: CompletedTxn;
  /** The partition's last stable offset right after the marker. */
  readonly lastStableOffset: number;
}

export interface ProducerAppendOptions extends AppendOptions {
  /** The append's batches with the header fields validation parsed (passed on to the log as they are). */
  batches?: readonly (AppendBatch & BatchProducerFields)[];
  /**
   * Called once the batches are in the log (before any fdatasync) or found to be duplicates: from then on a
   * later append cannot come before this one (loading the producer state first may yield).
   */
  written?: () => void;
}

export interface ProducerAppendInfo extends AppendInfo {
  /**
   * True when the append repeated a batch already in the log: nothing was appended, and the offsets and
   * appendTime (the original batch's maxTimestamp) are the original's.
   */
  readonly duplicate: boolean;
}

interface PartitionProducers {
  readonly log: PartitionLog;
  readonly table: ProducerTable;
  /** The state reflects every batch below this offset. */
  mapEndOffset: number;
  /** Base offset of the active segment when last seen: a change after an append is a roll. */
  activeBase: number;
  /** Offset of the latest snapshot written or loaded, -1 for none. */
  lastSnapshotOffset: number;
  /** Snapshot writes of this partition, one after another. */
  writes: Promise<void>;
  /** Ongoing transactions: producer id -> first offset, in first-offset order (Map insertion order). */
  readonly ongoing: Map<number, number>;
}

/** Bytes read per step when rebuilding state from the log. */
const REPLAY_CHUNK_BYTES = 1024 * 1024;

export class ProducerStateManager {
  private readonly partitions = new Map<PartitionLog, PartitionProducers>();
  private readonly loading = new Map<PartitionLog, Promise<PartitionProducers>>();
  /** The logs whose log-start moves this manager follows, with the unsubscribe function. */
  private readonly startSubscriptions = new Map<PartitionLog, () => void>();
  private readonly writes = new Set<Promise<void>>();
  private readonly fs: StorageFs;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly expirationMs: number;
  private readonly isLive: (log: PartitionLog) => boolean;
  private readonly verifyTransaction: ((log: PartitionLog, producerId: number, producerEpoch: number) => TransactionVerification) | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(opts: ProducerStateOptions) {
    this.fs = opts.fs ?? nodeFs;
    this.clock = opts.clock ?? Date.now;
    this.logger = opts.logger;
    this.expirationMs = opts.expirationMs;
    this.isLive = opts.isLive ?? (() => true);
    this.verifyTransaction = opts.verifyTransaction;
    this.timer = setInterval(() => this.removeExpiredProducers(), opts.expirationCheckIntervalMs);
    this.timer.unref();
  }

  /**
   * Appends a Produce request's batches (as PartitionLog.append) after checking them against the
   * partition's producer state. A duplicate of a retained batch is not appended: the answer carries the
   * original batch's offsets (once they are fdatasync'ed when `opts.sync` asks for it). Throws
   * ProduceValidationError (INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_TXN_STATE) or the
   * log's StorageError.
   */
  async append(log: PartitionLog, batches: Buffer, opts: ProducerAppendOptions): Promise<ProducerAppendInfo> {
    let pp = this.partitions.get(log);
    while (pp === undefined || pp.mapEndOffset !== log.logEndOffset) pp = await this.ready(log);
    // From here until log.append returns nothing yields: the checks see exactly the log this append extends.
    const producerBatches = opts.batches !== undefined ? producerBatchesFrom(opts.batches) : producerBatchesOf(batches);
    const firstOffset = log.logEndOffset;
    if (producerBatches.length > 0) {
      const verify = this.verifyTransaction;
      const duplicate = checkAppend(pp.table, producerBatches, firstOffset, `${log.topic}-${log.partition}`, verify && ((id, epoch) => verify(log, id, epoch)));
      if (duplicate !== undefined) {
        opts.written?.();
        return this.answerDuplicate(log, duplicate, opts.sync === true);
      }
    }
    const appending = log.append(batches, opts);
    this.afterWrite(pp, producerBatches, firstOffset, opts.logAppendTime);
    opts.written?.();
    const info = await appending;
    // (a literal, not a spread: object spreads on this path left objects that V8 promoted to the old generation)
    return {
      baseOffset: info.baseOffset,
      lastOffset: info.lastOffset,
      appendTime: info.appendTime,
      logStartOffset: info.logStartOffset,
      recordCount: info.recordCount,
      sizeInBytes: info.sizeInBytes,
      duplicate: false,
    };
  }

  /**
   * Appends a COMMIT or ABORT marker for `marker.producerId`'s transaction to `log` (the transaction
   * coordinator's write, Kafka's WriteTxnMarkers append): checks it against the producer's state (a producer
   * epoch below the partition's: INVALID_PRODUCER_EPOCH; a coordinator epoch below the producer's last
   * marker's: TRANSACTION_COORDINATOR_FENCED, both as ProduceValidationError, nothing written), appends the
   * control batch, completes the transaction and, for an abort, records it in the .txnindex. Resolves once
   * the marker is in the log (and fdatasync'ed with `sync`); the LSO has moved before it resolves.
   */
  async appendTxnMarker(log: PartitionLog, marker: TxnMarker, opts: TxnMarkerAppendOptions): Promise<TxnMarkerAppendInfo> {
    let pp = this.partitions.get(log);
    while (pp === undefined || pp.mapEndOffset !== log.logEndOffset) pp = await this.ready(log);
    // From here until log.append returns nothing yields (as in append).
    const offset = log.logEndOffset;
    const timestamp = opts.timestamp ?? this.clock();
    const stored = { ...marker, timestamp };
    checkMarker(pp.table, stored, offset, `${log.topic}-${log.partition}`);
    const batch = buildTransactionMarkerBatch({ ...marker, timestamp });
    const appending = log.append(batch, { leaderEpoch: opts.leaderEpoch, sync: opts.sync === true });
    this.afterWrite(pp, [], offset, undefined);
    if (log.logEndOffset === offset) {
      await appending; // nothing written: the append failed, and this rejects
      throw new Error(`marker append to ${log.topic}-${log.partition} wrote nothing`);
    }
    const completed = this.completeTxn(pp, applyMarker(pp.table, stored, offset));
    const lastStableOffset = this.lsoOf(pp);
    await appending;
    return { offset, completed, lastStableOffset };
  }

  /**
   * The partition's last stable offset: the first offset of its earliest ongoing transaction, or the high
   * watermark (producer state loaded first if needed).
   */
  async lastStableOffset(log: PartitionLog): Promise<number> {
    let pp = this.partitions.get(log);
    while (pp === undefined || pp.mapEndOffset !== log.logEndOffset) pp = await this.ready(log);
    return this.lsoOf(pp);
  }

  /** The last stable offset when the partition's producer state is loaded and current, else undefined (no I/O). */
  lastStableOffsetIfLoaded(log: PartitionLog): number | undefined {
    const pp = this.partitions.get(log);
    return pp === undefined || pp.mapEndOffset !== log.logEndOffset ? undefined : this.lsoOf(pp);
  }

  /**
   * The partition's producers as DescribeProducers answers them (Kafka's activeProducers): epoch, last sequence
   * of the last retained batch (-1 when none), last append timestamp, coordinator epoch of the last marker,
   * first offset of the ongoing transaction (-1 when none). Loaded if needed.
   */
  async activeProducers(log: PartitionLog): Promise<ActiveProducer[]> {
    let pp = this.partitions.get(log);
    while (pp === undefined || pp.mapEndOffset !== log.logEndOffset) pp = await this.ready(log);
    return [...pp.table.values()].map((e) => ({
      producerId: e.producerId,
      producerEpoch: e.epoch,
      lastSequence: e.batches[e.batches.length - 1]?.lastSeq ?? -1,
      lastTimestamp: e.lastTimestamp,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: e.currentTxnFirstOffset,
    }));
  }

  /** The ongoing transactions of a partition, producer id -> first offset, earliest first (loaded if needed). */
  async ongoingTransactions(log: PartitionLog): Promise<ReadonlyMap<number, number>> {
    let pp = this.partitions.get(log);
    while (pp === undefined || pp.mapEndOffset !== log.logEndOffset) pp = await this.ready(log);
    return pp.ongoing;
  }

  private lsoOf(pp: PartitionProducers): number {
    // (no iterator when nothing is ongoing: every Fetch answer asks)
    if (pp.ongoing.size === 0) return pp.log.highWatermark;
    // a transaction that began below the log start but has data at or above it holds the LSO at the log start
    for (const first of pp.ongoing.values()) return Math.max(first, pp.log.logStartOffset);
    return pp.log.highWatermark;
  }

  /**
   * The log start moved forward (retention, DeleteRecords; Kafka's onLogStartOffsetIncremented and the
   * transaction part of the older truncateHead): an ongoing transaction that began below it and whose
   * producer has no data at or above it is no longer ongoing here (its records are gone; a later marker
   * completes it as an empty one, a later batch opens it again at that batch). Producer entries stay until
   * producer.id.expiration.ms, as in Kafka 3.9, so idempotent producers see no change. Entries of the first
   * segment's .txnindex below the start are left in the file and never read (collectAbortedTransactions).
   */
  private onLogStartMoved(pp: PartitionProducers, logStartOffset: number): void {
    for (const [producerId, first] of pp.ongoing) {
      if (first >= logStartOffset) break; // (first-offset order)
      const entry = pp.table.get(producerId);
      const lastData = entry?.batches[entry.batches.length - 1]?.lastOffset ?? -1;
      if (lastData >= logStartOffset) continue;
      pp.ongoing.delete(producerId);
      if (entry !== undefined) entry.currentTxnFirstOffset = -1;
    }
    if (pp.mapEndOffset < logStartOffset) pp.mapEndOffset = logStartOffset;
  }

  /** Follows `log`'s log-start moves while its state is kept here. */
  private followLogStart(log: PartitionLog): void {
    if (this.startSubscriptions.has(log)) return;
    const unsubscribe = log.onLogStartMoved((logStartOffset) => {
      const pp = this.partitions.get(log);
      if (pp !== undefined) this.onLogStartMoved(pp, logStartOffset);
    });
    this.startSubscriptions.set(log, unsubscribe);
  }

  private forget(log: PartitionLog): void {
    this.partitions.delete(log);
    this.startSubscriptions.get(log)?.();
    this.startSubscriptions.delete(log);
  }

  /**
   * Ends a completed transaction: an abort goes into the .txnindex with the LSO it leaves (the first offset of
   * the earliest other ongoing transaction, else the marker's offset + 1: Kafka's lastStableOffset(completedTxn)),
   * then the transaction leaves the ongoing ones.
   */
  private completeTxn(pp: PartitionProducers, txn: CompletedTxn): CompletedTxn {
    if (txn.aborted) {
      let lso = txn.lastOffset + 1;
      for (const [id, first] of pp.ongoing) {
        if (id !== txn.producerId) {
          lso = first;
          break;
        }
      }
      pp.log.appendAbortedTxn({ producerId: txn.producerId, firstOffset: txn.firstOffset, lastOffset: txn.lastOffset, lastStableOffset: lso });
    }
    pp.ongoing.delete(txn.producerId);
    return txn;
  }

  /** The producer state of a partition (loaded if needed), for inspection. */
  async producersOf(log: PartitionLog): Promise<ReadonlyMap<number, Readonly<ProducerEntry>>> {
    let pp = this.partitions.get(log);
    while (pp === undefined || pp.mapEndOffset !== log.logEndOffset) pp = await this.ready(log);
    return pp.table;
  }

  /** Removes producers idle for producer.id.expiration.ms, and the state of logs no longer served; returns how many producers. */
  removeExpiredProducers(now = this.clock()): number {
    let removed = 0;
    for (const [log, pp] of this.partitions) {
      if (!this.isLive(log)) {
        this.forget(log);
        continue;
      }
      removed += removeExpired(pp.table, now, this.expirationMs);
    }
    if (removed > 0) this.logger.debug({ removed }, 'expired idle producer ids');
    return removed;
  }

  /** Snapshots every partition appended to since its last snapshot, and waits for all snapshot writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.loading.values()]);
    for (const [log, pp] of this.partitions) {
      if (!this.isLive(log) || log.offlineError !== null) continue;
      if (pp.mapEndOffset === log.logEndOffset && pp.lastSnapshotOffset !== pp.mapEndOffset) this.snapshot(pp, pp.mapEndOffset);
    }
    await Promise.all([...this.writes]);
    for (const unsubscribe of this.startSubscriptions.values()) unsubscribe();
    this.startSubscriptions.clear();
  }

  private async answerDuplicate(log: PartitionLog, dup: BatchMetadata, sync: boolean): Promise<ProducerAppendInfo> {
    // acks=all: the original may still be waiting for its fdatasync; answer no earlier than it is answered.
    if (sync && log.recoveryPoint <= dup.lastOffset) await log.flush();
    return {
      baseOffset: dup.firstOffset,
      lastOffset: dup.lastOffset,
      appendTime: dup.timestamp,
      logStartOffset: log.logStartOffset,
      recordCount: 0,
      sizeInBytes: 0,
      duplicate: true,
    };
  }

  /** Right after log.append's synchronous write: snapshot on a roll, then record the appended batches. */
  private afterWrite(pp: PartitionProducers, batches: readonly ProducerBatch[], firstOffset: number, logAppendTime: number | undefined): void {
    const log = pp.log;
    const base = log.activeSegmentBaseOffset;
    if (base !== pp.activeBase) {
      pp.activeBase = base;
      // The append rolled a segment starting at its first offset: snapshot the state as of that offset.
      if (base === firstOffset) this.snapshot(pp, base);
    }
    const end = log.logEndOffset;
    if (end === firstOffset) return; // nothing written: the append failed (its promise rejects)
    for (const b of batches) {
      const first = firstOffset + b.relativeOffset;
      if (recordBatch(pp.table, b.producerId, b.epoch, b.firstSeq, b.lastSeq, first, first + b.lastOffsetDelta, logAppendTime ?? b.maxTimestamp, b.transactional)) {
        pp.ongoing.set(b.producerId, first);
      }
    }
    pp.mapEndOffset = end;
  }

  /** One catch-up per log at a time; concurrent appends wait for the same one. */
  private ready(log: PartitionLog): Promise<PartitionProducers> {
    let loading = this.loading.get(log);
    if (loading === undefined) {
      loading = this.catchUp(log).finally(() => this.loading.delete(log));
      this.loading.set(log, loading);
    }
    return loading;
  }

  private async catchUp(log: PartitionLog): Promise<PartitionProducers> {
    let pp = this.partitions.get(log);
    if (pp !== undefined && log.logEndOffset < pp.mapEndOffset) {
      this.logger.info({ topic: log.topic, partition: log.partition, logEndOffset: log.logEndOffset, stateEndOffset: pp.mapEndOffset }, 'log truncated: reloading producer state');
      this.partitions.delete(log);
      pp = undefined;
    }
    const fresh = pp === undefined;
    pp ??= this.loadSnapshot(log);
    const from = pp.mapEndOffset;
    await this.replay(pp);
    this.partitions.set(log, pp);
    this.followLogStart(log);
    if (fresh) {
      // the log start may lie above the snapshot (DeleteRecords inside a segment) or have moved while no
      // state was loaded: the snapshot's transactions below it are checked as a move would have
      this.onLogStartMoved(pp, log.logStartOffset);
      this.logger.debug({ topic: log.topic, partition: log.partition, snapshot: pp.lastSnapshotOffset, replayedFrom: from, producers: pp.table.size }, 'producer state loaded');
      if (pp.mapEndOffset > from) this.snapshot(pp, pp.mapEndOffset);
    }
    return pp;
  }

  /** State from the newest usable snapshot; snapshots past the log end or below the first segment are removed. */
  private loadSnapshot(log: PartitionLog): PartitionProducers {
    const end = log.logEndOffset;
    const firstBase = log.segmentBaseOffsets[0] ?? log.logStartOffset;
    const now = this.clock();
    const offsets = this.snapshotOffsets(log.dir).sort((a, b) => b - a);
    const table: ProducerTable = new Map();
    let loaded = -1;
    for (const offset of offsets) {
      const path = `${log.dir}/${snapshotFileName(offset)}`;
      if (offset > end || offset < firstBase) {
        if (offset > end) this.logger.warn({ path, logEndOffset: end }, 'producer state snapshot beyond the log end, removing it');
        this.unlink(path);
        continue;
      }
      // Above the recovery point (an unclean shutdown) the .txnindex entries of the aborts below the snapshot
      // may not have reached the disk: replay from a snapshot at or below it, so those are written again.
      if (loaded >= 0 || offset > log.recoveryPoint) continue;
      try {
        const entries = decodeSnapshot(this.fs.readFile(path));
        // A snapshot holds the state of the batches below its offset: one naming a batch at or past it (or
        // past the log end) would answer retries as duplicates of batches the log does not hold; one naming a
        // transaction that begins there would hold the LSO at an offset the log does not have.
        const beyond = entries.find((e) => e.batches.some((b) => b.lastOffset >= offset || b.firstOffset > b.lastOffset) || e.currentTxnFirstOffset >= offset);
        if (beyond !== undefined) throw new Error(`producer ${beyond.producerId} has a batch at or beyond the snapshot offset ${offset}`);
        for (const e of entries) if (!isExpired(e, now, this.expirationMs)) table.set(e.producerId, e);
        loaded = offset;
      } catch (err) {
        this.logger.warn({ path, err: (err as Error).message }, 'unreadable producer state snapshot, removing it');
        table.clear();
        this.unlink(path);
      }
    }
    const ongoing = new Map<number, number>();
    const open = [...table.values()].filter((e) => e.currentTxnFirstOffset >= 0).sort((a, b) => a.currentTxnFirstOffset - b.currentTxnFirstOffset);
    for (const e of open) ongoing.set(e.producerId, e.currentTxnFirstOffset);
    return {
      log,
      table,
      mapEndOffset: loaded >= 0 ? loaded : log.logStartOffset,
      activeBase: log.activeSegmentBaseOffset,
      lastSnapshotOffset: loaded,
      writes: Promise.resolve(),
      ongoing,
    };
  }

  /** Reads the batch headers from the state's end offset to the log end into the state (no checks, as Kafka's replay). */
  private async replay(pp: PartitionProducers): Promise<void> {
    const log = pp.log;
    let from = Math.max(pp.mapEndOffset, log.logStartOffset);
    while (from < log.logEndOffset) {
      const { chunks, size } = await log.read(from, REPLAY_CHUNK_BYTES);
      if (size === 0) {
        this.logger.warn({ topic: log.topic, partition: log.partition, offset: from, logEndOffset: log.logEndOffset }, 'no batches to rebuild producer state from');
        break;
      }
      for (const chunk of chunks) {
        let pos = 0;
        while (pos + RECORD_BATCH_OVERHEAD <= chunk.length) {
          const h = readBatchHeader(chunk, pos);
          const last = h.baseOffset + h.lastOffsetDelta;
          if (last >= from && h.producerId >= 0) {
            if ((h.attributes & ATTR_CONTROL) === 0) {
              const transactional = (h.attributes & ATTR_TRANSACTIONAL) !== 0;
              if (recordBatch(pp.table, h.producerId, h.producerEpoch, h.baseSequence, incrementSequence(h.baseSequence, h.lastOffsetDelta), h.baseOffset, last, h.maxTimestamp, transactional)) {
                pp.ongoing.set(h.producerId, h.baseOffset);
              }
            } else {
              let marker = null;
              try {
                marker = readTransactionMarker(chunk, pos);
              } catch (err) {
                this.logger.warn({ topic: log.topic, partition: log.partition, offset: h.baseOffset, err: (err as Error).message }, 'unreadable control batch, skipped');
              }
              if (marker !== null) this.completeTxn(pp, applyMarker(pp.table, marker, h.baseOffset));
            }
          }
          from = Math.max(from, last + 1);
          pos += entrySizeAt(chunk, pos);
        }
      }
    }
    pp.mapEndOffset = log.logEndOffset;
  }

  /** Writes the state as it is now as the snapshot at `offset` (in the background, in order per partition). */
  private snapshot(pp: PartitionProducers, offset: number): void {
    const data = encodeSnapshot(pp.table);
    const log = pp.log;
    pp.lastSnapshotOffset = offset;
    const path = `${log.dir}/${snapshotFileName(offset)}`;
    const write = pp.writes
      .then(async () => {
        await writeFileAtomic(this.fs, path, data);
        this.pruneSnapshots(log, offset);
      })
      .catch((err: unknown) => {
        if (this.isLive(log)) this.logger.warn({ path, err: (err as Error).message }, 'writing a producer state snapshot failed');
      });
    pp.writes = write;
    this.writes.add(write);
    void write.then(() => this.writes.delete(write));
  }

  /** Removes snapshots older than `newest` that are below the first segment or not at a segment base. */
  private pruneSnapshots(log: PartitionLog, newest: number): void {
    const bases = new Set(log.segmentBaseOffsets);
    const firstBase = log.segmentBaseOffsets[0] ?? 0;
    for (const offset of this.snapshotOffsets(log.dir)) {
      if (offset < newest && (offset < firstBase || !bases.has(offset))) this.unlink(`${log.dir}/${snapshotFileName(offset)}`);
    }
  }

  private snapshotOffsets(dir: string): number[] {
    const out: number[] = [];
    for (const name of this.fs.readdir(dir)) {
      const offset = parseSnapshotFileName(name);
      if (offset !== null) out.push(offset);
    }
    return out;
  }

  private unlink(path: string): void {
    try {
      this.fs.unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ path, err: (err as Error).message }, 'removing a producer state snapshot failed');
    }
  }
}
