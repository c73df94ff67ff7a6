/**
 * Transactions with librdkafka 2.15 (built from the source in @confluentinc/kafka-javascript,
 * test/helpers/librdkafka.ts) through its C API: test/compat/clients/rdkafka_txn.c, a transactional producer
 * driven by a script, compiled at test time against it; read back by librdkafka 2.15 too (the compat
 * suite's rdkafka_driver, isolation.level read_committed and read_uncommitted).
 *
 * - init_transactions, a committed transaction of 50 messages and an aborted one of 30 over two partitions:
 *   read_committed sees exactly the 50, in order per partition; read_uncommitted all 80.
 * - transaction.timeout.ms 1000: the coordinator aborts the transaction (epoch bump); the producer's next
 *   message fails and librdkafka raises its fatal error (_FENCED: the broker answers the old epoch's Produce
 *   INVALID_PRODUCER_EPOCH, EndTxn PRODUCER_FENCED, as Kafka does). As librdkafka documents for a fatal
 *   error, the application makes a new producer with the same transactional.id: init_transactions and a
 *   commit succeed; read_committed sees nothing of the timed-out transaction.
 * - consume-transform-produce: a read_committed group consumer reads 20 input messages, the producer
 *   forwards them and send_offsets_to_transaction with the consumer's group metadata, commits; then 10
 *   more the same way, aborted. The group's committed offset is 20 (the aborted one never applied), the
 *   output's read_committed view the 20 forwarded.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { compileWithLibrdkafka, librdkafka215, type Librdkafka } from '../helpers/librdkafka.js';
import { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);

interface Step {
  readonly cmd: string;
  readonly error: null | { name: string; text: string; fatal?: boolean; retriable?: boolean; abortable?: boolean };
  readonly delivered?: number;
  readonly failed?: number;
  readonly errors?: string[];
  readonly messages?: { partition: number; offset: number; key: string | null; value: string | null }[];
  readonly offsets?: { partition: number; offset: number }[];
}

interface Read {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const unhex = (h: string | null): string | null => (h === null ? null : Buffer.from(h, 'hex').toString('utf8'));
const produceLine = (topic: string, partition: number, value: string): string => `produce ${topic} ${partition} ${hex(`k-${value}`)} ${hex(value)} -`;

let rd: Librdkafka;
let txnBinary: string;
let broker: RunningBroker;
let client: RawClient;

/** rdkafka_txn.c, built once per source against librdkafka 2.15 (cached in the temp dir). */
async function buildTxnProgram(): Promise<string> {
  const source = resolve(dirname(fileURLToPath(import.meta.url)), '../compat/clients/rdkafka_txn.c');
  const hash = createHash('sha256').update(readFileSync(source)).update(rd.libDir).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `gregor-test-native-${hash}`);
  const binary = join(dir, 'rdkafka_txn');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  return compileWithLibrdkafka(rd, source, binary, ['-O1', '-Wall', '-Werror', '-std=gnu11']);
}

/** Runs a script through the transactional producer; resolves to its steps' answers. */
function txn(transactionalId: string, script: string[], props: Record<string, string> = {}): Promise<Step[]> {
  const x = Object.entries({ 'transactional.id': transactionalId, 'linger.ms': '5', ...props }).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(txnBinary, ['-b', `127.0.0.1:${broker.port}`, ...x], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Step & { fatal?: string });
      const broken = lines.find((l) => l.fatal !== undefined && l.cmd === undefined);
      if (code !== 0 || broken !== undefined) reject(new Error(`rdkafka_txn exit ${code}: ${broken?.fatal ?? ''}\n${stderr}`));
      else resolvePromise(lines);
    });
    child.stdin.end(script.map((l) => `${l}\n`).join(''));
  });
}

/** librdkafka 2.15 reads partitions from the beginning to their end (the LSO for read_committed). */
async function read(topic: string, partitions: number[], isolation: 'read_committed' | 'read_uncommitted'): Promise<Read[]> {
  const { stdout } = await run(
    rd.bin.driver!,
    ['-b', `127.0.0.1:${broker.port}`, '-X', `isolation.level=${isolation}`, 'consume', topic, partitions.join(','), 'beginning'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { partition: number; offset: number; value: string; fatal?: string })
    .map((l) => {
      if (l.fatal !== undefined) throw new Error(`rdkafka_driver: ${l.fatal}`);
      return { partition: l.partition, offset: l.offset, value: unhex(l.value)! };
    });
}

/** Waits until the coordinator has written the transaction's markers (its state is CompleteCommit/CompleteAbort). */
async function completed(transactionalId: string): Promise<string> {
  let state = '';
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const res = await client.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: [transactionalId] });
    state = res.transactionStates[0]!.transactionState;
    if (state === 'CompleteCommit' || state === 'CompleteAbort' || state === 'Empty') break;
  }
  return state;
}

const ok = (steps: Step[], cmd: string): Step[] => steps.filter((s) => s.cmd === cmd);
const values = (reads: Read[], partition?: number): string[] => reads.filter((r) => partition === undefined || r.partition === partition).map((r) => r.value);

beforeAll(async () => {
  rd = await librdkafka215(); // built on first use (minutes; .ci/run builds it first)
  txnBinary = await buildTxnProgram();
  broker = await startBroker({
    port: 0,
    logLevel: 'silent',
    config: {
      'transaction.state.log.num.partitions': 3,
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': 200,
      'group.initial.rebalance.delay.ms': 0,
    },
  });
  for (const [name, numPartitions] of [['rd-txn', 2], ['rd-txn-timeout', 1], ['rd-ctp-in', 1], ['rd-ctp-out', 2]] as const) {
    await broker.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
  }
  client = await RawClient.connect(broker.port);
}, 600_000);
afterAll(async () => {
  client?.close();
  await broker?.close();
});

describe('transactions with librdkafka 2.15', () => {
  it('commits 50 messages and aborts 30: read_committed sees the 50, read_uncommitted all 80', async () => {
    const committed = Array.from({ length: 50 }, (_, i) => `committed-${i}`);
    const aborted = Array.from({ length: 30 }, (_, i) => `aborted-${i}`);
    const steps = await txn('rd-txn-1', [
      'init 30000',
      'begin',
      ...committed.map((v, i) => produceLine('rd-txn', i % 2, v)),
      'commit 30000',
      'begin',
      ...aborted.map((v, i) => produceLine('rd-txn', i % 2, v)),
      'flush 30000',
      'abort 30000',
    ]);
    expect(steps.map((s) => [s.cmd, s.error])).toEqual([
      ['init', null],
      ['begin', null],
      ['commit', null],
      ['begin', null],
      ['flush', null],
      ['abort', null],
    ]);
    expect(ok(steps, 'abort')[0]).toMatchObject({ delivered: 80, failed: 0 });
    expect(await completed('rd-txn-1')).toBe('CompleteAbort');

    const rc = await read('rd-txn', [0, 1], 'read_committed');
    for (const p of [0, 1]) expect(values(rc, p)).toEqual(committed.filter((_, i) => i % 2 === p));
    const ru = await read('rd-txn', [0, 1], 'read_uncommitted');
    for (const p of [0, 1]) expect(values(ru, p)).toEqual([...committed, ...aborted].filter((v) => Number(v.split('-')[1]) % 2 === p));
  }, 120_000);

  it('a transaction the coordinator aborts on timeout: the next message fails, librdkafka raises its fatal error; a new producer goes on', async () => {
    const steps = await txn(
      'rd-txn-timeout',
      [
        'init 30000',
        'begin',
        ...[0, 1, 2, 3, 4].map((i) => produceLine('rd-txn-timeout', 0, `timed-out-${i}`)),
        'flush 30000',
        // the coordinator aborts the transaction after 1000 ms (checked every 200 ms)
        'sleep 3000',
        produceLine('rd-txn-timeout', 0, 'timed-out-late'),
        'flush 30000',
        'commit 30000',
        'fatal',
        'new',
        'init 30000',
        'begin',
        ...[0, 1, 2].map((i) => produceLine('rd-txn-timeout', 0, `after-${i}`)),
        'commit 30000',
      ],
      { 'transaction.timeout.ms': '1000' },
    );
    const [firstFlush, lateFlush] = ok(steps, 'flush');
    expect(firstFlush).toMatchObject({ error: null, delivered: 5, failed: 0 });
    // the late message is refused (the broker answers INVALID_PRODUCER_EPOCH: librdkafka fails it as fenced)
    expect(lateFlush).toMatchObject({ delivered: 5, failed: 1 });
    expect(lateFlush!.errors![0]).toMatch(/^INVALID_PRODUCER_EPOCH: /);
    const [failedCommit, goodCommit] = ok(steps, 'commit');
    expect(failedCommit!.error).toMatchObject({ name: '_FENCED', fatal: true, abortable: false });
    expect(ok(steps, 'fatal')[0]!.error).toMatchObject({ name: '_FENCED' });
    expect(ok(steps, 'init').map((s) => s.error)).toEqual([null, null]);
    expect(goodCommit).toMatchObject({ error: null, delivered: 8 });
    expect(await completed('rd-txn-timeout')).toBe('CompleteCommit');

    expect(values(await read('rd-txn-timeout', [0], 'read_committed'))).toEqual(['after-0', 'after-1', 'after-2']);
    expect(values(await read('rd-txn-timeout', [0], 'read_uncommitted'))).toEqual([0, 1, 2, 3, 4].map((i) => `timed-out-${i}`).concat(['after-0', 'after-1', 'after-2']));
  }, 120_000);

  it('consume-transform-produce with send_offsets_to_transaction: the committed round moves the group, the aborted one does not', async () => {
    const input = Array.from({ length: 30 }, (_, i) => `in-${i}`);
    const seeded = await txn('rd-ctp-seed', ['init 30000', 'begin', ...input.map((v) => produceLine('rd-ctp-in', 0, v)), 'commit 30000']);
    expect(ok(seeded, 'commit')[0]).toMatchObject({ error: null, delivered: 30 });

    const steps = await txn('rd-ctp', [
      'init 30000',
      'consume rd-ctp-group rd-ctp-in 20',
      'begin',
      'forward rd-ctp-out',
      'send-offsets 30000',
      'commit 30000',
      'consume rd-ctp-group rd-ctp-in 10',
      'begin',
      'forward rd-ctp-out',
      'send-offsets 30000',
      'flush 30000',
      'abort 30000',
      'sleep 500',
      'committed 30000',
    ]);
    const [round1, round2] = ok(steps, 'consume');
    expect(round1!.messages!.map((m) => unhex(m.value))).toEqual(input.slice(0, 20));
    expect(round2!.messages!.map((m) => unhex(m.value))).toEqual(input.slice(20));
    expect(ok(steps, 'send-offsets').map((s) => [s.error, s.offsets])).toEqual([
      [null, [{ partition: 0, offset: 20 }]],
      [null, [{ partition: 0, offset: 30 }]],
    ]);
    expect(ok(steps, 'commit')[0]!.error).toBeNull();
    expect(ok(steps, 'abort')[0]!.error).toBeNull();
    expect(ok(steps, 'committed')[0]).toMatchObject({ error: null, offsets: [{ partition: 0, offset: 20 }] });
    expect(await completed('rd-ctp')).toBe('CompleteAbort');

    const out = await read('rd-ctp-out', [0, 1], 'read_committed');
    expect(values(out).sort()).toEqual(input.slice(0, 20).sort());
    expect(values(await read('rd-ctp-out', [0, 1], 'read_uncommitted')).sort()).toEqual([...input].sort());
  }, 120_000);
});
