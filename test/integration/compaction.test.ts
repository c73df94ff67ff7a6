/**
 * Log compaction on a real broker: kafkajs produces updates and tombstones to a compacted topic with small
 * segments, the background cleaner (log.cleaner.backoff.ms low) compacts it, and a kafkajs consumer reading
 * from the beginning sees the latest value of every key. cleanup.policy changed through AlterConfigs makes a
 * topic compacted live.
 */
import { ConfigResourceTypes, Kafka, logLevel, CompressionTypes, type Admin } from 'kafkajs';
import { readBatchHeader } from '../../protocol/records/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 50, 'gregor.flush.acks.all': false, 'log.cleaner.backoff.ms': 50 };

async function until(check: () => boolean | Promise<boolean>, intervalMs = 50): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, intervalMs));
}

describe('compacted topics', () => {
  let broker: RunningBroker;
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: BROKER_CONFIG });
    kafka = new Kafka({ clientId: 'compaction', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await broker?.close();
  });

  /** Produces `rounds` updates of every key (some sends compressed), then tombstones for the deleted keys. */
  async function produceTable(topic: string, keys: number, rounds: number, deleted: (k: number) => boolean): Promise<Map<string, string | null>> {
    const latest = new Map<string, string | null>();
    // an idempotent producer writes once: its batch loses every record to later updates, but stays in the log
    // (empty, a header) as the last batch of its producer
    const early = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await early.connect();
    await early.send({ topic, messages: Array.from({ length: 10 }, (_, k) => ({ key: `key-${k}`, value: 'early', partition: k % 2 })) });
    await early.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let round = 0; round < rounds; round++) {
      for (let from = 0; from < keys; from += 20) {
        const messages = [];
        for (let k = from; k < Math.min(from + 20, keys); k++) {
          const value = `value-${k}-round-${round}-${'p'.repeat(k % 30)}`;
          messages.push({ key: `key-${k}`, value, partition: k % 2 });
          latest.set(`key-${k}`, value);
        }
        await producer.send({ topic, messages, compression: round % 3 === 1 ? CompressionTypes.GZIP : CompressionTypes.None });
      }
    }
    const tombstones = [];
    for (let k = 0; k < keys; k++) {
      if (!deleted(k)) continue;
      tombstones.push({ key: `key-${k}`, value: null, partition: k % 2 });
      latest.set(`key-${k}`, null);
    }
    if (tombstones.length > 0) await producer.send({ topic, messages: tombstones });
    // a last round of a few keys, so the tombstones are not in the active segment
    for (let i = 0; i < 30; i++) {
      const messages = [0, 1].map((p) => ({ key: `filler-${i % 5}`, value: `filler-${i}-${'f'.repeat(200)}`, partition: p }));
      for (const m of messages) latest.set(m.key, m.value);
      await producer.send({ topic, messages });
    }
    await producer.disconnect();
    return latest;
  }

  /** Waits until the cleaner has cleaned every closed segment of each partition. */
  async function waitCleaned(topic: string, partitions: number): Promise<void> {
    const logs = broker.broker.logs;
    await until(() => {
      for (let p = 0; p < partitions; p++) {
        const log = logs.getLog(topic, p)!;
        if ((logs.cleanerCheckpoint(topic, p) ?? -1) < log.segmentList.at(-1)!.baseOffset) return false;
      }
      return true;
    });
  }

  /** Everything a new consumer group reads from the beginning up to the high watermarks. */
  async function consumeAll(topic: string, groupId: string): Promise<{ key: string; value: string | null; partition: number; offset: number }[]> {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
    const received: { key: string; value: string | null; partition: number; offset: number }[] = [];
    const reached = new Set<number>();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        received.push({ key: message.key!.toString(), value: message.value === null ? null : message.value.toString(), partition, offset });
        if (offset === ends.get(partition)! - 1) reached.add(partition);
      },
    });
    await until(() => reached.size === ends.size);
    await consumer.disconnect();
    return received;
  }

  it('a kafkajs consumer reading a compacted topic from the beginning sees the latest value of each key', async () => {
    const topic = 'table';
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 2,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '8192' },
            { name: 'min.cleanable.dirty.ratio', value: '0.1' },
          ],
        },
      ],
    });
    const latest = await produceTable(topic, 200, 8, (k) => k % 10 === 0);
    const produced = 10 + 200 * 8 + 20 + 60;
    await waitCleaned(topic, 2);
    expect(broker.broker.logs.stats().cleanerRuns).toBeGreaterThan(0);
    expect(broker.broker.logs.stats().cleanerBytesReclaimed).toBeGreaterThan(0);

    // the cleaned log holds a header-only batch (the idempotent producer's), which the consumer steps over
    let empty = 0;
    for (let p = 0; p < 2; p++) {
      const log = broker.broker.logs.getLog(topic, p)!;
      for (let offset = 0; offset < log.logEndOffset; ) {
        const { chunks } = await log.read(offset, 1 << 20);
        for (const chunk of chunks) {
          for (let pos = 0; pos < chunk.length; pos += 12 + chunk.readInt32BE(pos + 8)) {
            const h = readBatchHeader(chunk, pos);
            if (h.recordCount === 0) empty++;
            offset = h.baseOffset + h.lastOffsetDelta + 1;
          }
        }
      }
    }
    expect(empty).toBeGreaterThan(0);
    const received = await consumeAll(topic, 'table-reader');
    expect(received.length).toBeLessThan(produced / 2);
    const seen = new Map<string, string | null>();
    const lastOffset = new Map<number, number>();
    for (const r of received) {
      expect(r.offset).toBeGreaterThan(lastOffset.get(r.partition) ?? -1);
      lastOffset.set(r.partition, r.offset);
      seen.set(r.key, r.value);
    }
    expect(seen).toEqual(latest);
    // tombstones are delivered as null values until delete.retention.ms has passed
    expect([...seen.values()].filter((v) => v === null)).toHaveLength(20);
  });

  it('AlterConfigs makes a topic compacted live, and the background cleaner compacts it', async () => {
    const topic = 'becomes-compacted';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '8192' }] }] });
    const latest = await produceTable(topic, 100, 6, () => false);
    const runs = broker.broker.logs.stats().cleanerRuns;
    await new Promise((r) => setTimeout(r, 300));
    // cleanup.policy=delete: never cleaned
    expect(broker.broker.logs.cleanerCheckpoint(topic, 0)).toBeUndefined();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.cleanable.dirty.ratio', value: '0.1' }, { name: 'segment.bytes', value: '8192' }] }],
    });
    await waitCleaned(topic, 2);
    expect(broker.broker.logs.stats().cleanerRuns).toBeGreaterThan(runs);
    const received = await consumeAll(topic, 'becomes-reader');
    expect(received.length).toBeLessThan(100 * 6);
    const seen = new Map<string, string | null>();
    for (const r of received) seen.set(r.key, r.value);
    expect(seen).toEqual(latest);
  });
});
