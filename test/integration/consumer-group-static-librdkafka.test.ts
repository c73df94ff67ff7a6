/**
 * A static member (group.instance.id) of a KIP-848 consumer group with librdkafka 2.15
 * (`group.protocol=consumer`, the compat suite's rdkafka_driver): a consumer reads and commits, closes (a
 * static member leaves with epoch -2 and keeps its partitions), and a new consumer process with the same
 * instance id — a new member id — takes its place with its partitions and resumes from the commits.
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
  readonly fatal?: string;
}

describe('a static consumer group member (KIP-848) with librdkafka 2.15', () => {
  let broker: RunningBroker;
  let rd: Librdkafka;

  beforeAll(async () => {
    rd = await librdkafka215();
    broker = await startBroker({ port: 0, config: { 'gregor.flush.acks.all': false } });
    await broker.broker.topics.create({ name: 'kip848-static', numPartitions: 2, replicationFactor: 1, configs: {} });
  }, 600_000);
  afterAll(async () => {
    await broker?.close();
  });

  async function driver(args: string[], stdin = ''): Promise<Line[]> {
    const child = run(rd.bin.driver!, ['-b', `127.0.0.1:${broker.port}`, '-T', '30000', ...args], { encoding: 'utf8', timeout: 60_000 });
    child.child.stdin?.end(stdin);
    const { stdout } = await child;
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
    const fatal = lines.find((l) => l.fatal !== undefined);
    if (fatal) throw new Error(`rdkafka_driver: ${fatal.fatal}`);
    return lines;
  }

  async function produce(values: string[]): Promise<void> {
    const lines = values.map((v, i) => `${i % 2}\t0\t-\t${Buffer.from(v).toString('hex')}\t-\n`).join('');
    const [result] = await driver(['produce', 'kip848-static'], lines);
    expect(result).toMatchObject({ delivered: values.length, failed: 0 });
  }

  const member = (count: number): Promise<Line[]> =>
    driver(['-X', 'group.protocol=consumer', '-X', 'group.instance.id=static-1', 'group', 'kip848-static', 'kip848-static-group', String(count)]);
  const valuesOf = (lines: Line[]): string[] => lines.filter((l) => l.value !== undefined).map((l) => Buffer.from(l.value!, 'hex').toString()).sort();

  async function describeGroup() {
    const c = await RawClient.connect(broker.port);
    try {
      const res = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 0, { groupIds: ['kip848-static-group'], includeAuthorizedOperations: false });
      return res.groups[0]!;
    } finally {
      c.close();
    }
  }

  it('a restarted consumer with the same group.instance.id takes its place and resumes from the commits', async () => {
    await produce(['a0', 'a1', 'a2', 'a3']);
    expect(valuesOf(await member(4))).toEqual(['a0', 'a1', 'a2', 'a3']);
    // closed: it left for a while (epoch -2), keeping both partitions under its instance id
    const away = await describeGroup();
    expect(away.errorCode).toBe(ErrorCode.NONE);
    expect(away.members.map((m) => [m.instanceId, m.memberEpoch])).toEqual([['static-1', -2]]);
    const firstId = away.members[0]!.memberId;

    await produce(['b0', 'b1']);
    expect(valuesOf(await member(2))).toEqual(['b0', 'b1']);
    // the second process replaced the first under a new member id, with the same partitions and no rebalance
    const after = await describeGroup();
    expect(after.members.map((m) => m.instanceId)).toEqual(['static-1']);
    expect(after.members[0]!.memberId).not.toBe(firstId);
    expect(after.members[0]!.assignment.topicPartitions.flatMap((t) => t.partitions).sort()).toEqual([0, 1]);
    expect(after.groupEpoch).toBe(away.groupEpoch);
  }, 180_000);
});
