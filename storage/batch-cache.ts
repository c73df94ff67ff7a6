/**
 * BatchCache: recently appended batches kept in memory, so consumers tailing a partition are served without
 * reading files. One byte bound for all partitions.
 *
 * Each partition's cached batches lie back to back, in offset order, in a few large buffers (slabs) of its
 * CachedTail: an append's bytes are copied to the end of the partition's current slab, so a thousand small
 * batches cost one buffer and a few number arrays rather than a thousand objects the garbage collector has
 * to trace and copy, and a fetch is served a run of consecutive batches as one slice. An append of
 * ZERO_COPY_BYTES or more becomes a slab of its own without a copy. Slabs only ever grow at their end and are
 * never written again: a slice handed to a fetch stays valid after eviction or truncation. A partition's
 * slabs grow from MIN_SLAB_BYTES to MAX_SLAB_BYTES (a quiet partition holds a small one), and to an eighth
 * of the bound at most.
 *
 * The bound counts the slabs' allocated bytes; past it the oldest slab of all (in creation order, whatever
 * its partition) is dropped, so the cache keeps what was appended last.
 */

/** A run of one partition's batches, back to back from position 0 of `buf`. */
interface Slab {
  readonly tail: CachedTail;
  readonly buf: Buffer;
  /** No more appends go here (a zero-copy slab, or one cut short by a truncation). */
  sealed: boolean;
  /** Index of the first batch still cached (batches before it were dropped with the log start). */
  first: number;
  readonly baseOffsets: number[];
  readonly lastOffsets: number[];
  /** End position (exclusive) of each batch in `buf`. */
  readonly ends: number[];
  /** False once evicted or dropped. */
  live: boolean;
}

/** The batches of an append: back to back from the start of the appended bytes. */
export interface AppendedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly size: number;
}

/** A run of cached batches: `buf` holds `batches` whole batches, the last one ending at `lastOffset`. */
export interface CachedRun {
  readonly buf: Buffer;
  readonly lastOffset: number;
  readonly batches: number;
}

export const MIN_SLAB_BYTES = 16 * 1024;
export const MAX_SLAB_BYTES = 1024 * 1024;
/** Appends at least this large are kept as they are, in a slab of their own. */
export const ZERO_COPY_BYTES = 64 * 1024;

/** One partition's cached batches (see BatchCache). */
export class CachedTail {
  /** In offset order. */
  slabs: Slab[] = [];
  /** Size of the next slab this partition gets. */
  nextSlabBytes = MIN_SLAB_BYTES;

  /** Batches cached for this partition. */
  get size(): number {
    let n = 0;
    for (const s of this.slabs) n += s.ends.length - s.first;
    return n;
  }

  /** Last offset of the newest cached batch, or -1. */
  get lastOffset(): number {
    const s = this.slabs[this.slabs.length - 1];
    return s === undefined ? -1 : (s.lastOffsets[s.lastOffsets.length - 1] as number);
  }

  /** Base offsets of the cached batches, in order (for inspection). */
  baseOffsets(): number[] {
    return this.slabs.flatMap((s) => s.baseOffsets.slice(s.first));
  }
}

function start(s: Slab, i: number): number {
  return i === 0 ? 0 : (s.ends[i - 1] as number);
}

/** Bytes of the slab written so far (where its next batch goes). */
function used(s: Slab): number {
  return start(s, s.ends.length);
}

/** Index of the first batch of `s` (from s.first on) whose last offset is >= `offset`, or s.ends.length. */
function firstEndingAtOrAfter(s: Slab, offset: number): number {
  let lo = s.first;
  let hi = s.lastOffsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((s.lastOffsets[mid] as number) < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class BatchCache {
  /** Batches served from the cache. */
  hits = 0;
  /** File reads made for want of cached batches. */
  misses = 0;
  private allocated = 0;
  private cached = 0;
  /** Every live slab in creation order (dead ones are skipped when reached); `head` is the oldest. */
  private order: Array<Slab | undefined> = [];
  private head = 0;
  /** Dead slabs in `order` from `head` on. */
  private dead = 0;

  /** Largest slab made for small appends: an eighth of the bound at most, so that the cache holds several. */
  private readonly slabLimit: number;

  constructor(private readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`cacheBytes must be an integer >= 0, got ${maxBytes}`);
    this.slabLimit = Math.min(MAX_SLAB_BYTES, Math.floor(maxBytes / 8));
  }

  /** Bytes allocated to slabs (what gregor.cache.bytes bounds). */
  get bytes(): number {
    return this.allocated;
  }

  /** Batches cached, all partitions. */
  get batches(): number {
    return this.cached;
  }

  /**
   * Caches an append: `bytes` holds `batches` back to back (offsets assigned). Whatever the partition had
   * cached from the first batch's offset on is dropped first (an append after a truncation).
   */
  add(tail: CachedTail, bytes: Buffer, batches: readonly AppendedBatch[]): void {
    if (this.maxBytes === 0 || batches.length === 0) return;
    let total = 0;
    for (const b of batches) total += b.size;
    if (total !== bytes.length) throw new RangeError(`batches of ${total} bytes in an append of ${bytes.length}`);
    const first = batches[0] as AppendedBatch;
    if (tail.lastOffset >= first.baseOffset) this.dropFrom(tail, first.baseOffset);
    if (bytes.length > this.maxBytes) {
      // larger than the whole cache: not kept, and the slab before it takes no later batch (offset order)
      this.sealLast(tail);
      return;
    }
    let slab: Slab;
    let at: number;
    if (bytes.length >= ZERO_COPY_BYTES) {
      this.sealLast(tail);
      slab = this.newSlab(tail, bytes, true);
      at = 0;
    } else {
      const last = tail.slabs[tail.slabs.length - 1];
      if (last !== undefined && !last.sealed && last.buf.length - used(last) >= bytes.length) {
        slab = last;
      } else {
        this.sealLast(tail);
        const size = Math.max(Math.min(tail.nextSlabBytes, this.slabLimit), bytes.length);
        tail.nextSlabBytes = Math.min(MAX_SLAB_BYTES, tail.nextSlabBytes * 2);
        slab = this.newSlab(tail, Buffer.allocUnsafeSlow(size), false);
      }
      at = used(slab);
      bytes.copy(slab.buf, at);
    }
    let end = at;
    for (const b of batches) {
      end += b.size;
      slab.baseOffsets.push(b.baseOffset);
      slab.lastOffsets.push(b.lastOffset);
      slab.ends.push(end);
    }
    this.cached += batches.length;
    this.evict();
  }

  /**
   * The cached run of whole batches from the one containing `offset` on, each ending before `endOffset`,
   * at most `maxBytes` long except that the first batch is returned whatever its size when `atLeastOne`.
   * `undefined` when the batch containing `offset` is not cached; a run of 0 batches when it is but does
   * not fit (the read stops there).
   */
  read(tail: CachedTail, offset: number, endOffset: number, maxBytes: number, atLeastOne: boolean): CachedRun | undefined {
    const slabs = tail.slabs;
    let lo = 0;
    let hi = slabs.length - 1;
    let slab: Slab | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = slabs[mid] as Slab;
      if ((s.lastOffsets[s.lastOffsets.length - 1] as number) < offset) lo = mid + 1;
      else if ((s.baseOffsets[s.first] as number) > offset) hi = mid - 1;
      else {
        slab = s;
        break;
      }
    }
    if (slab === undefined) return undefined;
    const i = firstEndingAtOrAfter(slab, offset);
    if (i >= slab.ends.length || (slab.baseOffsets[i] as number) > offset) return undefined;
    const from = start(slab, i);
    let j = i;
    while (j < slab.ends.length) {
      if ((slab.lastOffsets[j] as number) >= endOffset) break;
      if (j > i && (slab.baseOffsets[j] as number) !== (slab.lastOffsets[j - 1] as number) + 1) break;
      if ((slab.ends[j] as number) - from > maxBytes && !(j === i && atLeastOne)) break;
      j++;
    }
    if (j === i) return { buf: slab.buf.subarray(from, from), lastOffset: offset - 1, batches: 0 };
    this.hits += j - i;
    return { buf: slab.buf.subarray(from, slab.ends[j - 1] as number), lastOffset: slab.lastOffsets[j - 1] as number, batches: j - i };
  }

  /** Drops cached batches that end before `offset` (log start moved). */
  dropBefore(tail: CachedTail, offset: number): void {
    while (tail.slabs.length > 0) {
      const s = tail.slabs[0] as Slab;
      const i = firstEndingAtOrAfter(s, offset);
      if (i < s.ends.length) {
        this.cached -= i - s.first;
        s.first = i;
        return;
      }
      tail.slabs.shift();
      this.kill(s);
    }
  }

  /** Drops cached batches that end at or after `offset` (log truncated). */
  dropFrom(tail: CachedTail, offset: number): void {
    while (tail.slabs.length > 0) {
      const s = tail.slabs[tail.slabs.length - 1] as Slab;
      const i = firstEndingAtOrAfter(s, offset);
      if (i > s.first) {
        const dropped = s.ends.length - i;
        this.cached -= dropped;
        s.baseOffsets.length = i;
        s.lastOffsets.length = i;
        s.ends.length = i;
        // what a fetch may still be sending is never written over: later appends go to a new slab
        if (dropped > 0) s.sealed = true;
        return;
      }
      tail.slabs.pop();
      this.kill(s);
    }
  }

  dropAll(tail: CachedTail): void {
    for (const s of tail.slabs) this.kill(s);
    tail.slabs = [];
  }

  private newSlab(tail: CachedTail, buf: Buffer, sealed: boolean): Slab {
    const slab: Slab = { tail, buf, sealed, first: 0, baseOffsets: [], lastOffsets: [], ends: [], live: true };
    tail.slabs.push(slab);
    this.order.push(slab);
    this.allocated += buf.length;
    return slab;
  }

  private sealLast(tail: CachedTail): void {
    const last = tail.slabs[tail.slabs.length - 1];
    if (last !== undefined) last.sealed = true;
  }

  /** Forgets a slab (already taken out of its tail's list); it stays in `order` as a dead slot until swept. */
  private kill(s: Slab): void {
    if (!s.live) return;
    s.live = false;
    this.allocated -= s.buf.length;
    this.cached -= s.ends.length - s.first;
    this.dead++;
  }

  /** Drops the oldest slabs until the cache is within its bound. */
  private evict(): void {
    while (this.allocated > this.maxBytes && this.head < this.order.length) {
      const s = this.order[this.head] as Slab;
      this.order[this.head++] = undefined;
      if (s.live) {
        const slabs = s.tail.slabs;
        const i = slabs.indexOf(s);
        if (i >= 0) slabs.splice(i, 1);
        this.kill(s);
      }
      this.dead--;
    }
    const held = this.order.length - this.head;
    if (this.dead > 32 && this.dead * 2 > held) {
      // slabs dropped by truncation, log start moves or deleted partitions: sweep their slots
      this.order = this.order.slice(this.head).filter((s) => s !== undefined && s.live);
      this.head = 0;
      this.dead = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
