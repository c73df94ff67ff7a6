/**
 * The bytes read from a socket and not yet framed (Kafka's NetworkReceive):
 * chunks as the socket delivered them, kept as they are. A frame that lies in
 * one chunk is taken as a slice of it; only a frame split across chunks is
 * copied, once.
 */
export class ReceiveBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** Bytes held. */
  get length(): number {
    return this.bytes;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The big-endian int32 at the start (a size prefix); at least 4 bytes must be held. */
  peekInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  /** Takes the first n bytes (at most length): a slice when they lie in one chunk, else one copy. */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const take = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, take);
        filled += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.bytes -= n;
    return out;
  }

  /** Drops everything held. */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
