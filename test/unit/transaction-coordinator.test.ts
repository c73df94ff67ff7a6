/**
 * The transaction coordinator on the coordinator runtime over a real
 * LogManager in a temp dir (real `__transaction_state` partitions, real
 * producer id blocks): the topic is created lazily by the first write,
 * transactions survive a restart (loaded with COORDINATOR_LOAD_IN_PROGRESS
 * meanwhile), InitProducerId / AddPartitionsToTxn / AddOffsetsToTxn / EndTxn
 * answer as Kafka's coordinator, markers go to the marker writer (here a
 * writer that keeps what it is asked to write, standing in for the log side's
 * control batch appends), timed-out transactions are aborted and expired ids
 * tombstoned.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { DEFAULT_LOG_CONFIG, LogManager } from '../../storage/index.js';
import type { InternalTopicHost, InternalTopicInfo } from '../../src/coordinator/internal-topic.js';
import { DEFAULT_TRANSACTION_CONFIG } from '../../src/coordinator/transaction/transaction-config.js';
import { TransactionCoordinator } from '../../src/coordinator/transaction/transaction-coordinator.js';
import type { MarkerWriteResult, TransactionMarkers, TransactionMarkerWriter } from '../../src/coordinator/transaction/transaction-marker-writer.js';
import { TRANSACTION_STATE_TOPIC } from '../../src/coordinator/transaction/transaction-state-topic.js';
import { createLogger } from '../../src/logger.js';
import { ProducerIdManager } from '../../src/produce/producer-ids.js';

const PARTITIONS = 4;
const logger = createLogger('silent', false);
const dirs: string[] = [];
const opened: Array<{ coordinator: TransactionCoordinator; logs: LogManager }> = [];

function topicsOn(logs: LogManager): InternalTopicHost {
  const get = (name: string): InternalTopicInfo | undefined => {
    const partitions = [];
    for (let p = 0; ; p++) {
      const log = logs.getLog(name, p);
      if (!log) break;
      partitions.push({ log, leaderEpoch: 0 });
    }
    return partitions.length === 0 ? undefined : { numPartitions: partitions.length, partitions, config: { messageMaxBytes: 1 << 20 } };
  };
  return {
    get,
    async create(req) {
      for (let p = 0; p < req.numPartitions; p++) await logs.createLog(req.name, p, 'txn-topic-id');
      return get(req.name)!;
    },
  };
}

/** Keeps every marker request; answers each partition with `answer` (NONE by default). */
class KeptMarkers implements TransactionMarkerWriter {
  readonly written: TransactionMarkers[] = [];
  answer: (topic: string, partition: number) => number = () => ErrorCode.NONE;
  async writeMarkers(m: TransactionMarkers): Promise<MarkerWriteResult[]> {
    this.written.push(m);
    return m.partitions.map((tp) => ({ ...tp, errorCode: this.answer(tp.topic, tp.partition) }));
  }
}

async function open(dir?: string, config: Partial<typeof DEFAULT_TRANSACTION_CONFIG> = {}) {
  if (dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'gregor-txn-'));
    dirs.push(dir);
  }
  const logs = await LogManager.open({ logDir: dir, nodeId: 1, defaults: { ...DEFAULT_LOG_CONFIG, retentionMs: -1 } });
  const markers = new KeptMarkers();
  const coordinator = TransactionCoordinator.start({
    config: { ...DEFAULT_TRANSACTION_CONFIG, syncWrites: false, markerRetryBackoffMs: 5, ...config },
    topicSettings: { partitions: () => PARTITIONS, segmentBytes: () => 1 << 20 },
    topics: topicsOn(logs),
    logger,
    producerIds: ProducerIdManager.open(dir),
    markers,
    offsetsPartitionFor: (groupId) => ({ topic: '__consumer_offsets', partition: groupId.length % 50 }),
  });
  const handle = { coordinator, logs, dir, markers };
  opened.push(handle);
  return handle;
}

async function close(h: { coordinator: TransactionCoordinator; logs: LogManager }): Promise<void> {
  opened.splice(opened.indexOf(h), 1);
  await h.coordinator.close();
  await h.logs.close();
}

afterEach(async () => {
  for (const h of opened.splice(0)) {
    await h.coordinator.close();
    await h.logs.close().catch(() => undefined);
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function until(done: () => boolean): Promise<void> {
  for (let spins = 0; !done(); spins++) {
    if (spins > 100_000) throw new Error('never happened');
    await new Promise((r) => setImmediate(r));
  }
}

const init = (c: TransactionCoordinator, transactionalId: string, transactionTimeoutMs = 60_000) => c.initProducerId({ transactionalId, transactionTimeoutMs });

describe('transaction coordinator', () => {
  it('does not create __transaction_state at start; the first InitProducerId does, and gets a new producer id at epoch 0', async () => {
    const h = await open();
    await h.coordinator.whenLoaded();
    expect(h.logs.getLog(TRANSACTION_STATE_TOPIC, 0)).toBeUndefined();
    const r = await init(h.coordinator, 'app-1');
    expect(r).toEqual({ errorCode: ErrorCode.NONE, producerId: 0, producerEpoch: 0 });
    expect(h.logs.getLog(TRANSACTION_STATE_TOPIC, PARTITIONS - 1)).toBeDefined();
    expect(h.coordinator.metadata('app-1')?.state).toBe('Empty');
    // the same id again: same producer id, epoch bumped; another id: another producer id
    expect(await init(h.coordinator, 'app-1')).toEqual({ errorCode: ErrorCode.NONE, producerId: 0, producerEpoch: 1 });
    expect((await init(h.coordinator, 'app-2')).producerId).toBe(1);
  });

  it('refuses an empty id and a timeout outside 1..transaction.max.timeout.ms', async () => {
    const h = await open(undefined, { maxTimeoutMs: 1000 });
    expect((await init(h.coordinator, '')).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await init(h.coordinator, 'a', 1001)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await init(h.coordinator, 'a', 0)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await init(h.coordinator, 'a', 1000)).errorCode).toBe(ErrorCode.NONE);
  });

  it('commits: partitions and offsets join, EndTxn writes PrepareCommit, the markers, then CompleteCommit; all survive a restart', async () => {
    const h = await open();
    const { producerId, producerEpoch } = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId, producerEpoch };
    expect(await h.coordinator.addPartitions(producer, [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }])).toBe(ErrorCode.NONE);
    expect(await h.coordinator.addOffsets(producer, 'grp')).toBe(ErrorCode.NONE);
    expect(h.coordinator.metadata('tx')?.state).toBe('Ongoing');
    expect(h.coordinator.metadata('tx')?.topicPartitions.size).toBe(3);

    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.NONE);
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteCommit');
    expect(h.markers.written).toEqual([
      {
        producerId,
        producerEpoch,
        coordinatorEpoch: 0,
        result: 'commit',
        partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }, { topic: '__consumer_offsets', partition: 3 }],
      },
    ]);
    // a retry of the commit is answered NONE; an abort now is INVALID_TXN_STATE
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.NONE);
    expect(await h.coordinator.endTxn(producer, 'abort')).toBe(ErrorCode.INVALID_TXN_STATE);

    await close(h);
    const again = await open(h.dir);
    expect(again.coordinator.unavailable('tx')).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect((await init(again.coordinator, 'tx')).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await again.coordinator.whenLoaded();
    const m = again.coordinator.metadata('tx');
    expect([m?.state, m?.producerId, m?.producerEpoch, m?.topicPartitions.size]).toEqual(['CompleteCommit', producerId, producerEpoch, 0]);
    expect(await init(again.coordinator, 'tx')).toEqual({ errorCode: ErrorCode.NONE, producerId, producerEpoch: producerEpoch + 1 });
  });

  it('answers fenced, unknown and wrong-state requests as Kafka', async () => {
    const h = await open();
    const first = await init(h.coordinator, 'tx');
    const second = await init(h.coordinator, 'tx');
    const old = { transactionalId: 'tx', producerId: first.producerId, producerEpoch: first.producerEpoch };
    const cur = { transactionalId: 'tx', producerId: second.producerId, producerEpoch: second.producerEpoch };
    const tp = [{ topic: 't', partition: 0 }];
    expect(await h.coordinator.addPartitions(old, tp)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.coordinator.addPartitions({ ...cur, producerId: 99 }, tp)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await h.coordinator.addPartitions({ ...cur, transactionalId: 'nope' }, tp)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await h.coordinator.endTxn(cur, 'commit')).toBe(ErrorCode.INVALID_TXN_STATE); // Empty
    expect(await h.coordinator.endTxn(old, 'abort')).toBe(ErrorCode.PRODUCER_FENCED);
    // KIP-360: a producer with an unknown epoch is fenced
    expect((await h.coordinator.initProducerId({ transactionalId: 'tx', transactionTimeoutMs: 1000, expected: { producerId: 55, producerEpoch: 0 } })).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('re-init during an ongoing transaction fences it: aborted with the bumped epoch, CONCURRENT_TRANSACTIONS, then the retry bumps again', async () => {
    const h = await open();
    const first = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId: first.producerId, producerEpoch: first.producerEpoch };
    expect(await h.coordinator.addPartitions(producer, [{ topic: 't', partition: 2 }])).toBe(ErrorCode.NONE);

    expect((await init(h.coordinator, 'tx')).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteAbort');
    expect(h.markers.written.map((w) => [w.result, w.producerEpoch, w.partitions])).toEqual([['abort', 1, [{ topic: 't', partition: 2 }]]]);
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await init(h.coordinator, 'tx')).toEqual({ errorCode: ErrorCode.NONE, producerId: first.producerId, producerEpoch: 2 });
  });

  it('retries markers that fail, answers CONCURRENT_TRANSACTIONS meanwhile, and drops partitions of deleted topics', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    await h.coordinator.addPartitions(producer, [{ topic: 'gone', partition: 0 }, { topic: 'busy', partition: 0 }]);
    let busy = true;
    h.markers.answer = (topic) => (topic === 'gone' ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : busy ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE);
    expect(await h.coordinator.endTxn(producer, 'abort')).toBe(ErrorCode.NONE);
    await until(() => h.markers.written.length >= 2);
    expect((await init(h.coordinator, 'tx')).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(h.coordinator.metadata('tx')?.state).toBe('PrepareAbort');
    busy = false;
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteAbort');
    expect(h.markers.written.at(-1)?.partitions).toEqual([{ topic: 'busy', partition: 0 }]);
  });

  it('AddPartitionsToTxn right after EndTxn waits for the previous transaction to complete, and answers CONCURRENT_TRANSACTIONS when it does not in time', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    const tp = { topic: 't', partition: 0 };
    await h.coordinator.addPartitions(producer, [tp]);
    let busy = true;
    h.markers.answer = () => (busy ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE);
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.NONE);
    await until(() => h.markers.written.length >= 1);
    // the next transaction starts while the markers are retried: its request waits, then joins
    let answered = false;
    const next = h.coordinator.addPartitions(producer, [tp]).then((e) => ((answered = true), e));
    await until(() => h.markers.written.length >= 3);
    expect(answered).toBe(false);
    busy = false;
    expect(await next).toBe(ErrorCode.NONE);
    expect(h.coordinator.metadata('tx')?.state).toBe('Ongoing');
    expect(h.coordinator.stats.committed).toBe(1);

    // markers that keep failing: after its wait the request gets CONCURRENT_TRANSACTIONS, as from Kafka
    busy = true;
    expect(await h.coordinator.endTxn(producer, 'abort')).toBe(ErrorCode.NONE);
    expect(await h.coordinator.addPartitions(producer, [tp])).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect(h.coordinator.metadata('tx')?.state).toBe('PrepareAbort');
    busy = false;
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteAbort');
    expect(h.coordinator.stats.aborted.client).toBe(1);
  });

  it('resumes a transaction loaded in PrepareCommit: its markers are written and it completes', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    await h.coordinator.addPartitions(producer, [{ topic: 't', partition: 0 }]);
    h.markers.answer = () => ErrorCode.KAFKA_STORAGE_ERROR; // never written before the restart
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.NONE);
    await until(() => h.markers.written.length >= 1);
    await close(h);

    const again = await open(h.dir);
    await again.coordinator.whenLoaded();
    await until(() => again.coordinator.metadata('tx')?.state === 'CompleteCommit');
    expect(again.markers.written.map((w) => [w.result, w.producerId, w.producerEpoch])).toEqual([['commit', r.producerId, r.producerEpoch]]);
  });

  it('aborts a transaction older than its timeout, fencing its producer', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx', 1000);
    const producer = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    await h.coordinator.addPartitions(producer, [{ topic: 't', partition: 0 }]);
    h.coordinator.abortTimedOutTransactions(Date.now()); // not yet timed out
    expect(h.coordinator.metadata('tx')?.state).toBe('Ongoing');
    h.coordinator.abortTimedOutTransactions(Date.now() + 2000);
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteAbort');
    expect(h.coordinator.metadata('tx')?.producerEpoch).toBe(r.producerEpoch + 1);
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('expires ids without updates for transactional.id.expiration.ms: tombstoned, and gone after a restart', async () => {
    const h = await open(undefined, { transactionalIdExpirationMs: 10_000 });
    await init(h.coordinator, 'old');
    const r = await init(h.coordinator, 'open');
    await h.coordinator.addPartitions({ transactionalId: 'open', producerId: r.producerId, producerEpoch: r.producerEpoch }, [{ topic: 't', partition: 0 }]);
    let removed = 0;
    for (const shard of h.coordinator.shards()) removed += await shard.removeExpired(Date.now() + 20_000);
    expect(removed).toBe(1); // an Ongoing transaction does not expire
    expect(h.coordinator.metadata('old')).toBeUndefined();
    await close(h);

    const again = await open(h.dir);
    await again.coordinator.whenLoaded();
    expect(again.coordinator.metadata('old')).toBeUndefined();
    expect(again.coordinator.metadata('open')?.state).toBe('Ongoing');
    // a new producer for the expired id gets a new producer id
    expect((await init(again.coordinator, 'old')).producerEpoch).toBe(0);
  });

  it('partitions leave a committing transaction as their markers are written (what DescribeTransactions shows); verify-only meanwhile is CONCURRENT_TRANSACTIONS', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    const done = { topic: 'done', partition: 0 };
    const slow = { topic: 'slow', partition: 1 };
    await h.coordinator.addPartitions(producer, [done, slow]);
    expect(h.coordinator.verifyPartitions(producer, [done, slow, { topic: 'other', partition: 0 }])).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.TRANSACTION_ABORTABLE]);
    let busy = true;
    h.markers.answer = (topic) => (topic === 'slow' && busy ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE);
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.NONE);
    await until(() => h.markers.written.length >= 1);
    const m = h.coordinator.metadata('tx')!;
    expect(m.state).toBe('PrepareCommit');
    expect([...m.topicPartitions.values()]).toEqual([slow]);
    expect(h.coordinator.verifyPartitions(producer, [done, slow])).toEqual([ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.CONCURRENT_TRANSACTIONS]);
    busy = false;
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteCommit');
    expect(h.coordinator.metadata('tx')?.topicPartitions.size).toBe(0);
    expect(h.coordinator.verifyPartitions(producer, [done])).toEqual([ErrorCode.TRANSACTION_ABORTABLE]);
    // the other answers of verify-only, each for every partition
    expect(h.coordinator.verifyPartitions({ ...producer, producerEpoch: producer.producerEpoch + 1 }, [done])).toEqual([ErrorCode.PRODUCER_FENCED]);
    expect(h.coordinator.verifyPartitions({ ...producer, producerId: producer.producerId + 1 }, [done])).toEqual([ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
    expect(h.coordinator.verifyPartitions({ ...producer, transactionalId: 'none' }, [done, slow])).toEqual([ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
    expect(h.coordinator.verifyPartitions({ ...producer, transactionalId: '' }, [done])).toEqual([ErrorCode.INVALID_REQUEST]);
  });

  it('the produce path\'s verification answers by transactional id as Kafka maps it, keeps nothing per producer, and verifies transactions loaded at a restart', async () => {
    const h = await open();
    const tp = { topic: 't', partition: 0 };
    const r = await init(h.coordinator, 'tx');
    const producer = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    const verify = (over: Partial<typeof producer> = {}, partition = tp) => {
      const p = { ...producer, ...over };
      return h.coordinator.verifyTransaction(partition, p.producerId, p.producerEpoch, p.transactionalId);
    };
    expect(verify()).toBe(ErrorCode.TRANSACTION_ABORTABLE); // Empty: no partitions
    expect(await h.coordinator.addPartitions(producer, [tp])).toBe(ErrorCode.NONE);
    expect(verify()).toBe(ErrorCode.NONE);
    expect(verify({}, { topic: 't', partition: 1 })).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(verify({ producerEpoch: producer.producerEpoch + 1 })).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(verify({ producerId: producer.producerId + 1 })).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(verify({ transactionalId: 'other' })).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(verify({ transactionalId: '' })).toBe(ErrorCode.INVALID_REQUEST);
    expect(h.coordinator.verifyTransaction(tp, producer.producerId, producer.producerEpoch, null)).toBe(ErrorCode.INVALID_TXN_STATE);
    // being committed: NOT_ENOUGH_REPLICAS, which producers retry; once complete the partition is no longer in it
    h.markers.answer = () => ErrorCode.NOT_LEADER_OR_FOLLOWER;
    expect(await h.coordinator.endTxn(producer, 'commit')).toBe(ErrorCode.NONE);
    await until(() => h.markers.written.length >= 1);
    expect(verify()).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    h.markers.answer = () => ErrorCode.NONE;
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteCommit');
    expect(verify()).toBe(ErrorCode.TRANSACTION_ABORTABLE);

    // a transaction open at a restart is verified after it, with no AddPartitionsToTxn again
    expect(await h.coordinator.addPartitions(producer, [tp])).toBe(ErrorCode.NONE);
    await close(h);
    const again = await open(h.dir);
    expect(again.coordinator.verifyTransaction(tp, producer.producerId, producer.producerEpoch, 'tx')).toBe(ErrorCode.NOT_ENOUGH_REPLICAS); // loading
    await again.coordinator.whenLoaded();
    expect(again.coordinator.verifyTransaction(tp, producer.producerId, producer.producerEpoch, 'tx')).toBe(ErrorCode.NONE);
    // nothing per producer: what verification reads is the ids' metadata, which expiration removes
    expect(await again.coordinator.endTxn(producer, 'abort')).toBe(ErrorCode.NONE);
    await until(() => again.coordinator.metadata('tx')?.state === 'CompleteAbort');
    let removed = 0;
    for (const shard of again.coordinator.shards()) removed += await shard.removeExpired(Date.now() + DEFAULT_TRANSACTION_CONFIG.transactionalIdExpirationMs + 1);
    expect(removed).toBe(1);
    expect(again.coordinator.shards().reduce((n, shard) => n + shard.transactions.size, 0)).toBe(0);
    expect(again.coordinator.verifyTransaction(tp, producer.producerId, producer.producerEpoch, 'tx')).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  });

  it('ListTransactions duration filter: only transactions running strictly longer than the filter (TransactionStateManager.listTransactionStates)', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    await h.coordinator.addPartitions({ transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch }, [{ topic: 't', partition: 0 }]);
    const start = h.coordinator.metadata('tx')!.txnStartTimestamp;
    const listed = (durationMs: number) => h.coordinator.listTransactions({ states: [], producerIds: [], durationMs }, start + 1000).transactions.map((t) => t.transactionalId);
    expect(listed(1000)).toEqual([]);
    expect(listed(999)).toEqual(['tx']);
    expect(listed(-1)).toEqual(['tx']);
  });

  it('ListTransactions id pattern (KIP-1152): the regular expression matches whole ids; null or empty lists all; one that does not compile INVALID_REGULAR_EXPRESSION', async () => {
    const h = await open();
    for (const id of ['my-special-0', 'your-special-1', 't0']) await init(h.coordinator, id);
    const listed = (transactionalIdPattern: string | null) => {
      const r = h.coordinator.listTransactions({ states: [], producerIds: [], durationMs: -1, transactionalIdPattern });
      return { errorCode: r.errorCode, ids: r.transactions.map((t) => t.transactionalId).sort() };
    };
    expect(listed(null)).toEqual({ errorCode: ErrorCode.NONE, ids: ['my-special-0', 't0', 'your-special-1'] });
    expect(listed('')).toEqual({ errorCode: ErrorCode.NONE, ids: ['my-special-0', 't0', 'your-special-1'] });
    expect(listed('.*special-.*')).toEqual({ errorCode: ErrorCode.NONE, ids: ['my-special-0', 'your-special-1'] });
    // whole ids, as Kafka's matches(): a part of an id is no match
    expect(listed('special')).toEqual({ errorCode: ErrorCode.NONE, ids: [] });
    expect(listed('t0|my-.*')).toEqual({ errorCode: ErrorCode.NONE, ids: ['my-special-0', 't0'] });
    expect(listed('nothing')).toEqual({ errorCode: ErrorCode.NONE, ids: [] });
    expect(listed('(ab(cd')).toEqual({ errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, ids: [] });
    // RE2/J's syntax, not JavaScript's: what RE2 refuses is invalid, what only RE2 reads matches
    expect(listed('(t)\\1')).toEqual({ errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, ids: [] });
    expect(listed('t(?=0)0')).toEqual({ errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, ids: [] });
    expect(listed('[[:alpha:]]0')).toEqual({ errorCode: ErrorCode.NONE, ids: ['t0'] });
    expect(listed('\\Qmy-special-0\\E')).toEqual({ errorCode: ErrorCode.NONE, ids: ['my-special-0'] });
  });

  it('ListTransactions id pattern: an expression that makes a backtracking engine run for minutes is matched in linear time', async () => {
    const h = await open();
    const long = 'a'.repeat(5000);
    await init(h.coordinator, long);
    // (a+)+b and a*a*a*a*a*b against 5000 a's: exponential/polynomial for a backtracking engine, one pass here
    for (const pattern of ['(a+)+b', 'a*a*a*a*a*b']) {
      const r = h.coordinator.listTransactions({ states: [], producerIds: [], durationMs: -1, transactionalIdPattern: pattern });
      expect(r.errorCode).toBe(ErrorCode.NONE);
      expect(r.transactions).toEqual([]);
    }
    const all = h.coordinator.listTransactions({ states: [], producerIds: [], durationMs: -1, transactionalIdPattern: '(a+)+' });
    expect(all.transactions.map((t) => t.transactionalId)).toEqual([long]);
  });
});

describe('transaction coordinator, transaction version 2 (KIP-890 part 2)', () => {
  const tp = { topic: 't', partition: 0 };

  it('every end bumps the epoch: markers carry the bumped epoch, the answer the next transaction\'s epoch, a retry NONE, the old epoch is fenced; a restart keeps it', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    const p0 = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: r.producerEpoch };
    expect(await h.coordinator.addPartitions(p0, [tp], 2)).toBe(ErrorCode.NONE);
    expect(h.coordinator.metadata('tx')!.clientTransactionVersion).toBe(2);
    const end = await h.coordinator.endTxnV2(p0, 'commit');
    expect(end).toEqual({ errorCode: ErrorCode.NONE, producerId: r.producerId, producerEpoch: r.producerEpoch + 1 });
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteCommit' && !h.coordinator.metadata('tx')!.pendingTransitionInProgress);
    expect(h.markers.written).toEqual([expect.objectContaining({ producerId: r.producerId, producerEpoch: r.producerEpoch + 1, result: 'commit', partitions: [tp] })]);
    // a retry of the end (the old epoch, the bumped one stored): NONE with the current producer
    expect(await h.coordinator.endTxnV2(p0, 'commit')).toEqual(end);
    expect(await h.coordinator.endTxnV2(p0, 'abort')).toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
    // the old epoch cannot start a transaction; the new one can, and its abort bumps again
    expect(await h.coordinator.addPartitions(p0, [tp], 2)).toBe(ErrorCode.PRODUCER_FENCED);
    const p1 = { ...p0, producerEpoch: end.producerEpoch };
    expect(await h.coordinator.addPartitions(p1, [tp], 2)).toBe(ErrorCode.NONE);
    expect(await h.coordinator.endTxnV2({ ...p0, producerEpoch: end.producerEpoch - 5 }, 'abort')).toMatchObject({ errorCode: ErrorCode.PRODUCER_FENCED });
    expect(await h.coordinator.endTxnV2(p1, 'abort')).toEqual({ errorCode: ErrorCode.NONE, producerId: r.producerId, producerEpoch: r.producerEpoch + 2 });
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteAbort' && !h.coordinator.metadata('tx')!.pendingTransitionInProgress);

    // an abort with no partition added bumps too (Empty / Complete + current epoch); a commit is INVALID_TXN_STATE
    const p2 = { ...p0, producerEpoch: r.producerEpoch + 2 };
    expect(await h.coordinator.endTxnV2(p2, 'commit')).toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
    expect(await h.coordinator.endTxnV2(p2, 'abort')).toEqual({ errorCode: ErrorCode.NONE, producerId: r.producerId, producerEpoch: r.producerEpoch + 3 });
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteAbort' && !h.coordinator.metadata('tx')!.pendingTransitionInProgress);

    await close(h);
    const again = await open(h.dir);
    await again.coordinator.whenLoaded();
    const m = again.coordinator.metadata('tx')!;
    expect([m.state, m.producerId, m.producerEpoch, m.clientTransactionVersion]).toEqual(['CompleteAbort', r.producerId, r.producerEpoch + 3, 2]);
    expect(await again.coordinator.addPartitions(p2, [tp], 2)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await again.coordinator.addPartitions({ ...p0, producerEpoch: r.producerEpoch + 3 }, [tp], 2)).toBe(ErrorCode.NONE);
  });

  it('an end at an exhausted epoch moves to a new producer id at epoch 0; markers at 32767 with the old id; a retry after it is NONE; a restart in between keeps the new id', async () => {
    const h = await open();
    const r = await init(h.coordinator, 'tx');
    const m = h.coordinator.metadata('tx')!;
    m.producerEpoch = 32766; // as after 32766 transactions
    const p = { transactionalId: 'tx', producerId: r.producerId, producerEpoch: 32766 };
    expect(await h.coordinator.addPartitions(p, [tp], 2)).toBe(ErrorCode.NONE);
    const end = await h.coordinator.endTxnV2(p, 'commit');
    expect(end.errorCode).toBe(ErrorCode.NONE);
    expect(end.producerId).not.toBe(r.producerId);
    expect(end.producerEpoch).toBe(0);
    await until(() => h.coordinator.metadata('tx')?.state === 'CompleteCommit' && !h.coordinator.metadata('tx')!.pendingTransitionInProgress);
    expect(h.markers.written).toEqual([expect.objectContaining({ producerId: r.producerId, producerEpoch: 32767, result: 'commit' })]);
    expect([m.producerId, m.producerEpoch, m.lastProducerId]).toEqual([end.producerId, 0, r.producerId]);
    // the client retries its end with the old producer id and epoch: NONE, the new producer
    expect(await h.coordinator.endTxnV2(p, 'commit')).toEqual(end);
    await close(h);
    const again = await open(h.dir);
    await again.coordinator.whenLoaded();
    const loaded = again.coordinator.metadata('tx')!;
    expect([loaded.producerId, loaded.producerEpoch, loaded.lastProducerId]).toEqual([end.producerId, 0, r.producerId]);
    expect(await again.coordinator.addPartitions({ transactionalId: 'tx', producerId: end.producerId, producerEpoch: 0 }, [tp], 2)).toBe(ErrorCode.NONE);
  });
});
