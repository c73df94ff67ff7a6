/**
 * Share groups (KIP-932, queues) with librdkafka 2.15's share consumer (built from the source in
 * @confluentinc/kafka-javascript, test/helpers/librdkafka.ts) through our C program
 * test/compat/clients/rdkafka_share.c, against a real broker on a fixed port:
 *
 * - 5 share consumers on one partition of 10,000 records: every record delivered, the union
 *   acknowledged exactly once, every consumer did part of the work;
 * - a consumer killed (SIGKILL) while it holds records: they are delivered to another member (released
 *   when its connection closes), delivery count 2; a consumer stalled (SIGSTOP, its connection open): its
 *   records are delivered to another once their acquisition locks (group.share.record.lock.duration.ms,
 *   low here) expire;
 * - REJECT archives a record (never delivered again), RELEASE delivers it again, and a record released
 *   at every delivery is archived at group.share.delivery.count.limit;
 * - a broker restart keeps the share-partition's state: what was acknowledged is not delivered again;
 * - a classic consumer group (kafkajs) and a share group on the same topic each see every record.
 *
 * Share groups start at the log end (share.auto.offset.reset=latest, the default this test keeps), so
 * each scenario starts its consumers, waits for the share-partition to exist, then produces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { freePort } from '../helpers/free-port.js';
import { compileWithLibrdkafka, librdkafka215 } from '../helpers/librdkafka.js';

const CONFIG = {
  'group.share.record.lock.duration.ms': 2000,
  'group.share.min.record.lock.duration.ms': 1000,
  'group.share.delivery.count.limit': 3,
  'group.share.heartbeat.interval.ms': 500,
  'group.share.session.timeout.ms': 10_000,
  // below Kafka's minima (5 s, 45 s), which are lowered with them
  'group.share.min.heartbeat.interval.ms': 100,
  'group.share.min.session.timeout.ms': 1_000,
  'share.coordinator.state.topic.num.partitions': 3,
  'offsets.topic.num.partitions': 3,
  'group.initial.rebalance.delay.ms': 0,
  'gregor.flush.acks.all': false,
};

interface Delivery {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  readonly deliveryCount: number;
  readonly ack: string;
}

interface Run {
  readonly deliveries: Delivery[];
  readonly lines: Array<Record<string, unknown>>;
  readonly code: number | null;
}

let binary: string;
let dataDir: string;
let port: number;
let broker: RunningBroker;

async function buildShareProgram(): Promise<string> {
  const rd = await librdkafka215();
  const source = resolve(dirname(fileURLToPath(import.meta.url)), '../compat/clients/rdkafka_share.c');
  const hash = createHash('sha256').update(readFileSync(source)).update(rd.libDir).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `gregor-test-native-${hash}`);
  const out = join(dir, 'rdkafka_share');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  return compileWithLibrdkafka(rd, source, out, ['-O1', '-Wall', '-Werror', '-std=gnu11']);
}

/** A running share consumer: its deliveries so far, and its end. */
function consumer(group: string, topic: string, args: string[] = []): { child: ChildProcess; deliveries: Delivery[]; lines: Array<Record<string, unknown>>; done: Promise<Run> } {
  const child = spawn(binary, ['-b', `127.0.0.1:${port}`, '-g', group, '-t', topic, '-X', 'max.poll.records=100', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const deliveries: Delivery[] = [];
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const l of parts.filter((p) => p.startsWith('{'))) {
      const line = JSON.parse(l) as Record<string, unknown>;
      lines.push(line);
      if (typeof line.offset === 'number' && line.recordError === undefined) {
        deliveries.push({ ...(line as unknown as Delivery), value: Buffer.from(line.value as string, 'hex').toString() });
      }
    }
  });
  child.stderr!.on('data', () => {});
  const done = new Promise<Run>((res) => child.on('close', (code) => res({ deliveries, lines, code })));
  return { child, deliveries, lines, done };
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

async function createTopic(name: string): Promise<string> {
  return (await broker.broker.topics.create({ name, numPartitions: 1, replicationFactor: 1, configs: {} })).topicId;
}

/** Waits until the group's share-partition of the topic exists: a member fetched it, at the log end. */
async function sharePartitionReady(group: string, topicId: string): Promise<void> {
  await until(() => broker.broker.shareFetches.partitions.sharePartition(group, topicId, 0) !== undefined, `the share-partition of ${group}`);
}

/** Appends `count` records "<prefix>-<i>" in batches of `perBatch`. */
async function produce(topic: string, prefix: string, count: number, perBatch = 100): Promise<void> {
  const log = broker.broker.topics.partition(topic, 0)!.log;
  for (let i = 0; i < count; i += perBatch) {
    const records = Array.from({ length: Math.min(perBatch, count - i) }, (_, j) => ({ key: null, value: Buffer.from(`${prefix}-${i + j}`) }));
    await log.append(buildUncompressedBatch(records), { leaderEpoch: 0 });
  }
}

const range = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('share groups with librdkafka 2.15', () => {
  beforeAll(async () => {
    binary = await buildShareProgram();
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-rdk-'));
    port = await freePort();
    broker = await startBroker({ port, dataDir, config: CONFIG });
  }, 600_000);
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('5 share consumers on one partition: every record delivered and accepted once, the work spread over all 5', async () => {
    const topicId = await createTopic('queue-5');
    const sessionsBefore = broker.broker.shareFetches.sessions.size;
    const consumers = Array.from({ length: 5 }, () => consumer('g5', 'queue-5', ['-a', 'accept', '-i', '3000']));
    await sharePartitionReady('g5', topicId);
    // all 5 fetch before the records come (each opened its share session)
    await until(() => broker.broker.shareFetches.sessions.size >= sessionsBefore + 5, 'the 5 consumers to fetch');
    await produce('queue-5', 'r', 10_000);
    const runs = await Promise.all(consumers.map((c) => c.done));
    const all = runs.flatMap((r) => r.deliveries);
    expect(runs.map((r) => r.lines.filter((l) => l.ackError !== undefined))).toEqual([[], [], [], [], []]);
    // each record accepted exactly once, and nothing delivered twice
    expect(all.map((d) => d.value).sort()).toEqual(range(10_000, 'r').sort());
    expect(all.every((d) => d.deliveryCount === 1 && d.ack === 'accept')).toBe(true);
    for (const r of runs) expect(r.deliveries.length).toBeGreaterThan(0);
    expect(broker.broker.shareFetches.partitions.sharePartition('g5', topicId, 0)?.startOffset()).toBe(10_000);
  }, 60_000);

  it('the records of a consumer killed (SIGKILL) or stalled (SIGSTOP) while holding them are delivered to another member', async () => {
    const topicId = await createTopic('queue-kill');
    const killed = consumer('gk', 'queue-kill', ['-H']);
    await sharePartitionReady('gk', topicId);
    await produce('queue-kill', 'k', 50, 10);
    await until(() => killed.lines.some((l) => l.held !== undefined), 'the consumer to hold records');
    const held = killed.deliveries.map((d) => d.value);
    // its connection closes: its records are released then (as Kafka's disconnect listener), at the latest when their locks expire
    killed.child.kill('SIGKILL');
    await killed.done;
    const other = consumer('gk', 'queue-kill', ['-a', 'accept', '-i', '3000']);
    const run = await other.done;
    expect(run.deliveries.map((d) => d.value).sort()).toEqual(range(50, 'k').sort());
    for (const d of run.deliveries) expect(d.deliveryCount).toBe(held.includes(d.value) ? 2 : 1);

    // a stalled consumer keeps its connection: its records come back when their acquisition locks expire
    const sessionsBefore = broker.broker.shareFetches.sessions.size;
    const stalled = consumer('gk', 'queue-kill', ['-H']);
    await until(() => broker.broker.shareFetches.sessions.size > sessionsBefore, 'the stalled consumer to fetch');
    await produce('queue-kill', 'm', 20, 10);
    await until(() => stalled.lines.some((l) => l.held !== undefined), 'the stalled consumer to hold records');
    const stalledHeld = stalled.deliveries.map((d) => d.value);
    stalled.child.kill('SIGSTOP');
    try {
      const taker = consumer('gk', 'queue-kill', ['-a', 'accept', '-i', '4000']);
      const taken = await taker.done;
      expect(taken.deliveries.map((d) => d.value).sort()).toEqual(range(20, 'm').sort());
      for (const d of taken.deliveries) expect(d.deliveryCount).toBe(stalledHeld.includes(d.value) ? 2 : 1);
    } finally {
      stalled.child.kill('SIGKILL');
      await stalled.done;
    }
  }, 40_000);

  it('REJECT archives, RELEASE delivers again, and a record released at every delivery is archived at the delivery count limit', async () => {
    const topicId = await createTopic('queue-acks');
    const rejecting = consumer('ga', 'queue-acks', ['-a', 'reject-mod:5', '-i', '2500']);
    await sharePartitionReady('ga', topicId);
    await produce('queue-acks', 'a', 20, 10);
    const rejected = await rejecting.done;
    // every record once; offsets 0, 5, 10, 15 rejected and never delivered again
    expect(rejected.deliveries.map((d) => d.offset).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(rejected.deliveries.filter((d) => d.ack === 'reject').map((d) => d.offset).sort((x, y) => x - y)).toEqual([0, 5, 10, 15]);

    const relTopicId = await createTopic('queue-release');
    const releasing = consumer('gr', 'queue-release', ['-a', 'release-first', '-i', '2500']);
    await sharePartitionReady('gr', relTopicId);
    await produce('queue-release', 'x', 10, 10);
    const released = await releasing.done;
    for (let offset = 0; offset < 10; offset++) {
      expect(released.deliveries.filter((d) => d.offset === offset).map((d) => [d.deliveryCount, d.ack])).toEqual([
        [1, 'release'],
        [2, 'accept'],
      ]);
    }

    const limitTopicId = await createTopic('queue-limit');
    const always = consumer('gl', 'queue-limit', ['-a', 'release-always', '-i', '2500']);
    await sharePartitionReady('gl', limitTopicId);
    await produce('queue-limit', 'l', 5, 5);
    const limited = await always.done;
    // delivered group.share.delivery.count.limit (3) times, then archived
    for (let offset = 0; offset < 5; offset++) expect(limited.deliveries.filter((d) => d.offset === offset).map((d) => d.deliveryCount)).toEqual([1, 2, 3]);
    expect(broker.broker.shareFetches.partitions.sharePartition('gl', limitTopicId, 0)?.startOffset()).toBe(5);
  }, 40_000);

  it('a broker restart keeps the share-partition state: acknowledged records are not delivered again', async () => {
    const topicId = await createTopic('queue-restart');
    const first = consumer('gs', 'queue-restart', ['-a', 'accept', '-n', '300']);
    await sharePartitionReady('gs', topicId);
    await produce('queue-restart', 's', 1000, 100);
    const before = await first.done;
    // its close left the group and then sent its last acknowledgements: they apply
    expect(before.lines.filter((l) => l.ackError !== undefined)).toEqual([]);
    const seen = new Set(before.deliveries.map((d) => d.value));
    expect(seen.size).toBe(before.deliveries.length);

    await broker.close();
    broker = await startBroker({ port, dataDir, config: CONFIG });
    const second = consumer('gs', 'queue-restart', ['-a', 'accept', '-i', '3000']);
    const after = await second.done;
    const values = after.deliveries.map((d) => d.value);
    // no accepted record again; together every record
    expect(values.filter((v) => seen.has(v))).toEqual([]);
    expect([...seen, ...values].sort()).toEqual(range(1000, 's').sort());
  }, 40_000);

  it('a classic consumer group (kafkajs) and a share group on the same topic each see every record', async () => {
    const topicId = await createTopic('queue-both');
    const share = [consumer('gb-share', 'queue-both'), consumer('gb-share', 'queue-both')];
    await sharePartitionReady('gb-share', topicId);
    await produce('queue-both', 'b', 500, 50);

    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'classic', logLevel: logLevel.NOTHING });
    const classic = kafka.consumer({ groupId: 'gb-classic' });
    const classicSeen: string[] = [];
    await classic.connect();
    await classic.subscribe({ topic: 'queue-both', fromBeginning: true });
    await classic.run({ eachMessage: async ({ message }) => void classicSeen.push(message.value!.toString()) });
    try {
      const shared = () => share.flatMap((c) => c.deliveries);
      await until(() => shared().length >= 500 && classicSeen.length >= 500, 'both groups to read every record');
      // a moment for anything delivered twice to show, then the share consumers stop
      await new Promise((r) => setTimeout(r, 500));
      for (const c of share) c.child.kill('SIGKILL');
      const runs = await Promise.all(share.map((c) => c.done));
      // the classic group: every record, in order (one partition); the share group: every record once, split
      expect(classicSeen).toEqual(range(500, 'b'));
      expect(runs.flatMap((r) => r.deliveries.map((d) => d.value)).sort()).toEqual(range(500, 'b').sort());
      expect(runs.flatMap((r) => r.deliveries).every((d) => d.ack === 'implicit')).toBe(true);
    } finally {
      await classic.disconnect();
    }
  }, 40_000);
});
