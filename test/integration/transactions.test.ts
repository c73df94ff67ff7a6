/**
 * Transactions end to end on a real broker: kafkajs's transactional producer
 * (FindCoordinator for the transactional id, InitProducerId, AddPartitionsToTxn, transactional Produce, EndTxn)
 * commits one transaction and aborts another; a raw READ_COMMITTED Fetch then sees the LSO past both markers and
 * the aborted transaction listed in aborted_transactions. `transaction.sendOffsets` (AddOffsetsToTxn,
 * TxnOffsetCommit): the offsets are visible to OffsetFetch only once committed, and never after an abort.
 * The transaction APIs are always listed; __transaction_state is created at the first FindCoordinator for a
 * transactional id. Several transactional ids at once, fencing and kafkajs consumers: transactions-kafkajs.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { decodeRecords, fetchRequestBody } from '../helpers/fetch-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'txn-e2e';
const READ_COMMITTED = 1;
const TXN_APIS = [ApiKey.AddPartitionsToTxn, ApiKey.AddOffsetsToTxn, ApiKey.EndTxn, ApiKey.TxnOffsetCommit, ApiKey.DescribeProducers, ApiKey.DescribeTransactions, ApiKey.ListTransactions];

let broker: RunningBroker;
let client: RawClient;
const producers: Producer[] = [];

beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent', config: { 'transaction.state.log.num.partitions': 3 } });
  await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} });
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  for (const p of producers) await p.disconnect().catch(() => undefined);
  client?.close();
  await broker?.close();
});

async function fetchCommitted() {
  const res = await client.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchRequestBody(TOPIC, [{ partition: 0, fetchOffset: 0 }], 1 << 20, undefined, READ_COMMITTED));
  const p = res.responses[0]!.partitions[0]!;
  const records = await decodeRecords(p.records as Buffer | null);
  return {
    errorCode: p.errorCode,
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    aborted: p.abortedTransactions?.map((t) => [Number(t.producerId), Number(t.firstOffset)]) ?? null,
    records,
  };
}

/** The markers are written after EndTxn is answered: fetch until the LSO reaches `offset` (seconds at most). */
async function fetchOnceStable(offset: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const f = await fetchCommitted();
    if (f.lastStableOffset >= offset || Date.now() > deadline) return f;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('transactions with kafkajs', () => {
  it('lists the transaction APIs in ApiVersions', async () => {
    const res = await client.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const listed = new Map(res.apiKeys.map((a) => [a.apiKey, [a.minVersion, a.maxVersion]]));
    expect(TXN_APIS.map((k) => listed.get(k))).toEqual([
      [0, 5],
      [0, 4],
      [0, 5],
      [0, 5],
      [0, 0],
      [0, 0],
      [0, 2],
    ]);
  });

  it('commits one transaction and aborts the next: READ_COMMITTED sees the LSO past both markers and the aborted one listed', async () => {
    const kafka = new Kafka({ clientId: 'txn-test', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
    const producer = kafka.producer({ transactionalId: 'tx-e2e', idempotent: true, maxInFlightRequests: 1 });
    producers.push(producer);
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic: TOPIC, messages: [{ value: 'c1' }, { value: 'c2' }, { value: 'c3' }] });
    await committed.commit();
    // offsets 0-2 data, 3 the COMMIT marker
    const afterCommit = await fetchOnceStable(4);
    expect(afterCommit).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 4, lastStableOffset: 4, aborted: [] });
    const producerId = afterCommit.records[0]!.batch!.producerId;

    const aborted = await producer.transaction();
    await aborted.send({ topic: TOPIC, messages: [{ value: 'a1' }, { value: 'a2' }] });
    // ongoing: the LSO stays at the transaction's first offset, nothing past it is read committed
    const ongoing = await fetchCommitted();
    expect([ongoing.highWatermark, ongoing.lastStableOffset]).toEqual([6, 4]);
    expect(ongoing.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    await aborted.abort();
    // offsets 4-5 data, 6 the ABORT marker
    const f = await fetchOnceStable(7);
    expect(f).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 7, lastStableOffset: 7 });
    expect(f.aborted).toEqual([[Number(producerId), 4]]);
    const control = (r: (typeof f.records)[number]): boolean => ((r.batch?.attributes ?? 0) & 0x20) !== 0;
    expect(f.records.filter(control).map((r) => r.offset)).toEqual([3, 6]);
    // what a read_committed consumer keeps: data outside the aborted transaction
    const kept = f.records.filter((r) => !control(r) && !(r.offset >= 4 && r.offset < 6)).map((r) => r.value);
    expect(kept).toEqual(['c1', 'c2', 'c3']);
    expect(f.records.filter((r) => !control(r)).map((r) => r.value)).toEqual(['c1', 'c2', 'c3', 'a1', 'a2']);
  });
});

/** The group's committed offset of TOPIC-0 as OffsetFetch v7 answers it (require_stable as asked). */
async function fetchOffset(groupId: string, requireStable: boolean, via: RawClient = client) {
  const res = await via.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 7, {
    groupId,
    topics: [{ name: TOPIC, partitionIndexes: [0] }],
    requireStable,
  });
  const p = res.topics[0]!.partitions[0]!;
  return { offset: Number(p.committedOffset), metadata: p.metadata, errorCode: p.errorCode };
}

/** The markers are written after EndTxn is answered: OffsetFetch with require_stable until it is stable. */
async function fetchOffsetOnceStable(groupId: string, via: RawClient = client) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const f = await fetchOffset(groupId, true, via);
    const settling = f.errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT || f.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (!settling || Date.now() > deadline) return f;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * EndTxn is answered before the markers and the Complete record are written; a next transaction begun before
 * that gets CONCURRENT_TRANSACTIONS, which kafkajs's AddOffsetsToTxn does not retry: wait for the end.
 */
async function untilCompleted(b: RunningBroker, transactionalId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = b.broker.transactions?.metadata(transactionalId);
    const done = m !== undefined && m.pendingState === undefined && ['Empty', 'CompleteCommit', 'CompleteAbort'].includes(m.state);
    if (done || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('transactional offsets with kafkajs sendOffsets', () => {
  it('offsets sent in a transaction are visible to OffsetFetch only after its commit, and never after an abort', async () => {
    const group = 'txn-offsets-group';
    const kafka = new Kafka({ clientId: 'txn-offsets', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
    const producer = kafka.producer({ transactionalId: 'tx-offsets', idempotent: true, maxInFlightRequests: 1 });
    producers.push(producer);
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic: TOPIC, messages: [{ value: 'o1' }] });
    await committed.sendOffsets({ consumerGroupId: group, topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '5' }] }] });
    // written, but pending in the transaction: not committed yet, unstable for require_stable
    expect(await fetchOffset(group, false)).toMatchObject({ offset: -1, errorCode: ErrorCode.NONE });
    expect(await fetchOffset(group, true)).toMatchObject({ offset: -1, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    await committed.commit();
    expect(await fetchOffsetOnceStable(group)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
    await untilCompleted(broker, 'tx-offsets');

    const aborted = await producer.transaction();
    await aborted.send({ topic: TOPIC, messages: [{ value: 'o2' }] });
    await aborted.sendOffsets({ consumerGroupId: group, topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '9' }] }] });
    expect(await fetchOffset(group, false)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
    await aborted.abort();
    expect(await fetchOffsetOnceStable(group)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
    expect(await fetchOffset(group, false)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
  });

  it('a plain OffsetCommit written after the transactional one, before the COMMIT marker, is kept over it', async () => {
    const group = 'txn-offsets-later-plain';
    const kafka = new Kafka({ clientId: 'txn-offsets-plain', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
    const producer = kafka.producer({ transactionalId: 'tx-offsets-plain', idempotent: true, maxInFlightRequests: 1 });
    producers.push(producer);
    await producer.connect();
    const txn = await producer.transaction();
    await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '5' }] }] });
    const plain = await client.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
      groupId: group,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(plain.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    await txn.commit();
    expect(await fetchOffsetOnceStable(group)).toMatchObject({ offset: 7, errorCode: ErrorCode.NONE });
  });

  it('TxnOffsetCommit of an unknown transactional id answers INVALID_PRODUCER_ID_MAPPING (Kafka\'s verification) and commits nothing', async () => {
    const res = await client.request(schemas.txnOffsetCommitRequest, schemas.txnOffsetCommitResponse, 3, {
      transactionalId: 'tx-none',
      groupId: 'txn-offsets-unadded',
      producerId: 12345n,
      producerEpoch: 0,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(res.topics).toEqual([{ name: TOPIC, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING }] }]);
    expect(await fetchOffset('txn-offsets-unadded', true)).toMatchObject({ offset: -1, errorCode: ErrorCode.NONE });
  });
});

describe('transactional offsets across a restart', () => {
  it('loads committed transactional offsets, never aborted ones, and keeps an open transaction\'s pending until its marker', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-txn-offsets-'));
    const config = { 'transaction.state.log.num.partitions': 3, 'offsets.topic.num.partitions': 3 };
    const group = 'txn-restart-group';
    const sendOffsets = (offset: string) => ({ consumerGroupId: group, topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset }] }] });
    const connect = async (port: number): Promise<Producer> => {
      const kafka = new Kafka({ clientId: 'txn-restart', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50 } });
      const producer = kafka.producer({ transactionalId: 'tx-restart', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
      await producer.connect();
      return producer;
    };
    let first: RunningBroker | undefined;
    let second: RunningBroker | undefined;
    let raw: RawClient | undefined;
    try {
      first = await startBroker({ port: 0, logLevel: 'silent', dataDir, config });
      await first.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} });
      raw = await RawClient.connect(first.port);
      const producer = await connect(first.port);
      const committed = await producer.transaction();
      await committed.sendOffsets(sendOffsets('5'));
      await committed.commit();
      expect(await fetchOffsetOnceStable(group, raw)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
      await untilCompleted(first, 'tx-restart');
      const aborted = await producer.transaction();
      await aborted.sendOffsets(sendOffsets('7'));
      await aborted.abort();
      expect(await fetchOffsetOnceStable(group, raw)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
      await untilCompleted(first, 'tx-restart');
      // left open when the broker stops
      const open = await producer.transaction();
      await open.sendOffsets(sendOffsets('9'));
      await producer.disconnect();
      raw.close();
      await first.close();
      first = undefined;

      second = await startBroker({ port: 0, logLevel: 'silent', dataDir, config });
      raw = await RawClient.connect(second.port);
      const deadline = Date.now() + 10_000;
      let loaded = await fetchOffset(group, true, raw);
      while (loaded.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && Date.now() < deadline) loaded = await fetchOffset(group, true, raw);
      // the open transaction's offset waits for its marker; the committed one is back, the aborted one never
      expect(loaded).toMatchObject({ offset: -1, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
      expect(await fetchOffset(group, false, raw)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
      // a new producer with the same transactional id (kafkajs initialises it at its first transaction) aborts
      // the open transaction: its offset is dropped
      const again = await connect(second.port);
      producers.push(again);
      const next = await again.transaction();
      expect(await fetchOffsetOnceStable(group, raw)).toMatchObject({ offset: 5, errorCode: ErrorCode.NONE });
      await untilCompleted(second, 'tx-restart');
      await next.sendOffsets(sendOffsets('11'));
      await next.commit();
      expect(await fetchOffsetOnceStable(group, raw)).toMatchObject({ offset: 11, errorCode: ErrorCode.NONE });
    } finally {
      raw?.close();
      await first?.close();
      await second?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a broker no client asked about transactions', () => {
  it('lists the transaction APIs but creates __transaction_state only at the first FindCoordinator for a transactional id', async () => {
    const fresh = await startBroker({ port: 0, logLevel: 'silent', config: { 'transaction.state.log.num.partitions': 2 } });
    const c = await RawClient.connect(fresh.port);
    try {
      const res = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(res.apiKeys.filter((a) => TXN_APIS.includes(a.apiKey)).map((a) => a.apiKey)).toEqual(TXN_APIS.slice().sort((a, b) => a - b));
      expect(fresh.broker.topics.get('__transaction_state')).toBeUndefined();
      const found = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType: 1, coordinatorKeys: ['tx-first'] });
      expect(found.coordinators.map((x) => [x.errorCode, x.nodeId])).toEqual([[ErrorCode.NONE, fresh.broker.nodeId]]);
      expect(fresh.broker.topics.get('__transaction_state')?.partitions.length).toBe(2);
    } finally {
      c.close();
      await fresh.close();
    }
  });
});
