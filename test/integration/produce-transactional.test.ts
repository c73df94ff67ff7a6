/**
 * Produce of records with the transactional bit, as Kafka 3.9's KafkaApis.handleProduceRequest checks them
 * first: without a transactional id the whole request is refused, every partition
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, nothing stored (acks=0: the connection is closed); with one the
 * transaction coordinator verifies the batch (KIP-890): an id it does not know is INVALID_PRODUCER_ID_MAPPING.
 * Raw frames against a real broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { batchOf, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: RunningBroker;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent' });
  await broker.broker.topics.create({ name: 'txn', numPartitions: 2, replicationFactor: 1, configs: {} });
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.close();
});

async function produce(c: RawClient, transactionalId: string | null, acks = -1, version = 9) {
  // partition 0: a transactional batch; partition 1: a plain one, in the same request
  const transactional = await batchOf(testRecords(3, 'txn'), { producerId: 100, producerEpoch: 0, baseSequence: 0, transactional: true });
  const plain = await batchOf(testRecords(2, 'plain'));
  return c.request(schemas.produceRequest, schemas.produceResponse, version, {
    transactionalId,
    acks,
    timeoutMs: 10_000,
    topicData: [{ name: 'txn', partitionData: [{ index: 0, records: transactional }, { index: 1, records: plain }] }],
  });
}

describe('transactional records in Produce', () => {
  for (const version of [3, 9]) {
    it(`without a transactional id (v${version}): every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED, nothing stored`, async () => {
      const res = await produce(client, null, -1, version);
      const partitions = res.responses[0]!.partitionResponses;
      expect(partitions.map((p) => [p.index, p.errorCode, Number(p.baseOffset)])).toEqual([
        [0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1],
        [1, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1],
      ]);
      if (version >= 8) expect(partitions[0]!.errorMessage).toBe('Transactional Id authorization failed.');
      expect(await fetchAll(client, 'txn', 0)).toEqual([]);
      expect(await fetchAll(client, 'txn', 1)).toEqual([]);
    });
  }

  it('without a transactional id and acks=0: the connection is closed, nothing stored', async () => {
    const c = await RawClient.connect(broker.port);
    const transactional = await batchOf(testRecords(1, 'zero'), { producerId: 101, producerEpoch: 0, baseSequence: 0, transactional: true });
    c.send(schemas.produceRequest, 9, { transactionalId: null, acks: 0, timeoutMs: 10_000, topicData: [{ name: 'txn', partitionData: [{ index: 0, records: transactional }] }] });
    await c.closed;
    expect(await fetchAll(client, 'txn', 0)).toEqual([]);
  });

  it('with a transactional id the coordinator does not know: INVALID_PRODUCER_ID_MAPPING for the transactional batch (its verification), the plain one is stored', async () => {
    const res = await produce(client, 'my-txn');
    const partitions = res.responses[0]!.partitionResponses;
    expect(partitions.map((p) => [p.index, p.errorCode])).toEqual([
      [0, ErrorCode.INVALID_PRODUCER_ID_MAPPING],
      [1, ErrorCode.NONE],
    ]);
    expect(await fetchAll(client, 'txn', 0)).toEqual([]);
    expect((await fetchAll(client, 'txn', 1)).map((r) => r.key)).toEqual(['plain-0', 'plain-1']);
  });
});
