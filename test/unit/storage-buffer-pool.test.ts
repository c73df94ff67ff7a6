import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../storage/buffer-pool.js';

describe('BufferPool', () => {
  it('reuses the memory of a large read buffer handed back, and only once', () => {
    const pool = new BufferPool(64 * 1024, 1024 * 1024);
    const a = pool.alloc(900 * 1024);
    expect(a.length).toBe(900 * 1024);
    pool.release(a.subarray(0, 10));
    pool.release(a); // a second hand-back of the same memory is ignored
    const b = pool.alloc(1000 * 1024);
    expect(b.buffer).toBe(a.buffer);
    const c = pool.alloc(1000 * 1024);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it('ignores buffers it did not lend: slab slices, larger reads and any other buffer', () => {
    const pool = new BufferPool(64 * 1024, 1024 * 1024);
    const small = pool.alloc(1000);
    const huge = pool.alloc(2 * 1024 * 1024);
    const other = Buffer.alloc(1024 * 1024);
    pool.release(small);
    pool.release(huge);
    pool.release(other);
    const next = pool.alloc(900 * 1024);
    expect([small.buffer, huge.buffer, other.buffer]).not.toContain(next.buffer);
  });

  it('keeps at most maxFree buffers for reuse', () => {
    const pool = new BufferPool(64 * 1024, 1024 * 1024, 1);
    const a = pool.alloc(900 * 1024);
    const b = pool.alloc(900 * 1024);
    pool.release(a);
    pool.release(b);
    expect(pool.alloc(900 * 1024).buffer).toBe(a.buffer);
    expect(pool.alloc(900 * 1024).buffer).not.toBe(b.buffer);
  });
});
