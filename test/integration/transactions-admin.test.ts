/**
 * The transaction admin APIs on a real broker, in raw frames:
 * DescribeTransactions (the coordinator's metadata of an id, TRANSACTIONAL_ID_NOT_FOUND for an unknown one),
 * ListTransactions (state, producer id, duration and (v2) id pattern filters, unknown state names) and DescribeProducers (a
 * partition's producers with their ongoing transaction), around a kafkajs transaction left open and then
 * committed.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'txn-admin';
const TXN_ID = 'tx-admin';

let broker: RunningBroker;
let client: RawClient;
let producer: Producer;

beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent', config: { 'transaction.state.log.num.partitions': 3 } });
  await broker.broker.topics.create({ name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: {} });
  client = await RawClient.connect(broker.port);
  const kafka = new Kafka({ clientId: 'txn-admin', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
  producer = kafka.producer({ transactionalId: TXN_ID, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 });
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect().catch(() => undefined);
  client?.close();
  await broker?.close();
});

function describeTransactions(ids: string[]) {
  return client.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: ids });
}

async function listTransactions(stateFilters: string[] = [], producerIdFilters: bigint[] = [], durationFilter = -1n) {
  const res = await client.request(schemas.listTransactionsRequest, schemas.listTransactionsResponse, 1, { stateFilters, producerIdFilters, durationFilter });
  return { errorCode: res.errorCode, unknown: res.unknownStateFilters, listed: res.transactionStates.filter((t) => t.transactionalId === TXN_ID) };
}

/** ListTransactions v2: the id pattern filter (KIP-1152); every id listed. */
async function listTransactionsMatching(transactionalIdPattern: string | null) {
  const res = await client.request(schemas.listTransactionsRequest, schemas.listTransactionsResponse, 2, { stateFilters: [], producerIdFilters: [], durationFilter: -1n, transactionalIdPattern });
  return { errorCode: res.errorCode, ids: res.transactionStates.map((t) => t.transactionalId) };
}

async function describeProducers() {
  const res = await client.request(schemas.describeProducersRequest, schemas.describeProducersResponse, 0, {
    topics: [
      { name: TOPIC, partitionIndexes: [0, 1] },
      { name: 'no-such-topic', partitionIndexes: [0] },
    ],
  });
  return res.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, errorCode: p.errorCode, producers: p.activeProducers })) }));
}

describe('transaction admin APIs', () => {
  it('describe, list and describe producers follow a transaction from Ongoing to CompleteCommit', async () => {
    const txn = await producer.transaction();
    await txn.send({ topic: TOPIC, messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }] });

    const [ongoing, missing] = (await describeTransactions([TXN_ID, 'tx-missing'])).transactionStates;
    expect(missing).toMatchObject({ transactionalId: 'tx-missing', errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionState: '', topics: [] });
    expect(ongoing).toMatchObject({ transactionalId: TXN_ID, errorCode: ErrorCode.NONE, transactionState: 'Ongoing', transactionTimeoutMs: 30_000, topics: [{ topic: TOPIC, partitions: [0] }] });
    expect(Number(ongoing!.transactionStartTimeMs)).toBeGreaterThan(0);
    const producerId = ongoing!.producerId;
    const epoch = ongoing!.producerEpoch;

    expect(await listTransactions()).toEqual({ errorCode: ErrorCode.NONE, unknown: [], listed: [{ transactionalId: TXN_ID, producerId, transactionState: 'Ongoing' }] });
    expect(await listTransactions(['Ongoing', 'NoSuchState'])).toMatchObject({ unknown: ['NoSuchState'], listed: [{ transactionState: 'Ongoing' }] });
    expect((await listTransactions(['NoSuchState'])).listed).toEqual([]);
    expect((await listTransactions(['CompleteCommit'])).listed).toEqual([]);
    expect((await listTransactions([], [producerId])).listed).toHaveLength(1);
    expect((await listTransactions([], [producerId + 1n])).listed).toEqual([]);
    expect((await listTransactions([], [], 3_600_000n)).listed).toEqual([]);

    expect(await listTransactionsMatching('tx-adm.*')).toEqual({ errorCode: ErrorCode.NONE, ids: [TXN_ID] });
    expect(await listTransactionsMatching(null)).toEqual({ errorCode: ErrorCode.NONE, ids: [TXN_ID] });
    expect(await listTransactionsMatching('tx-adm')).toEqual({ errorCode: ErrorCode.NONE, ids: [] });
    expect(await listTransactionsMatching('[')).toEqual({ errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, ids: [] });

    const before = await describeProducers();
    expect(before[0]!.partitions[0]).toMatchObject({ partition: 0, errorCode: ErrorCode.NONE });
    expect(before[0]!.partitions[0]!.producers).toEqual([
      { producerId, producerEpoch: epoch, lastSequence: 1, lastTimestamp: expect.any(BigInt), coordinatorEpoch: -1, currentTxnStartOffset: 0n },
    ]);
    expect(before[0]!.partitions[1]).toEqual({ partition: 1, errorCode: ErrorCode.NONE, producers: [] });
    expect(before[1]).toEqual({ name: 'no-such-topic', partitions: [{ partition: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, producers: [] }] });

    await txn.commit();
    // the markers are written after EndTxn is answered
    const deadline = Date.now() + 10_000;
    let state = '';
    while (state !== 'CompleteCommit' && Date.now() < deadline) state = (await describeTransactions([TXN_ID])).transactionStates[0]!.transactionState;
    expect(state).toBe('CompleteCommit');
    expect((await listTransactions(['CompleteCommit'])).listed).toEqual([{ transactionalId: TXN_ID, producerId, transactionState: 'CompleteCommit' }]);
    const after = (await describeProducers())[0]!.partitions[0]!.producers[0]!;
    expect(after.currentTxnStartOffset).toBe(-1n);
    expect(after.coordinatorEpoch).toBeGreaterThanOrEqual(0);
  });
});
