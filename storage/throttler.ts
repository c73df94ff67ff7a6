/**
 * Throttler: keeps a stream of I/O at or below a rate (Kafka's Throttler, for
 * log.cleaner.io.max.bytes.per.second): callers report the bytes they moved and are delayed when the rate
 * since the start of the current window is above the limit. Windows restart every `windowMs`.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class Throttler {
  private windowStart: number;
  private bytes = 0;
  /** Milliseconds spent waiting so far. */
  throttledMs = 0;

  constructor(
    /** Bytes per second; Infinity turns throttling off. */
    private readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = 300,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`the I/O rate limit must be > 0 bytes per second, got ${bytesPerSecond}`);
    this.windowStart = now();
  }

  async maybeThrottle(bytes: number): Promise<void> {
    if (this.bytesPerSecond === Number.POSITIVE_INFINITY) return;
    this.bytes += bytes;
    const elapsed = this.now() - this.windowStart;
    if (elapsed < this.windowMs && this.bytes < (this.bytesPerSecond * this.windowMs) / 1000) return;
    const needed = (this.bytes / this.bytesPerSecond) * 1000;
    if (needed > elapsed) {
      const wait = needed - elapsed;
      this.throttledMs += wait;
      await sleep(wait);
    }
    this.windowStart = this.now();
    this.bytes = 0;
  }
}
