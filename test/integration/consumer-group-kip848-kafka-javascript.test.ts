/**
 * KIP-848 consumer groups with @confluentinc/kafka-javascript 1.10 (librdkafka 2.15, built by
 * test/helpers/librdkafka.ts) through its KafkaJS-style API with `'group.protocol': 'consumer'`: two
 * consumers share six partitions, a third joins, one leaves. Each consumer commits a record's next offset
 * after it processed it, so with clean leaves every record is read exactly once; the rebalance callback
 * shows that a joining member takes one partition from each of the others and that a leaving member's
 * partitions go to the others without taking any from them.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { confluentKafkaJavascript } from '../helpers/librdkafka.js';

const PARTITIONS = 6;
/** librdkafka's rebalance "errors": partitions to assign, partitions to give up. */
const ERR_ASSIGN_PARTITIONS = -175;
const ERR_REVOKE_PARTITIONS = -174;

/** What this test uses of the package's KafkaJS-style API. */
interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}
interface Consumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: { eachMessage: (p: { partition: number; message: { offset: string; value: Buffer | null } }) => Promise<void> }): Promise<void>;
  commitOffsets(offsets: Array<TopicPartition & { offset: string }>): Promise<void>;
  assignment(): TopicPartition[];
}
interface Producer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(r: { topic: string; messages: Array<{ value: string; partition: number }> }): Promise<unknown>;
}
interface KafkaClient {
  consumer(config: object): Consumer;
  producer(config: object): Producer;
}
interface KafkaJavascript {
  KafkaJS: { Kafka: new (config: object) => KafkaClient; logLevel: { NOTHING: number } };
}

interface Read {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

async function until(what: string, check: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('KIP-848 consumer groups with @confluentinc/kafka-javascript (KafkaJS-style API)', () => {
  let broker: RunningBroker;
  let client: KafkaClient;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    const { KafkaJS } = createRequire(import.meta.url)(await confluentKafkaJavascript()) as KafkaJavascript;
    broker = await startBroker({ port: 0, config: { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'group.consumer.session.timeout.ms': 8_000, 'group.consumer.heartbeat.interval.ms': 500, 'gregor.flush.acks.all': false } });
    client = new KafkaJS.Kafka({ kafkaJS: { brokers: [`127.0.0.1:${broker.port}`], clientId: 'kip848-ckjs', logLevel: KafkaJS.logLevel.NOTHING } });
  }, 600_000);
  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => {});
    await broker?.close();
  });

  it("consumers share the partitions, a third joins and one leaves: incremental moves, every record read once", async () => {
    await broker.broker.topics.create({ name: 'ckjs', numPartitions: PARTITIONS, replicationFactor: 1, configs: {} });
    const reads: Read[] = [];
    const events: Array<{ member: string; kind: 'assigned' | 'revoked'; partitions: number[] }> = [];
    const produced: string[] = [];

    async function produce(label: string, count: number): Promise<void> {
      const producer = client.producer({ 'linger.ms': 5 });
      await producer.connect();
      const values = Array.from({ length: count }, (_, i) => `${label}-${i}`);
      await producer.send({ topic: 'ckjs', messages: values.map((value, i) => ({ value, partition: i % PARTITIONS })) });
      await producer.disconnect();
      produced.push(...values);
    }

    async function join(member: string): Promise<Consumer> {
      const consumer = client.consumer({
        kafkaJS: { groupId: 'ckjs-group', fromBeginning: true, autoCommit: false },
        'group.protocol': 'consumer',
        rebalance_cb: (err: { code: number }, assignment: TopicPartition[]) => {
          if (err.code === ERR_ASSIGN_PARTITIONS || err.code === ERR_REVOKE_PARTITIONS)
            events.push({ member, kind: err.code === ERR_ASSIGN_PARTITIONS ? 'assigned' : 'revoked', partitions: assignment.map((tp) => tp.partition).sort((x, y) => x - y) });
        },
      });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: ['ckjs'] });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          reads.push({ member, partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
          await consumer.commitOffsets([{ topic: 'ckjs', partition, offset: String(Number(message.offset) + 1) }]);
        },
      });
      return consumer;
    }

    const held = (c: Consumer) => c.assignment().map((tp) => tp.partition).sort((x, y) => x - y);
    const holding = (cs: Consumer[], size: number) => () => cs.every((c) => held(c).length === size) && new Set(cs.flatMap(held)).size === PARTITIONS;
    const allRead = () => {
      const seen = new Set(reads.map((r) => r.value));
      return produced.every((v) => seen.has(v));
    };
    const revokedSince = (from: number, member: string) => events.slice(from).filter((e) => e.member === member && e.kind === 'revoked').flatMap((e) => e.partitions);

    await produce('start', 60);
    const a = await join('a');
    const b = await join('b');
    await until('a and b to hold 3 partitions each', holding([a, b], 3));
    await until('every record read', allRead);

    // c joins: a and b each give up one partition, and only that one
    const atJoin = events.length;
    const c = await join('c');
    await produce('join', 60);
    await until('a, b and c to hold 2 partitions each', holding([a, b, c], 2));
    await until('every record read', allRead);
    const moved = [revokedSince(atJoin, 'a'), revokedSince(atJoin, 'b')];
    expect(moved.map((m) => m.length)).toEqual([1, 1]);
    expect(moved.flat().sort((x, y) => x - y)).toEqual(held(c));

    // a leaves: b and c take its partitions and give up none
    const atLeave = events.length;
    await produce('leave', 60);
    await a.disconnect();
    await until('b and c to hold 3 partitions each', holding([b, c], 3));
    await until('every record read', allRead);
    expect([revokedSince(atLeave, 'b'), revokedSince(atLeave, 'c')]).toEqual([[], []]);
    expect(events.filter((e) => e.kind === 'assigned' && e.member === 'c').flatMap((e) => e.partitions)).toHaveLength(3);
    await b.disconnect();
    await c.disconnect();

    // every record read once: each was committed by the member that processed it before it gave the partition up
    expect(reads).toHaveLength(produced.length);
    expect(new Set(reads.map((r) => r.value)).size).toBe(produced.length);
  }, 600_000);
});
