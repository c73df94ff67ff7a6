/**
 * Merging persisted state batches: later batches replace the parts of earlier ones they overlap, nothing stays
 * below the start offset, and neighbours with the same state and count join.
 */
import { describe, expect, it } from 'vitest';
import { combineStateBatches } from '../../src/share/state-batch-combiner.js';

const b = (firstOffset: number, lastOffset: number, deliveryState: number, deliveryCount: number) => ({ firstOffset, lastOffset, deliveryState, deliveryCount });

describe('combineStateBatches', () => {
  it('lays an update over the middle of a batch, splitting it', () => {
    expect(combineStateBatches([b(0, 9, 0, 1)], [b(3, 5, 2, 1)], 0)).toEqual([b(0, 2, 0, 1), b(3, 5, 2, 1), b(6, 9, 0, 1)]);
  });

  it('later updates win where they overlap earlier ones', () => {
    expect(combineStateBatches([], [b(0, 4, 0, 1), b(2, 6, 4, 2)], 0)).toEqual([b(0, 1, 0, 1), b(2, 6, 4, 2)]);
  });

  it('cuts at the start offset and joins equal neighbours', () => {
    expect(combineStateBatches([b(0, 3, 2, 1), b(4, 5, 0, 1)], [b(6, 8, 0, 1)], 2)).toEqual([b(2, 3, 2, 1), b(4, 8, 0, 1)]);
    expect(combineStateBatches([b(0, 3, 2, 1)], [], 10)).toEqual([]);
  });
});
