/**
 * PartitionLog: the log of one partition (Kafka's UnifiedLog), a directory `<topic>-<partition>` of segments
 * (segment.ts) plus `partition.metadata` and `leader-epoch-checkpoint`. It keeps the offsets, the leader
 * epochs, the partition's batch cache and the append and log-start listeners; the rooms it uses:
 *
 * - local-log.ts: the segments and their files (roll, truncate, delete, swap, read from the files);
 * - log-flusher.ts: fdatasync rounds shared by sync appends (group commit), the recovery point, flush.ms;
 * - log-loader.ts: what the directory holds at start, recovered (load builds the log from its result);
 * - retention.ts: which old segments retention.ms, retention.bytes and DeleteRecords delete;
 * - append-batches.ts: the batches of an append, parsed or given by the caller.
 *
 * Appends and reads are synchronous file calls on the page cache (measured faster than the thread pool,
 * see fs.ts); only fdatasync is asynchronous. So appends never interleave with each other, and a slow fsync
 * delays only the appends that asked for it.
 *
 * Offsets: logStartOffset <= every readable offset < logEndOffset; highWatermark == logEndOffset (one node);
 * recoveryPoint: everything below it is fdatasync'ed.
 */
import { setBaseOffset, setLogAppendTime, setPartitionLeaderEpoch } from '../protocol/records/batch-header.js';
import { checkedAppendBatches, parseAppendBatches, type AppendBatch } from './append-batches.js';
import type { BatchCache } from './batch-cache.js';
import { CachedTail } from './batch-cache.js';
import { CheckpointWriter, formatEpochCheckpoint, formatPartitionMetadata, writeFileAtomic } from './checkpoint-file.js';
import { effectiveSegmentMs, resolveLogConfig, type LogConfig } from './config.js';
import { OffsetOutOfRangeError, StorageError, storageError } from './errors.js';
import type { FileRegion } from './file-region.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { LocalLog, type LocalLogContext, type TimestampOffset } from './local-log.js';
import { LogFlusher, type FlusherContext } from './log-flusher.js';
import { LEADER_EPOCH_FILE, loadLog, type LoadedLog, type LoadState } from './log-loader.js';
import { retentionBreachedSegments, segmentsBelowLogStart } from './retention.js';
import { LogSegment } from './segment.js';
import type { AbortedTxn } from './transaction-index.js';

export interface AppendOptions {
  leaderEpoch: number;
  /** When set, each batch gets the LogAppendTime attribute and this maxTimestamp. */
  logAppendTime?: number;
  /** Resolve only after fdatasync (acks=all with gregor.flush.acks.all). */
  sync?: boolean;
  /**
   * The batches of the appended buffer as the caller parsed them, back to back in order: append uses them
   * instead of reading the headers again, after checking that they tile the buffer (else RangeError).
   */
  batches?: readonly AppendBatch[];
}
export interface AppendInfo {
  baseOffset: number;
  lastOffset: number;
  /** -1 unless logAppendTime was set. */
  appendTime: number;
  logStartOffset: number;
  recordCount: number;
  sizeInBytes: number;
}
export interface ReadResult {
  /** Whole batches, back to back; cached buffers are shared, never modify them. */
  chunks: Buffer[];
  size: number;
}

/** What readForSend returns: the batches read() would, some still in their files. */
export interface SendReadResult {
  /** Whole batches, back to back: batch-cache slices (shared, never modify them) and file regions. */
  chunks: Array<Buffer | FileRegion>;
  size: number;
  /** Bytes of `chunks` that are batch-cache slices (held in memory until the response is written). */
  cachedBytes: number;
}

/** What a PartitionLog gets from its LogManager. */
export interface LogContext extends LocalLogContext, FlusherContext {
  cache: BatchCache;
  /** The log start offset or recovery point moved backwards or was set by an admin call: write the checkpoints. */
  checkpointsChanged(log: PartitionLog): Promise<void>;
}

const PARTITION_METADATA_FILE = 'partition.metadata';
const MAX_RELATIVE_OFFSET = 0x7fffffff;

export class PartitionLog {
  private logStart: number;
  private readonly local: LocalLog;
  private readonly flusher: LogFlusher;
  private readonly epochs: LeaderEpochCache;
  private readonly epochWriter: CheckpointWriter;
  private epochWrite: Promise<void> | null = null;
  private readonly tail = new CachedTail();
  private readonly listeners = new Set<() => void>();
  private readonly startListeners = new Set<(logStartOffset: number) => void>();

  private constructor(
    private readonly ctx: LogContext,
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    public topicId: string,
    config: LogConfig,
    loaded: Pick<LoadedLog, 'segments' | 'logStartOffset' | 'recoveryPoint' | 'epochs'>,
  ) {
    this.logStart = loaded.logStartOffset;
    this.epochs = loaded.epochs;
    this.epochWriter = new CheckpointWriter(ctx.fs, `${dir}/${LEADER_EPOCH_FILE}`, () => formatEpochCheckpoint(this.epochs.all));
    this.local = new LocalLog(ctx, dir, topic, partition, config, loaded.segments);
    this.flusher = new LogFlusher(ctx, this.local, loaded.recoveryPoint);
  }

  /** A new, empty partition log: directory, partition.metadata, first segment at offset 0. */
  static async create(ctx: LogContext, dir: string, topic: string, partition: number, topicId: string, config: LogConfig): Promise<PartitionLog> {
    try {
      ctx.fs.mkdir(dir);
      await writeFileAtomic(ctx.fs, `${dir}/${PARTITION_METADATA_FILE}`, formatPartitionMetadata(topicId));
      const segments = [LogSegment.create(ctx, dir, 0, config.segmentIndexBytes, ctx.clock())];
      const log = new PartitionLog(ctx, topic, partition, dir, topicId, config, { segments, logStartOffset: 0, recoveryPoint: 0, epochs: new LeaderEpochCache() });
      await ctx.fs.fsyncDir(dir);
      return log;
    } catch (err) {
      throw storageError(`creating log ${dir}`, err);
    }
  }

  /**
   * Opens a partition directory found at start (log-loader.ts: recovery after an unclean shutdown, indexes
   * checked or rebuilt), then writes back what loading changed: the leader epoch checkpoint, a missing
   * partition.metadata, the directory.
   */
  static async load(ctx: LogContext, dir: string, topic: string, partition: number, topicId: string, config: LogConfig, state: LoadState): Promise<PartitionLog> {
    try {
      const loaded = await loadLog(ctx, { dir, topic, partition, config, state });
      const log = new PartitionLog(ctx, topic, partition, dir, topicId, config, loaded);
      await log.writeLoaded(loaded);
      return log;
    } catch (err) {
      throw storageError(`loading log ${dir}`, err);
    }
  }

  private async writeLoaded(loaded: LoadedLog): Promise<void> {
    const { fs } = this.ctx;
    const epochFile = `${this.dir}/${LEADER_EPOCH_FILE}`;
    this.epochWriter.assumeWritten(fs.stat(epochFile) === null ? null : fs.readFile(epochFile).toString('utf8'));
    if (loaded.epochsChanged || fs.stat(epochFile) === null) await this.epochWriter.write();
    if (fs.stat(`${this.dir}/${PARTITION_METADATA_FILE}`) === null && this.topicId !== '') {
      await writeFileAtomic(fs, `${this.dir}/${PARTITION_METADATA_FILE}`, formatPartitionMetadata(this.topicId));
    }
    if (loaded.dirNeedsSync) await fs.fsyncDir(this.dir);
  }

  get logStartOffset(): number {
    return this.logStart;
  }
  get logEndOffset(): number {
    return this.local.logEndOffset;
  }
  get highWatermark(): number {
    return this.logEndOffset;
  }
  /**
   * Everything below this offset is fdatasync'ed, and so are the indexes of every segment before the one
   * holding it (recovery rescans from that segment on).
   */
  get recoveryPoint(): number {
    return this.flusher.recoveryPoint;
  }
  get sizeInBytes(): number {
    return this.local.sizeInBytes;
  }
  get segmentCount(): number {
    return this.local.segments.length;
  }
  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.local.segments.map((s) => s.baseOffset);
  }
  /** Base offset of the active (last) segment; it changes when an append rolls a new segment. */
  get activeSegmentBaseOffset(): number {
    return this.local.active.baseOffset;
  }
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }
  /** The first I/O failure that took this log offline, or null. */
  get offlineError(): StorageError | null {
    return this.local.offline;
  }
  /** Records appended but not yet fdatasync'ed. */
  get unflushedMessages(): number {
    return this.flusher.unflushedMessages;
  }
  get currentConfig(): Readonly<LogConfig> {
    return this.local.config;
  }
  /** The segments, oldest first; the last is the active one (for the log cleaner: never modify them). */
  get segmentList(): readonly LogSegment[] {
    return [...this.local.segments];
  }
  /** Changes with every truncation: the log cleaner swaps nothing into a log truncated while it cleaned. */
  get truncationCount(): number {
    return this.local.truncations;
  }
  /** Neither closed nor offline. */
  get usable(): boolean {
    return this.local.usable;
  }

  /**
   * Appends one or more v2 batches lying back to back in `batches`, assigning offsets by patching each
   * batch's baseOffset and partitionLeaderEpoch in place (and LogAppendTime when asked). The bytes are
   * written from this buffer and kept in the batch cache as they are: the caller must not reuse it.
   */
  async append(batches: Buffer, opts: AppendOptions): Promise<AppendInfo> {
    this.local.checkUsable();
    const started = this.ctx.observer ? performance.now() : 0;
    const { infos, records } = opts.batches === undefined ? parseAppendBatches(batches) : checkedAppendBatches(batches, opts.batches);
    const appendTime = opts.logAppendTime ?? -1;
    const config = this.local.config;
    const now = this.ctx.clock();
    if (batches.length > config.segmentBytes) throw new RangeError(`${batches.length} bytes of batches exceed segment.bytes (${config.segmentBytes})`);
    let span = 0;
    for (const b of infos) span += b.lastOffset - b.baseOffset + 1;
    const seg0 = this.local.active;
    try {
      seg0.unseal(config.segmentIndexBytes);
    } catch (err) {
      throw storageError(`preparing the indexes of ${this.topic}-${this.partition} for appends`, err);
    }
    if (
      seg0.size > 0 &&
      (seg0.size + batches.length > config.segmentBytes ||
        now - seg0.rollBaseMs > effectiveSegmentMs(config) ||
        seg0.indexFull ||
        this.logEndOffset + span - 1 - seg0.baseOffset > MAX_RELATIVE_OFFSET)
    ) {
      this.local.roll(now);
      // As Kafka: the rolled segment is flushed in the background.
      this.flusher.flushInBackground();
    }
    const seg = this.local.active;
    const baseOffset = this.logEndOffset;
    let next = baseOffset;
    for (const b of infos) {
      const delta = b.lastOffset - b.baseOffset;
      setBaseOffset(batches, b.position, next);
      setPartitionLeaderEpoch(batches, b.position, opts.leaderEpoch);
      if (opts.logAppendTime !== undefined) {
        setLogAppendTime(batches, b.position, opts.logAppendTime);
        b.maxTimestamp = opts.logAppendTime;
      }
      b.baseOffset = next;
      b.lastOffset = next + delta;
      b.leaderEpoch = opts.leaderEpoch;
      next += delta + 1;
    }
    const sizeBefore = seg.size;
    try {
      seg.append(batches, infos, config.indexIntervalBytes, now);
    } catch (err) {
      if (seg.broken) throw this.local.goOffline('append failed and could not be undone', err);
      if (seg.size !== sizeBefore) {
        // the .log write landed but an index write failed (a full disk): take the batches back out, so the
        // file holds no unacknowledged batch whose offsets the next append would assign again
        try {
          seg.nextOffset = next;
          seg.truncateTo(baseOffset);
        } catch (undoErr) {
          throw this.local.goOffline('append failed and could not be undone', undoErr);
        }
      }
      throw storageError(`append to ${this.topic}-${this.partition}`, err);
    }
    this.ctx.cache.add(this.tail, batches, infos);
    if (this.epochs.assign(opts.leaderEpoch, baseOffset)) this.writeEpochCheckpoint();
    this.flusher.appended(records);
    const lastOffset = next - 1;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.ctx.logger.error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'onAppend listener threw');
      }
    }
    const info: AppendInfo = { baseOffset, lastOffset, appendTime, logStartOffset: this.logStart, recordCount: records, sizeInBytes: batches.length };
    this.ctx.observer?.append((performance.now() - started) / 1000, batches.length);
    if (opts.sync) {
      await this.flusher.syncTo(next);
    } else if (this.flusher.unflushedMessages >= config.flushMessages) {
      this.flusher.flushInBackground();
    }
    return info;
  }

  /**
   * Whole batches starting at the one containing `offset`, up to `maxBytes` but at least one batch
   * (KIP-74); only batches that end before `maxOffset` (default: the log end). Served from the batch cache
   * when the batches are there, otherwise read from the segment files into pooled buffers.
   */
  async read(offset: number, maxBytes: number, maxOffset?: number): Promise<ReadResult> {
    this.local.checkUsable();
    const started = this.ctx.observer ? performance.now() : 0;
    this.checkReadable(offset);
    const end = Math.min(maxOffset ?? this.logEndOffset, this.logEndOffset);
    const chunks: Buffer[] = [];
    let size = 0;
    let cur = offset;
    const cache = this.ctx.cache;
    try {
      while (cur < end && (size === 0 || size < maxBytes)) {
        const budget = maxBytes - size;
        const cached = cache.read(this.tail, cur, end, budget, size === 0);
        if (cached !== undefined) {
          if (cached.batches === 0) break;
          chunks.push(cached.buf);
          size += cached.buf.length;
          cur = cached.lastOffset + 1;
          continue;
        }
        const run = this.local.readFromFiles(cur, end, budget, size === 0);
        if (run === null) break;
        if ('skipTo' in run) {
          cur = run.skipTo;
          continue;
        }
        cache.misses++;
        chunks.push(run.buf);
        size += run.buf.length;
        cur = run.lastOffset + 1;
      }
    } catch (err) {
      throw storageError(`read of ${this.topic}-${this.partition} at ${offset}`, err);
    }
    this.ctx.observer?.read((performance.now() - started) / 1000, size);
    return { chunks, size };
  }

  /**
   * The batches read() returns, for a response to send (a fetch): batches in the batch cache are slices of
   * it while `cacheAllowance.bytes` lasts (it is counted down), all others are regions of their segment files
   * whose bytes are read as the response is written. Every region must be released once the response has
   * been written (LogManager.releaseReadBuffers).
   */
  async readForSend(offset: number, maxBytes: number, maxOffset: number | undefined, cacheAllowance: { bytes: number }): Promise<SendReadResult> {
    this.local.checkUsable();
    const started = this.ctx.observer ? performance.now() : 0;
    this.checkReadable(offset);
    const end = Math.min(maxOffset ?? this.logEndOffset, this.logEndOffset);
    const chunks: Array<Buffer | FileRegion> = [];
    let size = 0;
    let cachedBytes = 0;
    let cur = offset;
    const cache = this.ctx.cache;
    try {
      while (cur < end && (size === 0 || size < maxBytes)) {
        const budget = maxBytes - size;
        if (cacheAllowance.bytes > 0) {
          const cacheBudget = Math.min(budget, cacheAllowance.bytes);
          // (a first batch larger than what the allowance leaves is read from the file instead)
          const cached = cache.read(this.tail, cur, end, cacheBudget, size === 0 && cacheBudget === budget);
          if (cached !== undefined) {
            if (cached.batches > 0) {
              chunks.push(cached.buf);
              size += cached.buf.length;
              cachedBytes += cached.buf.length;
              cacheAllowance.bytes -= cached.buf.length;
              cur = cached.lastOffset + 1;
              continue;
            }
            if (cacheBudget === budget) break;
          }
        }
        const run = this.local.regionFromFiles(cur, end, budget, size === 0);
        if (run === null) break;
        if ('skipTo' in run) {
          cur = run.skipTo;
          continue;
        }
        cache.misses++;
        chunks.push(run.region);
        size += run.region.length;
        cur = run.lastOffset + 1;
      }
    } catch (err) {
      for (const c of chunks) if (!Buffer.isBuffer(c)) c.release();
      throw storageError(`read of ${this.topic}-${this.partition} at ${offset}`, err);
    }
    this.ctx.observer?.read((performance.now() - started) / 1000, size);
    return { chunks, size, cachedBytes };
  }

  /**
   * Records an aborted transaction in the `.txnindex` of the segment holding its ABORT marker (`t.lastOffset`,
   * already appended). Called by producer state right after the marker's append, and again for every abort
   * it replays from the log: an entry the index already has (same or later marker) is skipped. Returns
   * whether it was written; a marker below the first segment or beyond the log end is a RangeError.
   */
  appendAbortedTxn(t: AbortedTxn): boolean {
    this.local.checkUsable();
    if (!(t.lastOffset < this.logEndOffset) || !(t.firstOffset <= t.lastOffset)) throw new RangeError(`aborted transaction ${t.firstOffset}..${t.lastOffset} is not in the log of ${this.topic}-${this.partition}`);
    const segs = this.local.segments;
    for (let i = segs.length - 1; i >= 0; i--) {
      const seg = segs[i] as LogSegment;
      if (seg.baseOffset > t.lastOffset) continue;
      try {
        const created = !seg.txnIndex.exists;
        const wrote = seg.txnIndex.append(t);
        // a new file: the next flush round fsyncs the directory too
        if (created && seg.txnIndex.exists) this.local.dirDirty = true;
        return wrote;
      } catch (err) {
        throw this.local.goOffline(`writing the transaction index of segment ${seg.baseOffset}`, err);
      }
    }
    throw new RangeError(`aborted transaction marker ${t.lastOffset} is below the first segment of ${this.topic}-${this.partition}`);
  }

  /**
   * The aborted transactions overlapping [startOffset, upperBoundOffset) (Kafka's
   * UnifiedLog.collectAbortedTransactions): from the segment holding startOffset on, each segment's
   * .txnindex entries whose marker is at or after startOffset and whose first offset is below the bound,
   * until an entry's lastStableOffset reaches the bound. Oldest marker first. Never an entry whose marker is
   * below the log start: the first segment's .txnindex may still hold some after DeleteRecords moved the
   * start inside it (Kafka leaves the file as it is too; reads begin at the log start).
   */
  collectAbortedTransactions(fromOffset: number, upperBoundOffset: number): AbortedTxn[] {
    this.local.checkUsable();
    const out: AbortedTxn[] = [];
    const startOffset = Math.max(fromOffset, this.logStart);
    const segs = this.local.segments;
    let i = segs.length - 1;
    while (i > 0 && (segs[i] as LogSegment).baseOffset > startOffset) i--;
    try {
      for (; i < segs.length; i++) {
        const seg = segs[i] as LogSegment;
        if (seg.txnIndex.collect(startOffset, upperBoundOffset, out)) break;
      }
    } catch (err) {
      throw storageError(`reading the transaction index of ${this.topic}-${this.partition}`, err);
    }
    return out;
  }

  /** Throws OffsetOutOfRangeError unless `offset` is in [log start, log end]. */
  private checkReadable(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this.logStart || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(
        `offset ${offset} is outside the log of ${this.topic}-${this.partition} [${this.logStart}, ${this.logEndOffset}]`,
        offset,
        this.logStart,
        this.logEndOffset,
      );
    }
  }

  /**
   * ListOffsets: -2 earliest, -1 latest, -3 the largest timestamp, otherwise the first offset whose
   * timestamp is >= `timestamp` (time index, then the batch headers); null when there is none.
   */
  async offsetForTimestamp(timestamp: number): Promise<TimestampOffset | null> {
    this.local.checkUsable();
    if (timestamp === -2) return { offset: this.logStart, timestamp: -1, leaderEpoch: this.epochs.epochForOffset(this.logStart) };
    if (timestamp === -1) return { offset: this.logEndOffset, timestamp: -1, leaderEpoch: this.epochs.latestEpoch };
    try {
      if (timestamp === -3) return await this.local.maxTimestampOffset(this.logStart);
      if (timestamp < 0) throw new RangeError(`unsupported timestamp ${timestamp}`);
      return await this.local.offsetForTimestamp(timestamp, this.logStart);
    } catch (err) {
      if (err instanceof RangeError) throw err;
      throw storageError(`offsetForTimestamp(${timestamp}) of ${this.topic}-${this.partition}`, err);
    }
  }

  /** OffsetForLeaderEpoch, from the leader epoch cache. */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: number } {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  /**
   * DeleteRecords: moves the log start to `offset` (<= high watermark; -1 = high watermark) and deletes segments
   * wholly below it. The log is synced up to the new start first, so that log-start-offset-checkpoint never
   * names an offset that a crash could take away (the loader treats a log start beyond the log end as damage).
   */
  async deleteRecordsBefore(offset: number): Promise<number> {
    this.local.checkUsable();
    const target = offset === -1 ? this.highWatermark : offset;
    const check = (): void => {
      if (!Number.isSafeInteger(target) || target < 0 || target > this.highWatermark) {
        throw new OffsetOutOfRangeError(`cannot delete records before ${offset}: the high watermark is ${this.highWatermark}`, offset, this.logStart, this.logEndOffset);
      }
    };
    check();
    if (target <= this.logStart) return this.logStart;
    await this.flusher.syncTo(target);
    // (the log may have been truncated or its start moved meanwhile)
    this.local.checkUsable();
    check();
    if (target <= this.logStart) return this.logStart;
    this.logStart = target;
    this.deleteOldestSegments(segmentsBelowLogStart(this.local.segments, this.logStart));
    await this.afterLogStartMoved();
    return this.logStart;
  }

  /** Retention: deletes whole old segments (never the active one) by retention.ms and retention.bytes. Returns how many. */
  async applyRetention(): Promise<number> {
    if (!this.local.usable) return 0;
    const deleted = retentionBreachedSegments(this.local.segments, this.local.config, this.ctx.clock(), this.ctx.clock);
    if (deleted > 0) {
      this.deleteOldestSegments(deleted);
      await this.afterLogStartMoved();
    }
    return deleted;
  }

  /** Deletes the `n` oldest segments; the log start moves to the first one left if it was below. */
  private deleteOldestSegments(n: number): void {
    if (n === 0) return;
    this.logStart = Math.max(this.logStart, (this.local.segments[n] as LogSegment).baseOffset);
    this.local.deleteOldestSegments(n);
  }

  private async afterLogStartMoved(): Promise<void> {
    this.ctx.cache.dropBefore(this.tail, this.logStart);
    if (this.epochs.truncateFromStart(this.logStart)) this.writeEpochCheckpoint();
    for (const listener of this.startListeners) {
      try {
        listener(this.logStart);
      } catch (err) {
        this.ctx.logger.error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'onLogStartMoved listener threw');
      }
    }
    await this.ctx.checkpointsChanged(this);
  }

  /**
   * Removes everything at and after `offset` (whole batches: a batch containing `offset` goes entirely).
   * Below the log start, the log is emptied and restarts at `offset`.
   */
  async truncateTo(offset: number): Promise<void> {
    this.local.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cannot truncate to ${offset}`);
    if (offset >= this.logEndOffset) return;
    if (offset < this.logStart) {
      this.local.truncateFullyAndStartAt(offset);
      this.ctx.cache.dropAll(this.tail);
      this.logStart = offset;
    } else {
      this.local.truncateTo(offset);
    }
    const leo = this.logEndOffset;
    this.ctx.cache.dropFrom(this.tail, leo);
    this.flusher.truncated(leo);
    if (this.epochs.truncateFromEnd(leo)) this.writeEpochCheckpoint();
    await this.ctx.checkpointsChanged(this);
  }

  /**
   * Log cleaner: swaps the cleaned segment `<base>.{index,timeindex,log}.cleaned` (written and fdatasync'ed;
   * base = the base offset of old[0]) in for the consecutive closed segments `old` with Kafka's renames
   * (segment-swap.ts): .cleaned → .swap and a directory fsync; then, in one synchronous step, so that reads
   * see either the old segments or the new one, the old files → *.deleted, .swap → final names and the new
   * segment in the list (and the batch cache below the next segment dropped); then a directory fsync. Returns
   * false, leaving the log as it was and removing the cleaned files, when `old` are no longer closed segments
   * of this log or it was truncated since `truncations` was read.
   */
  async replaceWithCleaned(old: readonly LogSegment[], truncations: number): Promise<boolean> {
    this.local.checkUsable();
    if (!(await this.local.stageSwap(old, truncations))) return false;
    const next = this.local.swapIn(old);
    this.ctx.cache.dropBefore(this.tail, next.baseOffset);
    await this.local.syncDir(`swapping in the cleaned segment ${(old[0] as LogSegment).baseOffset}`);
    return true;
  }

  private writeEpochCheckpoint(): void {
    const write = this.epochWriter.write();
    this.epochWrite = write;
    write.catch((err: unknown) => {
      this.ctx.logger.error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'writing leader-epoch-checkpoint failed');
    });
  }

  /** Calls `listener` after every append (long-polling fetches). Returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Calls `listener` with the new log start offset each time retention or DeleteRecords moves it forward
   * (Kafka's onLogStartOffsetIncremented), synchronously, before the checkpoints are written; a truncation
   * below the log start does not call it (it empties the log). Returns the unsubscribe function.
   */
  onLogStartMoved(listener: (logStartOffset: number) => void): () => void {
    this.startListeners.add(listener);
    return () => {
      this.startListeners.delete(listener);
    };
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.local.config = resolveLogConfig(this.local.config, config);
  }

  /** flush.ms: flushes when the oldest unflushed append is older than flush.ms. */
  maybeFlushByTime(now: number): void {
    this.flusher.maybeFlushByTime(now);
  }

  /** fdatasync of everything appended so far. */
  async flush(): Promise<void> {
    this.local.checkUsable();
    await this.flusher.syncTo(this.logEndOffset);
  }

  /** Flushes, trims the active segment's indexes, closes its files. */
  async close(): Promise<void> {
    if (this.local.closed) return;
    let failure: unknown = this.local.offline;
    if (!this.local.offline) {
      try {
        await this.flusher.flushForClose();
        if (this.epochWrite) await this.epochWrite;
      } catch (err) {
        failure = err;
      }
    }
    this.release();
    if (failure) throw storageError(`closing log ${this.topic}-${this.partition}`, failure);
  }

  /** Closes without flushing (the log is being deleted, or abandoned after a failure). */
  release(): void {
    this.local.close();
    this.ctx.cache.dropAll(this.tail);
    this.listeners.clear();
    this.startListeners.clear();
  }
}
