/**
 * Sparse indexes of a segment, in Kafka's file formats (big-endian, offsets relative to the segment's base):
 *   .index      8-byte entries: relative offset int32, file position int32
 *   .timeindex 12-byte entries: timestamp int64, relative offset int32
 * The file of the active segment is preallocated to segment.index.bytes (sparse, zero-filled) and trimmed to
 * its entries on roll and close, as Kafka does. Entries are looked up by binary search with positioned reads
 * (page cache), so an index costs no memory beyond its last entry and a small staging buffer: new entries
 * are written to the file in groups (the active segment's indexes are rebuilt by recovery anyway; a trim
 * writes what is staged first, so sealed indexes are complete).
 */
import type { FileHandleCache } from './file-handles.js';
import type { StorageFs } from './fs.js';

export interface IndexContext {
  fs: StorageFs;
  handles: FileHandleCache;
}

const scratch = Buffer.alloc(12);
/** Entries staged before one write to the file. */
const STAGED_ENTRIES = 64;

abstract class IndexFile {
  entries = 0;
  maxEntries: number;
  /** Entries [0, written) are in the file; [written, entries) are staged. */
  private written = 0;
  private staged: Buffer | null = null;

  constructor(
    protected readonly ctx: IndexContext,
    readonly path: string,
    readonly baseOffset: number,
    protected readonly entrySize: number,
    maxIndexBytes: number,
  ) {
    this.maxEntries = Math.floor(maxIndexBytes / entrySize);
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.entries * this.entrySize;
  }

  /** Extends the file to its maximum size (sparse zeros), ready for appends. */
  preallocate(maxIndexBytes: number): void {
    this.maxEntries = Math.max(this.entries, Math.floor(maxIndexBytes / this.entrySize));
    this.ctx.fs.ftruncate(this.ctx.handles.fd(this.path), this.maxEntries * this.entrySize);
  }

  /** Writes the staged entries to the file. */
  flushStaged(): void {
    if (this.entries === this.written || this.staged === null) return;
    const bytes = (this.entries - this.written) * this.entrySize;
    this.ctx.fs.write(this.ctx.handles.fd(this.path), this.staged, 0, bytes, this.written * this.entrySize);
    this.written = this.entries;
  }

  /** Cuts the file to its entries (on roll and close). */
  trim(): void {
    this.flushStaged();
    this.ctx.fs.ftruncate(this.ctx.handles.fd(this.path), this.entries * this.entrySize);
    this.maxEntries = this.entries;
  }

  /** Adopts `entries` entries already in the file (a trimmed index loaded at start). */
  load(entries: number): void {
    this.entries = entries;
    this.written = entries;
    this.afterTruncate();
  }

  /** Removes every entry. */
  reset(): void {
    this.entries = 0;
    this.written = 0;
    this.afterTruncate();
  }

  protected readEntry(i: number): Buffer {
    if (i >= this.written && i < this.entries && this.staged !== null) {
      this.staged.copy(scratch, 0, (i - this.written) * this.entrySize, (i - this.written + 1) * this.entrySize);
      return scratch;
    }
    const n = this.ctx.fs.read(this.ctx.handles.fd(this.path), scratch, 0, this.entrySize, i * this.entrySize);
    if (n !== this.entrySize) throw new Error(`index ${this.path}: short read of entry ${i}`);
    return scratch;
  }

  protected writeEntry(entry: Buffer): void {
    this.staged ??= Buffer.allocUnsafe(STAGED_ENTRIES * this.entrySize);
    entry.copy(this.staged, (this.entries - this.written) * this.entrySize, 0, this.entrySize);
    this.entries++;
    if (this.entries - this.written === STAGED_ENTRIES) {
      try {
        this.flushStaged();
      } catch (err) {
        // (ENOSPC) the entry is not added: the index stays as it was, its staged entries within the buffer
        this.entries--;
        throw err;
      }
    }
  }

  /** Largest i in [0, entries) with key(i) <= target, or -1. */
  protected floorIndex(target: number, key: (i: number) => number): number {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (key(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Keeps only the first `count` entries. */
  protected truncateEntries(count: number): void {
    if (count >= this.entries) return;
    this.entries = count;
    // Entries past `count` in the file are stale; the file is trimmed to `entries` when sealed.
    this.written = Math.min(this.written, count);
    this.afterTruncate();
  }

  protected abstract afterTruncate(): void;
}

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  static readonly ENTRY_SIZE = 8;
  /** Last entry (absolute offset), or base offset / position 0 when empty. */
  lastOffset: number;
  lastPosition = 0;
  private readonly entry = Buffer.alloc(8);

  constructor(ctx: IndexContext, path: string, baseOffset: number, maxIndexBytes: number) {
    super(ctx, path, baseOffset, OffsetIndex.ENTRY_SIZE, maxIndexBytes);
    this.lastOffset = baseOffset;
  }

  entryAt(i: number): OffsetPosition {
    const buf = this.readEntry(i);
    return { offset: this.baseOffset + buf.readInt32BE(0), position: buf.readInt32BE(4) };
  }

  append(offset: number, position: number): void {
    if (this.isFull || (this.entries > 0 && offset <= this.lastOffset)) return;
    this.entry.writeInt32BE(offset - this.baseOffset, 0);
    this.entry.writeInt32BE(position, 4);
    this.writeEntry(this.entry);
    this.lastOffset = offset;
    this.lastPosition = position;
  }

  /** The entry with the largest offset <= target, or (baseOffset, 0). */
  lookup(target: number): OffsetPosition {
    if (this.entries === 0 || target < this.baseOffset) return { offset: this.baseOffset, position: 0 };
    if (target >= this.lastOffset) return { offset: this.lastOffset, position: this.lastPosition };
    const i = this.floorIndex(target, (k) => this.entryAt(k).offset);
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(i);
  }

  /** Drops entries pointing at or beyond `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    if (this.entries === 0 || this.lastPosition < position) return;
    this.truncateEntries(this.floorIndex(position - 1, (k) => this.entryAt(k).position) + 1);
  }

  protected afterTruncate(): void {
    if (this.entries === 0) {
      this.lastOffset = this.baseOffset;
      this.lastPosition = 0;
    } else {
      const last = this.entryAt(this.entries - 1);
      this.lastOffset = last.offset;
      this.lastPosition = last.position;
    }
  }

  /** Sanity check of a loaded index (first and last entries): null when fine, else what is wrong. */
  check(logSize: number, nextOffset: number | undefined, fileSize: number): string | null {
    if (fileSize % OffsetIndex.ENTRY_SIZE !== 0) return `size ${fileSize} is not a multiple of ${OffsetIndex.ENTRY_SIZE}`;
    let prev: OffsetPosition | null = null;
    const n = fileSize / OffsetIndex.ENTRY_SIZE;
    for (const i of n === 0 ? [] : n === 1 ? [0] : [0, n - 1]) {
      const e = this.entryAt(i);
      // The batch at position 0 is never indexed, so every entry is past the base offset and position 0.
      if (e.offset <= this.baseOffset || e.position <= 0) return `entry ${i} (offset ${e.offset}, position ${e.position}) is at or before the segment start`;
      if (nextOffset !== undefined && e.offset >= nextOffset) return `entry ${i} offset ${e.offset} is past the segment end ${nextOffset}`;
      if (e.position < 0 || e.position >= logSize) return `entry ${i} position ${e.position} outside the log (${logSize} bytes)`;
      if (prev && (e.offset <= prev.offset || e.position <= prev.position)) return `entries out of order`;
      prev = e;
    }
    return null;
  }
}

export interface TimestampOffsetEntry {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  static readonly ENTRY_SIZE = 12;
  lastTimestamp = -1;
  lastOffset: number;
  private readonly entry = Buffer.alloc(12);

  constructor(ctx: IndexContext, path: string, baseOffset: number, maxIndexBytes: number) {
    super(ctx, path, baseOffset, TimeIndex.ENTRY_SIZE, maxIndexBytes);
    this.lastOffset = baseOffset;
  }

  entryAt(i: number): TimestampOffsetEntry {
    const buf = this.readEntry(i);
    return { timestamp: buf.readInt32BE(0) * 4294967296 + buf.readUInt32BE(4), offset: this.baseOffset + buf.readInt32BE(8) };
  }

  /** One slot stays free for the entry added when the segment is sealed. */
  override get isFull(): boolean {
    return this.entries >= Math.max(1, this.maxEntries - 1);
  }

  /** Appends when `timestamp` is larger than the last entry's (entries only grow); `final` may use the last slot. */
  maybeAppend(timestamp: number, offset: number, final = false): void {
    if (this.entries >= this.maxEntries - (final ? 0 : 1) || timestamp < 0) return;
    if (this.entries > 0 && (timestamp <= this.lastTimestamp || offset < this.lastOffset)) return;
    const hi = Math.floor(timestamp / 4294967296);
    this.entry.writeInt32BE(hi, 0);
    this.entry.writeUInt32BE(timestamp - hi * 4294967296, 4);
    this.entry.writeInt32BE(offset - this.baseOffset, 8);
    this.writeEntry(this.entry);
    this.lastTimestamp = timestamp;
    this.lastOffset = offset;
  }

  /** The entry with the largest timestamp <= target, or null. */
  lookup(target: number): TimestampOffsetEntry | null {
    if (this.entries === 0) return null;
    if (target >= this.lastTimestamp) return { timestamp: this.lastTimestamp, offset: this.lastOffset };
    const i = this.floorIndex(target, (k) => this.entryAt(k).timestamp);
    return i < 0 ? null : this.entryAt(i);
  }

  /** Drops entries at or beyond `offset`. */
  truncateToOffset(offset: number): void {
    if (this.entries === 0 || this.lastOffset < offset) return;
    this.truncateEntries(this.floorIndex(offset - 1, (k) => this.entryAt(k).offset) + 1);
  }

  protected afterTruncate(): void {
    if (this.entries === 0) {
      this.lastTimestamp = -1;
      this.lastOffset = this.baseOffset;
    } else {
      const last = this.entryAt(this.entries - 1);
      this.lastTimestamp = last.timestamp;
      this.lastOffset = last.offset;
    }
  }

  check(nextOffset: number | undefined, fileSize: number): string | null {
    if (fileSize % TimeIndex.ENTRY_SIZE !== 0) return `size ${fileSize} is not a multiple of ${TimeIndex.ENTRY_SIZE}`;
    const n = fileSize / TimeIndex.ENTRY_SIZE;
    if (n === 0) return null;
    const first = this.entryAt(0);
    const last = this.entryAt(n - 1);
    if (first.offset < this.baseOffset || last.offset < first.offset) return 'offsets out of order';
    if (last.timestamp < first.timestamp) return 'timestamps out of order';
    if (nextOffset !== undefined && last.offset >= nextOffset) return `last offset ${last.offset} is past the segment end ${nextOffset}`;
    return null;
  }
}
