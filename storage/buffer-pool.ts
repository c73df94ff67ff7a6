/**
 * BufferPool: file reads land in slices of large slabs instead of one allocation per read. A slab is
 * released by the garbage collector when no slice of it is referenced any more; the unused tail of the most
 * recent slice can be given back.
 */
export class BufferPool {
  private slab: Buffer;
  private used = 0;

  constructor(private readonly slabSize = 1024 * 1024) {
    this.slab = Buffer.allocUnsafeSlow(slabSize);
  }

  /** An uninitialised buffer of `size` bytes. */
  alloc(size: number): Buffer {
    if (size > this.slabSize / 4) return Buffer.allocUnsafeSlow(size);
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
}
