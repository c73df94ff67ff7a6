import { expect, test } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import type { FetchedBatch } from '../../src/share/fetched-batch.js';
import { RecordState } from '../../src/share/record-state.js';
import type { PendingStateUpdate } from '../../src/share/share-partition.js';
import { newSharePartition } from './share-partition-helpers.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIMIT = 4;

/** A plain assertion: vitest's expect per offset per step is too slow for thousands of steps. */
function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function simulate(seed: number): void {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const { sp, clock } = newSharePartition({ config: { maxInFlightRecords: 150, maxDeliveryCount: LIMIT, recordLockDurationMs: 30_000 } });

  const N = 3000;
  const log: FetchedBatch[] = [];
  for (let o = 0; o < N; ) {
    const size = 1 + int(8);
    log.push({ baseOffset: o, lastOffset: Math.min(N - 1, o + size - 1) });
    o += size;
  }
  const read = (from: number, count: number): FetchedBatch[] => {
    const i = log.findIndex((b) => b.lastOffset >= from);
    return i < 0 ? [] : log.slice(i, i + count);
  };

  const members = ['m0', 'm1', 'm2', 'm3'];
  const holder = new Map<number, string>();
  const accepted = new Map<number, number>();
  const rejected = new Set<number>();
  const maxDelivery = new Map<number, number>();
  const pending: { update: PendingStateUpdate; acks: Map<number, number>; member: string }[] = [];

  const reconcile = (): void => {
    for (const [o, m] of holder) {
      const s = sp.recordState(o);
      if (s === undefined || s.state !== RecordState.ACQUIRED || s.memberId !== m) holder.delete(o);
    }
  };
  const complete = (i: number, persisted: boolean): void => {
    const [p] = pending.splice(i, 1);
    if (p === undefined) return;
    sp.completeStateUpdate(p.update, persisted);
    for (const [o, type] of p.acks) {
      if (persisted) {
        if (type === 1) accepted.set(o, (accepted.get(o) ?? 0) + 1);
        if (type === 3 || type === 0) rejected.add(o);
      } else {
        const s = sp.recordState(o);
        if (s?.state === RecordState.ACQUIRED) holder.set(o, s.memberId);
      }
    }
  };
  const fetch = (member: string): void => {
    const from = sp.nextFetchOffset();
    const fetched = read(from, 1 + int(10));
    const got = sp.acquire({
      memberId: member,
      fetchOffset: from,
      batches: fetched,
      maxFetchRecords: 1 + int(60),
      batchSize: 1 + int(30),
      acquireMode: rnd() < 0.3 ? 'record_limit' : 'batch_optimized',
    });
    let count = 0;
    for (const r of got.acquiredRecords) {
      check(r.deliveryCount <= LIMIT, `delivery count ${r.deliveryCount} over the limit`);
      for (let o = r.firstOffset; o <= r.lastOffset; o++) {
        count++;
        check(holder.get(o) === undefined, `offset ${o} acquired by ${member} while held`);
        check(!accepted.has(o), `offset ${o} delivered after being accepted`);
        check(o >= sp.startOffset(), `offset ${o} acquired below SPSO`);
        holder.set(o, member);
        maxDelivery.set(o, Math.max(maxDelivery.get(o) ?? 0, r.deliveryCount));
      }
    }
    check(got.count === count, 'count differs from the ranges');
  };
  const ack = (member: string): void => {
    const held = [...holder].filter(([, m]) => m === member).map(([o]) => o).sort((a, b) => a - b);
    if (held.length === 0) return;
    const start = int(held.length);
    const first = held[start] as number;
    let last = first;
    while (last - first < 20 && holder.get(last + 1) === member && rnd() < 0.9) last++;
    const perOffset = rnd() < 0.4;
    const types = perOffset ? Array.from({ length: last - first + 1 }, () => [1, 1, 2, 3, 0][int(5)] as number) : [[1, 1, 1, 2, 3][int(5)] as number];
    const r = sp.acknowledge(member, [{ firstOffset: first, lastOffset: last, acknowledgeTypes: types }]);
    check(r.errorCode === ErrorCode.NONE, `acknowledge failed: ${JSON.stringify(r)}`);
    if (!('update' in r)) return;
    const acks = new Map<number, number>();
    for (let o = first; o <= last; o++) {
      acks.set(o, types.length === 1 ? (types[0] as number) : (types[o - first] as number));
      holder.delete(o);
    }
    pending.push({ update: r.update, acks, member });
  };
  const badAck = (member: string): void => {
    const other = [...holder].find(([, m]) => m !== member);
    if (other === undefined) return;
    const before = sp.recordState(other[0]);
    const r = sp.acknowledge(member, [{ firstOffset: other[0], lastOffset: other[0], acknowledgeTypes: [1] }]);
    expect(r.errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(sp.recordState(other[0])).toEqual(before);
  };

  const checkInvariants = (): void => {
    const spso = sp.startOffset();
    for (const [o] of holder) check(o >= spso, `SPSO ${spso} moved past acquired record ${o}`);
    for (const p of pending) for (const [o] of p.acks) check(o >= spso, `SPSO ${spso} moved past pending acknowledgement ${o}`);
    for (const [o, n] of accepted) check(n === 1, `offset ${o} accepted twice`);
  };

  for (let step = 0; step < 6000; step++) {
    const member = members[int(members.length)] as string;
    const action = rnd();
    if (action < 0.4) fetch(member);
    else if (action < 0.75) ack(member);
    else if (action < 0.85 && pending.length > 0) complete(int(pending.length), rnd() < 0.85);
    else if (action < 0.9) badAck(member);
    else if (action < 0.93) {
      const r = sp.releaseAcquiredRecords(member);
      expect(r.errorCode).toBe(ErrorCode.NONE);
      if ('update' in r) pending.push({ update: r.update, acks: new Map(), member });
      for (const [o, m] of holder) if (m === member) holder.delete(o);
    }
    clock.advance(int(4000));
    sp.expireAcquisitionLocks();
    reconcile();
    checkInvariants();
  }

  // Drain: settle everything pending, then let one member accept all that is left.
  while (pending.length > 0) complete(0, true);
  for (const m of members) {
    const r = sp.releaseAcquiredRecords(m);
    if ('update' in r) sp.completeStateUpdate(r.update, true);
  }
  reconcile();
  holder.clear();
  for (let round = 0; round < 10_000 && sp.startOffset() < N; round++) {
    fetch('drain');
    const mine = [...holder].filter(([, m]) => m === 'drain').map(([o]) => o).sort((a, b) => a - b);
    for (const o of mine) {
      const r = sp.acknowledge('drain', [{ firstOffset: o, lastOffset: o, acknowledgeTypes: [1] }]);
      expect(r.errorCode).toBe(ErrorCode.NONE);
      if ('update' in r) sp.completeStateUpdate(r.update, true);
      accepted.set(o, (accepted.get(o) ?? 0) + 1);
      holder.delete(o);
    }
    checkInvariants();
  }
  expect(sp.startOffset()).toBe(N);
  expect(sp.nextFetchOffset()).toBe(N);
  // Every offset was accepted exactly once, or archived: rejected/gap, or delivered up to the limit.
  for (let o = 0; o < N; o++) {
    const n = accepted.get(o) ?? 0;
    if (n === 1) continue;
    expect(n, `offset ${o}`).toBe(0);
    expect(rejected.has(o) || maxDelivery.get(o) === LIMIT, `offset ${o} archived without reason`).toBe(true);
  }
}

test.each([1, 2, 3, 42, 2024])('random members acquiring, acknowledging, releasing and expiring keep the invariants (seed %i)', (seed) => {
  simulate(seed);
});
