/**
 * Produce and Fetch end to end on a real broker: kafkajs 2.2.4 produces
 * (keys, headers, gzip, 10,000 messages in batches, acks 0 / 1 / -1), then
 * kcat (librdkafka), a kafkajs consumer group and our raw fetch client read
 * everything back in order; kcat produces in every codec.
 */
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { decodeRecords, fetchAll, fetchOnce } from '../helpers/fetch-records.js';
import { kcatConsume, kcatProduce } from '../helpers/kcat.js';
import { RawClient } from '../helpers/raw-client.js';
import { schemas } from '../../protocol/index.js';

const TOTAL = 10_000;
const BATCH = 500;
const ACKS = [1, -1, 0] as const;

function message(i: number): { key: string; value: string; headers: Record<string, string> } {
  return { key: `key-${i}`, value: `value-${i}-${'x'.repeat(i % 50)}`, headers: { index: String(i), source: 'kafkajs' } };
}

describe('kafkajs produces, kcat and the raw client read back', () => {
  let broker: RunningBroker;
  let producer: Producer;
  let client: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'group.initial.rebalance.delay.ms': 0 } });
    const kafka = new Kafka({ clientId: 'produce-fetch-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    await producer?.disconnect();
    await broker?.close();
  });

  it('accepts 10,000 messages with keys, headers and gzip in batches of 500 with acks 1, -1 and 0', async () => {
    const offsets: number[] = [];
    for (let start = 0, n = 0; start < TOTAL; start += BATCH, n++) {
      const acks = ACKS[n % ACKS.length]!;
      const messages = Array.from({ length: BATCH }, (_, j) => message(start + j));
      const res = await producer.send({ topic: 'events', acks, compression: n % 2 === 0 ? CompressionTypes.GZIP : CompressionTypes.None, messages });
      if (acks !== 0) {
        expect(res[0]?.errorCode).toBe(0);
        offsets.push(Number(res[0]?.baseOffset));
      }
    }
    // the last send (acks 1 after the acks=0 ones on the same connection) proves everything before it is in
    const last = await producer.send({ topic: 'events', acks: 1, messages: [{ key: 'end', value: 'end' }] });
    expect(Number(last[0]?.baseOffset)).toBe(TOTAL);
    // acks 1 / -1 sends got the offsets of their batch
    expect(offsets.every((o) => o % BATCH === 0)).toBe(true);
  });

  it('kcat reads all 10,001 messages back in order with their keys, values and headers', async () => {
    const records = await kcatConsume(broker.port, 'events');
    expect(records).toHaveLength(TOTAL + 1);
    for (let i = 0; i < TOTAL; i++) {
      const r = records[i]!;
      const m = message(i);
      expect(r.offset).toBe(i);
      expect(r.key).toBe(m.key);
      expect(r.payload).toBe(m.value);
      expect(r.headers).toEqual(['index', String(i), 'source', 'kafkajs']);
    }
    expect(records[TOTAL]?.key).toBe('end');
  });

  it('a kafkajs consumer reads all 10,001 messages back in order with their keys, values and headers', async () => {
    const kafka = new Kafka({ clientId: 'produce-fetch-consumer', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'produce-fetch-readers', maxWaitTimeInMs: 200 });
    const seen: Array<{ offset: string; key: string; value: string; index: string }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'events', fromBeginning: true });
      const all = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message: m }) => {
            seen.push({ offset: m.offset, key: m.key!.toString(), value: m.value!.toString(), index: m.headers?.index?.toString() ?? '' });
            if (seen.length === TOTAL + 1) resolve();
          },
        });
      });
      await all;
    } finally {
      await consumer.disconnect();
    }
    expect(seen.map((r) => Number(r.offset))).toEqual([...Array(TOTAL + 1).keys()]);
    seen.slice(0, TOTAL).forEach((r, i) => {
      expect(r).toEqual({ offset: String(i), key: message(i).key, value: message(i).value, index: String(i) });
    });
  });

  for (const version of [4, 7, 11, 12, 13, 17]) {
    it(`the raw client reads all messages back in order with Fetch v${version}`, async () => {
      const topicId = broker.broker.topics.get('events')!.topicId;
      const records = await fetchAll(client, 'events', 0, 0, { version, maxBytes: 256 * 1024, topicId });
      expect(records).toHaveLength(TOTAL + 1);
      records.slice(0, TOTAL).forEach((r, i) => {
        const m = message(i);
        expect(r.offset).toBe(i);
        expect(r.key).toBe(m.key);
        expect(r.value).toBe(m.value);
        expect(r.headers).toEqual(m.headers);
        expect(r.magic).toBe(2);
      });
    });
  }

  it('Fetch v0-3 gets the messages down-converted (magic 0 for v0-1, magic 1 for v2-3) with keys and values', async () => {
    for (const [version, magic] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ] as const) {
      const records = await fetchAll(client, 'events', 0, 9_000, { version, maxBytes: 512 * 1024 });
      expect(records).toHaveLength(TOTAL + 1 - 9_000);
      expect(records.every((r) => r.magic === magic)).toBe(true);
      expect(records[0]).toMatchObject({ offset: 9_000, key: 'key-9000', value: message(9_000).value });
      if (magic === 1) expect(records[0]!.timestamp).toBeGreaterThan(0);
      else expect(records[0]!.timestamp).toBe(-1);
    }
  });

  it('Fetch v0-3 at an offset inside an uncompressed batch gets its messages from that offset on; a compressed batch comes whole (Kafka\'s RecordsUtil.downConvert)', async () => {
    for (const version of [0, 1, 2, 3]) {
      // batches of 500 records: gzip from 0, uncompressed from 500
      const plain = await fetchOnce(client, 'events', 0, 750, { version, maxBytes: 64 * 1024 });
      expect(plain[0]).toMatchObject({ offset: 750, key: 'key-750' });
      expect(plain.map((r) => r.offset)).toEqual(plain.map((_, i) => 750 + i));
      const compressed = await fetchOnce(client, 'events', 0, 250, { version, maxBytes: 64 * 1024 });
      expect(compressed[0]).toMatchObject({ offset: 0, key: 'key-0' });
    }
  });

  it('record sections of a fetch come back as the batches the producer sent, compressed as sent', async () => {
    const res = await client.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 10 * 1024 * 1024,
      sessionEpoch: -1,
      topics: [{ topic: 'events', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 10 * 1024 * 1024 }] }],
    });
    const records = await decodeRecords(res.responses[0]!.partitions[0]!.records as Buffer);
    const batches = new Map<number, number>();
    for (const r of records) batches.set(r.batch!.baseOffset, r.batch!.attributes & 7);
    // 20 producer sends + the last one: 21 batches, gzip on every other send
    expect([...batches.keys()].slice(0, 3)).toEqual([0, 500, 1000]);
    expect(batches.size).toBe(TOTAL / BATCH + 1);
    expect(batches.get(0)).toBe(1);
    expect(batches.get(500)).toBe(0);
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`kcat produces ${codec} batches with keys; kcat and the raw client read them back`, async () => {
      const topic = `kcat-${codec}`;
      const lines = Array.from({ length: 1000 }, (_, i) => `key-${i}:value-${i}`);
      await kcatProduce(broker.port, topic, lines, ['-K:', '-z', codec, '-X', 'linger.ms=5']);
      const consumed = await kcatConsume(broker.port, topic);
      expect(consumed.map((r) => `${r.key}:${r.payload}`)).toEqual(lines);
      const fetched = await fetchAll(client, topic, 0);
      expect(fetched.map((r) => `${r.key}:${r.value}`)).toEqual(lines);
      expect(new Set(fetched.map((r) => r.batch!.attributes & 7))).toEqual(new Set([['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(codec)]));
    });
  }
});
