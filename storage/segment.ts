/**
 * LogSegment: one `<20-digit base offset>.log` of record batches, byte for byte as appended, with its sparse
 * `.index` and `.timeindex` (index-file.ts). Index entries follow Kafka 3.9: after more than
 * index.interval.bytes since the last entry, the next batch gets an offset entry (its last offset, its
 * position) and a time entry (largest timestamp so far, the last offset of the batch that had it).
 *
 * An index is a hint that is checked where it is used: a look-up reads the batch header at the position the
 * offset index gives (the read the scan makes anyway), and that batch must end at the entry's offset. When it
 * does not (a stale, damaged or hand-edited index whose entries point into the middle of batches), the look-up
 * scans the .log from its start instead, and the segment is marked `indexProblem` so that its owner rebuilds
 * the indexes (LocalLog, which knows index.interval.bytes): a read never skips an offset on an index's word.
 */
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, readBatchHeader, verifyBatchCrc } from '../protocol/records/batch-header.js';
import type { BufferPool } from './buffer-pool.js';
import type { FileHandleCache } from './file-handles.js';
import type { StorageFs } from './fs.js';
import { OffsetIndex, TimeIndex } from './index-file.js';
import { TXN_INDEX_SUFFIX, TransactionIndex } from './transaction-index.js';

export interface SegmentContext {
  fs: StorageFs;
  handles: FileHandleCache;
  pool: BufferPool;
}

/** Where a batch is and what its header says. */
export interface BatchInfo {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  leaderEpoch: number;
}

export interface RecoveryResult {
  /** Bytes cut from the end of the segment (0 when the whole segment was valid). */
  truncatedBytes: number;
  /** Why the scan stopped early, when it did. */
  reason?: string;
}

const MAX_RELATIVE_OFFSET = 0x7fffffff;
const SCAN_CHUNK = 1024 * 1024;

export function segmentFileName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

/** Base offset of a `<20 digits>.<ext>` segment file name (.log, .index, .timeindex, .txnindex), or null. */
export function parseSegmentFileName(name: string): { baseOffset: number; ext: string } | null {
  const m = /^(\d{20})\.(log|index|timeindex|txnindex)$/.exec(name);
  return m ? { baseOffset: Number(m[1]), ext: m[2] as string } : null;
}

export class LogSegment {
  readonly logPath: string;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** The aborted transactions whose ABORT marker is in this segment (transaction-index.ts; no file until the first). */
  readonly txnIndex: TransactionIndex;
  /** Bytes in the .log file. */
  size = 0;
  /** Last offset + 1, the base offset when empty. */
  nextOffset: number;
  /** Largest batch maxTimestamp in the segment, -1 if none. */
  maxTimestamp = -1;
  /** Last offset of the (first) batch carrying maxTimestamp. */
  offsetOfMaxTimestamp = -1;
  /** Wall-clock time of the first append (for segment.ms). */
  rollBaseMs: number;
  /** A failed write could not be undone: the file may end with a partial batch. */
  broken = false;
  /** Sealed, but the trimmed indexes (and the .log) are not yet known to be fdatasync'ed. */
  needsIndexSync = false;
  /** Indexes trimmed to their entries (read-only until unseal). */
  sealed = false;
  /** What a look-up found wrong with the offset index (its owner rebuilds it), or null. */
  indexProblem: string | null = null;
  /** An index file was missing when the segment was opened (it must be rebuilt). */
  private missingIndex = false;
  private bytesSinceLastIndexEntry = 0;

  private constructor(
    private readonly ctx: SegmentContext,
    readonly dir: string,
    readonly baseOffset: number,
    maxIndexBytes: number,
    nowMs: number,
    suffix = '',
  ) {
    const name = `${dir}/${segmentFileName(baseOffset)}`;
    this.logPath = `${name}.log${suffix}`;
    this.offsetIndex = new OffsetIndex(ctx, `${name}.index${suffix}`, baseOffset, maxIndexBytes);
    this.timeIndex = new TimeIndex(ctx, `${name}.timeindex${suffix}`, baseOffset, maxIndexBytes);
    const txnPath = `${name}${TXN_INDEX_SUFFIX}${suffix}`;
    this.txnIndex = new TransactionIndex(ctx, txnPath, ctx.fs.stat(txnPath) !== null);
    this.nextOffset = baseOffset;
    this.rollBaseMs = nowMs;
  }

  /** Every file of the segment: .log, .index, .timeindex, and .txnindex once it exists. */
  get paths(): string[] {
    const paths = [this.logPath, this.offsetIndex.path, this.timeIndex.path];
    if (this.txnIndex.exists) paths.push(this.txnIndex.path);
    return paths;
  }

  /** The files an append writes for good (an fdatasync of the active segment): the .log and the .txnindex once it exists. */
  get dataPaths(): string[] {
    return this.txnIndex.exists ? [this.logPath, this.txnIndex.path] : [this.logPath];
  }

  /**
   * A new empty segment: creates (truncates) its three files and preallocates the indexes. With a `suffix`
   * ('.cleaned': the log cleaner's output) every file name ends with it.
   */
  static create(ctx: SegmentContext, dir: string, baseOffset: number, maxIndexBytes: number, nowMs: number, suffix = ''): LogSegment {
    const seg = new LogSegment(ctx, dir, baseOffset, maxIndexBytes, nowMs, suffix);
    // (a .txnindex left at this base by an earlier life of the directory belongs to no segment now)
    if (seg.txnIndex.exists) {
      ctx.fs.unlink(seg.txnIndex.path);
      seg.txnIndex.exists = false;
    }
    for (const path of seg.paths) ctx.fs.close(ctx.fs.open(path, 'w+'));
    seg.offsetIndex.preallocate(maxIndexBytes);
    seg.timeIndex.preallocate(maxIndexBytes);
    return seg;
  }

  /**
   * A segment found on disk. Missing index files are created empty; the caller then either trusts the
   * indexes (loadIndexes, after a clean shutdown or below the recovery point) or rebuilds them (recover).
   */
  static open(ctx: SegmentContext, dir: string, baseOffset: number, maxIndexBytes: number, nowMs: number): LogSegment {
    const seg = new LogSegment(ctx, dir, baseOffset, maxIndexBytes, nowMs);
    for (const path of [seg.offsetIndex.path, seg.timeIndex.path]) {
      if (ctx.fs.stat(path) !== null) continue;
      ctx.fs.close(ctx.fs.open(path, 'cr+'));
      seg.missingIndex = true;
    }
    seg.size = ctx.fs.stat(seg.logPath)?.size ?? 0;
    return seg;
  }

  /**
   * Adopts the index files as they are (trimmed by a clean close or roll) after a sanity check. A segment
   * followed by another ends where the next begins, and its last time entry (added when it was sealed)
   * holds its largest timestamp; the last segment is read after its last index entry to find its end.
   * Returns what is wrong with the indexes, or null; on a problem the caller recovers the segment instead.
   */
  loadIndexes(nextSegmentBase: number | undefined): string | null {
    const { fs } = this.ctx;
    if (this.missingIndex && this.size > 0) return 'index file missing';
    const offsetSize = fs.stat(this.offsetIndex.path)?.size ?? 0;
    const timeSize = fs.stat(this.timeIndex.path)?.size ?? 0;
    const problem = this.offsetIndex.check(this.size, nextSegmentBase, offsetSize) ?? this.timeIndex.check(nextSegmentBase, timeSize);
    if (problem) return problem;
    // Kafka's sanity check reads no batch; two header reads more tell an index whose ends point into batches.
    const n = offsetSize / OffsetIndex.ENTRY_SIZE;
    for (const i of n === 0 ? [] : n === 1 ? [0] : [0, n - 1]) {
      const entry = this.offsetIndex.entryAt(i);
      const b = this.headerAt(entry.position);
      if (!this.entryHolds(entry, b)) {
        return `entry ${i} (offset ${entry.offset}, position ${entry.position}) does not point at the batch ending at that offset`;
      }
    }
    this.offsetIndex.load(offsetSize / OffsetIndex.ENTRY_SIZE);
    this.timeIndex.load(timeSize / TimeIndex.ENTRY_SIZE);
    this.sealed = true;
    this.maxTimestamp = this.timeIndex.lastTimestamp;
    this.offsetOfMaxTimestamp = this.timeIndex.entries > 0 ? this.timeIndex.lastOffset : -1;
    if (nextSegmentBase !== undefined) {
      this.nextOffset = this.size > 0 ? nextSegmentBase : this.baseOffset;
      return null;
    }
    let pos = this.offsetIndex.lastPosition;
    let last: BatchInfo | null = null;
    while (pos < this.size) {
      const b = this.headerAt(pos);
      if (b === null || pos + b.size > this.size) return `unreadable batch at position ${pos}`;
      this.noteTimestamp(b);
      last = b;
      pos += b.size;
    }
    this.nextOffset = last ? last.lastOffset + 1 : this.offsetIndex.entries > 0 ? this.offsetIndex.lastOffset + 1 : this.baseOffset;
    this.setRollBaseFromFirstBatch();
    return null;
  }

  /**
   * Rescans the whole segment, validating every batch (length, magic, CRC-32C, offsets in order), rebuilds
   * both indexes, and cuts the file at the first torn or corrupt batch. `onBatch` sees each valid batch.
   * With `contiguous` (logs that are never compacted) each batch must start right after the previous one.
   */
  recover(indexIntervalBytes: number, maxIndexBytes: number, contiguous: boolean, onBatch?: (b: BatchInfo) => void): RecoveryResult {
    const { fs, handles } = this.ctx;
    this.resetIndexes(maxIndexBytes);
    this.nextOffset = this.baseOffset;
    const fileSize = this.size;
    let buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, Math.max(fileSize, RECORD_BATCH_OVERHEAD)));
    let bufStart = 0; // file position of buf[0]
    let bufLen = 0;
    let pos = 0;
    let reason: string | undefined;
    while (pos < fileSize) {
      // Make sure the 12-byte prefix, then the whole batch, is in the buffer.
      if (pos + LOG_OVERHEAD > bufStart + bufLen) {
        bufStart = pos;
        bufLen = fs.read(handles.fd(this.logPath), buf, 0, Math.min(buf.length, fileSize - pos), pos);
        if (bufLen < Math.min(LOG_OVERHEAD, fileSize - pos)) {
          reason = `short read at position ${pos}`;
          break;
        }
        if (bufLen < LOG_OVERHEAD) {
          reason = `torn batch prefix at position ${pos} (${fileSize - pos} bytes left)`;
          break;
        }
      }
      const size = LOG_OVERHEAD + buf.readInt32BE(pos - bufStart + BATCH_LENGTH_OFFSET);
      if (size < RECORD_BATCH_OVERHEAD) {
        reason = `batch at position ${pos} has impossible size ${size}`;
        break;
      }
      if (pos + size > fileSize) {
        reason = `torn batch at position ${pos}: ${size} bytes, ${fileSize - pos} on disk`;
        break;
      }
      if (pos + size > bufStart + bufLen) {
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
        bufStart = pos;
        bufLen = fs.read(handles.fd(this.logPath), buf, 0, Math.min(buf.length, fileSize - pos), pos);
        if (bufLen < size) {
          reason = `short read at position ${pos}`;
          break;
        }
      }
      const at = pos - bufStart;
      const view = buf.subarray(0, at + size);
      let b: BatchInfo;
      try {
        const h = readBatchHeader(view, at);
        b = { position: pos, size, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch };
      } catch (err) {
        reason = `invalid batch header at position ${pos}: ${(err as Error).message}`;
        break;
      }
      if (!verifyBatchCrc(view, at)) {
        reason = `CRC mismatch in batch at position ${pos} (offset ${b.baseOffset})`;
        break;
      }
      if ((contiguous ? b.baseOffset !== this.nextOffset : b.baseOffset < this.nextOffset) || b.lastOffset < b.baseOffset || b.lastOffset - this.baseOffset > MAX_RELATIVE_OFFSET) {
        reason = `batch at position ${pos} has offsets ${b.baseOffset}..${b.lastOffset}, expected from ${this.nextOffset}`;
        break;
      }
      this.indexBatch(b, indexIntervalBytes);
      this.nextOffset = b.lastOffset + 1;
      onBatch?.(b);
      pos += size;
    }
    const truncatedBytes = fileSize - pos;
    if (truncatedBytes > 0) {
      fs.ftruncate(handles.fd(this.logPath), pos);
      this.size = pos;
    }
    // Aborts whose marker did not survive go; those lost while their marker survived are written again by
    // the producer state replay (transaction-index.ts: appends are idempotent by marker offset).
    this.txnIndex.truncateTo(this.nextOffset);
    this.setRollBaseFromFirstBatch();
    return reason === undefined ? { truncatedBytes } : { truncatedBytes, reason };
  }

  /**
   * Writes `buf` (whole batches, offsets already assigned) at the end of the .log and indexes its batches
   * (positions in `batches` are relative to `buf`). On a write error the file is cut back and the error
   * rethrown.
   */
  append(buf: Buffer, batches: readonly BatchInfo[], indexIntervalBytes: number, nowMs: number): void {
    const { fs, handles } = this.ctx;
    const start = this.size;
    try {
      fs.write(handles.fd(this.logPath), buf, 0, buf.length, start);
    } catch (err) {
      // A partial write may have landed: cut it off so the file ends with the last whole batch.
      try {
        fs.ftruncate(handles.fd(this.logPath), start);
      } catch {
        this.broken = true;
      }
      throw err;
    }
    this.appended(buf.length, batches, indexIntervalBytes, nowMs);
  }

  /**
   * Takes `length` bytes that the caller wrote at the end of the .log (the log cleaner writes its output
   * asynchronously) and indexes their batches (positions relative to the start of those bytes).
   */
  appended(length: number, batches: readonly BatchInfo[], indexIntervalBytes: number, nowMs: number): void {
    const start = this.size;
    if (start === 0) this.rollBaseMs = nowMs;
    this.size = start + length;
    for (const b of batches) this.indexBatch({ ...b, position: start + b.position }, indexIntervalBytes);
    const last = batches[batches.length - 1];
    if (last) this.nextOffset = last.lastOffset + 1;
  }

  private indexBatch(b: BatchInfo, indexIntervalBytes: number): void {
    this.noteTimestamp(b);
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(b.lastOffset, b.position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += b.size;
  }

  private noteTimestamp(b: BatchInfo): void {
    if (b.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = b.maxTimestamp;
      this.offsetOfMaxTimestamp = b.lastOffset;
    }
  }

  private setRollBaseFromFirstBatch(): void {
    if (this.size === 0) return;
    const first = this.headerAt(0);
    if (first && first.maxTimestamp >= 0 && first.maxTimestamp < this.rollBaseMs) this.rollBaseMs = first.maxTimestamp;
  }

  /** The header of the batch at `position`, or null if fewer than 61 bytes are there or it is not v2. */
  headerAt(position: number): BatchInfo | null {
    const head = this.ctx.pool.alloc(RECORD_BATCH_OVERHEAD);
    const n = this.ctx.fs.read(this.ctx.handles.fd(this.logPath), head, 0, RECORD_BATCH_OVERHEAD, position);
    if (n < RECORD_BATCH_OVERHEAD) return null;
    try {
      const h = readBatchHeader(head, 0);
      const size = LOG_OVERHEAD + h.batchLength;
      return { position, size, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch };
    } catch {
      return null;
    } finally {
      this.ctx.pool.shrink(head, 0);
    }
  }

  /**
   * Where a scan for `offset` may start: the position of the offset index's entry for it, once the batch
   * header there shows that a batch ending at the entry's offset starts there; 0 when the index has no entry
   * for it or the check fails (the segment is then marked `indexProblem`).
   */
  indexedPosition(offset: number): number {
    const entry = this.offsetIndex.lookup(offset);
    if (entry.position === 0) return 0;
    const b = this.headerAt(entry.position);
    if (this.entryHolds(entry, b)) return entry.position;
    this.noteIndexProblem(entry, b);
    return 0;
  }

  /** The first batch whose last offset is >= `offset`, starting from the (checked) offset index; null past the end. */
  findBatch(offset: number, fromPosition = 0): BatchInfo | null {
    if (offset >= this.nextOffset) return null;
    const entry = this.offsetIndex.lookup(offset);
    let pos = Math.max(fromPosition, entry.position);
    let check = entry.position > 0 && pos === entry.position;
    while (pos < this.size) {
      const b = this.headerAt(pos);
      if (check) {
        check = false;
        if (!this.entryHolds(entry, b)) {
          this.noteIndexProblem(entry, b);
          pos = fromPosition;
          continue;
        }
      }
      if (b === null) return null;
      if (b.lastOffset >= offset) return b;
      pos += b.size;
    }
    return null;
  }

  /** The batch at an offset index entry's position ends at the entry's offset (as indexBatch wrote it). */
  private entryHolds(entry: { offset: number; position: number }, b: BatchInfo | null): boolean {
    return b !== null && b.lastOffset === entry.offset && b.baseOffset >= this.baseOffset && b.baseOffset <= b.lastOffset && entry.position + b.size <= this.size;
  }

  private noteIndexProblem(entry: { offset: number; position: number }, b: BatchInfo | null): void {
    this.indexProblem ??=
      `offset index entry (offset ${entry.offset}, position ${entry.position}) points at ` +
      (b === null ? 'no batch header' : `a batch header with offsets ${b.baseOffset}..${b.lastOffset}`);
  }

  /** Empties both indexes and what they were built from, before a scan fills them again (unsealed). */
  private resetIndexes(maxIndexBytes: number): void {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.offsetIndex.preallocate(maxIndexBytes);
    this.timeIndex.preallocate(maxIndexBytes);
    this.sealed = false;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
  }

  /**
   * Rebuilds both indexes from the batch headers of the .log (the file is not changed: a look-up found an
   * index entry that does not point at its batch). A sealed segment stays sealed, its indexes to be synced.
   */
  rebuildIndexes(indexIntervalBytes: number, maxIndexBytes: number): void {
    const wasSealed = this.sealed;
    this.resetIndexes(maxIndexBytes);
    this.scan(0, (b) => {
      this.indexBatch(b, indexIntervalBytes);
      return true;
    });
    if (wasSealed) {
      this.seal();
      this.needsIndexSync = true;
    }
    this.indexProblem = null;
  }

  /** Calls `visit` for each batch header from `position` until it returns false or the segment ends. */
  scan(position: number, visit: (b: BatchInfo) => boolean): void {
    let pos = position;
    while (pos < this.size) {
      const b = this.headerAt(pos);
      if (b === null || !visit(b)) return;
      pos += b.size;
    }
  }

  /** Bytes [position, position + length) of the .log into a pooled buffer. */
  read(position: number, length: number): Buffer {
    const buf = this.ctx.pool.alloc(length);
    const n = this.ctx.fs.read(this.ctx.handles.fd(this.logPath), buf, 0, length, position);
    return n === length ? buf : this.ctx.pool.shrink(buf, n);
  }

  /** Cuts the segment so that it ends before the batch containing `offset`; returns the bytes removed. */
  truncateTo(offset: number): number {
    const { fs, handles } = this.ctx;
    const b = this.findBatch(offset);
    if (b === null) return 0;
    const removed = this.size - b.position;
    fs.ftruncate(handles.fd(this.logPath), b.position);
    this.size = b.position;
    this.nextOffset = b.baseOffset;
    this.offsetIndex.truncateToPosition(b.position);
    this.timeIndex.truncateToOffset(b.baseOffset);
    this.txnIndex.truncateTo(b.baseOffset);
    // Largest timestamp of what is left: the last time entry, then every batch after the last offset entry.
    this.maxTimestamp = this.timeIndex.lastTimestamp;
    this.offsetOfMaxTimestamp = this.timeIndex.entries > 0 ? this.timeIndex.lastOffset : -1;
    this.scan(this.offsetIndex.lastPosition, (h) => {
      this.noteTimestamp(h);
      return true;
    });
    this.bytesSinceLastIndexEntry = 0;
    if (this.size === 0) this.nextOffset = this.baseOffset;
    return removed;
  }

  /** Makes the segment read-only: a last time entry for the largest timestamp, indexes trimmed. */
  seal(): void {
    if (this.sealed) return;
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
    this.offsetIndex.trim();
    this.timeIndex.trim();
    this.sealed = true;
  }

  /** Preallocates the indexes of a sealed segment again, for appends (it is or became the active one). */
  unseal(maxIndexBytes: number): void {
    if (!this.sealed) return;
    this.offsetIndex.preallocate(maxIndexBytes);
    this.timeIndex.preallocate(maxIndexBytes);
    this.sealed = false;
  }

  /**
   * Kafka's largestTimestamp, what retention.ms and min.compaction.lag.ms compare with: the largest batch
   * timestamp, or the .log file's modification time when the segment has none.
   */
  largestTimestamp(clock: () => number): number {
    return this.maxTimestamp >= 0 ? this.maxTimestamp : (this.ctx.fs.stat(this.logPath)?.mtimeMs ?? clock());
  }

  get indexFull(): boolean {
    return this.offsetIndex.isFull || this.timeIndex.isFull;
  }
}
