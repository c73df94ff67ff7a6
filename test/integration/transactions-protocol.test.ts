/**
 * The transaction coordinator's protocol answers on a real broker, in raw frames, as Kafka 3.9 gives them:
 * AddPartitionsToTxn v4-5 (the brokers' batched form: verify-only answers per partition, the add form,
 * per-transaction errors, the top-level error code), and TxnOffsetCommit when the group's partition is not in
 * the producer's transaction (KIP-890 verification: INVALID_TXN_STATE before v4, TRANSACTION_ABORTABLE from v4).
 * Produce of a transactional batch is verified the same way (TRANSACTION_ABORTABLE from Produce v11).
 * The producer is driven by hand (InitProducerId, AddPartitionsToTxn v3, EndTxn) so each state is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'txn-proto';

let broker: RunningBroker;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent', config: { 'transaction.state.log.num.partitions': 3 } });
  await broker.broker.topics.create({ name: TOPIC, numPartitions: 3, replicationFactor: 1, configs: {} });
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.close();
});

interface Producer {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

async function initProducer(transactionalId: string): Promise<Producer> {
  for (;;) {
    const res = await client.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (res.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || res.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) continue;
    expect(res.errorCode).toBe(ErrorCode.NONE);
    return { transactionalId, producerId: res.producerId, producerEpoch: res.producerEpoch };
  }
}

/** The client form (v3): the partitions join the transaction; the code of the first partition. */
async function addPartitions(p: Producer, partitions: number[]): Promise<number> {
  const res = await client.request(schemas.addPartitionsToTxnRequest, schemas.addPartitionsToTxnResponse, 3, {
    v3AndBelowTransactionalId: p.transactionalId,
    v3AndBelowProducerId: p.producerId,
    v3AndBelowProducerEpoch: p.producerEpoch,
    v3AndBelowTopics: [{ name: TOPIC, partitions }],
  });
  return res.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode;
}

/** EndTxn, then waits until the markers are written and the transaction is complete. */
async function endTxn(p: Producer, committed: boolean): Promise<void> {
  const res = await client.request(schemas.endTxnRequest, schemas.endTxnResponse, 3, { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed });
  expect(res.errorCode).toBe(ErrorCode.NONE);
  const done = committed ? 'CompleteCommit' : 'CompleteAbort';
  for (let polls = 0; (await describedPartitions(p.transactionalId)).state !== done; polls++) {
    if (polls > 1000) throw new Error(`${p.transactionalId} never reached ${done}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface BrokerTxn {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly verifyOnly: boolean;
  readonly topics: Array<{ name: string; partitions: number[] }>;
}

/** The brokers' form (v4+): the whole response, partition codes flattened per transaction as "topic-partition" -> code. */
async function brokerForm(version: number, transactions: BrokerTxn[]) {
  const res = await client.request(schemas.addPartitionsToTxnRequest, schemas.addPartitionsToTxnResponse, version, { transactions });
  return {
    errorCode: res.errorCode,
    results: res.resultsByTransaction.map((r) => ({
      transactionalId: r.transactionalId,
      codes: Object.fromEntries(r.topicResults.flatMap((t) => t.resultsByPartition.map((p) => [`${t.name}-${p.partitionIndex}`, p.partitionErrorCode]))),
    })),
  };
}

const verify = (p: Producer, partitions: number[], over: Partial<BrokerTxn> = {}): BrokerTxn => ({
  transactionalId: p.transactionalId,
  producerId: p.producerId,
  producerEpoch: p.producerEpoch,
  verifyOnly: true,
  topics: [{ name: TOPIC, partitions }],
  ...over,
});

async function describedPartitions(transactionalId: string): Promise<{ state: string; partitions: number[] }> {
  const res = await client.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: [transactionalId] });
  const s = res.transactionStates[0]!;
  return { state: s.transactionState, partitions: s.topics.flatMap((t) => t.partitions) };
}

describe('AddPartitionsToTxn v4-5 (the brokers\' form)', () => {
  it('verify-only: NONE for a partition in the transaction, TRANSACTION_ABORTABLE for one that is not, nothing added; v4 and v5 alike', async () => {
    const p = await initProducer('tx-verify');
    expect(await addPartitions(p, [0])).toBe(ErrorCode.NONE);
    for (const version of [4, 5]) {
      expect(await brokerForm(version, [verify(p, [0, 1])])).toEqual({
        errorCode: ErrorCode.NONE,
        results: [{ transactionalId: 'tx-verify', codes: { [`${TOPIC}-0`]: ErrorCode.NONE, [`${TOPIC}-1`]: ErrorCode.TRANSACTION_ABORTABLE } }],
      });
    }
    expect(await describedPartitions('tx-verify')).toEqual({ state: 'Ongoing', partitions: [0] });
    await endTxn(p, false);
    // once aborted the transaction has no partitions: every one is TRANSACTION_ABORTABLE
    expect((await brokerForm(5, [verify(p, [0])])).results[0]!.codes).toEqual({ [`${TOPIC}-0`]: ErrorCode.TRANSACTION_ABORTABLE });
  });

  it('answers each transaction of a batch on its own: fenced epoch, unknown id, other producer id, empty id, unknown partition', async () => {
    const p = await initProducer('tx-batch');
    expect(await addPartitions(p, [2])).toBe(ErrorCode.NONE);
    const res = await brokerForm(5, [
      verify(p, [2]),
      verify(p, [2], { transactionalId: 'tx-batch-stale', producerEpoch: p.producerEpoch }),
      verify({ ...p, transactionalId: 'tx-batch-none' }, [2]),
      verify(p, [2], { transactionalId: '' }),
      verify({ ...p, transactionalId: 'tx-batch-unknown-partition' }, [2, 99]),
    ]);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.results).toEqual([
      { transactionalId: 'tx-batch', codes: { [`${TOPIC}-2`]: ErrorCode.NONE } },
      { transactionalId: 'tx-batch-stale', codes: { [`${TOPIC}-2`]: ErrorCode.INVALID_PRODUCER_ID_MAPPING } },
      { transactionalId: 'tx-batch-none', codes: { [`${TOPIC}-2`]: ErrorCode.INVALID_PRODUCER_ID_MAPPING } },
      { transactionalId: '', codes: { [`${TOPIC}-2`]: ErrorCode.INVALID_REQUEST } },
      { transactionalId: 'tx-batch-unknown-partition', codes: { [`${TOPIC}-2`]: ErrorCode.OPERATION_NOT_ATTEMPTED, [`${TOPIC}-99`]: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } },
    ]);
    // a fenced epoch is PRODUCER_FENCED in the brokers' form (never mapped down)
    const fenced = await brokerForm(4, [verify(p, [2], { producerEpoch: p.producerEpoch - 1 })]);
    expect(fenced.results[0]!.codes).toEqual({ [`${TOPIC}-2`]: ErrorCode.PRODUCER_FENCED });
    // another producer id for a known transactional id
    const other = await brokerForm(4, [verify(p, [2], { producerId: p.producerId + 1000n })]);
    expect(other.results[0]!.codes).toEqual({ [`${TOPIC}-2`]: ErrorCode.INVALID_PRODUCER_ID_MAPPING });
    await endTxn(p, true);
  });

  it('without verify_only adds the partitions as the client form does', async () => {
    const p = await initProducer('tx-broker-add');
    const res = await brokerForm(4, [verify(p, [0, 1], { verifyOnly: false })]);
    expect(res).toEqual({ errorCode: ErrorCode.NONE, results: [{ transactionalId: 'tx-broker-add', codes: { [`${TOPIC}-0`]: ErrorCode.NONE, [`${TOPIC}-1`]: ErrorCode.NONE } }] });
    expect(await describedPartitions('tx-broker-add')).toEqual({ state: 'Ongoing', partitions: [0, 1] });
    expect((await brokerForm(5, [verify(p, [0, 1])])).results[0]!.codes).toEqual({ [`${TOPIC}-0`]: ErrorCode.NONE, [`${TOPIC}-1`]: ErrorCode.NONE });
    await endTxn(p, true);
    expect(await describedPartitions('tx-broker-add')).toEqual({ state: 'CompleteCommit', partitions: [] });
  });

  it('a request with no transactions gets an empty answer', async () => {
    expect(await brokerForm(5, [])).toEqual({ errorCode: ErrorCode.NONE, results: [] });
  });
});

describe('TxnOffsetCommit verification', () => {
  async function txnOffsetCommit(version: number, p: Producer, groupId: string) {
    const res = await client.request(schemas.txnOffsetCommitRequest, schemas.txnOffsetCommitResponse, version, {
      transactionalId: p.transactionalId,
      groupId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    return res.topics[0]!.partitions[0]!.errorCode;
  }

  it('a group whose partition is not in the transaction: INVALID_TXN_STATE before v4, TRANSACTION_ABORTABLE from v4; a fenced epoch INVALID_PRODUCER_EPOCH', async () => {
    const p = await initProducer('tx-offsets-unadded');
    expect(await addPartitions(p, [0])).toBe(ErrorCode.NONE);
    expect(await txnOffsetCommit(0, p, 'group-unadded')).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await txnOffsetCommit(3, p, 'group-unadded')).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await txnOffsetCommit(4, p, 'group-unadded')).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await txnOffsetCommit(4, { ...p, producerEpoch: p.producerEpoch - 1 }, 'group-unadded')).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // the group's checks come first: an empty group id is INVALID_GROUP_ID whatever the transaction
    expect(await txnOffsetCommit(4, p, '')).toBe(ErrorCode.INVALID_GROUP_ID);
    await endTxn(p, false);
  });

  it('after AddOffsetsToTxn the commit is accepted', async () => {
    const p = await initProducer('tx-offsets-added');
    const added = await client.request(schemas.addOffsetsToTxnRequest, schemas.addOffsetsToTxnResponse, 3, {
      transactionalId: p.transactionalId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      groupId: 'group-added',
    });
    expect(added.errorCode).toBe(ErrorCode.NONE);
    expect(await txnOffsetCommit(4, p, 'group-added')).toBe(ErrorCode.NONE);
    await endTxn(p, true);
  });
});

describe('Produce verification (KIP-890)', () => {
  it('a transactional batch to a partition not in the transaction: TRANSACTION_ABORTABLE on v11, INVALID_TXN_STATE before; a fenced epoch INVALID_PRODUCER_EPOCH', async () => {
    const p = await initProducer('tx-produce');
    expect(await addPartitions(p, [0])).toBe(ErrorCode.NONE);
    const batch = (seq: number, producerEpoch = p.producerEpoch) =>
      batchOf(testRecords(1, `s${seq}`), { producerId: Number(p.producerId), producerEpoch, baseSequence: seq, transactional: true });
    const produce = async (partition: number, version: number, records: Buffer) =>
      (await produceRaw(client, TOPIC, partition, records, { version, acks: -1, transactionalId: p.transactionalId })).errorCode;
    expect(await produce(1, 11, await batch(0))).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await produce(1, 10, await batch(0))).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await produce(1, 3, await batch(0))).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await produce(0, 11, await batch(0, p.producerEpoch + 1))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await produce(0, 11, await batch(0))).toBe(ErrorCode.NONE);
    await endTxn(p, true);
  });
});
