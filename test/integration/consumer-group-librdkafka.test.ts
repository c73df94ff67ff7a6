/**
 * KIP-848 consumer groups with librdkafka 2.15 (test/helpers/librdkafka.ts), `group.protocol=consumer`,
 * through the compat suite's rdkafka_driver: it subscribes, is assigned every partition by the broker's
 * uniform assignor over ConsumerGroupHeartbeat, reads, commits at its member epoch and leaves on close;
 * the next member of the group resumes from the committed offsets. Two members started together share the
 * partitions (the broker revokes before it assigns); with a third that resumes from their commits they
 * read every message.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { librdkafka215, type Librdkafka } from '../helpers/librdkafka.js';

const run = promisify(execFile);

interface Line {
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly committed?: Array<{ partition: number; offset: number }>;
  readonly fatal?: string;
}

describe('consumer groups (KIP-848) with librdkafka 2.15', () => {
  let broker: RunningBroker;
  let rd: Librdkafka;

  beforeAll(async () => {
    rd = await librdkafka215();
    broker = await startBroker({ port: 0, config: { 'gregor.flush.acks.all': false } });
    await broker.broker.topics.create({ name: 'kip848', numPartitions: 3, replicationFactor: 1, configs: {} });
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
    const lines = values.map((v, i) => `${i % 3}\t0\t-\t${Buffer.from(v).toString('hex')}\t-\n`).join('');
    const [result] = await driver(['produce', 'kip848'], lines);
    expect(result).toMatchObject({ delivered: values.length, failed: 0 });
  }

  it('a group.protocol=consumer member reads every partition and commits; the next member resumes from the commits', async () => {
    await produce(Array.from({ length: 30 }, (_, i) => `m${i}`));
    const first = await driver(['-X', 'group.protocol=consumer', 'group', 'kip848', 'kip848-group', '30']);
    const read = first.filter((l) => l.value !== undefined);
    expect(read.map((l) => Buffer.from(l.value!, 'hex').toString()).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).sort());
    expect(first.at(-1)?.committed?.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: 10 },
      { partition: 1, offset: 10 },
      { partition: 2, offset: 10 },
    ]);

    await produce(['n0', 'n1', 'n2']);
    const second = await driver(['-X', 'group.protocol=consumer', 'group', 'kip848', 'kip848-group', '3']);
    expect(second.filter((l) => l.value !== undefined).map((l) => [l.partition, l.offset, Buffer.from(l.value!, 'hex').toString()]).sort()).toEqual([
      [0, 10, 'n0'],
      [1, 10, 'n1'],
      [2, 10, 'n2'],
    ]);
  }, 120_000);

  it('two group.protocol=consumer members started together share the partitions; with a third resuming from their commits, every message is read', async () => {
    await broker.broker.topics.create({ name: 'kip848-two', numPartitions: 4, replicationFactor: 1, configs: {} });
    const lines = Array.from({ length: 400 }, (_, i) => `${i % 4}\t0\t-\t${Buffer.from(`t${i}`).toString('hex')}\t-\n`).join('');
    const [produced] = await driver(['produce', 'kip848-two'], lines);
    expect(produced).toMatchObject({ delivered: 400, failed: 0 });
    const member = () => driver(['-X', 'group.protocol=consumer', 'group', 'kip848-two', 'kip848-two-group', '200']);
    const [a, b] = await Promise.all([member(), member()]);
    // what they committed leaves the rest for a third member: each partition from its highest commit on
    const committed = new Map<number, number>();
    for (const c of [...a, ...b].flatMap((l) => l.committed ?? [])) committed.set(c.partition, Math.max(committed.get(c.partition) ?? 0, c.offset));
    const rest = [0, 1, 2, 3].reduce((n, p) => n + 100 - (committed.get(p) ?? 0), 0);
    const c = rest === 0 ? [] : await driver(['-X', 'group.protocol=consumer', 'group', 'kip848-two', 'kip848-two-group', String(rest)]);
    const values = new Set([...a, ...b, ...c].filter((l) => l.value !== undefined).map((l) => Buffer.from(l.value!, 'hex').toString()));
    expect(values.size).toBe(400);
  }, 120_000);
});
