/**
 * BufferPool: file reads land in slices of large slabs instead of one allocation per read. A slab is
 * released by the garbage collector when no slice of it is referenced any more; the unused tail of the most
 * recent slice can be given back.
 *
 * Reads of up to `largeSize` bytes beyond a quarter slab (a fetch's 1 MiB file reads) get a buffer of their
 * own, which the reader may hand back with release() once nothing refers to it any more (a fetch response
 * written to its socket): the next large read reuses it. Without that, each read was a fresh allocation
 * outside the JavaScript heap, and their sum made V8 run a full garbage collection every few reads.
 */
export class BufferPool {
  private slab: Buffer;
  private used = 0;
  /** Large buffers handed back, ready for reuse (at most maxFree). */
  private readonly free: Buffer[] = [];
  /** Large buffers lent out and not yet handed back (by their memory). */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  constructor(
    private readonly slabSize = 1024 * 1024,
    private readonly largeSize = 1024 * 1024,
    private readonly maxFree = 32,
  ) {
    this.slab = Buffer.allocUnsafeSlow(slabSize);
  }

  /** An uninitialised buffer of `size` bytes. */
  alloc(size: number): Buffer {
    if (size > this.slabSize / 4) {
      if (size > this.largeSize) return Buffer.allocUnsafeSlow(size);
      const big = this.free.pop() ?? Buffer.allocUnsafeSlow(this.largeSize);
      this.lent.add(big.buffer);
      return big.subarray(0, size);
    }
    if (this.used + size > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabSize);
      this.used = 0;
    }
    const buf = this.slab.subarray(this.used, this.used + size);
    this.used += size;
    return buf;
  }

  /** Returns the last `unused` bytes of `buf`, the latest allocation, to the pool; returns the kept part. */
  shrink(buf: Buffer, keep: number): Buffer {
    if (buf.buffer === this.slab.buffer && buf.byteOffset + buf.length === this.slab.byteOffset + this.used) {
      this.used -= buf.length - keep;
    }
    return buf.subarray(0, keep);
  }

  /**
   * Hands back the large buffer under `buf` (or a slice of it) for reuse: nothing may read or keep `buf`
   * (or any other slice of its buffer) afterwards. Anything else (slab slices, cached batches, buffers
   * already handed back) is ignored.
   */
  release(buf: Buffer): void {
    const memory = buf.buffer;
    if (!this.lent.delete(memory)) return;
    if (this.free.length < this.maxFree) this.free.push(Buffer.from(memory, 0, this.largeSize));
  }
}
