/**
 * Online migration between the classic and the consumer protocol with real
 * clients: a kafkajs 2.2.4 consumer group (classic protocol) is being
 * consumed when a librdkafka 2.15 member with group.protocol=consumer joins
 * the same group (through the compat suite's rdkafka_driver, as
 * consumer-group-librdkafka.test.ts). The group is upgraded to a consumer
 * group, the partitions are split between the two, and every message is read
 * by one of them only, with commits; the librdkafka member leaving downgrades
 * the group to a classic group again and kafkajs gets every partition. With
 * group.consumer.migration.policy=disabled the join is refused with Kafka's
 * error.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { librdkafka215, type Librdkafka } from '../helpers/librdkafka.js';
import { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);

interface Line {
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly committed?: Array<{ partition: number; offset: number }>;
  readonly fatal?: string;
}

const TOPIC = 'migration';
const GROUP = 'migration-group';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('classic <-> consumer group migration with kafkajs and librdkafka 2.15', () => {
  let broker: RunningBroker;
  let rd: Librdkafka;

  beforeAll(async () => {
    rd = await librdkafka215();
    broker = await startBroker({ port: 0, config: { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'gregor.flush.acks.all': false, 'group.initial.rebalance.delay.ms': 0, 'group.consumer.heartbeat.interval.ms': 500 } });
    await broker.broker.topics.create({ name: TOPIC, numPartitions: 4, replicationFactor: 1, configs: {} });
  }, 600_000);
  afterAll(async () => {
    await broker?.close();
  });

  function kafka(port: number): Kafka {
    return new Kafka({ clientId: 'kafkajs-migration', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
  }

  async function produce(prefix: string, count: number): Promise<string[]> {
    const producer = kafka(broker.port).producer();
    await producer.connect();
    const values = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    await producer.send({ topic: TOPIC, messages: values.map((value, i) => ({ value, partition: i % 4 })) });
    await producer.disconnect();
    return values;
  }

  async function describeGroup(c: RawClient) {
    return (await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: [GROUP], includeAuthorizedOperations: false })).groups[0]!;
  }

  it('kafkajs consumes; a group.protocol=consumer member joins: upgrade, split, each message read once with commits; it leaves: downgrade, kafkajs reads everything', async () => {
    const raw = await RawClient.connect(broker.port, '127.0.0.1', 'migration-observer');
    let consumer: Consumer | undefined;
    try {
      // kafkajs alone: the classic group reads the first messages and commits
      const byKafkajs = new Map<string, number>();
      let assigned: number[] = [];
      consumer = kafka(broker.port).consumer({ groupId: GROUP, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 500 });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        assigned = [...(e.payload.memberAssignment[TOPIC] ?? [])].sort();
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const v = message.value!.toString();
          byKafkajs.set(v, (byKafkajs.get(v) ?? 0) + 1);
        },
      });
      const first = await produce('a', 40);
      await until('kafkajs to read the first messages', () => first.every((v) => byKafkajs.has(v)));
      const admin = kafka(broker.port).admin();
      await admin.connect();
      const committed = async (): Promise<number> => (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
      await until('kafkajs to commit the first messages', async () => (await committed()) === 40);
      expect(assigned).toEqual([0, 1, 2, 3]);

      // librdkafka joins with the consumer protocol: it reads 20 messages (its two partitions' share), commits and leaves
      const driver = run(rd.bin.driver!, ['-b', `127.0.0.1:${broker.port}`, '-T', '60000', '-X', 'group.protocol=consumer', 'group', TOPIC, GROUP, '20'], { encoding: 'utf8', timeout: 90_000 });
      driver.child.stdin?.end();
      // the group is a consumer group of a classic member (0) and a consumer member (1), each with two partitions
      await until('the upgrade and the split', async () => {
        const g = await describeGroup(raw);
        return (
          g.errorCode === ErrorCode.NONE &&
          g.groupState === 'Stable' &&
          g.members.length === 2 &&
          g.members.every((m) => m.assignment.topicPartitions.reduce((n, t) => n + t.partitions.length, 0) === 2)
        );
      });
      const g = await describeGroup(raw);
      expect(g.members.map((m) => m.memberType).sort()).toEqual([0, 1]);
      await until('kafkajs to be given its two partitions', () => assigned.length === 2);
      const kafkajsPartitions = assigned;

      const second = await produce('b', 40);
      const { stdout } = await driver;
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
      const fatal = lines.find((l) => l.fatal !== undefined);
      if (fatal) throw new Error(`rdkafka_driver: ${fatal.fatal}`);
      const byLibrdkafka = lines.filter((l) => l.value !== undefined);
      const librdkafkaValues = byLibrdkafka.map((l) => Buffer.from(l.value!, 'hex').toString());
      // librdkafka read its two partitions of the second batch, from the offsets kafkajs committed
      expect(librdkafkaValues.every((v) => v.startsWith('b'))).toBe(true);
      expect(new Set(byLibrdkafka.map((l) => l.partition)).size).toBe(2);
      expect(byLibrdkafka.some((l) => kafkajsPartitions.includes(l.partition!))).toBe(false);

      // every message of the second batch was read, each by one of them only
      await until('kafkajs to read its share of the second batch', () => second.every((v) => byKafkajs.has(v) || librdkafkaValues.includes(v)));
      expect(librdkafkaValues.filter((v) => byKafkajs.has(v))).toEqual([]);
      expect(new Set([...librdkafkaValues, ...[...byKafkajs.keys()].filter((v) => v.startsWith('b'))])).toEqual(new Set(second));

      // librdkafka left: the group is classic again, kafkajs is given every partition and reads what comes
      await until('the downgrade and kafkajs rebalanced to all partitions', () => assigned.length === 4);
      const listed = (await raw.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: [] })).groups.find((x) => x.groupId === GROUP);
      expect(listed).toMatchObject({ groupType: 'classic', protocolType: 'consumer' });
      const third = await produce('c', 20);
      await until('kafkajs to read the third batch', () => third.every((v) => byKafkajs.has(v)));
      await until('every message committed', async () => (await committed()) === 100);
      await admin.disconnect();
    } finally {
      await consumer?.disconnect();
      raw.close();
    }
  }, 240_000);

  it('with group.consumer.migration.policy=disabled a consumer-protocol join to the running kafkajs group is GROUP_ID_NOT_FOUND', async () => {
    const off = await startBroker({ port: 0, config: { 'gregor.flush.acks.all': false, 'group.initial.rebalance.delay.ms': 0, 'group.consumer.migration.policy': 'disabled' } });
    let consumer: Consumer | undefined;
    const raw = await RawClient.connect(off.port, '127.0.0.1', 'migration-observer');
    try {
      await off.broker.topics.create({ name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: {} });
      let joined = false;
      consumer = kafka(off.port).consumer({ groupId: GROUP, heartbeatInterval: 500 });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      await until('kafkajs to join', () => joined);
      const res = await raw.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
        groupId: GROUP,
        memberId: 'rdkafka-like-member-0000',
        memberEpoch: 0,
        rebalanceTimeoutMs: 5000,
        subscribedTopicNames: [TOPIC],
        topicPartitions: [],
      });
      expect(res).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Cannot upgrade classic group ${GROUP} to consumer group because online upgrade is disabled.` });
    } finally {
      await consumer?.disconnect();
      raw.close();
      await off.close();
    }
  }, 120_000);
});
