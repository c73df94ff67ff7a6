/**
 * What a Produce of a transactional batch answers when the transaction coordinator's check (KIP-890 part 1)
 * refuses it, as Kafka 3.9's partition leader translates the coordinator's verification answer
 * (TransactionCoordinator.handleVerifyPartitionsInTransaction, AddPartitionsToTxnManager): after the
 * coordinator aborted a timed-out transaction with an epoch bump, a batch of the old epoch gets
 * INVALID_PRODUCER_EPOCH (the coordinator's PRODUCER_FENCED; librdkafka then raises its fatal "fenced"
 * error, the Java producer an InvalidProducerEpochException), not INVALID_TXN_STATE; a partition not added
 * to the transaction still gets INVALID_TXN_STATE. Raw frames against a real broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { ATTR_CONTROL } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { batchOf, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'txn-verify';

let broker: RunningBroker;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({
    port: 0,
    logLevel: 'silent',
    config: { 'transaction.state.log.num.partitions': 3, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 200 },
  });
  await broker.broker.topics.create({ name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: {} });
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.close();
});

async function initProducer(transactionalId: string, transactionTimeoutMs: number) {
  const res = await client.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId, transactionTimeoutMs });
  expect(res.errorCode).toBe(ErrorCode.NONE);
  return { producerId: res.producerId, producerEpoch: res.producerEpoch };
}

async function addPartition(transactionalId: string, p: { producerId: bigint; producerEpoch: number }, partition: number) {
  const res = await client.request(schemas.addPartitionsToTxnRequest, schemas.addPartitionsToTxnResponse, 3, {
    v3AndBelowTransactionalId: transactionalId,
    v3AndBelowProducerId: p.producerId,
    v3AndBelowProducerEpoch: p.producerEpoch,
    v3AndBelowTopics: [{ name: TOPIC, partitions: [partition] }],
  });
  return res.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode;
}

async function produce(transactionalId: string, p: { producerId: bigint; producerEpoch: number }, partition: number, baseSequence: number, label: string) {
  const records = await batchOf(testRecords(2, label), { producerId: Number(p.producerId), producerEpoch: p.producerEpoch, baseSequence, transactional: true });
  const res = await client.request(schemas.produceRequest, schemas.produceResponse, 9, {
    transactionalId,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

async function transactionState(transactionalId: string): Promise<{ state: string; epoch: number }> {
  const res = await client.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: [transactionalId] });
  const t = res.transactionStates[0]!;
  return { state: t.transactionState, epoch: t.producerEpoch };
}

describe('the coordinator check of a transactional Produce', () => {
  it('a partition not added to the ongoing transaction: INVALID_TXN_STATE, nothing stored', async () => {
    const p = await initProducer('tx-not-added', 60_000);
    expect(await addPartition('tx-not-added', p, 0)).toBe(ErrorCode.NONE);
    const res = await produce('tx-not-added', p, 1, 0, 'not-added');
    expect(res.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await fetchAll(client, TOPIC, 1)).toEqual([]);
  });

  it('after the coordinator aborted a timed-out transaction (epoch bumped): INVALID_PRODUCER_EPOCH, nothing stored', async () => {
    const p = await initProducer('tx-timed-out', 500);
    expect(await addPartition('tx-timed-out', p, 0)).toBe(ErrorCode.NONE);
    const first = await produce('tx-timed-out', p, 0, 0, 'before-timeout');
    expect(first.errorCode).toBe(ErrorCode.NONE);

    let state = await transactionState('tx-timed-out');
    for (const deadline = Date.now() + 15_000; state.state !== 'CompleteAbort' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await transactionState('tx-timed-out');
    }
    expect(state).toEqual({ state: 'CompleteAbort', epoch: p.producerEpoch + 1 });

    const late = await produce('tx-timed-out', p, 0, 2, 'after-timeout');
    expect(late.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const end = await client.request(schemas.endTxnRequest, schemas.endTxnResponse, 3, {
      transactionalId: 'tx-timed-out',
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      committed: true,
    });
    expect(end.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    // read_uncommitted: the aborted batch, then its ABORT marker (a control batch), nothing after it
    const stored = await fetchAll(client, TOPIC, 0);
    expect(stored.map((r) => ((r.batch!.attributes & ATTR_CONTROL) !== 0 ? 'marker' : r.value))).toEqual([
      ...testRecords(2, 'before-timeout').map((r) => r.value!.toString()),
      'marker',
    ]);
  });
});
