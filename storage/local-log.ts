/**
 * LocalLog: the segment files of one partition log (Kafka's LocalLog). It holds the segments, oldest first,
 * the last one active (the one appended to), and does what touches their files: rolling a new segment,
 * truncating, deleting segments (their files renamed `*.deleted`, removed after file.delete.delay.ms),
 * swapping a cleaned segment in (segment-swap.ts), and reading batches and timestamps from the files, with a
 * hint that lets a sequential reader skip the index look-up. A read for a response to send finds the batches
 * by their headers and leaves their bytes in the file (file-region.ts).
 *
 * It knows nothing of the batch cache, the leader epochs or the log start offset: PartitionLog keeps those
 * and calls in here. A file operation that fails and cannot be undone takes the log offline: every later
 * call throws that first error.
 */
import { BASE_OFFSET_OFFSET, LAST_OFFSET_DELTA_OFFSET, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET, entrySizeAt, readInt64 } from '../protocol/records/batch-header.js';
import type { LogConfig } from './config.js';
import { StorageError, storageError } from './errors.js';
import { FileRegion } from './file-region.js';
import type { StorageLogger } from './logger.js';
import { LogSegment, segmentFileName, type BatchInfo, type SegmentContext } from './segment.js';
import { CLEANED_SUFFIX, SWAP_SUFFIX, removeSegmentFileSet, renameSegmentFiles } from './segment-swap.js';

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

/** What a LocalLog (and the log loader) work with. */
export interface LocalLogContext extends SegmentContext {
  logger: StorageLogger;
  clock: () => number;
  /** Remove renamed (*.deleted) segment files after a delay. */
  scheduleDelete(paths: string[], delayMs: number): void;
  findRecordByTimestamp: RecordTimestampLookup | undefined;
}

/**
 * One read from the segment files: whole batches (`buf`, the last one ending at `lastOffset`); or `skipTo`,
 * the next segment's base offset, when nothing at or after the offset is left in its segment (cleaned away);
 * or null, nothing more to read.
 */
export type FileRead = { buf: Buffer; lastOffset: number } | { skipTo: number } | null;

/** As FileRead, with the batches left in the file: a region over them (pinned until released). */
export type RegionRead = { region: FileRegion; lastOffset: number } | { skipTo: number } | null;

/** Largest single file read of a fetch. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Batch headers are walked a window of the file at a time (one buffer, reused: the walk never awaits). */
const HEADER_WINDOW_BYTES = 64 * 1024;
let headerWindow: Buffer | undefined;

/**
 * Renames the files of `doomed` *.deleted, with the producer state snapshot taken at each one's start
 * (src/produce/producer-snapshot.ts) except at `keepSnapshotAt` (a segment replaced by one with the same
 * base), and schedules their removal, also of those renamed before a rename failed.
 */
export function deleteSegmentFiles(ctx: LocalLogContext, dir: string, doomed: readonly LogSegment[], delayMs: number, keepSnapshotAt = -1): void {
  const { fs, handles } = ctx;
  const renamed: string[] = [];
  try {
    for (const seg of doomed) {
      for (const p of seg.paths) {
        handles.evict(p);
        fs.rename(p, `${p}.deleted`);
        renamed.push(`${p}.deleted`);
      }
      const snapshot = `${dir}/${segmentFileName(seg.baseOffset)}.snapshot`;
      if (seg.baseOffset !== keepSnapshotAt && fs.stat(snapshot) !== null) {
        fs.rename(snapshot, `${snapshot}.deleted`);
        renamed.push(`${snapshot}.deleted`);
      }
    }
  } finally {
    ctx.scheduleDelete(renamed, delayMs);
  }
}

export class LocalLog {
  private segs: LogSegment[];
  /** Files were created, renamed or removed since the directory was last fsync'ed. */
  dirDirty = false;
  /** Bumped by every truncation: a sync or a cleaning that started before it does not apply its result. */
  truncations = 0;
  private offlineError: StorageError | null = null;
  private isClosed = false;
  /** Where the last file read ended: the next sequential fetch starts there without an index look-up. */
  private readHint: { segment: LogSegment; offset: number; position: number } | null = null;

  constructor(
    private readonly ctx: LocalLogContext,
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    public config: LogConfig,
    segments: LogSegment[],
  ) {
    this.segs = segments;
  }

  /** The segments, oldest first (the live list: callers must not keep or modify it). */
  get segments(): readonly LogSegment[] {
    return this.segs;
  }
  get active(): LogSegment {
    return this.segs[this.segs.length - 1] as LogSegment;
  }
  get logEndOffset(): number {
    return this.active.nextOffset;
  }
  get sizeInBytes(): number {
    let size = 0;
    for (const s of this.segs) size += s.size;
    return size;
  }

  /** The first I/O failure that took this log offline, or null. */
  get offline(): StorageError | null {
    return this.offlineError;
  }
  /** Neither closed nor offline. */
  get usable(): boolean {
    return !this.isClosed && this.offlineError === null;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  checkUsable(): void {
    if (this.offlineError) throw this.offlineError;
    if (this.isClosed) throw new StorageError(`log ${this.topic}-${this.partition} is closed`);
  }

  goOffline(what: string, err: unknown): StorageError {
    const e = storageError(`${what} (log ${this.topic}-${this.partition} is now offline)`, err);
    if (!this.offlineError) {
      this.offlineError = e;
      this.ctx.logger.error({ topic: this.topic, partition: this.partition, err: e.message }, 'log went offline after an I/O failure');
    }
    return e;
  }

  /** No more calls (the files stay); their handles are closed. */
  close(): void {
    this.isClosed = true;
    this.ctx.handles.evictPrefix(`${this.dir}/`);
  }

  /** Seals the active segment and starts a new one at the log end (the caller flushes the sealed one). */
  roll(now: number): void {
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
    this.segs.push(next);
    this.dirDirty = true;
  }

  /** Deletes the `n` oldest segments (never the active one: n < segment count). */
  deleteOldestSegments(n: number): void {
    const doomed = this.segs.slice(0, n);
    this.segs = this.segs.slice(n);
    this.deleteSegments(doomed);
  }

  private deleteSegments(doomed: readonly LogSegment[], keepSnapshotAt = -1): void {
    this.readHint = null;
    try {
      deleteSegmentFiles(this.ctx, this.dir, doomed, this.config.fileDeleteDelayMs, keepSnapshotAt);
    } catch (err) {
      throw this.goOffline('renaming deleted segment files', err);
    } finally {
      this.dirDirty = true;
    }
  }

  /** Removes everything at and after `offset` (whole batches) from the files; offset >= the base of the first segment. */
  truncateTo(offset: number): void {
    this.truncations++;
    this.readHint = null;
    try {
      const keep = this.segs.filter((s) => s.baseOffset <= offset);
      const doomed = this.segs.filter((s) => s.baseOffset > offset);
      this.segs = keep;
      this.deleteSegments(doomed);
      // Truncation rewrites the index tails: the active segment is open for appends (and sealed, trimmed and
      // synced at close) again.
      this.active.unseal(this.config.segmentIndexBytes);
      this.active.truncateTo(offset);
    } catch (err) {
      throw this.goOffline(`truncating to ${offset}`, err);
    }
  }

  /** Deletes every segment and starts an empty one at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.truncations++;
    try {
      const doomed = this.segs;
      this.segs = [];
      this.deleteSegments(doomed);
      this.segs = [LogSegment.create(this.ctx, this.dir, offset, this.config.segmentIndexBytes, this.ctx.clock())];
    } catch (err) {
      throw this.goOffline(`truncating to ${offset}`, err);
    }
  }

  /** `old` are still consecutive segments of this log, followed by another (none of them is the active one). */
  private holdsClosed(old: readonly LogSegment[]): boolean {
    const first = this.segs.indexOf(old[0] as LogSegment);
    if (first < 0 || first + old.length >= this.segs.length) return false;
    return old.every((seg, i) => this.segs[first + i] === seg);
  }

  /**
   * First steps of a cleaned segment's swap (segment-swap.ts): its files `.cleaned` → `.swap`, then a
   * directory fsync. False, with the cleaned (or swap) files removed, when `old` are no longer closed
   * segments of this log or it was truncated since `truncations` was read.
   */
  async stageSwap(old: readonly LogSegment[], truncations: number): Promise<boolean> {
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
      return true;
    } catch (err) {
      throw this.goOffline(`swapping in the cleaned segment ${base}`, err);
    }
  }

  /**
   * The synchronous step of the swap, so that reads see either the old segments or the new one: the old
   * files → *.deleted, `.swap` → final names, the new segment in the list. Returns the segment after it.
   * The caller then fsyncs the directory (syncDir).
   */
  swapIn(old: readonly LogSegment[]): LogSegment {
    const { fs } = this.ctx;
    const base = (old[0] as LogSegment).baseOffset;
    const first = this.segs.indexOf(old[0] as LogSegment);
    const next = this.segs[first + old.length] as LogSegment;
    let seg: LogSegment;
    this.deleteSegments(old, base);
    try {
      renameSegmentFiles(fs, `${this.dir}/${segmentFileName(base)}`, SWAP_SUFFIX, '');
      seg = LogSegment.open(this.ctx, this.dir, base, this.config.segmentIndexBytes, this.ctx.clock());
      if (seg.loadIndexes(next.baseOffset) !== null) {
        seg.recover(this.config.indexIntervalBytes, this.config.segmentIndexBytes, false);
        seg.seal();
        seg.needsIndexSync = true;
      }
    } catch (err) {
      throw this.goOffline(`swapping in the cleaned segment ${base}`, err);
    }
    this.segs.splice(first, old.length, seg);
    return next;
  }

  /** fsync of the directory; a failure takes the log offline (`what` says what it was for). */
  async syncDir(what: string): Promise<void> {
    try {
      await this.ctx.fs.fsyncDir(this.dir);
    } catch (err) {
      throw this.goOffline(what, err);
    }
  }

  /** Index of the segment holding `offset`: the last one whose base offset is <= it (or the first). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segs[mid] as LogSegment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Whole batches from the files, starting at the one containing `offset` and ending before `end`, into a
   * pooled buffer: at most `budget` bytes (READ_CHUNK_BYTES per call), but at least the first batch when
   * `atLeastOne`.
   */
  readFromFiles(offset: number, end: number, budget: number, atLeastOne: boolean): FileRead {
    const found = this.firstBatchFor(offset);
    if (found === null || 'skipTo' in found) return found;
    const { seg, first } = found;
    if (first.lastOffset >= end || (!atLeastOne && first.size > budget)) return null;
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
    this.readHint = { segment: seg, offset: lastKept + 1, position: first.position + p };
    return { buf: this.ctx.pool.shrink(buf, p), lastOffset: lastKept };
  }

  /**
   * The batches readFromFiles would return (with no READ_CHUNK_BYTES cap: their bytes stay in the file), as a
   * region of their segment's .log, found by walking their headers.
   */
  regionFromFiles(offset: number, end: number, budget: number, atLeastOne: boolean): RegionRead {
    const found = this.firstBatchFor(offset);
    if (found === null || 'skipTo' in found) return found;
    const { seg, first } = found;
    if (first.lastOffset >= end || (!atLeastOne && first.size > budget)) return null;
    const limit = first.position + Math.max(first.size, Math.min(budget, seg.size - first.position));
    const window = (headerWindow ??= Buffer.allocUnsafeSlow(HEADER_WINDOW_BYTES));
    const fd = this.ctx.handles.fd(seg.logPath);
    let windowStart = 0;
    let windowLength = 0;
    let pos = first.position;
    let lastSize = 0;
    let lastKept = -1;
    let records = 0;
    while (pos < limit) {
      if (pos < windowStart || pos + RECORD_BATCH_OVERHEAD > windowStart + windowLength) {
        // after a batch larger than the window, only the next header is read
        const want = Math.min(lastSize >= window.length ? RECORD_BATCH_OVERHEAD : window.length, seg.size - pos);
        windowStart = pos;
        windowLength = this.ctx.fs.read(fd, window, 0, want, pos);
        if (windowLength < RECORD_BATCH_OVERHEAD) throw new StorageError(`short read of the batch header at position ${pos} of ${seg.logPath}`);
      }
      const at = pos - windowStart;
      const size = entrySizeAt(window.subarray(0, windowLength), at);
      if (size < RECORD_BATCH_OVERHEAD) throw new StorageError(`corrupt batch at position ${pos} of ${seg.logPath}`);
      if (pos + size > limit) break;
      const last = readInt64(window, at + BASE_OFFSET_OFFSET) + window.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (last >= end) break;
      records += window.readInt32BE(at + RECORDS_COUNT_OFFSET);
      lastKept = last;
      lastSize = size;
      pos += size;
    }
    if (pos === first.position) throw new StorageError(`short read of the batch at position ${first.position} of ${seg.logPath}`);
    this.readHint = { segment: seg, offset: lastKept + 1, position: pos };
    const region = new FileRegion(this.ctx.fs, this.ctx.handles, seg.logPath, first.position, pos - first.position, records);
    return { region, lastOffset: lastKept };
  }

  /**
   * The segment holding `offset` and the header of the batch containing it; `skipTo` when nothing at or after
   * it is left in that segment (cleaned away); null when nothing is.
   */
  private firstBatchFor(offset: number): { seg: LogSegment; first: BatchInfo } | { skipTo: number } | null {
    const segIndex = this.segmentIndexFor(offset);
    const seg = this.segs[segIndex] as LogSegment;
    // A consumer's next fetch usually starts where its last one ended: skip the index look-up.
    const hint = this.readHint;
    let first = hint !== null && hint.segment === seg && hint.offset === offset ? seg.headerAt(hint.position) : null;
    if (first === null || first.baseOffset > offset || first.lastOffset < offset) first = this.findBatch(seg, offset);
    if (first === null) {
      const nextSeg = this.segs[segIndex + 1];
      if (nextSeg === undefined || nextSeg.baseOffset <= offset) return null;
      return { skipTo: nextSeg.baseOffset };
    }
    return { seg, first };
  }

  /**
   * The first offset at or after `logStart` whose timestamp is >= `timestamp` (time index, then the batch
   * headers, then the records when the broker gave a RecordTimestampLookup); null when there is none.
   */
  async offsetForTimestamp(timestamp: number, logStart: number): Promise<TimestampOffset | null> {
    for (const seg of this.segs) {
      if (seg.maxTimestamp < timestamp || seg.nextOffset <= logStart) continue;
      const entry = seg.timeIndex.lookup(timestamp);
      let fromOffset = Math.max(entry?.offset ?? seg.baseOffset, logStart);
      if (entry !== null && fromOffset === entry.offset) {
        // the time index entry must name the batch that ends at its offset and has its timestamp
        const at = this.findBatch(seg, entry.offset);
        if (at === null || at.lastOffset !== entry.offset || at.maxTimestamp !== entry.timestamp) {
          seg.indexProblem ??= `time index entry (timestamp ${entry.timestamp}, offset ${entry.offset}) does not match the batch there`;
          this.repairIndexes(seg);
          fromOffset = Math.max(seg.baseOffset, logStart);
        }
      }
      const start = this.findBatch(seg, fromOffset);
      if (start === null) continue;
      let found: BatchInfo | null = null;
      seg.scan(start.position, (b) => {
        if (b.maxTimestamp >= timestamp && b.lastOffset >= logStart) {
          found = b;
          return false;
        }
        return true;
      });
      const hit = await this.answerInBatch(seg, found, timestamp, logStart);
      if (hit) return hit;
    }
    return null;
  }

  /** The offset of the largest timestamp at or after `logStart` (ListOffsets -3), or null for an empty log. */
  async maxTimestampOffset(logStart: number): Promise<TimestampOffset | null> {
    let best: LogSegment | null = null;
    for (const seg of this.segs) if (seg.maxTimestamp >= 0 && seg.nextOffset > logStart && (best === null || seg.maxTimestamp > best.maxTimestamp)) best = seg;
    if (best === null) return null;
    const b = this.findBatch(best, Math.max(best.offsetOfMaxTimestamp, logStart));
    return this.answerInBatch(best, b, best.maxTimestamp, logStart);
  }

  /** seg.findBatch, and the segment's indexes rebuilt when the look-up found them wrong (see segment.ts). */
  private findBatch(seg: LogSegment, offset: number): BatchInfo | null {
    const b = seg.findBatch(offset);
    if (seg.indexProblem !== null) this.repairIndexes(seg);
    return b;
  }

  private repairIndexes(seg: LogSegment): void {
    this.ctx.logger.warn(
      { topic: this.topic, partition: this.partition, segment: seg.baseOffset, problem: seg.indexProblem },
      'index does not match the log: read by scanning the segment, rebuilding its indexes',
    );
    try {
      seg.rebuildIndexes(this.config.indexIntervalBytes, this.config.segmentIndexBytes);
    } catch (err) {
      throw this.goOffline(`rebuilding the indexes of segment ${seg.baseOffset}`, err);
    }
  }

  private async answerInBatch(seg: LogSegment, b: BatchInfo | null, timestamp: number, logStart: number): Promise<TimestampOffset | null> {
    if (b === null) return null;
    const lookup = this.ctx.findRecordByTimestamp;
    if (lookup === undefined) return { offset: Math.max(b.baseOffset, logStart), timestamp: b.maxTimestamp, leaderEpoch: b.leaderEpoch };
    const hit = await lookup(seg.read(b.position, b.size), timestamp, logStart);
    return hit === null ? null : { offset: hit.offset, timestamp: hit.timestamp, leaderEpoch: b.leaderEpoch };
  }
}
