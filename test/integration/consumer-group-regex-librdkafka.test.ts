/**
 * A regular-expression subscription (KIP-848's SubscribedTopicRegex) from librdkafka 2.15
 * (test/helpers/librdkafka.ts) with `group.protocol=consumer`, through the compat suite's rdkafka_driver:
 * it subscribes to `^rx-lib-.*` (librdkafka reads a topic that starts with `^` as a regular expression and
 * sends it to the broker), reads the topic that matched when it joined and, once the broker resolves the
 * expression again, a topic created after it subscribed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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

describe('regular-expression subscriptions (KIP-848) with librdkafka 2.15', () => {
  let broker: RunningBroker;
  let rd: Librdkafka;

  beforeAll(async () => {
    rd = await librdkafka215();
    broker = await startBroker({ port: 0, config: { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'gregor.flush.acks.all': false, 'group.consumer.heartbeat.interval.ms': 500 } });
  }, 600_000);
  afterAll(async () => {
    await broker?.close();
  });

  async function driver(args: string[], stdin = ''): Promise<Line[]> {
    const child = run(rd.bin.driver!, ['-b', `127.0.0.1:${broker.port}`, '-T', '40000', ...args], { encoding: 'utf8', timeout: 60_000 });
    child.child.stdin?.end(stdin);
    const { stdout } = await child;
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
    const fatal = lines.find((l) => l.fatal !== undefined);
    if (fatal) throw new Error(`rdkafka_driver: ${fatal.fatal}`);
    return lines;
  }

  async function produce(topic: string, partitions: number, values: string[]): Promise<void> {
    const lines = values.map((v, i) => `${i % partitions}\t0\t-\t${Buffer.from(v).toString('hex')}\t-\n`).join('');
    const [result] = await driver(['produce', topic], lines);
    expect(result).toMatchObject({ delivered: values.length, failed: 0 });
  }

  /** Waits until ConsumerGroupDescribe shows a member of the group subscribed by regex with partitions assigned. */
  async function untilAssigned(groupId: string): Promise<void> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'rx-lib-watch');
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const res = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: [groupId], includeAuthorizedOperations: false });
        const group = res.groups[0]!;
        if (group.errorCode === ErrorCode.NONE && group.members.some((m) => m.assignment.topicPartitions.length > 0)) {
          // librdkafka sends its expressions joined as `(re1)|(re2)`, each with its `^`
          expect(group.members[0]!.subscribedTopicRegex).toBe('(^rx-lib-.*)');
          return;
        }
        if (Date.now() > deadline) throw new Error(`group ${groupId} has no assignment: ${JSON.stringify(group)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      c.close();
    }
  }

  it('a member subscribed to ^rx-lib-.* reads a topic created after it subscribed', async () => {
    await broker.broker.topics.create({ name: 'rx-lib-first', numPartitions: 2, replicationFactor: 1, configs: {} });
    await broker.broker.topics.create({ name: 'rx-other', numPartitions: 1, replicationFactor: 1, configs: {} });
    await produce('rx-lib-first', 2, Array.from({ length: 10 }, (_, i) => `first-${i}`));
    await produce('rx-other', 1, ['other-0']);

    const consumer = driver(['-X', 'group.protocol=consumer', 'group', '^rx-lib-.*', 'rx-lib-group', '16']);
    await untilAssigned('rx-lib-group');

    await broker.broker.topics.create({ name: 'rx-lib-later', numPartitions: 3, replicationFactor: 1, configs: {} });
    await produce('rx-lib-later', 3, Array.from({ length: 6 }, (_, i) => `later-${i}`));

    const lines = await consumer;
    const values = lines.filter((l) => l.value !== undefined).map((l) => Buffer.from(l.value!, 'hex').toString());
    expect(values.sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `first-${i}`), ...Array.from({ length: 6 }, (_, i) => `later-${i}`)].sort());
  }, 180_000);
});
