/**
 * ProducerLastBatches: the last batch of each producer a cleaning reads (cleaner.ts). A batch that loses all
 * its records is still kept, empty, when it is the last of a producer active within
 * producer.id.expiration.ms, so that the producer's epoch and last sequence survive the cleaning (Kafka
 * keeps it for the same reason). At most `max` producers are tracked; past that, every producer batch counts
 * as a last one.
 */
import type { BatchHeader } from '../protocol/records/batch-header.js';

/** The last batch of each producer seen, to keep it even when all its records go. */
export class ProducerLastBatches {
  private readonly last = new Map<number, { lastOffset: number; timestamp: number }>();
  /** More producers than tracked: untracked producers' batches are all kept. */
  private overflow = false;

  constructor(
    private readonly max: number,
    private readonly activeSince: number,
  ) {}

  note(h: BatchHeader): void {
    if (h.producerId < 0) return;
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    const e = this.last.get(h.producerId);
    if (e === undefined) {
      if (this.last.size >= this.max) this.overflow = true;
      else this.last.set(h.producerId, { lastOffset, timestamp: h.maxTimestamp });
    } else if (lastOffset > e.lastOffset) {
      e.lastOffset = lastOffset;
      e.timestamp = h.maxTimestamp;
    }
  }

  /** The batch is the last of a producer active within the expiration time. */
  isLastOfActive(h: BatchHeader): boolean {
    if (h.producerId < 0) return false;
    const e = this.last.get(h.producerId);
    if (e === undefined) return this.overflow;
    return e.lastOffset === h.baseOffset + h.lastOffsetDelta && e.timestamp >= this.activeSince;
  }
}
