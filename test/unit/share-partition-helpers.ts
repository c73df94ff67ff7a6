import { expect } from 'vitest';
import type { FetchedBatch } from '../../src/share/fetched-batch.js';
import { type Clock, type SharePartition, type SharePartitionConfig, initializeSharePartition } from '../../src/share/share-partition.js';
import type { PersistedShareState } from '../../src/share/persister-state-batch.js';

export class ManualClock implements Clock {
  constructor(public ms = 1_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const CONFIG: SharePartitionConfig = { maxInFlightRecords: 200, maxDeliveryCount: 5, recordLockDurationMs: 30_000 };

export function newSharePartition(
  opts: { config?: Partial<SharePartitionConfig>; persisted?: PersistedShareState; clock?: ManualClock } = {},
): { sp: SharePartition; clock: ManualClock } {
  const clock = opts.clock ?? new ManualClock();
  const r = initializeSharePartition(
    { ...CONFIG, ...opts.config },
    clock,
    opts.persisted ?? { startOffset: 0, stateEpoch: 0, stateBatches: [] },
    { type: 'earliest' },
    { logStartOffset: 0, latestOffset: 1000, offsetForTimestamp: () => undefined },
  );
  if (r.errorCode !== 0 || !('sharePartition' in r)) throw new Error(`init failed: ${r.errorCode}`);
  return { sp: r.sharePartition, clock };
}

/** Fetched batches of `size` records each covering [first, last]. */
export function batches(first: number, last: number, size = last - first + 1): FetchedBatch[] {
  const out: FetchedBatch[] = [];
  for (let b = first; b <= last; b += size) out.push({ baseOffset: b, lastOffset: Math.min(last, b + size - 1) });
  return out;
}

export function acquire(sp: SharePartition, memberId: string, fetched: FetchedBatch[], maxFetchRecords = 500, batchSize = 500) {
  return sp.acquire({ memberId, fetchOffset: sp.nextFetchOffset(), batches: fetched, maxFetchRecords, batchSize });
}

/** Acknowledges and commits (as when the coordinator persisted the write); returns the write. */
export function ackCommitted(sp: SharePartition, memberId: string, first: number, last: number, types: number[]) {
  const r = sp.acknowledge(memberId, [{ firstOffset: first, lastOffset: last, acknowledgeTypes: types }]);
  expect(r.errorCode).toBe(0);
  if (!('update' in r)) throw new Error('no update');
  sp.completeStateUpdate(r.update, true);
  return r.update.write;
}
