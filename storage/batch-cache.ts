/**
 * BatchCache: recently appended batches kept in memory (one lru-cache bounded by bytes for all partitions),
 * so consumers tailing a partition are served without reading files. Each partition keeps its cached
 * batches in offset order (a CachedTail); eviction removes them from there too. Cached buffers are the
 * appended bytes themselves (no copy); nobody may modify them.
 */
import { LRUCache } from 'lru-cache';

export interface CachedBatch {
  tail: CachedTail;
  baseOffset: number;
  lastOffset: number;
  buf: Buffer;
}

export class CachedTail {
  /**
   * In offset order from `head` on. The cache evicts a partition's oldest batch far more often than any
   * other, so eviction at the head only moves `head` (the array is compacted once the evicted slots are
   * half of it): no per-eviction copy of the whole tail.
   */
  private items: Array<CachedBatch | undefined> = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  get last(): CachedBatch | undefined {
    return this.size > 0 ? this.items[this.items.length - 1] : undefined;
  }

  push(batch: CachedBatch): void {
    this.items.push(batch);
  }

  /** Index (into `items`) of the cached batch containing `offset`, or -1. */
  private indexOf(offset: number): number {
    const e = this.items;
    let lo = this.head;
    let hi = e.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const b = e[mid] as CachedBatch;
      if (b.lastOffset < offset) lo = mid + 1;
      else if (b.baseOffset > offset) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /** The cached batch containing `offset`, or undefined. */
  find(offset: number): CachedBatch | undefined {
    const i = this.indexOf(offset);
    return i < 0 ? undefined : this.items[i];
  }

  remove(batch: CachedBatch): void {
    if (this.items[this.head] === batch) {
      this.items[this.head++] = undefined;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return;
    }
    const i = this.indexOf(batch.baseOffset);
    if (i >= 0 && this.items[i] === batch) this.items.splice(i, 1);
  }

  /** The cached batches, in offset order (a copy). */
  all(): CachedBatch[] {
    return this.items.slice(this.head) as CachedBatch[];
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class BatchCache {
  hits = 0;
  misses = 0;
  private readonly lru: LRUCache<CachedBatch, CachedBatch> | null;

  constructor(maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`cacheBytes must be an integer >= 0, got ${maxBytes}`);
    this.lru =
      maxBytes === 0
        ? null
        : new LRUCache<CachedBatch, CachedBatch>({
            maxSize: maxBytes,
            maxEntrySize: maxBytes,
            sizeCalculation: (b) => Math.max(1, b.buf.length),
            dispose: (b) => b.tail.remove(b),
          });
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get batches(): number {
    return this.lru?.size ?? 0;
  }

  add(tail: CachedTail, baseOffset: number, lastOffset: number, buf: Buffer): void {
    if (this.lru === null) return;
    const last = tail.last;
    if (last && last.lastOffset >= baseOffset) this.dropFrom(tail, baseOffset);
    const batch: CachedBatch = { tail, baseOffset, lastOffset, buf };
    tail.push(batch);
    this.lru.set(batch, batch);
    if (!this.lru.has(batch)) tail.remove(batch); // larger than the whole cache
  }

  /** The cached batch containing `offset` (marked recently used), or undefined. */
  get(tail: CachedTail, offset: number): CachedBatch | undefined {
    const batch = tail.find(offset);
    if (batch !== undefined) this.lru?.get(batch);
    return batch;
  }

  /** Drops cached batches that end before `offset` (log start moved). */
  dropBefore(tail: CachedTail, offset: number): void {
    for (const b of tail.all().filter((e) => e.lastOffset < offset)) this.lru?.delete(b);
  }

  /** Drops cached batches that end at or after `offset` (log truncated). */
  dropFrom(tail: CachedTail, offset: number): void {
    for (const b of tail.all().filter((e) => e.lastOffset >= offset)) this.lru?.delete(b);
  }

  dropAll(tail: CachedTail): void {
    for (const b of tail.all()) this.lru?.delete(b);
    tail.clear();
  }
}
