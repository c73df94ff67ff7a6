/**
 * PartitionLog: the log of one partition, a directory `<topic>-<partition>` of segments (segment.ts) plus
 * `partition.metadata` and `leader-epoch-checkpoint`.
 *
 * Appends and reads are synchronous file calls on the page cache (measured faster than the thread pool,
 * see fs.ts); only fdatasync is asynchronous. So appends never interleave with each other, and a slow fsync
 * delays only the appends that asked for it. Sync appends share one fdatasync per round (group commit):
 * while one runs, later sync appends queue for the next.
 *
 * Offsets: logStartOffset <= every readable offset < logEndOffset; highWatermark == logEndOffset (one node);
 * recoveryPoint: everything below it is fdatasync'ed.
 */
import {
  BASE_OFFSET_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  entrySizeAt,
  readBatchHeader,
  readInt64,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
} from '../protocol/records/batch-header.js';
import type { BatchCache } from './batch-cache.js';
import { CachedTail } from './batch-cache.js';
import { CheckpointWriter, formatEpochCheckpoint, formatPartitionMetadata, readEpochCheckpoint, writeFileAtomic } from './checkpoint-file.js';
import { effectiveSegmentMs, isCompacted, isDeleting, resolveLogConfig, type LogConfig } from './config.js';
import { OffsetOutOfRangeError, StorageError, storageError } from './errors.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import type { Limiter } from './limiter.js';
import type { StorageLogger } from './logger.js';
import type { StorageObserver } from './observer.js';
import { LogSegment, parseSegmentFileName, segmentFileName, type BatchInfo, type SegmentContext } from './segment.js';
import { CLEANED_SUFFIX, SWAP_SUFFIX, completeInterruptedSwaps, removeSegmentFileSet, renameSegmentFiles } from './segment-swap.js';

export interface AppendOptions {
  leaderEpoch: number;
  /** When set, each batch gets the LogAppendTime attribute and this maxTimestamp. */
  logAppendTime?: number;
  /** Resolve only after fdatasync (acks=all with gregor.flush.acks.all). */
  sync?: boolean;
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
export interface TimestampOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

/**
 * Finds, inside one v2 batch, the first record with timestamp >= `timestamp` and offset >= `minOffset`
 * (storage does not parse records; the broker supplies this from protocol/records). Without it, timestamp
 * look-ups answer with the first offset of the batch and its maxTimestamp.
 */
export type RecordTimestampLookup = (
  batch: Buffer,
  timestamp: number,
  minOffset: number,
) => { offset: number; timestamp: number } | null | Promise<{ offset: number; timestamp: number } | null>;

/** What a PartitionLog gets from its LogManager. */
export interface LogContext extends SegmentContext {
  cache: BatchCache;
  logger: StorageLogger;
  syncLimiter: Limiter;
  clock: () => number;
  findRecordByTimestamp: RecordTimestampLookup | undefined;
  /** The log start offset or recovery point moved backwards or was set by an admin call: write the checkpoints. */
  checkpointsChanged(log: PartitionLog): Promise<void>;
  /** Remove renamed (*.deleted) segment files after a delay. */
  scheduleDelete(paths: string[], delayMs: number): void;
  counters: { fsyncs: number };
  /** Times fsyncs, appends and reads (metrics), when set. */
  observer?: StorageObserver | undefined;
}

export interface LoadState {
  cleanShutdown: boolean;
  recoveryPoint: number | undefined;
  logStartOffset: number | undefined;
  /** The log cleaner has rewritten segments of this log (it has a cleaner-offset-checkpoint entry): offsets may have gaps. */
  compacted?: boolean;
}

const LEADER_EPOCH_FILE = 'leader-epoch-checkpoint';
const PARTITION_METADATA_FILE = 'partition.metadata';
const MAX_RELATIVE_OFFSET = 0x7fffffff;
/** Largest single file read of a fetch. */
const READ_CHUNK_BYTES = 1024 * 1024;

export class PartitionLog {
  private segments: LogSegment[] = [];
  private logStart = 0;
  private recoveryPointValue = 0;
  private config: LogConfig;
  private readonly epochs: LeaderEpochCache;
  private readonly epochWriter: CheckpointWriter;
  private epochWrite: Promise<void> | null = null;
  private readonly tail = new CachedTail();
  private readonly listeners = new Set<() => void>();
  private syncing: Promise<void> | null = null;
  /** Bumped by truncation: a sync that started before does not advance the recovery point. */
  private truncations = 0;
  private dirDirty = false;
  private appendedRecords = 0;
  private flushedRecords = 0;
  private lastFlushMs: number;
  private offline: StorageError | null = null;
  private closed = false;
  /** Where the last file read ended: the next sequential fetch starts there without an index look-up. */
  private readHint: { segment: LogSegment; offset: number; position: number } | null = null;

  private constructor(
    private readonly ctx: LogContext,
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    public topicId: string,
    config: LogConfig,
    epochs: LeaderEpochCache,
  ) {
    this.config = config;
    this.epochs = epochs;
    this.epochWriter = new CheckpointWriter(ctx.fs, `${dir}/${LEADER_EPOCH_FILE}`, () => formatEpochCheckpoint(this.epochs.all));
    this.lastFlushMs = ctx.clock();
  }

  /** A new, empty partition log: directory, partition.metadata, first segment at offset 0. */
  static async create(ctx: LogContext, dir: string, topic: string, partition: number, topicId: string, config: LogConfig): Promise<PartitionLog> {
    try {
      ctx.fs.mkdir(dir);
      const log = new PartitionLog(ctx, topic, partition, dir, topicId, config, new LeaderEpochCache());
      await writeFileAtomic(ctx.fs, `${dir}/${PARTITION_METADATA_FILE}`, formatPartitionMetadata(topicId));
      log.segments = [LogSegment.create(ctx, dir, 0, config.segmentIndexBytes, ctx.clock())];
      await ctx.fs.fsyncDir(dir);
      return log;
    } catch (err) {
      throw storageError(`creating log ${dir}`, err);
    }
  }

  /**
   * Opens a partition directory found at start. After an unclean shutdown every segment from the one holding
   * the recovery point on is rescanned; the log is cut at the first torn or corrupt batch (later segments
   * are deleted) and indexes are rebuilt. Indexes that fail their sanity check are rebuilt too.
   */
  static async load(ctx: LogContext, dir: string, topic: string, partition: number, topicId: string, config: LogConfig, state: LoadState): Promise<PartitionLog> {
    const { fs, logger } = ctx;
    let epochs: LeaderEpochCache;
    try {
      epochs = new LeaderEpochCache(readEpochCheckpoint(fs, `${dir}/${LEADER_EPOCH_FILE}`) ?? []);
    } catch (err) {
      logger.warn({ dir, err: (err as Error).message }, 'unreadable leader-epoch-checkpoint, rebuilding it from the log');
      epochs = new LeaderEpochCache();
    }
    const log = new PartitionLog(ctx, topic, partition, dir, topicId, config, epochs);
    try {
      await log.loadSegments(state);
    } catch (err) {
      throw storageError(`loading log ${dir}`, err);
    }
    return log;
  }

  private async loadSegments(state: LoadState): Promise<void> {
    const { fs, logger, clock } = this.ctx;
    const config = this.config;
    // A swap of cleaned segments interrupted by a crash is finished first (segment-swap.ts).
    if (completeInterruptedSwaps(fs, this.dir, logger) > 0) await fs.fsyncDir(this.dir);
    const bases = new Set<number>();
    for (const name of fs.readdir(this.dir)) {
      if (/\.(deleted|tmp|cleaned|swap)$/.test(name)) {
        fs.unlink(`${this.dir}/${name}`);
        continue;
      }
      const parsed = parseSegmentFileName(name);
      if (parsed?.ext === 'log') bases.add(parsed.baseOffset);
    }
    // Index files without a .log are leftovers.
    for (const name of fs.readdir(this.dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed && parsed.ext !== 'log' && !bases.has(parsed.baseOffset)) fs.unlink(`${this.dir}/${name}`);
    }
    const sorted = [...bases].sort((a, b) => a - b);
    const now = clock();
    const segments = sorted.map((base) => LogSegment.open(this.ctx, this.dir, base, config.segmentIndexBytes, now));
    const rp = state.recoveryPoint ?? 0;
    // Recovery starts at the segment containing the recovery point.
    let firstToRecover = 0;
    for (let i = 0; i < segments.length; i++) if ((segments[i] as LogSegment).baseOffset <= rp) firstToRecover = i;
    const kept: LogSegment[] = [];
    const recovered = new Set<LogSegment>();
    let epochsChanged = false;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] as LogSegment;
      const next = segments[i + 1];
      let recover = !state.cleanShutdown && i >= firstToRecover;
      if (!recover) {
        const problem = seg.loadIndexes(next?.baseOffset);
        if (problem !== null) {
          logger.warn({ dir: this.dir, segment: seg.baseOffset, problem }, 'index failed its sanity check, rebuilding it');
          recover = true;
        }
      }
      kept.push(seg);
      if (!recover) continue;
      recovered.add(seg);
      const contiguous = !isCompacted(config) && state.compacted !== true;
      const result = seg.recover(config.indexIntervalBytes, config.segmentIndexBytes, contiguous, (b) => {
        if (this.epochs.assign(b.leaderEpoch, b.baseOffset)) epochsChanged = true;
      });
      if (result.reason === undefined && next !== undefined && seg.nextOffset > next.baseOffset) {
        result.reason = `segment ends at offset ${seg.nextOffset}, past the start of the next segment ${next.baseOffset}`;
      }
      if (result.reason === undefined && next !== undefined && contiguous && seg.nextOffset !== next.baseOffset) {
        // Lost writes at the end of a rolled segment (it was never flushed): the log ends here.
        result.reason = `segment ends at offset ${seg.nextOffset} but the next segment starts at ${next.baseOffset}`;
      }
      if (result.reason !== undefined) {
        const dropped = segments.slice(i + 1);
        logger.warn(
          {
            topic: this.topic,
            partition: this.partition,
            segment: seg.baseOffset,
            position: seg.size,
            truncatedBytes: result.truncatedBytes,
            lastValidOffset: seg.nextOffset - 1,
            droppedSegments: dropped.map((s) => s.baseOffset),
            reason: result.reason,
          },
          'recovery truncated the log at a torn or corrupt batch',
        );
        for (const d of dropped) for (const p of d.paths) fs.unlink(p);
        this.dirDirty = dropped.length > 0;
        break;
      }
    }
    if (kept.length === 0) kept.push(LogSegment.create(this.ctx, this.dir, state.logStartOffset ?? 0, config.segmentIndexBytes, now));
    this.segments = kept;
    // Rebuilt indexes of older segments are trimmed (and must be synced before the recovery point passes
    // them); the active segment's indexes are preallocated again at its first append.
    for (const seg of kept.slice(0, -1)) {
      if (!recovered.has(seg)) continue;
      seg.seal();
      seg.needsIndexSync = true;
    }

    const leo = this.logEndOffset;
    this.logStart = Math.max(state.logStartOffset ?? 0, (kept[0] as LogSegment).baseOffset);
    if (this.logStart > leo) {
      logger.warn({ topic: this.topic, partition: this.partition, logStartOffset: this.logStart, logEndOffset: leo }, 'log start offset beyond the log end: starting empty at the log start');
      this.replaceAllSegments(this.logStart);
    }
    this.recoveryPointValue = state.cleanShutdown ? this.logEndOffset : Math.min(rp, this.logEndOffset);
    if (this.epochs.truncateFromEnd(this.logEndOffset)) epochsChanged = true;
    if (this.epochs.truncateFromStart(this.logStart)) epochsChanged = true;
    const epochFile = `${this.dir}/${LEADER_EPOCH_FILE}`;
    this.epochWriter.assumeWritten(fs.stat(epochFile) === null ? null : fs.readFile(epochFile).toString('utf8'));
    if (epochsChanged || fs.stat(epochFile) === null) await this.epochWriter.write();
    if (fs.stat(`${this.dir}/${PARTITION_METADATA_FILE}`) === null && this.topicId !== '') {
      await writeFileAtomic(fs, `${this.dir}/${PARTITION_METADATA_FILE}`, formatPartitionMetadata(this.topicId));
    }
    if (this.dirDirty) {
      await fs.fsyncDir(this.dir);
      this.dirDirty = false;
    }
  }

  get logStartOffset(): number {
    return this.logStart;
  }
  get logEndOffset(): number {
    return this.active.nextOffset;
  }
  get highWatermark(): number {
    return this.logEndOffset;
  }
  /**
   * Everything below this offset is fdatasync'ed, and so are the indexes of every segment before the one
   * holding it (recovery rescans from that segment on).
   */
  get recoveryPoint(): number {
    let rp = this.recoveryPointValue;
    for (const s of this.segments) if (s.needsIndexSync && s.baseOffset < rp) rp = s.baseOffset;
    return rp;
  }
  get sizeInBytes(): number {
    let size = 0;
    for (const s of this.segments) size += s.size;
    return size;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }
  /** Base offset of the active (last) segment; it changes when an append rolls a new segment. */
  get activeSegmentBaseOffset(): number {
    return this.active.baseOffset;
  }
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }
  /** The first I/O failure that took this log offline, or null. */
  get offlineError(): StorageError | null {
    return this.offline;
  }
  /** Records appended but not yet fdatasync'ed. */
  get unflushedMessages(): number {
    return this.appendedRecords - this.flushedRecords;
  }
  get currentConfig(): Readonly<LogConfig> {
    return this.config;
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1] as LogSegment;
  }

  private checkUsable(): void {
    if (this.offline) throw this.offline;
    if (this.closed) throw new StorageError(`log ${this.topic}-${this.partition} is closed`);
  }

  private goOffline(what: string, err: unknown): StorageError {
    const e = storageError(`${what} (log ${this.topic}-${this.partition} is now offline)`, err);
    if (!this.offline) {
      this.offline = e;
      this.ctx.logger.error({ topic: this.topic, partition: this.partition, err: e.message }, 'log went offline after an I/O failure');
    }
    return e;
  }

  /**
   * Appends one or more v2 batches lying back to back in `batches`, assigning offsets by patching each
   * batch's baseOffset and partitionLeaderEpoch in place (and LogAppendTime when asked). The bytes are
   * written from this buffer and kept in the batch cache as they are: the caller must not reuse it.
   */
  async append(batches: Buffer, opts: AppendOptions): Promise<AppendInfo> {
    this.checkUsable();
    const started = this.ctx.observer ? performance.now() : 0;
    const infos = parseBatches(batches);
    const appendTime = opts.logAppendTime ?? -1;
    const config = this.config;
    const now = this.ctx.clock();
    if (batches.length > config.segmentBytes) throw new RangeError(`${batches.length} bytes of batches exceed segment.bytes (${config.segmentBytes})`);
    let span = 0;
    for (const b of infos) span += b.lastOffset - b.baseOffset + 1;
    const seg0 = this.active;
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
      this.roll(now);
    }
    const seg = this.active;
    const baseOffset = this.logEndOffset;
    let next = baseOffset;
    let records = 0;
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
      records += batches.readInt32BE(b.position + RECORDS_COUNT_OFFSET);
      next += delta + 1;
    }
    const sizeBefore = seg.size;
    try {
      seg.append(batches, infos, config.indexIntervalBytes, now);
    } catch (err) {
      if (seg.broken) throw this.goOffline('append failed and could not be undone', err);
      if (seg.size !== sizeBefore) {
        // the .log write landed but an index write failed (a full disk): take the batches back out, so the
        // file holds no unacknowledged batch whose offsets the next append would assign again
        try {
          seg.nextOffset = next;
          seg.truncateTo(baseOffset);
        } catch (undoErr) {
          throw this.goOffline('append failed and could not be undone', undoErr);
        }
      }
      throw storageError(`append to ${this.topic}-${this.partition}`, err);
    }
    this.ctx.cache.add(this.tail, batches, infos);
    if (this.epochs.assign(opts.leaderEpoch, baseOffset)) this.writeEpochCheckpoint();
    this.appendedRecords += records;
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
      await this.syncTo(next);
    } else if (this.unflushedMessages >= config.flushMessages) {
      this.flushInBackground();
    }
    return info;
  }

  private roll(now: number): void {
    const old = this.active;
    // A roll that fails for want of space (ENOSPC writing the sealed indexes or creating the new files) leaves
    // the old segment active; the next append tries the roll again. Only one that cannot be undone is fatal.
    try {
      old.seal();
    } catch (err) {
      throw storageError(`rolling a new segment at ${old.nextOffset}`, err);
    }
    let next: LogSegment;
    try {
      next = LogSegment.create(this.ctx, this.dir, old.nextOffset, this.config.segmentIndexBytes, now);
    } catch (err) {
      try {
        old.unseal(this.config.segmentIndexBytes);
      } catch (undoErr) {
        throw this.goOffline(`rolling a new segment at ${old.nextOffset}`, undoErr);
      }
      throw storageError(`rolling a new segment at ${old.nextOffset}`, err);
    }
    old.needsIndexSync = true;
    this.segments.push(next);
    this.dirDirty = true;
    // As Kafka: the rolled segment is flushed in the background.
    this.flushInBackground();
  }

  private flushInBackground(): void {
    this.syncTo(this.logEndOffset).catch((err: unknown) => {
      this.ctx.logger.error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'background flush failed');
    });
  }

  /** Resolves once every offset below `offset` is fdatasync'ed; concurrent callers share fsync rounds. */
  private async syncTo(offset: number): Promise<void> {
    while (this.recoveryPointValue < offset && offset <= this.logEndOffset) {
      if (this.offline) throw this.offline;
      if (this.syncing) {
        await this.syncing.catch(() => undefined);
        continue;
      }
      this.syncing = this.syncRound().finally(() => {
        this.syncing = null;
      });
      await this.syncing;
    }
    if (this.offline) throw this.offline;
  }

  /** One group-commit round: fdatasync of every segment not yet covered by the recovery point. */
  private async syncRound(): Promise<void> {
    const target = this.logEndOffset;
    const records = this.appendedRecords;
    const generation = this.truncations;
    const active = this.active;
    const segs = this.segments.filter((s) => s === active || s.needsIndexSync || s.nextOffset > this.recoveryPointValue);
    const syncDir = this.dirDirty;
    this.dirDirty = false;
    try {
      await this.ctx.syncLimiter.run(async () => {
        for (const seg of segs) {
          await this.fdatasyncFiles(seg === active ? [seg.logPath] : seg.paths, () => this.segments.includes(seg));
          if (seg !== active) seg.needsIndexSync = false;
        }
        if (syncDir) await this.ctx.fs.fsyncDir(this.dir);
      });
    } catch (err) {
      if (syncDir) this.dirDirty = true;
      // After a failed fsync the state of the page cache is unknown (Linux may drop the dirty pages).
      throw this.goOffline('fdatasync failed', err);
    }
    this.lastFlushMs = this.ctx.clock();
    if (generation === this.truncations) {
      this.recoveryPointValue = Math.max(this.recoveryPointValue, target);
      this.flushedRecords = Math.max(this.flushedRecords, records);
    }
  }

  /** fdatasync of each file, skipped once `live()` turns false (the segment was deleted meanwhile). */
  private async fdatasyncFiles(paths: readonly string[], live: () => boolean = () => true): Promise<void> {
    const { fs, handles } = this.ctx;
    for (const path of paths) {
      if (!live()) return;
      const handle = handles.pin(path);
      try {
        this.ctx.counters.fsyncs++;
        const started = this.ctx.observer ? performance.now() : 0;
        await fs.fdatasync(handle.fd);
        this.ctx.observer?.fsync((performance.now() - started) / 1000);
      } finally {
        handles.unpin(handle);
      }
    }
  }

  /**
   * Whole batches starting at the one containing `offset`, up to `maxBytes` but at least one batch
   * (KIP-74); only batches that end before `maxOffset` (default: the log end). Served from the batch cache
   * when the batches are there, otherwise read from the segment files into pooled buffers.
   */
  async read(offset: number, maxBytes: number, maxOffset?: number): Promise<ReadResult> {
    this.checkUsable();
    const started = this.ctx.observer ? performance.now() : 0;
    if (!Number.isSafeInteger(offset) || offset < this.logStart || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(
        `offset ${offset} is outside the log of ${this.topic}-${this.partition} [${this.logStart}, ${this.logEndOffset}]`,
        offset,
        this.logStart,
        this.logEndOffset,
      );
    }
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
        const segIndex = this.segmentIndexFor(cur);
        const seg = this.segments[segIndex] as LogSegment;
        // A consumer's next fetch usually starts where its last one ended: skip the index look-up.
        const hint = this.readHint;
        let first = hint !== null && hint.segment === seg && hint.offset === cur ? seg.headerAt(hint.position) : null;
        if (first === null || first.baseOffset > cur || first.lastOffset < cur) first = seg.findBatch(cur);
        if (first === null) {
          const nextSeg = this.segments[segIndex + 1];
          if (nextSeg === undefined || nextSeg.baseOffset <= cur) break;
          cur = nextSeg.baseOffset;
          continue;
        }
        if (first.lastOffset >= end || (size > 0 && first.size > budget)) break;
        cache.misses++;
        const length = Math.max(first.size, Math.min(budget, READ_CHUNK_BYTES, seg.size - first.position));
        const buf = seg.read(first.position, length);
        let p = 0;
        let lastKept = -1;
        while (p + RECORD_BATCH_OVERHEAD <= buf.length) {
          const s = entrySizeAt(buf, p);
          if (s < RECORD_BATCH_OVERHEAD) throw new StorageError(`corrupt batch at position ${first.position + p} of ${seg.logPath}`);
          if (p + s > buf.length) break;
          const last = readInt64(buf, p + BASE_OFFSET_OFFSET) + buf.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
          if (last >= end) break;
          lastKept = last;
          p += s;
        }
        if (p === 0) throw new StorageError(`short read of the batch at position ${first.position} of ${seg.logPath}`);
        chunks.push(this.ctx.pool.shrink(buf, p));
        size += p;
        cur = lastKept + 1;
        this.readHint = { segment: seg, offset: cur, position: first.position + p };
      }
    } catch (err) {
      throw storageError(`read of ${this.topic}-${this.partition} at ${offset}`, err);
    }
    this.ctx.observer?.read((performance.now() - started) / 1000, size);
    return { chunks, size };
  }

  /** Index of the segment holding `offset`: the last one whose base offset is <= it (or the first). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] as LogSegment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * ListOffsets: -2 earliest, -1 latest, -3 the largest timestamp, otherwise the first offset whose
   * timestamp is >= `timestamp` (time index, then the batch headers); null when there is none.
   */
  async offsetForTimestamp(timestamp: number): Promise<TimestampOffset | null> {
    this.checkUsable();
    if (timestamp === -2) return { offset: this.logStart, timestamp: -1, leaderEpoch: this.epochs.epochForOffset(this.logStart) };
    if (timestamp === -1) return { offset: this.logEndOffset, timestamp: -1, leaderEpoch: this.epochs.latestEpoch };
    try {
      if (timestamp === -3) return await this.maxTimestampOffset();
      if (timestamp < 0) throw new RangeError(`unsupported timestamp ${timestamp}`);
      for (const seg of this.segments) {
        if (seg.maxTimestamp < timestamp || seg.nextOffset <= this.logStart) continue;
        const entry = seg.timeIndex.lookup(timestamp);
        const fromOffset = Math.max(entry?.offset ?? seg.baseOffset, this.logStart);
        const start = seg.findBatch(fromOffset);
        if (start === null) continue;
        let found: BatchInfo | null = null;
        seg.scan(start.position, (b) => {
          if (b.maxTimestamp >= timestamp && b.lastOffset >= this.logStart) {
            found = b;
            return false;
          }
          return true;
        });
        const hit = await this.answerInBatch(seg, found, timestamp);
        if (hit) return hit;
      }
      return null;
    } catch (err) {
      if (err instanceof RangeError) throw err;
      throw storageError(`offsetForTimestamp(${timestamp}) of ${this.topic}-${this.partition}`, err);
    }
  }

  private async maxTimestampOffset(): Promise<TimestampOffset | null> {
    let best: LogSegment | null = null;
    for (const seg of this.segments) if (seg.maxTimestamp >= 0 && seg.nextOffset > this.logStart && (best === null || seg.maxTimestamp > best.maxTimestamp)) best = seg;
    if (best === null) return null;
    const b = best.findBatch(Math.max(best.offsetOfMaxTimestamp, this.logStart));
    return this.answerInBatch(best, b, best.maxTimestamp);
  }

  private async answerInBatch(seg: LogSegment, b: BatchInfo | null, timestamp: number): Promise<TimestampOffset | null> {
    if (b === null) return null;
    const lookup = this.ctx.findRecordByTimestamp;
    if (lookup === undefined) return { offset: Math.max(b.baseOffset, this.logStart), timestamp: b.maxTimestamp, leaderEpoch: b.leaderEpoch };
    const hit = await lookup(seg.read(b.position, b.size), timestamp, this.logStart);
    return hit === null ? null : { offset: hit.offset, timestamp: hit.timestamp, leaderEpoch: b.leaderEpoch };
  }

  /** DeleteRecords: moves the log start to `offset` (<= high watermark; -1 = high watermark) and deletes segments wholly below it. */
  async deleteRecordsBefore(offset: number): Promise<number> {
    this.checkUsable();
    const target = offset === -1 ? this.highWatermark : offset;
    if (!Number.isSafeInteger(target) || target < 0 || target > this.highWatermark) {
      throw new OffsetOutOfRangeError(`cannot delete records before ${offset}: the high watermark is ${this.highWatermark}`, offset, this.logStart, this.logEndOffset);
    }
    if (target <= this.logStart) return this.logStart;
    this.logStart = target;
    this.deleteSegmentsWhile((seg, next) => next !== undefined && next.baseOffset <= this.logStart);
    await this.afterLogStartMoved();
    return this.logStart;
  }

  /** Retention: deletes whole old segments (never the active one) by retention.ms and retention.bytes. Returns how many. */
  async applyRetention(): Promise<number> {
    if (this.offline || this.closed) return 0;
    const now = this.ctx.clock();
    // Kafka: retention.ms and retention.bytes apply only with cleanup.policy delete (compacted logs keep every key).
    if (!isDeleting(this.config)) return 0;
    const { retentionMs, retentionBytes } = this.config;
    let deleted = 0;
    if (retentionMs >= 0) {
      deleted += this.deleteSegmentsWhile((seg) => now - this.largestTimestamp(seg) > retentionMs);
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeInBytes - retentionBytes;
      deleted += this.deleteSegmentsWhile((seg) => {
        if (excess - seg.size < 0) return false;
        excess -= seg.size;
        return true;
      });
    }
    if (deleted > 0) {
      this.logStart = Math.max(this.logStart, (this.segments[0] as LogSegment).baseOffset);
      await this.afterLogStartMoved();
    }
    return deleted;
  }

  private largestTimestamp(seg: LogSegment): number {
    return seg.maxTimestamp >= 0 ? seg.maxTimestamp : (this.ctx.fs.stat(seg.logPath)?.mtimeMs ?? this.ctx.clock());
  }

  /** Deletes old segments from the front while `predicate` holds; never the active segment. */
  private deleteSegmentsWhile(predicate: (seg: LogSegment, next: LogSegment | undefined) => boolean): number {
    let n = 0;
    while (n < this.segments.length - 1 && predicate(this.segments[n] as LogSegment, this.segments[n + 1])) n++;
    if (n === 0) return 0;
    const doomed = this.segments.slice(0, n);
    this.segments = this.segments.slice(n);
    this.logStart = Math.max(this.logStart, (this.segments[0] as LogSegment).baseOffset);
    this.removeSegmentFiles(doomed);
    return n;
  }

  /** Renames the files of `doomed` *.deleted; the producer snapshot at `keepSnapshotAt` stays (a segment replaced by one with the same base). */
  private removeSegmentFiles(doomed: readonly LogSegment[], keepSnapshotAt = -1): void {
    this.readHint = null;
    const { fs, handles } = this.ctx;
    const renamed: string[] = [];
    try {
      for (const seg of doomed) {
        for (const p of seg.paths) {
          handles.evict(p);
          fs.rename(p, `${p}.deleted`);
          renamed.push(`${p}.deleted`);
        }
        // The producer state snapshot taken at this segment's start (src/produce/producer-snapshot.ts) goes with it.
        const snapshot = `${this.dir}/${segmentFileName(seg.baseOffset)}.snapshot`;
        if (seg.baseOffset !== keepSnapshotAt && fs.stat(snapshot) !== null) {
          fs.rename(snapshot, `${snapshot}.deleted`);
          renamed.push(`${snapshot}.deleted`);
        }
      }
    } catch (err) {
      throw this.goOffline('renaming deleted segment files', err);
    } finally {
      this.dirDirty = true;
      this.ctx.scheduleDelete(renamed, this.config.fileDeleteDelayMs);
    }
  }

  private async afterLogStartMoved(): Promise<void> {
    this.ctx.cache.dropBefore(this.tail, this.logStart);
    if (this.epochs.truncateFromStart(this.logStart)) this.writeEpochCheckpoint();
    await this.ctx.checkpointsChanged(this);
  }

  /**
   * Removes everything at and after `offset` (whole batches: a batch containing `offset` goes entirely).
   * Below the log start, the log is emptied and restarts at `offset`.
   */
  async truncateTo(offset: number): Promise<void> {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`cannot truncate to ${offset}`);
    if (offset >= this.logEndOffset) return;
    this.truncations++;
    this.readHint = null;
    try {
      if (offset < this.logStart) {
        this.replaceAllSegments(offset);
        this.logStart = offset;
      } else {
        const keep = this.segments.filter((s) => s.baseOffset <= offset);
        const doomed = this.segments.filter((s) => s.baseOffset > offset);
        this.segments = keep;
        this.removeSegmentFiles(doomed);
        // Truncation rewrites the index tails: the active segment is open for appends (and sealed, trimmed and
        // synced at close) again.
        this.active.unseal(this.config.segmentIndexBytes);
        this.active.truncateTo(offset);
      }
    } catch (err) {
      throw this.goOffline(`truncating to ${offset}`, err);
    }
    const leo = this.logEndOffset;
    this.ctx.cache.dropFrom(this.tail, leo);
    this.recoveryPointValue = Math.min(this.recoveryPointValue, leo);
    if (this.epochs.truncateFromEnd(leo)) this.writeEpochCheckpoint();
    await this.ctx.checkpointsChanged(this);
  }

  /** Deletes every segment and starts an empty one at `offset`. */
  private replaceAllSegments(offset: number): void {
    const doomed = this.segments;
    this.segments = [];
    this.removeSegmentFiles(doomed);
    this.segments = [LogSegment.create(this.ctx, this.dir, offset, this.config.segmentIndexBytes, this.ctx.clock())];
    this.ctx.cache.dropAll(this.tail);
  }

  /** OffsetForLeaderEpoch, from the leader epoch cache. */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: number } {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
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

  updateConfig(config: Partial<LogConfig>): void {
    this.config = resolveLogConfig(this.config, config);
  }

  /** The segments, oldest first; the last is the active one (for the log cleaner: never modify them). */
  get segmentList(): readonly LogSegment[] {
    return [...this.segments];
  }
  /** Changes with every truncation: the log cleaner swaps nothing into a log truncated while it cleaned. */
  get truncationCount(): number {
    return this.truncations;
  }
  /** Neither closed nor offline. */
  get usable(): boolean {
    return !this.closed && this.offline === null;
  }

  /** `old` are still consecutive segments of this log, followed by another (none of them is the active one). */
  private holdsClosed(old: readonly LogSegment[]): boolean {
    const first = this.segments.indexOf(old[0] as LogSegment);
    if (first < 0 || first + old.length >= this.segments.length) return false;
    return old.every((seg, i) => this.segments[first + i] === seg);
  }

  /**
   * Log cleaner: swaps the cleaned segment `<base>.{index,timeindex,log}.cleaned` (written and fdatasync'ed;
   * base = the base offset of old[0]) in for the consecutive closed segments `old` with Kafka's renames
   * (segment-swap.ts): .cleaned → .swap and a directory fsync; then, in one synchronous step, so that reads
   * see either the old segments or the new one, the old files → *.deleted, .swap → final names and the new
   * segment in the list; then a directory fsync. Returns false, leaving the log as it was and removing the
   * cleaned files, when `old` are no longer closed segments of this log or it was truncated since
   * `truncations` was read.
   */
  async replaceWithCleaned(old: readonly LogSegment[], truncations: number): Promise<boolean> {
    this.checkUsable();
    const { fs } = this.ctx;
    const base = (old[0] as LogSegment).baseOffset;
    const stem = `${this.dir}/${segmentFileName(base)}`;
    const unchanged = (): boolean => this.usable && truncations === this.truncations && this.holdsClosed(old);
    try {
      if (!unchanged()) {
        removeSegmentFileSet(fs, stem, CLEANED_SUFFIX);
        return false;
      }
      renameSegmentFiles(fs, stem, CLEANED_SUFFIX, SWAP_SUFFIX);
      await fs.fsyncDir(this.dir);
      if (!unchanged()) {
        if (this.usable) removeSegmentFileSet(fs, stem, SWAP_SUFFIX);
        return false;
      }
    } catch (err) {
      throw this.goOffline(`swapping in the cleaned segment ${base}`, err);
    }
    const first = this.segments.indexOf(old[0] as LogSegment);
    const next = this.segments[first + old.length] as LogSegment;
    let seg: LogSegment;
    this.removeSegmentFiles(old, base);
    try {
      renameSegmentFiles(fs, stem, SWAP_SUFFIX, '');
      seg = LogSegment.open(this.ctx, this.dir, base, this.config.segmentIndexBytes, this.ctx.clock());
      if (seg.loadIndexes(next.baseOffset) !== null) {
        seg.recover(this.config.indexIntervalBytes, this.config.segmentIndexBytes, false);
        seg.seal();
        seg.needsIndexSync = true;
      }
    } catch (err) {
      throw this.goOffline(`swapping in the cleaned segment ${base}`, err);
    }
    this.segments.splice(first, old.length, seg);
    this.ctx.cache.dropBefore(this.tail, next.baseOffset);
    try {
      await fs.fsyncDir(this.dir);
    } catch (err) {
      throw this.goOffline(`swapping in the cleaned segment ${base}`, err);
    }
    return true;
  }

  /** flush.ms: flushes when the oldest unflushed append is older than flush.ms. */
  maybeFlushByTime(now: number): void {
    if (this.offline || this.closed || this.unflushedMessages === 0) return;
    if (now - this.lastFlushMs >= this.config.flushMs) this.flushInBackground();
  }

  /** fdatasync of everything appended so far. */
  async flush(): Promise<void> {
    this.checkUsable();
    await this.syncTo(this.logEndOffset);
  }

  /** Flushes, trims the active segment's indexes, closes its files. */
  async close(): Promise<void> {
    if (this.closed) return;
    let failure: unknown = this.offline;
    if (!this.offline) {
      try {
        await this.syncTo(this.logEndOffset);
        // The trimmed indexes of the active segment are trusted after a clean shutdown: make them durable.
        const active = this.active;
        if (!active.sealed) {
          active.seal();
          await this.ctx.syncLimiter.run(() => this.fdatasyncFiles(active.paths));
        }
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
    this.closed = true;
    this.ctx.handles.evictPrefix(`${this.dir}/`);
    this.ctx.cache.dropAll(this.tail);
    this.listeners.clear();
  }
}

/** Splits a buffer into the v2 batches lying back to back in it; throws RangeError if it does not tile. */
function parseBatches(buf: Buffer): BatchInfo[] {
  if (buf.length === 0) throw new RangeError('append of an empty buffer');
  const out: BatchInfo[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = entrySizeAt(buf, pos);
    if (size < RECORD_BATCH_OVERHEAD || pos + size > buf.length) throw new RangeError(`malformed record batch at byte ${pos}: size ${size}, ${buf.length - pos} bytes left`);
    let h;
    try {
      h = readBatchHeader(buf, pos);
    } catch (err) {
      throw new RangeError(`malformed record batch at byte ${pos}: ${(err as Error).message}`);
    }
    if (h.lastOffsetDelta < 0) throw new RangeError(`record batch at byte ${pos} has a negative lastOffsetDelta`);
    out.push({ position: pos, size, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch });
    pos += size;
  }
  return out;
}
