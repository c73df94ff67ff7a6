/**
 * TransactionIndex [TransactionIndex]: `<20-digit base offset>.txnindex` next to a segment's .log, the
 * aborted transactions whose ABORT marker lies in that segment, in the order of their markers. A
 * read_committed fetch asks the segments it reads for the aborted transactions overlapping its range
 * (PartitionLog.collectAbortedTransactions), so the consumer can drop their records.
 *
 * Entries are Kafka's AbortedTxn, 34 bytes each, big-endian, back to back, no header:
 *
 *   int16  version            0
 *   int64  producerId
 *   int64  firstOffset        first offset of the transaction in this partition
 *   int64  lastOffset         offset of its ABORT marker
 *   int64  lastStableOffset   the partition's LSO once the marker completed it (the first offset of the
 *                             earliest transaction still ongoing, or the marker's offset + 1)
 *
 * Rules it keeps:
 * - The file exists only once a segment has an entry (Kafka creates it lazily too); `exists` says so, and
 *   the segment lists its path with its other files only then (flush, rename to *.deleted, removal).
 * - Appends are idempotent by marker offset: an entry whose lastOffset is not above the last entry's is
 *   skipped, so producer state replay after a restart can write every abort it reads again and only the
 *   missing ones land (an unclean shutdown may lose index writes the .log kept).
 * - Truncating a segment truncates its index to the entries whose marker is still below the cut.
 * - A file whose size is not a whole number of entries, or an entry with another version, is cut at the
 *   first bad entry when it is read (a torn append), with what it found reported to the caller's log.
 */
import { readInt64, writeInt64 } from '../protocol/records/batch-header.js';
import type { FileHandleCache } from './file-handles.js';
import type { StorageFs } from './fs.js';

/** One aborted transaction (Kafka's AbortedTxn). */
export interface AbortedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

export const TXN_INDEX_SUFFIX = '.txnindex';
export const ABORTED_TXN_VERSION = 0;
export const ABORTED_TXN_SIZE = 2 + 8 + 8 + 8 + 8;

export interface TransactionIndexContext {
  fs: StorageFs;
  handles: FileHandleCache;
}

export function encodeAbortedTxn(t: AbortedTxn, buf: Buffer = Buffer.allocUnsafe(ABORTED_TXN_SIZE), pos = 0): Buffer {
  buf.writeInt16BE(ABORTED_TXN_VERSION, pos);
  writeInt64(buf, pos + 2, t.producerId);
  writeInt64(buf, pos + 10, t.firstOffset);
  writeInt64(buf, pos + 18, t.lastOffset);
  writeInt64(buf, pos + 26, t.lastStableOffset);
  return buf;
}

/** The entries of a .txnindex file's bytes, up to the first torn or unknown one; `problem` says why it stopped early. */
export function decodeAbortedTxns(buf: Buffer): { entries: AbortedTxn[]; problem: string | null } {
  const entries: AbortedTxn[] = [];
  let pos = 0;
  for (; pos + ABORTED_TXN_SIZE <= buf.length; pos += ABORTED_TXN_SIZE) {
    const version = buf.readInt16BE(pos);
    if (version !== ABORTED_TXN_VERSION) return { entries, problem: `entry ${entries.length} has version ${version}` };
    const t = { producerId: readInt64(buf, pos + 2), firstOffset: readInt64(buf, pos + 10), lastOffset: readInt64(buf, pos + 18), lastStableOffset: readInt64(buf, pos + 26) };
    const prev = entries[entries.length - 1];
    if (t.firstOffset > t.lastOffset || (prev !== undefined && t.lastOffset <= prev.lastOffset)) {
      return { entries, problem: `entry ${entries.length} (offsets ${t.firstOffset}..${t.lastOffset}) is out of order` };
    }
    entries.push(t);
  }
  return { entries, problem: pos === buf.length ? null : `${buf.length - pos} bytes after the last whole entry` };
}

export class TransactionIndex {
  /** The entries, read from the file at first use. */
  private cached: AbortedTxn[] | null = null;
  /** What reading the file found wrong (it was cut to its good entries), reported once by the owner. */
  problem: string | null = null;

  constructor(
    private readonly ctx: TransactionIndexContext,
    readonly path: string,
    /** The file is on disk. */
    public exists: boolean,
  ) {}

  get entries(): readonly AbortedTxn[] {
    if (this.cached === null) this.cached = this.load();
    return this.cached;
  }

  get lastOffset(): number {
    const e = this.entries;
    return e.length === 0 ? -1 : (e[e.length - 1] as AbortedTxn).lastOffset;
  }

  /** Appends an entry unless one for its marker (or a later one) is there already; returns whether it did. */
  append(t: AbortedTxn): boolean {
    const entries = this.entries as AbortedTxn[];
    if (t.lastOffset <= this.lastOffset) return false;
    const { fs, handles } = this.ctx;
    if (!this.exists) {
      fs.close(fs.open(this.path, 'cr+'));
      this.exists = true;
    }
    fs.write(handles.fd(this.path), encodeAbortedTxn(t), 0, ABORTED_TXN_SIZE, entries.length * ABORTED_TXN_SIZE);
    entries.push(t);
    return true;
  }

  /**
   * The entries of transactions overlapping [startOffset, endOffset): marker at or after startOffset, first
   * offset before endOffset (Kafka's TransactionIndex.collectAbortedTxns). `complete` is true when an entry's
   * lastStableOffset reaches endOffset: no later segment can hold an abort of a transaction in the range.
   */
  collect(startOffset: number, endOffset: number, into: AbortedTxn[]): boolean {
    for (const t of this.entries) {
      if (t.lastOffset >= startOffset && t.firstOffset < endOffset) into.push(t);
      if (t.lastStableOffset >= endOffset) return true;
    }
    return false;
  }

  /** Drops the entries whose marker is at or after `offset`. */
  truncateTo(offset: number): void {
    if (!this.exists) return;
    const entries = this.entries as AbortedTxn[];
    let n = entries.length;
    while (n > 0 && (entries[n - 1] as AbortedTxn).lastOffset >= offset) n--;
    if (n === entries.length) return;
    entries.length = n;
    this.ctx.fs.ftruncate(this.ctx.handles.fd(this.path), n * ABORTED_TXN_SIZE);
  }

  /** Removes every entry (the file stays, empty). */
  reset(): void {
    this.cached = [];
    if (this.exists) this.ctx.fs.ftruncate(this.ctx.handles.fd(this.path), 0);
  }

  private load(): AbortedTxn[] {
    if (!this.exists) return [];
    const { fs, handles } = this.ctx;
    const size = fs.stat(this.path)?.size ?? 0;
    const buf = Buffer.alloc(size);
    const n = size === 0 ? 0 : fs.read(handles.fd(this.path), buf, 0, size, 0);
    const { entries, problem } = decodeAbortedTxns(buf.subarray(0, n));
    if (problem !== null) {
      this.problem = problem;
      fs.ftruncate(handles.fd(this.path), entries.length * ABORTED_TXN_SIZE);
    }
    return entries;
  }
}
