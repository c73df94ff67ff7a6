import { describe, expect, it } from 'vitest';
import { BatchCache, CachedTail, MAX_SLAB_BYTES, MIN_SLAB_BYTES, ZERO_COPY_BYTES } from '../../storage/batch-cache.js';

/** Caches one append of `count` batches of `records` offsets and `bytes` bytes each, from offset `base`; returns the appended bytes. */
function append(cache: BatchCache, tail: CachedTail, base: number, count = 1, records = 1, bytes = 100): Buffer {
  const buf = Buffer.alloc(count * bytes);
  const batches = [];
  for (let i = 0; i < count; i++) {
    const b = base + i * records;
    buf.fill(b & 0xff, i * bytes, (i + 1) * bytes);
    batches.push({ baseOffset: b, lastOffset: b + records - 1, size: bytes });
  }
  cache.add(tail, buf, batches);
  return buf;
}

const ALL = Number.MAX_SAFE_INTEGER;

describe('BatchCache', () => {
  it('serves a run of consecutive batches from the one containing an offset as one slice', () => {
    const cache = new BatchCache(1 << 20);
    const tail = new CachedTail();
    for (let base = 0; base < 100; base += 10) append(cache, tail, base, 1, 10);
    const run = cache.read(tail, 57, ALL, ALL, true)!;
    expect(run.batches).toBe(5);
    expect(run.lastOffset).toBe(99);
    expect(run.buf.length).toBe(500);
    expect([...new Set(run.buf)]).toEqual([50, 60, 70, 80, 90]);
    expect(cache.hits).toBe(5);
    expect(cache.read(tail, 100, ALL, ALL, true)).toBeUndefined();
  });

  it('stops a run before the end offset and within the byte budget, but returns a first batch larger than the budget when asked', () => {
    const cache = new BatchCache(1 << 20);
    const tail = new CachedTail();
    append(cache, tail, 0, 10);
    expect(cache.read(tail, 2, 6, ALL, true)).toMatchObject({ batches: 4, lastOffset: 5 });
    expect(cache.read(tail, 2, ALL, 250, true)).toMatchObject({ batches: 2, lastOffset: 3 });
    expect(cache.read(tail, 2, ALL, 50, true)).toMatchObject({ batches: 1, lastOffset: 2 });
    // cached, but it does not fit: a run of nothing, so the reader stops instead of reading the file
    expect(cache.read(tail, 2, ALL, 50, false)).toMatchObject({ batches: 0 });
    expect(cache.read(tail, 2, 2, ALL, true)).toMatchObject({ batches: 0 });
  });

  it('copies small appends into shared slabs that grow per partition, and keeps large appends as they are', () => {
    const cache = new BatchCache(64 << 20);
    const tail = new CachedTail();
    const small = append(cache, tail, 0, 1, 1, 100);
    expect(cache.bytes).toBe(MIN_SLAB_BYTES);
    small.fill(0xee); // the cache holds a copy: the appender's buffer is not kept
    expect(cache.read(tail, 0, ALL, ALL, true)!.buf[0]).toBe(0);
    // fill the first slab; the next one is twice as large
    let next = 1;
    while (cache.bytes === MIN_SLAB_BYTES) append(cache, tail, next++, 1, 1, 100);
    expect(next).toBe(Math.floor(MIN_SLAB_BYTES / 100) + 1);
    expect(cache.bytes).toBe(MIN_SLAB_BYTES * 3);
    const large = append(cache, tail, next, 1, 1, ZERO_COPY_BYTES);
    const run = cache.read(tail, next, ALL, ALL, true)!;
    expect(run.buf.buffer).toBe(large.buffer);
    expect(run.buf.byteOffset).toBe(large.byteOffset);
    expect(tail.size).toBe(next + 1);
    expect(MAX_SLAB_BYTES).toBeGreaterThan(MIN_SLAB_BYTES);
  });

  it('evicts the oldest slabs past its byte bound, across partitions, and keeps the newest batches', () => {
    const cache = new BatchCache(4 * MIN_SLAB_BYTES);
    const a = new CachedTail();
    const b = new CachedTail();
    for (let i = 0; i < 2000; i++) {
      append(cache, a, i, 1, 1, 200);
      append(cache, b, i, 1, 1, 200);
    }
    expect(cache.bytes).toBeLessThanOrEqual(4 * MIN_SLAB_BYTES);
    for (const tail of [a, b]) {
      expect(cache.read(tail, 0, ALL, ALL, true)).toBeUndefined();
      expect(cache.read(tail, 1999, ALL, ALL, true)).toMatchObject({ batches: 1, lastOffset: 1999 });
      const offsets = tail.baseOffsets();
      expect(offsets.length).toBeGreaterThan(50);
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => 2000 - offsets.length + i));
    }
    expect(cache.batches).toBe(a.size + b.size);
  });

  it('drops batches from an offset on (truncation) and before one (log start moved), never writing over what it served', () => {
    const cache = new BatchCache(1 << 20);
    const tail = new CachedTail();
    for (let i = 0; i < 10; i++) append(cache, tail, i);
    const served = cache.read(tail, 7, ALL, ALL, true)!.buf;
    const copy = Buffer.from(served);
    cache.dropFrom(tail, 7);
    expect(cache.read(tail, 7, ALL, ALL, true)).toBeUndefined();
    expect(cache.read(tail, 6, ALL, ALL, true)).toMatchObject({ lastOffset: 6 });
    cache.dropBefore(tail, 3);
    expect(cache.read(tail, 2, ALL, ALL, true)).toBeUndefined();
    expect(tail.baseOffsets()).toEqual([3, 4, 5, 6]);
    expect(cache.batches).toBe(4);
    // appending again at a cached offset replaces what was cached from there
    append(cache, tail, 5, 1, 1, 50);
    append(cache, tail, 6, 1, 1, 50);
    append(cache, tail, 7, 1, 1, 50);
    expect(tail.baseOffsets()).toEqual([3, 4, 5, 6, 7]);
    expect(cache.read(tail, 5, ALL, ALL, true)!.buf.length).toBe(150);
    expect(served.equals(copy)).toBe(true);
    cache.dropAll(tail);
    expect(tail.size).toBe(0);
    expect(cache.batches).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('does not keep an append larger than the whole cache, nor join later batches to the slab before it', () => {
    const cache = new BatchCache(4 * MIN_SLAB_BYTES);
    const tail = new CachedTail();
    append(cache, tail, 0, 1, 1, 100);
    append(cache, tail, 1, 1, 1, 5 * MIN_SLAB_BYTES);
    append(cache, tail, 2, 1, 1, 100);
    expect(cache.read(tail, 1, ALL, ALL, true)).toBeUndefined();
    // offsets 0 and 2 are cached in different slabs: a run never spans the gap
    expect(cache.read(tail, 0, ALL, ALL, true)).toMatchObject({ batches: 1, lastOffset: 0 });
    expect(cache.read(tail, 2, ALL, ALL, true)).toMatchObject({ batches: 1, lastOffset: 2 });
  });

  it('caches nothing with a bound of 0', () => {
    const cache = new BatchCache(0);
    const tail = new CachedTail();
    append(cache, tail, 0);
    expect(cache.read(tail, 0, ALL, ALL, true)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });
});
