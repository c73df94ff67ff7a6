/**
 * MemoryBudget: a broker-wide allowance of bytes, shared first come first served (Kafka's memory pool).
 * Two of them bound what floods of clients can make the broker hold: request bytes read from sockets and
 * not yet handled (queued.max.request.bytes: a connection that cannot get the bytes of its next request
 * stops being read), and fetch response bytes read from the logs and not yet written to the sockets
 * (gregor.fetch.response.max.memory.bytes: a fetch waits for its share, and gets less than it asked for
 * rather than waiting when some is free).
 *
 * A request larger than the whole budget is still served when it is alone, so no size can wait forever.
 * Waiters are served in arrival order, so small requests cannot starve a large one. A capacity of 0 or less
 * is no limit.
 */

interface Waiter {
  readonly bytes: number;
  readonly upTo: boolean;
  readonly granted: (taken: number) => void;
}

export class MemoryBudget {
  private usedBytes = 0;
  private peakBytes = 0;
  private readonly waiters: Waiter[] = [];
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity > 0 ? capacity : Number.POSITIVE_INFINITY;
  }

  /** Bytes taken now. */
  get used(): number {
    return this.usedBytes;
  }

  /** The most bytes ever taken at once. */
  get peak(): number {
    return this.peakBytes;
  }

  /** Takers queued for bytes. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes `bytes` if nobody is queued and they fit (or nothing is taken); false otherwise. */
  tryTake(bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(bytes)) return false;
    this.add(bytes);
    return true;
  }

  /** Takes `bytes` at once, past the capacity if need be (a batch that must be returned whole). */
  force(bytes: number): void {
    this.add(bytes);
  }

  /**
   * Queues for `bytes`; `granted(taken)` runs once they are taken. With `upTo`, whatever is free (at least
   * one byte, at most `bytes`, never past the capacity) is taken instead of waiting for all of it. Returns a
   * cancel function (a no-op once granted).
   */
  enqueue(bytes: number, granted: (taken: number) => void, upTo = false): () => void {
    const waiter: Waiter = { bytes, upTo, granted };
    this.waiters.push(waiter);
    this.grant();
    return () => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) {
        this.waiters.splice(i, 1);
        // the head may have been the one holding the others back
        if (i === 0) this.grant();
      }
    };
  }

  /** Promise form of enqueue. */
  take(bytes: number, upTo = false): Promise<number> {
    return new Promise((resolve) => this.enqueue(bytes, resolve, upTo));
  }

  release(bytes: number): void {
    if (bytes <= 0) return;
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
    this.grant();
  }

  private fits(bytes: number): boolean {
    return this.usedBytes === 0 || this.usedBytes + bytes <= this.capacity;
  }

  private add(bytes: number): void {
    this.usedBytes += bytes;
    if (this.usedBytes > this.peakBytes) this.peakBytes = this.usedBytes;
  }

  private grant(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      let taken: number;
      if (w.upTo) {
        if (this.usedBytes >= this.capacity) return;
        taken = Math.min(w.bytes, this.capacity - this.usedBytes);
      } else if (this.fits(w.bytes)) taken = w.bytes;
      else return;
      this.waiters.shift();
      this.add(taken);
      w.granted(taken);
    }
  }
}
