/**
 * MemoryBudget: a broker-wide allowance of bytes (Kafka's memory pool). Three of them bound what floods of
 * clients can make the broker hold:
 * - request bytes read from sockets and not yet handled (queued.max.request.bytes), counted as they arrive
 *   (connection.ts): a request holds memory only for the bytes it has sent, and a connection whose read
 *   finds the budget full is muted (not read) while the others go on;
 * - fetch response bytes held in memory until written to the socket (gregor.fetch.response.max.memory.bytes):
 *   batch-cache slices and down-converted message sets (fetch/fetch-manager.ts); record data still in segment
 *   files is streamed as the socket drains and takes nothing from it;
 * - what produced compressed batches may inflate to while they are validated
 *   (gregor.decompression.max.memory.bytes).
 *
 * Waiters are served in one of two orders, chosen per budget:
 * - 'arrival' (fetch responses, decompression): in arrival order; one that does not fit holds back those
 *   behind it, so a large one is never starved by a stream of small ones. Their bytes are held by work in
 *   progress that finishes on its own.
 * - 'fit' (requests): every waiter whose bytes fit is served, in arrival order among those; one that does
 *   not fit holds back nobody (Kafka's muted channels). Such a waiter may already hold part of the budget
 *   that only its own progress can give back (a request half arrived) and says how much (`Progress`). When
 *   nothing fits and every byte taken is held that way, no release can ever come, so the waiter closest to
 *   finishing is served past the capacity: a request larger than the whole budget still goes through, and
 *   requests half arrived cannot deadlock each other (the overshoot is at most what that one still needs).
 *
 * With nothing taken anything fits, so no size waits forever. A capacity of 0 or less is no limit.
 */

export type BudgetOrder = 'arrival' | 'fit';

/** What a waiter of a 'fit' budget holds while it waits, and how far it is from giving anything back. */
export interface Progress {
  /** Bytes of the budget it holds that only a grant to it can lead to releasing. */
  heldBytes(): number;
  /** Bytes it still needs before it can release anything (the smallest is served first in a standstill). */
  bytesToFinish(): number;
}

interface Waiter {
  readonly bytes: number;
  readonly upTo: boolean;
  readonly progress: Progress | undefined;
  readonly granted: (taken: number) => void;
}

export class MemoryBudget {
  private usedBytes = 0;
  private peakBytes = 0;
  private readonly waiters: Waiter[] = [];
  private granting = false;
  private grantAgain = false;
  readonly capacity: number;

  constructor(
    capacity: number,
    readonly order: BudgetOrder = 'arrival',
  ) {
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

  /** Nothing is free: every byte of the capacity is taken (never with no limit). */
  get full(): boolean {
    return this.usedBytes >= this.capacity;
  }

  /** Takers queued for bytes. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes `bytes` if they fit (or nothing is taken) and, in arrival order, nobody is queued; false otherwise. */
  tryTake(bytes: number): boolean {
    if ((this.order === 'arrival' && this.waiters.length > 0) || !this.fits(bytes)) return false;
    this.add(bytes);
    return true;
  }

  /** Takes what is free now, at most `bytes`, without waiting (0 when nothing is, or, in arrival order, when someone waits). */
  takeFree(bytes: number): number {
    if (bytes <= 0 || (this.order === 'arrival' && this.waiters.length > 0)) return 0;
    const taken = Math.min(bytes, Math.max(0, this.capacity - this.usedBytes));
    if (taken > 0) this.add(taken);
    return taken;
  }

  /** Takes `bytes` at once, past the capacity if need be (a batch that must be returned whole). */
  force(bytes: number): void {
    this.add(bytes);
  }

  /**
   * Queues for `bytes`; `granted(taken)` runs once they are taken, possibly before enqueue returns. With
   * `upTo`, whatever is free (at least one byte, at most `bytes`, never past the capacity) is taken instead
   * of waiting for all of it. `progress`: what the waiter holds meanwhile ('fit' order). Returns a cancel
   * function (a no-op once granted).
   */
  enqueue(bytes: number, granted: (taken: number) => void, upTo = false, progress?: Progress): () => void {
    // (a negative size, from a request's fields, asks for nothing)
    const waiter: Waiter = { bytes: Math.max(0, bytes), upTo, progress, granted };
    this.waiters.push(waiter);
    this.grant();
    return () => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) {
        this.waiters.splice(i, 1);
        // it may have been the one holding the others back (arrival order), or the one a standstill waited on
        this.grant();
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

  /** The bytes a waiter takes if it is served now, or -1 when it must wait. */
  private grantable(w: Waiter): number {
    if (w.bytes === 0) return 0;
    if (w.upTo) return this.usedBytes >= this.capacity ? -1 : Math.min(w.bytes, this.capacity - this.usedBytes);
    return this.fits(w.bytes) ? w.bytes : -1;
  }

  /** Serves the waiters that can be served (granted callbacks may release, take or enqueue: they run in turn). */
  private grant(): void {
    if (this.granting) {
      this.grantAgain = true;
      return;
    }
    this.granting = true;
    try {
      do {
        this.grantAgain = false;
        for (;;) {
          const i = this.next();
          if (i < 0) break;
          const w = this.waiters[i]!;
          const fit = this.grantable(w);
          // (a waiter served in a standstill takes all it asked, past the capacity)
          const taken = fit >= 0 ? fit : w.bytes;
          this.waiters.splice(i, 1);
          this.add(taken);
          w.granted(taken);
        }
      } while (this.grantAgain);
    } finally {
      this.granting = false;
    }
  }

  /** Index of the next waiter to serve, or -1 (see the orders at the top of this file). */
  private next(): number {
    if (this.waiters.length === 0) return -1;
    if (this.order === 'arrival') return this.grantable(this.waiters[0]!) >= 0 ? 0 : -1;
    for (let i = 0; i < this.waiters.length; i++) if (this.grantable(this.waiters[i]!) >= 0) return i;
    return this.standstill();
  }

  /**
   * Nothing fits: when every byte taken is held by waiters (none of them can release anything without a
   * grant), the one closest to finishing among those that hold some, to be served past the capacity; else -1.
   */
  private standstill(): number {
    let held = 0;
    let best = -1;
    let bestNeed = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      const holds = w.progress?.heldBytes() ?? 0;
      held += holds;
      const need = w.progress?.bytesToFinish() ?? w.bytes;
      if (holds > 0 && need < bestNeed) {
        bestNeed = need;
        best = i;
      }
    }
    return held >= this.usedBytes ? best : -1;
  }
}
