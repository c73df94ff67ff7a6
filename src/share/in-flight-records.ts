/**
 * The in-flight records of a share-partition (Kafka's cachedState): in-flight batches ordered by first
 * offset, without overlaps, possibly with gaps between them (offsets a persisted state did not cover,
 * or offsets compaction removed). An array kept sorted: batches are appended at the end when new
 * records are acquired and removed from the front when the start offset moves, so both are cheap; a
 * gap filled after initialization inserts in the middle.
 */
import type { InFlightBatch } from './in-flight-batch.js';

export class InFlightRecords {
  private batches: InFlightBatch[] = [];

  get size(): number {
    return this.batches.length;
  }

  isEmpty(): boolean {
    return this.batches.length === 0;
  }

  first(): InFlightBatch | undefined {
    return this.batches[0];
  }

  last(): InFlightBatch | undefined {
    return this.batches[this.batches.length - 1];
  }

  all(): readonly InFlightBatch[] {
    return this.batches;
  }

  clear(): void {
    this.batches = [];
  }

  /** Index of the last batch whose first offset is ≤ offset, or -1. */
  private floorIndex(offset: number): number {
    let lo = 0;
    let hi = this.batches.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.batches[mid] as InFlightBatch).firstOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The batch with the greatest first offset ≤ offset (which may end before offset). */
  floor(offset: number): InFlightBatch | undefined {
    const i = this.floorIndex(offset);
    return i < 0 ? undefined : this.batches[i];
  }

  /** The first batch whose first offset is > offset. */
  higher(offset: number): InFlightBatch | undefined {
    return this.batches[this.floorIndex(offset) + 1];
  }

  /** The batches whose first offset lies in [from, to]. */
  firstOffsetsIn(from: number, to: number): InFlightBatch[] {
    const out: InFlightBatch[] = [];
    for (let i = Math.max(0, this.floorIndex(from - 1) + 1); i < this.batches.length; i++) {
      const b = this.batches[i] as InFlightBatch;
      if (b.firstOffset > to) break;
      out.push(b);
    }
    return out;
  }

  /** The batches that hold at least one offset of [from, to]. */
  overlapping(from: number, to: number): InFlightBatch[] {
    const floor = this.floor(from);
    return this.firstOffsetsIn(floor !== undefined && floor.lastOffset >= from ? floor.firstOffset : from, to);
  }

  /** Adds a batch that overlaps none in the cache. */
  put(batch: InFlightBatch): void {
    const i = this.floorIndex(batch.firstOffset);
    const before = this.batches[i];
    const after = this.batches[i + 1];
    if ((before !== undefined && before.lastOffset >= batch.firstOffset) || (after !== undefined && after.firstOffset <= batch.lastOffset)) {
      throw new Error(`in-flight batch ${batch.firstOffset}-${batch.lastOffset} overlaps the cache`);
    }
    this.batches.splice(i + 1, 0, batch);
  }

  /** Removes the batches whose first offset is ≤ offset. */
  removeThrough(offset: number): void {
    this.batches.splice(0, this.floorIndex(offset) + 1);
  }
}
