import { afterAll, beforeAll, expect, test } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { schemas } from '../../protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ port: 0, config: { 'group.initial.rebalance.delay.ms': 0 } });
});
afterAll(async () => {
  await broker?.close();
});

test('deleting a topic removes the committed offsets of every group on it, as Kafka does', async () => {
  const kafka = new Kafka({ clientId: 'del-offsets', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }, { topic: 'kept', numPartitions: 1 }] });
    await admin.setOffsets({ groupId: 'g1', topic: 'doomed', partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
    await admin.setOffsets({ groupId: 'g1', topic: 'kept', partitions: [{ partition: 0, offset: '0' }] });

    const client = await RawClient.connect(broker.port);
    try {
      const fetchAll = async (): Promise<string[]> => {
        const res = await client.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, {
          groups: [{ groupId: 'g1', topics: null }],
          requireStable: false,
        });
        return res.groups[0]!.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}`)).sort();
      };
      expect(await fetchAll()).toEqual(['doomed-0', 'doomed-1', 'kept-0']);
      await admin.deleteTopics({ topics: ['doomed'] });
      expect(await fetchAll()).toEqual(['kept-0']);
    } finally {
      await client.close();
    }
  } finally {
    await admin.disconnect();
  }
});
