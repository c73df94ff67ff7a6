/**
 * The transaction state machine (TransactionMetadata, TransactionState) on
 * its own: state ids, which transitions are allowed, the two steps of a
 * transition (prepare marks it pending, complete applies it, abort drops it),
 * InitProducerId's epoch bumps (with and without an expected epoch, retries,
 * fencing), exhaustion and producer id rotation, the epoch fence of an
 * ongoing transaction.
 */
import { describe, expect, it } from 'vitest';
import {
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  TransactionMetadata,
  TransactionStateError,
  type TxnTransitMetadata,
} from '../../src/coordinator/transaction/transaction-metadata.js';
import {
  isExpirationAllowed,
  isValidTransition,
  TRANSACTION_STATES,
  transactionStateId,
  transactionStateNamed,
  transactionStateOf,
} from '../../src/coordinator/transaction/transaction-state.js';

const T0 = 1_700_000_000_000;

function fresh(): TransactionMetadata {
  return new TransactionMetadata({ transactionalId: 'tx', producerId: 7, producerEpoch: NO_PRODUCER_EPOCH, txnTimeoutMs: 60_000, state: 'Empty', txnLastUpdateTimestamp: T0 });
}

/** Prepares with `prepare` and completes it, as the coordinator does once the record is written. */
function apply(m: TransactionMetadata, prepare: (m: TransactionMetadata) => TxnTransitMetadata): TxnTransitMetadata {
  const transit = prepare(m);
  expect(m.pendingState).toBe(transit.txnState);
  m.completeTransitionTo(transit);
  expect(m.pendingState).toBeUndefined();
  return transit;
}

function bump(m: TransactionMetadata, expected: number | undefined, now = T0): TxnTransitMetadata {
  const r = m.prepareIncrementProducerEpoch(60_000, expected, now);
  if ('error' in r) throw new Error(r.error);
  return r.transit;
}

const tp = (topic: string, partition: number) => ({ topic, partition });

describe('transaction states', () => {
  it('have Kafka ids and names, and refuse unknown ids', () => {
    expect(TRANSACTION_STATES.map((s) => [s, transactionStateId(s)])).toEqual([
      ['Empty', 0],
      ['Ongoing', 1],
      ['PrepareCommit', 2],
      ['PrepareAbort', 3],
      ['CompleteCommit', 4],
      ['CompleteAbort', 5],
      ['Dead', 6],
      ['PrepareEpochFence', 7],
    ]);
    expect(transactionStateOf(3)).toBe('PrepareAbort');
    expect(() => transactionStateOf(8)).toThrow();
    expect(() => transactionStateOf(-1)).toThrow();
    expect(transactionStateNamed('CompleteCommit')).toBe('CompleteCommit');
    expect(transactionStateNamed('toString')).toBeUndefined();
  });

  it('allow Kafka transitions only', () => {
    expect(isValidTransition('Empty', 'Ongoing')).toBe(true);
    expect(isValidTransition('CompleteAbort', 'Ongoing')).toBe(true);
    expect(isValidTransition('Ongoing', 'PrepareCommit')).toBe(true);
    expect(isValidTransition('PrepareEpochFence', 'PrepareAbort')).toBe(true);
    expect(isValidTransition('Empty', 'PrepareCommit')).toBe(false);
    expect(isValidTransition('PrepareCommit', 'Ongoing')).toBe(false);
    expect(isValidTransition('PrepareCommit', 'CompleteAbort')).toBe(false);
    expect(isValidTransition('Ongoing', 'Dead')).toBe(false);
    expect(isValidTransition('Ongoing', 'Empty')).toBe(false);
    expect(['Empty', 'CompleteCommit', 'CompleteAbort'].every((s) => isExpirationAllowed(s as 'Empty'))).toBe(true);
    expect(isExpirationAllowed('Ongoing')).toBe(false);
  });
});

describe('TransactionMetadata', () => {
  it('runs a commit: Empty → Ongoing → PrepareCommit → CompleteCommit, partitions kept until complete', () => {
    const m = fresh();
    apply(m, (x) => bump(x, undefined));
    expect([m.producerEpoch, m.state]).toEqual([0, 'Empty']);

    apply(m, (x) => x.prepareAddPartitions([tp('a', 0)], T0 + 10));
    expect(m.state).toBe('Ongoing');
    expect(m.txnStartTimestamp).toBe(T0 + 10);
    apply(m, (x) => x.prepareAddPartitions([tp('a', 1), tp('a', 0)], T0 + 20));
    expect(m.txnStartTimestamp).toBe(T0 + 10); // the transaction started with its first partition
    expect([...m.topicPartitions.values()]).toEqual([tp('a', 0), tp('a', 1)]);

    const prepare = apply(m, (x) => x.prepareAbortOrCommit('PrepareCommit', T0 + 30));
    expect(prepare.topicPartitions.size).toBe(2);
    expect(m.state).toBe('PrepareCommit');
    const complete = apply(m, (x) => x.prepareComplete(T0 + 40));
    expect(complete.txnState).toBe('CompleteCommit');
    expect(m.topicPartitions.size).toBe(0);
    expect(m.txnLastUpdateTimestamp).toBe(T0 + 40);

    // the next transaction starts anew from CompleteCommit
    apply(m, (x) => x.prepareAddPartitions([tp('b', 0)], T0 + 50));
    expect(m.txnStartTimestamp).toBe(T0 + 50);
  });

  it('refuses a second prepare while one is pending, and an invalid transition, with TransactionStateError', () => {
    const m = fresh();
    apply(m, (x) => bump(x, undefined));
    const pending = m.prepareAddPartitions([tp('a', 0)], T0);
    expect(m.pendingTransitionInProgress).toBe(true);
    expect(() => m.prepareAbortOrCommit('PrepareAbort', T0)).toThrow(TransactionStateError);
    m.abortPendingTransition();
    expect([m.state, m.topicPartitions.size, m.pendingState]).toEqual(['Empty', 0, undefined]);
    expect(() => m.prepareAbortOrCommit('PrepareCommit', T0)).toThrow(TransactionStateError);
    expect(m.pendingState).toBeUndefined();
    // completing without a pending state, or to another state than the pending one
    expect(() => m.completeTransitionTo(pending)).toThrow(TransactionStateError);
    m.prepareAddPartitions([tp('a', 0)], T0);
    expect(() => m.completeTransitionTo({ ...pending, txnState: 'PrepareCommit' })).toThrow(TransactionStateError);
  });

  it('checks a completion against the metadata (same producer and epoch; partitions only grow)', () => {
    const m = fresh();
    apply(m, (x) => bump(x, undefined));
    const t = m.prepareAddPartitions([tp('a', 0)], T0);
    expect(() => m.completeTransitionTo({ ...t, producerEpoch: 5 })).toThrow(TransactionStateError);
    m.completeTransitionTo(t);
    const shrink = m.prepareAddPartitions([], T0);
    expect(() => m.completeTransitionTo({ ...shrink, topicPartitions: new Map() })).toThrow(TransactionStateError);
  });

  describe('InitProducerId epoch bumps', () => {
    it('bumps without an expected epoch and forgets the last epoch', () => {
      const m = fresh();
      apply(m, (x) => bump(x, undefined));
      apply(m, (x) => bump(x, undefined));
      expect([m.producerEpoch, m.lastProducerEpoch]).toEqual([1, NO_PRODUCER_EPOCH]);
    });

    it('with the current epoch expected: bumps and remembers it; a retry with that last epoch gets the current epoch again', () => {
      const m = fresh();
      apply(m, (x) => bump(x, undefined)); // 0
      apply(m, (x) => bump(x, 0));
      expect([m.producerEpoch, m.lastProducerEpoch]).toEqual([1, 0]);
      const retry = apply(m, (x) => bump(x, 0));
      expect([retry.producerEpoch, m.producerEpoch, m.lastProducerEpoch]).toEqual([1, 1, 0]);
    });

    it('answers PRODUCER_FENCED to an expected epoch that is neither the current nor the last, without a pending state', () => {
      const m = fresh();
      apply(m, (x) => bump(x, undefined));
      apply(m, (x) => bump(x, undefined)); // 1, last -1
      expect(m.prepareIncrementProducerEpoch(60_000, 0, T0)).toEqual({ error: 'PRODUCER_FENCED' });
      expect(m.pendingState).toBeUndefined();
    });

    it('takes the new timeout and starts no transaction', () => {
      const m = fresh();
      const r = m.prepareIncrementProducerEpoch(5000, undefined, T0 + 1);
      if ('error' in r) throw new Error(r.error);
      m.completeTransitionTo(r.transit);
      expect([m.txnTimeoutMs, m.txnStartTimestamp, m.txnLastUpdateTimestamp]).toEqual([5000, -1, T0 + 1]);
    });

    it('exhausts at 32766: no more bumps; a new producer id at epoch 0 instead, the last epoch recorded on request', () => {
      expect([isEpochExhausted(32765), isEpochExhausted(32766), isEpochExhausted(32767)]).toEqual([false, true, true]);
      const m = new TransactionMetadata({ transactionalId: 'tx', producerId: 7, producerEpoch: 32765, txnTimeoutMs: 1000, state: 'CompleteCommit', txnStartTimestamp: T0, txnLastUpdateTimestamp: T0 });
      apply(m, (x) => bump(x, undefined));
      expect(m.producerEpoch).toBe(32766);
      expect(m.isProducerEpochExhausted).toBe(true);
      expect(() => m.prepareIncrementProducerEpoch(1000, undefined, T0)).toThrow(TransactionStateError);
      apply(m, (x) => x.prepareProducerIdRotation(8, 1000, T0 + 5, true));
      expect([m.producerId, m.lastProducerId, m.producerEpoch, m.lastProducerEpoch]).toEqual([8, 7, 0, 32766]);
    });

    it('refuses to rotate the producer id while a transaction is open', () => {
      const m = fresh();
      apply(m, (x) => bump(x, undefined));
      apply(m, (x) => x.prepareAddPartitions([tp('a', 0)], T0));
      expect(() => m.prepareProducerIdRotation(9, 1000, T0, false)).toThrow(TransactionStateError);
    });
  });

  describe('the epoch fence of an ongoing transaction', () => {
    function ongoing(): TransactionMetadata {
      const m = fresh();
      apply(m, (x) => bump(x, undefined));
      apply(m, (x) => bump(x, undefined)); // epoch 1
      apply(m, (x) => x.prepareAddPartitions([tp('a', 0)], T0));
      return m;
    }

    it('bumps the epoch into a PrepareAbort that carries it, then CompleteAbort', () => {
      const m = ongoing();
      const fence = m.prepareFenceProducerEpoch();
      expect([fence.txnState, fence.producerEpoch, fence.lastProducerEpoch]).toEqual(['PrepareEpochFence', 2, NO_PRODUCER_EPOCH]);
      expect(() => m.completeTransitionTo(fence)).toThrow(TransactionStateError); // a fence is never completed as such
      m.pendingState = 'PrepareEpochFence';
      m.applyEpochFence(fence);
      const abort = apply(m, (x) => x.prepareAbortOrCommit('PrepareAbort', T0 + 1));
      expect([abort.producerEpoch, m.state, m.producerEpoch]).toEqual([2, 'PrepareAbort', 2]);
      apply(m, (x) => x.prepareComplete(T0 + 2));
      expect([m.state, m.producerEpoch, m.topicPartitions.size]).toEqual(['CompleteAbort', 2, 0]);
    });

    it('does not bump again after a fence whose write failed', () => {
      const m = ongoing();
      m.applyEpochFence(m.prepareFenceProducerEpoch());
      m.prepareAbortOrCommit('PrepareAbort', T0 + 1);
      // the PrepareAbort write failed
      m.abortPendingTransition();
      m.hasFailedEpochFence = true;
      expect(m.prepareFenceProducerEpoch().producerEpoch).toBe(2);
    });

    it('refuses to fence at epoch 32767', () => {
      const m = new TransactionMetadata({ transactionalId: 'tx', producerId: 7, producerEpoch: 32767, txnTimeoutMs: 1000, state: 'Ongoing', txnStartTimestamp: T0, txnLastUpdateTimestamp: T0 });
      expect(() => m.prepareFenceProducerEpoch()).toThrow(TransactionStateError);
    });
  });

  it('prepares Dead from Empty and the Completes only, and never completes it', () => {
    const m = fresh();
    apply(m, (x) => bump(x, undefined));
    const dead = m.prepareDead();
    expect(dead.txnState).toBe('Dead');
    expect(() => m.completeTransitionTo(dead)).toThrow(TransactionStateError);
    m.abortPendingTransition();
    apply(m, (x) => x.prepareAddPartitions([tp('a', 0)], T0));
    expect(() => m.prepareDead()).toThrow(TransactionStateError);
  });
});
