/**
 * An exactly-once consume-transform-produce pipeline on librdkafka (confluent-kafka-python 1.7.0 on librdkafka
 * 2.0.2, /usr/bin/python3, test/compat/clients/transactional_app.py) against a broker, crashed in the middle:
 * 10,000 input records in 4 partitions; the app consumes them read_committed, produces each upper-cased with its
 * input partition and offset to the output topic and commits its input offsets in the same transaction
 * (send_offsets_to_transaction), 100-500 records per transaction. After some commits it is killed (SIGKILL) with a
 * transaction open (half a batch produced and flushed, offsets sent). A new instance with the same transactional
 * id and group fences it (init_transactions aborts the open transaction), resumes from the committed offsets and
 * runs to the end: a read_committed consumer of the output sees every input exactly once, in input order per
 * partition; a read_uncommitted one also sees the aborted half batch; the group's offsets are at the input's end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';

const PYTHON = '/usr/bin/python3';
const APP = join(dirname(fileURLToPath(import.meta.url)), '../compat/clients/transactional_app.py');
const INPUT = 'eos-input';
const OUTPUT = 'eos-output';
const PARTITIONS = 4;
const RECORDS = 10_000;
const GROUP = 'eos-app';
const TRANSACTIONAL_ID = 'eos-app-0';
const CONFIG = {
  'transaction.state.log.num.partitions': 3,
  'offsets.topic.num.partitions': 3,
  'group.initial.rebalance.delay.ms': 0,
  // the app's session timeout is 2 s: the crashed instance leaves the group soon after the new one joins
  'group.min.session.timeout.ms': 1000,
};

let broker: RunningBroker;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent', config: CONFIG });
  for (const name of [INPUT, OUTPUT]) await broker.broker.topics.create({ name, numPartitions: PARTITIONS, replicationFactor: 1, configs: {} });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.close();
});

interface AppLine {
  committed?: number;
  open?: number;
  done?: boolean;
  commits: number;
  consumed: number;
}

/**
 * Runs the python script with `args`; `onLine` sees each JSON line of its output as it comes. Resolves with
 * every line once the process has ended (by itself or killed by onLine), rejects when it fails.
 */
function runPython(args: string[], onLine: (line: unknown, child: ChildProcess) => void = () => undefined): Promise<{ lines: unknown[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [APP, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const lines: unknown[] = [];
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = JSON.parse(out.slice(0, nl)) as unknown;
        out = out.slice(nl + 1);
        lines.push(line);
        onLine(line, child);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0 || signal === 'SIGKILL') resolve({ lines, signal });
      else reject(new Error(`${args[0]} exited with ${code ?? signal}\n${err}`));
    });
  });
}

async function read(isolation: 'read_committed' | 'read_uncommitted', expected: number): Promise<[number, number, string][]> {
  const { lines } = await runPython(['read', broker.bootstrap, OUTPUT, isolation, String(expected)]);
  return (lines[0] as { values: [number, number, string][] }).values;
}

describe('exactly-once consume-transform-produce with confluent-kafka-python, crashed and restarted', () => {
  it('the output has every input exactly once', async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y --no-install-recommends python3-confluent-kafka`);
    const kafka = new Kafka({ clientId: 'eos-input', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (let from = 0; from < RECORDS; from += 1000) {
      const messages = Array.from({ length: 1000 }, (_, k) => ({ key: `k${from + k}`, value: `in-${from + k}`, partition: (from + k) % PARTITIONS }));
      await producer.send({ topic: INPUT, acks: -1, messages });
    }
    await producer.disconnect();

    // the first instance: killed after 8 commits, with its 9th transaction open
    const first = await runPython(['run', broker.bootstrap, INPUT, OUTPUT, GROUP, TRANSACTIONAL_ID, '--open-after', '8'], (line, child) => {
      if ((line as AppLine).open !== undefined) child.kill('SIGKILL');
    });
    expect(first.signal).toBe('SIGKILL');
    const firstLines = first.lines as AppLine[];
    const opened = firstLines[firstLines.length - 1]!;
    expect(opened).toMatchObject({ commits: 8 });
    expect(opened.open).toBeGreaterThan(0);
    expect(firstLines.filter((l) => l.committed !== undefined)).toHaveLength(8);
    expect(firstLines.every((l) => (l.committed ?? l.open!) > 0 && (l.committed ?? l.open!) <= 500)).toBe(true);

    // the second: fences the first, aborts its open transaction, resumes at the committed offsets
    const second = await runPython(['run', broker.bootstrap, INPUT, OUTPUT, GROUP, TRANSACTIONAL_ID]);
    const done = second.lines[second.lines.length - 1] as AppLine;
    expect(done).toMatchObject({ done: true });
    expect(done.consumed).toBe(RECORDS - opened.consumed);

    const committed = await read('read_committed', RECORDS);
    expect(committed).toHaveLength(RECORDS);
    const seen = new Map<number, number>();
    for (const [partition, , value] of committed) {
      const m = /^IN-(\d+)\|(\d+):(\d+)$/.exec(value);
      expect(m, value).not.toBeNull();
      const i = Number(m![1]);
      expect([Number(m![2]), i % PARTITIONS]).toEqual([partition, partition]);
      seen.set(i, (seen.get(i) ?? 0) + 1);
    }
    expect(seen.size).toBe(RECORDS);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    for (let p = 0; p < PARTITIONS; p++) {
      // input order within each partition: input offsets strictly increasing along the output's offsets
      const inputOffsets = committed.filter(([partition]) => partition === p).sort((a, b) => a[1] - b[1]).map(([, , v]) => Number(v.split(':')[1]));
      expect(inputOffsets).toEqual(Array.from({ length: RECORDS / PARTITIONS }, (_, k) => k));
    }

    // the aborted half batch is in the log: read_uncommitted sees it as well
    const uncommitted = await read('read_uncommitted', RECORDS + opened.open!);
    expect(uncommitted).toHaveLength(RECORDS + opened.open!);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [INPUT] });
      expect(offsets[0]!.partitions.map((p) => Number(p.offset))).toEqual(Array.from({ length: PARTITIONS }, () => RECORDS / PARTITIONS));
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
