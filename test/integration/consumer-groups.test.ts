/**
 * Consumer groups against a real broker on a real port, driven by kafkajs
 * 2.2.4's consumer (JoinGroup/SyncGroup/Heartbeat/LeaveGroup/OffsetCommit/
 * OffsetFetch as a real application uses them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type EachMessagePayload, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 50, 'gregor.flush.acks.all': false };

function kafkaFor(broker: RunningBroker, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

/** Polls until `check` returns true (the test timeout bounds the wait). */
async function until(check: () => boolean | Promise<boolean>, what: string, intervalMs = 50): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (process.env.GREGOR_TEST_TRACE) console.error(`waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

interface Received {
  consumer: string;
  partition: number;
  offset: string;
  value: string;
}

/** A kafkajs consumer that records what it receives and its latest assignment. */
class TrackedConsumer {
  readonly received: Received[] = [];
  assignment: number[] = [];
  joins = 0;
  readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    readonly name: string,
    groupId: string,
    private readonly topic: string,
  ) {
    this.consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 200 });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.joins++;
      this.assignment = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
  }

  async start(fromBeginning = true): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning });
    await this.consumer.run({
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        this.received.push({ consumer: this.name, partition, offset: message.offset, value: message.value!.toString() });
      },
    });
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

async function produce(producer: Producer, topic: string, values: string[], partitions: number): Promise<void> {
  await producer.send({ topic, messages: values.map((value, i) => ({ value, partition: i % partitions })) });
}

describe('consumer groups with kafkajs', () => {
  let broker: RunningBroker;
  let producer: Producer;
  const running: TrackedConsumer[] = [];

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: BROKER_CONFIG });
    producer = kafkaFor(broker, 'cg-producer').producer();
    await producer.connect();
  });
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop().catch(() => undefined);
  });
  afterAll(async () => {
    await producer?.disconnect();
    await broker?.close();
  });

  async function createTopic(topic: string, numPartitions: number): Promise<void> {
    const admin = kafkaFor(broker, 'cg-admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }] });
    await admin.disconnect();
  }

  function consumerOf(name: string, groupId: string, topic: string): TrackedConsumer {
    const c = new TrackedConsumer(kafkaFor(broker, name), name, groupId, topic);
    running.push(c);
    return c;
  }

  it('three consumers of one group share six partitions and consume every message exactly once', async () => {
    await createTopic('shared', 6);
    const consumers = ['a', 'b', 'c'].map((n) => consumerOf(n, 'g-shared', 'shared'));
    await Promise.all(consumers.map((c) => c.start()));
    await until(() => {
      const all = consumers.flatMap((c) => c.assignment);
      return consumers.every((c) => c.assignment.length === 2) && new Set(all).size === 6;
    }, 'an even assignment');
    const values = Array.from({ length: 600 }, (_, i) => `m-${i}`);
    await produce(producer, 'shared', values, 6);
    await until(() => consumers.reduce((n, c) => n + c.received.length, 0) >= 600, 'all messages');
    const all = consumers.flatMap((c) => c.received);
    expect(all).toHaveLength(600);
    expect(new Set(all.map((r) => r.value)).size).toBe(600);
    for (const c of consumers) {
      for (const r of c.received) expect(c.assignment).toContain(r.partition);
    }
  });

  it('a consumer joining and one leaving each trigger a rebalance, and consumption continues without loss', async () => {
    await createTopic('churn', 6);
    const a = consumerOf('churn-a', 'g-churn', 'churn');
    const b = consumerOf('churn-b', 'g-churn', 'churn');
    await Promise.all([a.start(), b.start()]);
    await until(() => a.assignment.length === 3 && b.assignment.length === 3, 'two consumers with three partitions each');
    const sent: string[] = [];
    const send = async (n: number): Promise<void> => {
      const values = Array.from({ length: n }, (_, i) => `churn-${sent.length + i}`);
      sent.push(...values);
      await produce(producer, 'churn', values, 6);
    };
    const members = [a, b];
    const received = (): Set<string> => new Set(members.flatMap((x) => x.received.map((r) => r.value)));
    await send(120);
    await until(() => received().size === 120, 'the first batch');

    // a third consumer joins: the group rebalances to 2 partitions each
    const c = consumerOf('churn-c', 'g-churn', 'churn');
    members.push(c);
    const joinsBefore = a.joins + b.joins;
    await c.start();
    await until(() => [a, b, c].every((x) => x.assignment.length === 2) && a.joins + b.joins > joinsBefore, 'a rebalance to three members');
    await send(120);
    await until(() => received().size === 240, 'messages after the join');
    expect(c.received.length).toBeGreaterThan(0);

    // one leaves: the other two take over its partitions
    const joinsBeforeLeave = a.joins + c.joins;
    await b.stop();
    running.splice(running.indexOf(b), 1);
    await until(() => a.joins + c.joins > joinsBeforeLeave && a.assignment.length === 3 && c.assignment.length === 3, 'a rebalance to two members');
    await send(120);
    await until(() => received().size === 360, 'messages after the leave');
    expect([...received()].sort()).toEqual([...sent].sort());
  });

  it('committed offsets survive a broker restart on the same data dir and consumers resume from them', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-cg-restart-'));
    try {
      const first = await startBroker({ port: 0, dataDir, config: BROKER_CONFIG });
      const firstKafka = kafkaFor(first, 'restart');
      const admin = firstKafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3, replicationFactor: 1 }] });
      await admin.disconnect();
      const p1 = firstKafka.producer();
      await p1.connect();
      await produce(p1, 'durable', Array.from({ length: 90 }, (_, i) => `before-${i}`), 3);
      await p1.disconnect();
      const c1 = new TrackedConsumer(firstKafka, 'restart-1', 'g-durable', 'durable');
      await c1.start();
      await until(() => c1.received.length === 90, 'the messages before the restart');
      await c1.stop();
      await first.close();

      const second = await startBroker({ port: 0, dataDir, config: BROKER_CONFIG });
      try {
        const kafka = kafkaFor(second, 'restart');
        const admin2 = kafka.admin();
        await admin2.connect();
        const committed = await admin2.fetchOffsets({ groupId: 'g-durable', topics: ['durable'] });
        expect(committed[0]!.partitions.map((p) => p.offset).sort()).toEqual(['30', '30', '30']);
        await admin2.disconnect();
        const p2 = kafka.producer();
        await p2.connect();
        await produce(p2, 'durable', Array.from({ length: 30 }, (_, i) => `after-${i}`), 3);
        await p2.disconnect();
        const c2 = new TrackedConsumer(kafka, 'restart-2', 'g-durable', 'durable');
        await c2.start();
        await until(() => c2.received.length >= 30, 'the messages after the restart');
        await c2.stop();
        expect(c2.received.map((r) => r.value).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `after-${i}`).sort());
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('eachBatch consumes whole batches and commits resolved offsets', async () => {
    await createTopic('batches', 2);
    await produce(producer, 'batches', Array.from({ length: 200 }, (_, i) => `b-${i}`), 2);
    const consumer = kafkaFor(broker, 'batch-consumer').consumer({ groupId: 'g-batches', maxWaitTimeInMs: 200 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'batches', fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        for (const m of batch.messages) {
          seen.push(m.value!.toString());
          resolveOffset(m.offset);
        }
        await heartbeat();
        await commitOffsetsIfNecessary();
      },
    });
    try {
      await until(() => seen.length >= 200, 'every message through eachBatch');
      expect(new Set(seen).size).toBe(200);
      const admin = kafkaFor(broker, 'batch-admin').admin();
      await admin.connect();
      await until(async () => {
        const offsets = await admin.fetchOffsets({ groupId: 'g-batches', topics: ['batches'] });
        return offsets[0]!.partitions.every((p) => p.offset === '100');
      }, 'the committed offsets');
      await admin.disconnect();
      // broker-side lag: zero once everything is committed, then what was produced since
      const lagOf = () => broker.broker.groups.consumerLag().filter((l) => l.group === 'g-batches');
      expect(lagOf().map((l) => [l.topic, l.partition, l.committedOffset, l.highWatermark, l.lag]).sort()).toEqual([
        ['batches', 0, 100, 100, 0],
        ['batches', 1, 100, 100, 0],
      ]);
      await consumer.stop();
      await produce(producer, 'batches', Array.from({ length: 7 }, (_, i) => `late-${i}`), 2);
      expect(lagOf().map((l) => l.lag).sort()).toEqual([3, 4]);
    } finally {
      await consumer.disconnect();
    }
  });

  it('seek moves a consumer back to an earlier offset and it reads from there again', async () => {
    await createTopic('seeking', 1);
    await produce(producer, 'seeking', Array.from({ length: 50 }, (_, i) => `s-${i}`), 1);
    const c = consumerOf('seeker', 'g-seek', 'seeking');
    await c.start();
    await until(() => c.received.length === 50, 'the first pass');
    c.consumer.seek({ topic: 'seeking', partition: 0, offset: '40' });
    await until(() => c.received.length === 60, 'the second pass from offset 40');
    expect(c.received.slice(50).map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => String(40 + i)));
  });

  it('a paused partition delivers nothing until it is resumed', async () => {
    await createTopic('pausing', 2);
    const c = consumerOf('pauser', 'g-pause', 'pausing');
    await c.start();
    await until(() => c.assignment.length === 2, 'the assignment');
    c.consumer.pause([{ topic: 'pausing', partitions: [0] }]);
    await produce(producer, 'pausing', Array.from({ length: 40 }, (_, i) => `p-${i}`), 2);
    await until(() => c.received.filter((r) => r.partition === 1).length === 20, 'the unpaused partition');
    // everything was produced after the pause: partition 1 arrived, partition 0 must not have
    expect(c.received.filter((r) => r.partition === 0)).toHaveLength(0);
    c.consumer.resume([{ topic: 'pausing', partitions: [0] }]);
    await until(() => c.received.filter((r) => r.partition === 0).length === 20, 'the resumed partition');
    expect(new Set(c.received.map((r) => r.value)).size).toBe(40);
  });
});
