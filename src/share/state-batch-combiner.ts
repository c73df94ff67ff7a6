/**
 * Merging state batches (Kafka's PersisterStateBatchCombiner): the share
 * coordinator holds, per share-partition, offset ranges with a delivery state
 * and count; a write (WriteShareGroupState, a ShareUpdate record) brings
 * ranges that replace the parts of the held ones they overlap. The result is
 * sorted, non-overlapping, has nothing below the start offset (ranges are cut
 * at it), and adjacent ranges with the same state and count are joined.
 */
import type { StateBatch } from './share-state-records.js';

/** `current` with `updates` laid over it (later updates win), cut at `startOffset`. */
export function combineStateBatches(current: readonly StateBatch[], updates: readonly StateBatch[], startOffset: number): StateBatch[] {
  let out: StateBatch[] = current.slice();
  for (const u of updates) {
    const next: StateBatch[] = [];
    for (const b of out) {
      if (b.lastOffset < u.firstOffset || b.firstOffset > u.lastOffset) {
        next.push(b);
        continue;
      }
      if (b.firstOffset < u.firstOffset) next.push({ ...b, lastOffset: u.firstOffset - 1 });
      if (b.lastOffset > u.lastOffset) next.push({ ...b, firstOffset: u.lastOffset + 1 });
    }
    next.push(u);
    out = next;
  }
  out.sort((a, b) => a.firstOffset - b.firstOffset);
  const merged: StateBatch[] = [];
  for (const b0 of out) {
    if (b0.lastOffset < startOffset) continue;
    const b = b0.firstOffset < startOffset ? { ...b0, firstOffset: startOffset } : b0;
    const prev = merged[merged.length - 1];
    if (prev !== undefined && prev.lastOffset + 1 === b.firstOffset && prev.deliveryState === b.deliveryState && prev.deliveryCount === b.deliveryCount) {
      merged[merged.length - 1] = { ...prev, lastOffset: b.lastOffset };
    } else {
      merged.push(b);
    }
  }
  return merged;
}
