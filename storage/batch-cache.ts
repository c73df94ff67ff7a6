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
  /** In offset order. */
  entries: CachedBatch[] = [];

  /** Index of the cached batch containing `offset`, or -1. */
  indexOf(offset: number): number {
    const e = this.entries;
    let lo = 0;
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

  remove(batch: CachedBatch): void {
    const i = this.indexOf(batch.baseOffset);
    if (i >= 0 && this.entries[i] === batch) this.entries.splice(i, 1);
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
    const last = tail.entries[tail.entries.length - 1];
    if (last && last.lastOffset >= baseOffset) this.dropFrom(tail, baseOffset);
    const batch: CachedBatch = { tail, baseOffset, lastOffset, buf };
    tail.entries.push(batch);
    this.lru.set(batch, batch);
    if (!this.lru.has(batch)) tail.remove(batch); // larger than the whole cache
  }

  /** The cached batch containing `offset` (marked recently used), or undefined. */
  get(tail: CachedTail, offset: number): CachedBatch | undefined {
    const i = tail.indexOf(offset);
    if (i < 0) return undefined;
    const batch = tail.entries[i] as CachedBatch;
    this.lru?.get(batch);
    return batch;
  }

  /** Drops cached batches that end before `offset` (log start moved). */
  dropBefore(tail: CachedTail, offset: number): void {
    for (const b of tail.entries.filter((e) => e.lastOffset < offset)) this.lru?.delete(b);
  }

  /** Drops cached batches that end at or after `offset` (log truncated). */
  dropFrom(tail: CachedTail, offset: number): void {
    for (const b of tail.entries.filter((e) => e.lastOffset >= offset)) this.lru?.delete(b);
  }

  dropAll(tail: CachedTail): void {
    for (const b of [...tail.entries]) this.lru?.delete(b);
    tail.entries = [];
  }
}
