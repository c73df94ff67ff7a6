import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { initializeSharePartition } from '../../src/share/share-partition.js';
import { RecordState } from '../../src/share/record-state.js';
import { validateAcknowledgementBatches } from '../../src/share/acknowledge.js';
import { parseShareAutoOffsetReset } from '../../src/share/auto-offset-reset.js';
import { CONFIG, ManualClock, ackCommitted, acquire, batches, newSharePartition } from './share-partition-helpers.js';

describe('initialization', () => {
  const log = { logStartOffset: 10, latestOffset: 50, offsetForTimestamp: (ts: number) => (ts <= 5000 ? 30 : undefined) };
  const none = { startOffset: -1, stateEpoch: 0, stateBatches: [] };

  test('without a persisted start offset, share.auto.offset.reset picks latest, earliest or by_duration', () => {
    const clock = new ManualClock(65_000);
    const start = (v: string) => {
      const r = initializeSharePartition(CONFIG, clock, none, parseShareAutoOffsetReset(v), log);
      if (!('sharePartition' in r)) throw new Error('failed');
      return [r.sharePartition.startOffset(), r.sharePartition.endOffset(), r.sharePartition.nextFetchOffset()];
    };
    expect(start('latest')).toEqual([50, 50, 50]);
    expect(start('earliest')).toEqual([10, 10, 10]);
    expect(start('by_duration:PT1M')).toEqual([30, 30, 30]); // now - 60 s = 5000
  });

  test('by_duration with no record at or after the timestamp fails with OFFSET_NOT_AVAILABLE', () => {
    const r = initializeSharePartition(CONFIG, new ManualClock(100_000), none, parseShareAutoOffsetReset('by_duration:PT1S'), log);
    expect(r.errorCode).toBe(ErrorCode.OFFSET_NOT_AVAILABLE);
  });

  test('rejects malformed share.auto.offset.reset values as Kafka does', () => {
    expect(() => parseShareAutoOffsetReset('none')).toThrow('Unsupported strategy');
    expect(() => parseShareAutoOffsetReset('by_duration')).toThrow('<:duration> part is missing');
    expect(() => parseShareAutoOffsetReset('by_duration:1h')).toThrow('Unable to parse duration');
    expect(parseShareAutoOffsetReset('by_duration:P1DT2H3M4.5S')).toEqual({ type: 'by_duration', durationMs: 93_784_500 });
  });

  test('a persisted state restores SPSO, SPEO and the batches; the first AVAILABLE record is fetched next', () => {
    const { sp } = newSharePartition({
      persisted: {
        startOffset: 5,
        stateEpoch: 3,
        stateBatches: [
          { firstOffset: 5, lastOffset: 9, deliveryState: RecordState.ACKNOWLEDGED, deliveryCount: 1 },
          { firstOffset: 10, lastOffset: 14, deliveryState: RecordState.AVAILABLE, deliveryCount: 2 },
          { firstOffset: 15, lastOffset: 19, deliveryState: RecordState.ARCHIVED, deliveryCount: 5 },
        ],
      },
    });
    // the acknowledged front is behind SPSO at once
    expect(sp.startOffset()).toBe(10);
    expect(sp.endOffset()).toBe(19);
    expect(sp.nextFetchOffset()).toBe(10);
    const got = acquire(sp, 'm1', batches(10, 19));
    expect(got.acquiredRecords).toEqual([{ firstOffset: 10, lastOffset: 14, deliveryCount: 3 }]);
    ackCommitted(sp, 'm1', 10, 14, [1]);
    expect(sp.startOffset()).toBe(20);
    expect(sp.nextFetchOffset()).toBe(20);
  });

  test('gaps in the persisted batches are fetched and acquired before anything past the persisted end', () => {
    const { sp } = newSharePartition({
      persisted: {
        startOffset: 0,
        stateEpoch: 0,
        stateBatches: [{ firstOffset: 5, lastOffset: 9, deliveryState: RecordState.ACKNOWLEDGED, deliveryCount: 1 }],
      },
    });
    expect(sp.startOffset()).toBe(0);
    expect(sp.nextFetchOffset()).toBe(0);
    const got = acquire(sp, 'm1', batches(0, 14, 5));
    expect(got.acquiredRecords).toEqual([
      { firstOffset: 0, lastOffset: 4, deliveryCount: 1 },
      { firstOffset: 10, lastOffset: 14, deliveryCount: 1 },
    ]);
    ackCommitted(sp, 'm1', 0, 4, [1]);
    expect(sp.startOffset()).toBe(10);
  });

  test('invalid persisted batches fail the initialization', () => {
    const r = initializeSharePartition(
      CONFIG,
      new ManualClock(),
      { startOffset: 10, stateEpoch: 0, stateBatches: [{ firstOffset: 5, lastOffset: 12, deliveryState: 0, deliveryCount: 1 }] },
      { type: 'earliest' },
      log,
    );
    expect(r.errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
  });
});

describe('acquire', () => {
  test('acquires whole fetched batches, cut by BatchSize, with delivery count 1, and moves SPEO', () => {
    const { sp } = newSharePartition();
    const got = acquire(sp, 'm1', batches(0, 29, 10), 500, 15);
    expect(got.count).toBe(30);
    expect(got.acquiredRecords).toEqual([
      { firstOffset: 0, lastOffset: 19, deliveryCount: 1 },
      { firstOffset: 20, lastOffset: 29, deliveryCount: 1 },
    ]);
    expect(sp.startOffset()).toBe(0);
    expect(sp.endOffset()).toBe(29);
    expect(sp.nextFetchOffset()).toBe(30);
    expect(sp.recordState(5)).toMatchObject({ state: RecordState.ACQUIRED, memberId: 'm1', deliveryCount: 1 });
  });

  test('MaxRecords is soft in batch_optimized mode (whole batches) and exact in record_limit mode', () => {
    const a = newSharePartition().sp;
    expect(acquire(a, 'm1', batches(0, 19, 10), 3).acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 9, deliveryCount: 1 }]);
    const b = newSharePartition().sp;
    const got = b.acquire({ memberId: 'm1', fetchOffset: 0, batches: batches(0, 19, 10), maxFetchRecords: 3, batchSize: 500, acquireMode: 'record_limit' });
    expect(got.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    expect(b.recordState(3)).toMatchObject({ state: RecordState.AVAILABLE, deliveryCount: 0 });
    expect(b.nextFetchOffset()).toBe(3);
    const next = b.acquire({ memberId: 'm2', fetchOffset: 3, batches: batches(0, 19, 10), maxFetchRecords: 3, batchSize: 500, acquireMode: 'record_limit' });
    expect(next.acquiredRecords).toEqual([{ firstOffset: 3, lastOffset: 5, deliveryCount: 1 }]);
  });

  test('stops at share.partition.max.record.locks in flight', () => {
    const { sp } = newSharePartition({ config: { maxInFlightRecords: 25 } });
    expect(acquire(sp, 'm1', batches(0, 19, 10)).count).toBe(20);
    // 5 more allowed; the batch 20-29 is acquired whole (soft limit)
    expect(acquire(sp, 'm1', batches(20, 39, 10)).acquiredRecords).toEqual([{ firstOffset: 20, lastOffset: 29, deliveryCount: 1 }]);
    expect(sp.canAcquireRecords()).toBe(false);
    expect(acquire(sp, 'm1', batches(30, 39, 10)).count).toBe(0);
  });

  test('records already acquired are not acquired again by another member', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    expect(sp.acquire({ memberId: 'm2', fetchOffset: 0, batches: batches(0, 9), maxFetchRecords: 500, batchSize: 500 }).count).toBe(0);
  });

  test('read_committed archives the records of aborted transactions; control records stay in the acquired ranges', () => {
    const { sp } = newSharePartition();
    const fetched = [
      { baseOffset: 0, lastOffset: 4, producerId: 7, isTransactional: true },
      { baseOffset: 5, lastOffset: 9, producerId: 8, isTransactional: true },
      { baseOffset: 10, lastOffset: 10, producerId: 7, isTransactional: true, control: 'abort' as const },
      { baseOffset: 11, lastOffset: 11, producerId: 8, isTransactional: true, control: 'commit' as const },
      { baseOffset: 12, lastOffset: 14 },
    ];
    const got = sp.acquire({
      memberId: 'm1',
      fetchOffset: 0,
      batches: fetched,
      maxFetchRecords: 500,
      batchSize: 500,
      isolationLevel: 'read_committed',
      abortedTransactions: [{ producerId: 7, firstOffset: 0 }],
    });
    expect(got.acquiredRecords).toEqual([{ firstOffset: 5, lastOffset: 14, deliveryCount: 1 }]);
    expect(got.count).toBe(10);
    expect(sp.recordState(2)).toMatchObject({ state: RecordState.ARCHIVED });
    expect(sp.startOffset()).toBe(5);
    // the client acknowledges the control records as gaps
    ackCommitted(sp, 'm1', 5, 14, [1, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    expect(sp.startOffset()).toBe(15);
  });

  test('read_uncommitted delivers aborted records too', () => {
    const { sp } = newSharePartition();
    const got = sp.acquire({
      memberId: 'm1', fetchOffset: 0, batches: [{ baseOffset: 0, lastOffset: 4, producerId: 7, isTransactional: true }],
      maxFetchRecords: 500, batchSize: 500, abortedTransactions: [{ producerId: 7, firstOffset: 0 }],
    });
    expect(got.count).toBe(5);
  });

  test('cached AVAILABLE records the log read skipped (compacted away) are archived', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9, 5));
    ackCommitted(sp, 'm1', 0, 4, [2]);
    ackCommitted(sp, 'm1', 5, 9, [1]);
    expect(sp.nextFetchOffset()).toBe(0);
    // the read from 0 now starts at 10: 0-4 was compacted
    const got = sp.acquire({ memberId: 'm1', fetchOffset: 0, batches: batches(10, 14), maxFetchRecords: 500, batchSize: 500 });
    expect(got.acquiredRecords).toEqual([{ firstOffset: 10, lastOffset: 14, deliveryCount: 1 }]);
    expect(sp.recordState(0)).toMatchObject({ state: RecordState.ARCHIVED });
    ackCommitted(sp, 'm1', 10, 14, [1]);
    expect(sp.startOffset()).toBe(15);
  });
});

describe('acknowledge', () => {
  test('ACCEPT acknowledges, SPSO moves past the front and the write carries the state batches', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    const write = ackCommitted(sp, 'm1', 0, 9, [1]);
    expect(write).toEqual({
      stateEpoch: 0,
      startOffset: 0,
      deliveryCompleteCount: 10,
      stateBatches: [{ firstOffset: 0, lastOffset: 9, deliveryState: RecordState.ACKNOWLEDGED, deliveryCount: 1 }],
    });
    expect(sp.startOffset()).toBe(10);
    expect(sp.endOffset()).toBe(10);
    expect(sp.inFlightBatches()).toEqual([]);
  });

  test('RELEASE makes records available again and they are redelivered with a higher delivery count', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    ackCommitted(sp, 'm1', 0, 9, [2]);
    expect(sp.nextFetchOffset()).toBe(0);
    expect(acquire(sp, 'm2', batches(0, 9)).acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 9, deliveryCount: 2 }]);
  });

  test('REJECT and GAP archive; per-offset types split the batch into per-offset states', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 4));
    const write = ackCommitted(sp, 'm1', 0, 4, [1, 3, 0, 2, 1]);
    expect(write?.stateBatches).toEqual([
      { firstOffset: 0, lastOffset: 0, deliveryState: RecordState.ACKNOWLEDGED, deliveryCount: 1 },
      { firstOffset: 1, lastOffset: 2, deliveryState: RecordState.ARCHIVED, deliveryCount: 1 },
      { firstOffset: 3, lastOffset: 3, deliveryState: RecordState.AVAILABLE, deliveryCount: 1 },
      { firstOffset: 4, lastOffset: 4, deliveryState: RecordState.ACKNOWLEDGED, deliveryCount: 1 },
    ]);
    expect(sp.startOffset()).toBe(3);
    expect(sp.inFlightBatches()).toEqual([{ firstOffset: 0, lastOffset: 4, perOffset: true }]);
    expect(acquire(sp, 'm2', batches(0, 4)).acquiredRecords).toEqual([{ firstOffset: 3, lastOffset: 3, deliveryCount: 2 }]);
  });

  test('a subset acknowledgement splits the batch; the rest stays acquired', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    ackCommitted(sp, 'm1', 0, 3, [1]);
    expect(sp.startOffset()).toBe(4);
    expect(sp.recordState(4)).toMatchObject({ state: RecordState.ACQUIRED, memberId: 'm1' });
  });

  test('errors: not the owner, not acquired, unknown offsets, all-or-nothing', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    const err = (member: string, first: number, last: number, types: number[]) => {
      const r = sp.acknowledge(member, [{ firstOffset: first, lastOffset: last, acknowledgeTypes: types }]);
      return 'errorMessage' in r ? [r.errorCode, r.errorMessage] : [r.errorCode];
    };
    expect(err('m2', 0, 9, [1])).toEqual([ErrorCode.INVALID_RECORD_STATE, 'Member is not the owner of batch record']);
    expect(err('m1', 20, 25, [1])).toEqual([ErrorCode.INVALID_REQUEST, 'Batch record not found. The first offset in request is past acquired records.']);
    expect(err('m1', 5, 12, [1])).toEqual([ErrorCode.INVALID_REQUEST, 'Batch record not found. The last offset in request is past acquired records.']);
    expect(err('m1', 0, 0, [7])).toEqual([ErrorCode.INVALID_REQUEST, 'Invalid acknowledge type: [7]']);
    expect(err('m1', 0, 9, [4])).toEqual([ErrorCode.INVALID_RECORD_STATE, 'Renewing acquisition locks is not enabled for the group.']);
    ackCommitted(sp, 'm1', 0, 4, [2]);
    expect(err('m1', 0, 0, [1])).toEqual([ErrorCode.INVALID_RECORD_STATE, 'The offset cannot be acknowledged. The offset is not acquired.']);
    // two batches, the second fails: the first is rolled back
    const r = sp.acknowledge('m1', [
      { firstOffset: 5, lastOffset: 6, acknowledgeTypes: [1] },
      { firstOffset: 7, lastOffset: 9, acknowledgeTypes: [1] },
      { firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] },
    ]);
    expect(r.errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(sp.recordState(5)).toMatchObject({ state: RecordState.ACQUIRED, memberId: 'm1', inTransition: false });
    expect(sp.recordState(8)).toMatchObject({ state: RecordState.ACQUIRED, memberId: 'm1', inTransition: false });
  });

  test('an unacquired whole batch answers the batch-level message; a batch before SPSO is skipped', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    ackCommitted(sp, 'm1', 0, 9, [2]);
    expect(sp.acknowledge('m1', [{ firstOffset: 0, lastOffset: 9, acknowledgeTypes: [1] }])).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD_STATE,
      errorMessage: 'The batch cannot be acknowledged. The batch is not in the acquired state.',
    });
    acquire(sp, 'm1', batches(0, 9));
    ackCommitted(sp, 'm1', 0, 9, [1]);
    expect(sp.acknowledge('m1', [{ firstOffset: 0, lastOffset: 9, acknowledgeTypes: [1] }]).errorCode).toBe(0);
  });

  test('a pending acknowledgement blocks another and is rolled back when the write fails', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    const r = sp.acknowledge('m1', [{ firstOffset: 0, lastOffset: 9, acknowledgeTypes: [1] }]);
    if (!('update' in r)) throw new Error('expected update');
    expect(sp.recordState(3)).toMatchObject({ state: RecordState.ACKNOWLEDGED, inTransition: true });
    expect(sp.startOffset()).toBe(0); // not before the write succeeds
    expect(sp.acknowledge('m1', [{ firstOffset: 0, lastOffset: 9, acknowledgeTypes: [1] }]).errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    sp.completeStateUpdate(r.update, false);
    expect(sp.recordState(3)).toMatchObject({ state: RecordState.ACQUIRED, memberId: 'm1', inTransition: false });
  });

  test('a rollback after the lock expired releases the records', () => {
    const { sp, clock } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    const r = sp.acknowledge('m1', [{ firstOffset: 0, lastOffset: 9, acknowledgeTypes: [1] }]);
    if (!('update' in r)) throw new Error('expected update');
    clock.advance(30_000);
    expect(sp.expireAcquisitionLocks()).toBeNull(); // in transition: not expired here
    sp.completeStateUpdate(r.update, false);
    expect(sp.recordState(3)).toMatchObject({ state: RecordState.AVAILABLE, memberId: '' });
    expect(sp.nextFetchOffset()).toBe(0);
  });

  test('RENEW (when enabled) extends the lock without a write', () => {
    const { sp, clock } = newSharePartition({ config: { renewAcknowledgeEnabled: true } });
    acquire(sp, 'm1', batches(0, 9));
    clock.advance(20_000);
    expect(ackCommitted(sp, 'm1', 0, 9, [4])).toBeNull();
    clock.advance(20_000);
    expect(sp.expireAcquisitionLocks()).toBeNull();
    expect(sp.nextAcquisitionLockDeadline()).toBe(clock.ms + 10_000);
  });

  test('the request-level checks answer INVALID_REQUEST as Kafka does', () => {
    const ok = { firstOffset: 0, lastOffset: 4, acknowledgeTypes: [1] };
    expect(validateAcknowledgementBatches([ok])).toBe(0);
    expect(validateAcknowledgementBatches([{ ...ok, firstOffset: 5 }])).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateAcknowledgementBatches([ok, { ...ok, firstOffset: 3, lastOffset: 6 }])).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateAcknowledgementBatches([ok, { ...ok, firstOffset: 4, lastOffset: 6 }])).toBe(0);
    expect(validateAcknowledgementBatches([{ ...ok, acknowledgeTypes: [] }])).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateAcknowledgementBatches([{ ...ok, acknowledgeTypes: [1, 1] }])).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateAcknowledgementBatches([{ ...ok, acknowledgeTypes: [4] }])).toBe(ErrorCode.INVALID_REQUEST);
    expect(validateAcknowledgementBatches([{ ...ok, acknowledgeTypes: [4] }], { supportsRenew: true, isRenewAck: true })).toBe(0);
  });
});

describe('acquisition locks, delivery limit, member leave, log start offset', () => {
  test('an expired lock makes the records available, and the write says so', () => {
    const { sp, clock } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    expect(sp.nextAcquisitionLockDeadline()).toBe(clock.ms + 30_000);
    clock.advance(29_999);
    expect(sp.expireAcquisitionLocks()).toBeNull();
    clock.advance(1);
    expect(sp.expireAcquisitionLocks()?.stateBatches).toEqual([
      { firstOffset: 0, lastOffset: 9, deliveryState: RecordState.AVAILABLE, deliveryCount: 1 },
    ]);
    expect(sp.nextAcquisitionLockDeadline()).toBeUndefined();
    expect(sp.nextFetchOffset()).toBe(0);
  });

  test('at the delivery count limit a released or expired record is archived, never delivered again', () => {
    const { sp, clock } = newSharePartition({ config: { maxDeliveryCount: 3 } });
    for (let i = 1; i <= 3; i++) {
      expect(acquire(sp, 'm1', batches(0, 4)).acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 4, deliveryCount: i }]);
      if (i < 3) ackCommitted(sp, 'm1', 0, 4, [2]);
    }
    clock.advance(30_000);
    expect(sp.expireAcquisitionLocks()?.stateBatches).toEqual([
      { firstOffset: 0, lastOffset: 4, deliveryState: RecordState.ARCHIVED, deliveryCount: 3 },
    ]);
    expect(sp.startOffset()).toBe(5);
    expect(acquire(sp, 'm1', batches(0, 4)).count).toBe(0);
  });

  test('a member that leaves releases every record it holds, and only those', () => {
    const { sp } = newSharePartition();
    acquire(sp, 'm1', batches(0, 4));
    acquire(sp, 'm2', batches(5, 9));
    const r = sp.releaseAcquiredRecords('m1');
    if (!('update' in r)) throw new Error('expected update');
    expect(r.update.write?.stateBatches).toEqual([{ firstOffset: 0, lastOffset: 4, deliveryState: RecordState.AVAILABLE, deliveryCount: 1 }]);
    sp.completeStateUpdate(r.update, true);
    expect(sp.recordState(0)).toMatchObject({ state: RecordState.AVAILABLE });
    expect(sp.recordState(5)).toMatchObject({ state: RecordState.ACQUIRED, memberId: 'm2' });
  });

  test('the log start offset moving archives available records before it and moves SPSO', () => {
    const { sp, clock } = newSharePartition();
    acquire(sp, 'm1', batches(0, 9));
    acquire(sp, 'm1', batches(10, 19));
    ackCommitted(sp, 'm1', 0, 9, [2]);
    sp.updateLogStartOffset(15);
    expect(sp.startOffset()).toBe(15);
    expect(sp.recordState(3)).toBeUndefined(); // batch 0-9 archived and dropped
    expect(sp.recordState(12)).toMatchObject({ state: RecordState.ACQUIRED });
    // the acquired records below the new start are archived when their lock expires
    clock.advance(30_000);
    sp.expireAcquisitionLocks();
    expect(sp.recordState(12)).toMatchObject({ state: RecordState.ARCHIVED });
    expect(sp.recordState(17)).toMatchObject({ state: RecordState.AVAILABLE });
    expect(sp.nextFetchOffset()).toBe(15);
  });
});
