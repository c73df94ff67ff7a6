import { describe, expect, it } from 'vitest';
import { BatchCache, CachedTail } from '../../storage/batch-cache.js';

/** A cached batch of `records` offsets starting at `base`, `bytes` long. */
function add(cache: BatchCache, tail: CachedTail, base: number, records = 1, bytes = 100): void {
  cache.add(tail, base, base + records - 1, Buffer.alloc(bytes, base & 0xff));
}

describe('BatchCache', () => {
  it('finds the batch containing an offset, and nothing outside the cached range', () => {
    const cache = new BatchCache(1 << 20);
    const tail = new CachedTail();
    for (let base = 0; base < 100; base += 10) add(cache, tail, base, 10);
    expect(cache.get(tail, 0)?.baseOffset).toBe(0);
    expect(cache.get(tail, 57)?.baseOffset).toBe(50);
    expect(cache.get(tail, 99)?.lastOffset).toBe(99);
    expect(cache.get(tail, 100)).toBeUndefined();
  });

  it('evicts the oldest batches past its byte bound and keeps every later batch findable', () => {
    const cache = new BatchCache(100 * 1000);
    const tail = new CachedTail();
    // 5,000 batches of 100 bytes through a cache of 1,000: the evictions run through the compaction of the tail
    for (let i = 0; i < 5000; i++) add(cache, tail, i);
    expect(cache.batches).toBe(1000);
    expect(cache.bytes).toBe(100 * 1000);
    expect(cache.get(tail, 3999)).toBeUndefined();
    for (let i = 4000; i < 5000; i++) expect(cache.get(tail, i)?.baseOffset).toBe(i);
    expect(tail.size).toBe(1000);
  });

  it('evicts across partitions in least-recently-used order', () => {
    const cache = new BatchCache(400);
    const a = new CachedTail();
    const b = new CachedTail();
    add(cache, a, 0);
    add(cache, b, 0);
    add(cache, a, 1);
    cache.get(b, 0); // b's batch is now the most recently used
    add(cache, b, 1);
    add(cache, a, 2); // evicts a:0, the least recently used
    expect(cache.get(a, 0)).toBeUndefined();
    expect(cache.get(b, 0)?.baseOffset).toBe(0);
    expect(a.size).toBe(2);
    expect(b.size).toBe(2);
  });

  it('drops batches from an offset on (truncation) and before one (log start moved)', () => {
    const cache = new BatchCache(1 << 20);
    const tail = new CachedTail();
    for (let i = 0; i < 10; i++) add(cache, tail, i);
    cache.dropFrom(tail, 7);
    expect(cache.get(tail, 7)).toBeUndefined();
    expect(cache.get(tail, 6)?.baseOffset).toBe(6);
    cache.dropBefore(tail, 3);
    expect(cache.get(tail, 2)).toBeUndefined();
    expect(tail.all().map((b) => b.baseOffset)).toEqual([3, 4, 5, 6]);
    // appending again at a cached offset replaces what was cached from there
    add(cache, tail, 5, 1, 50);
    expect(tail.all().map((b) => b.baseOffset)).toEqual([3, 4, 5]);
    expect(cache.get(tail, 5)?.buf.length).toBe(50);
    cache.dropAll(tail);
    expect(tail.size).toBe(0);
    expect(cache.batches).toBe(0);
  });

  it('does not keep a batch larger than the whole cache', () => {
    const cache = new BatchCache(1000);
    const tail = new CachedTail();
    add(cache, tail, 0, 1, 2000);
    expect(cache.get(tail, 0)).toBeUndefined();
    expect(tail.size).toBe(0);
  });
});
