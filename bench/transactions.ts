/**
 * Transactions benchmark (prints numbers, asserts nothing): what transactions cost a producer and a
 * read_committed consumer, each against its baseline measured in the same run.
 *
 * 1. Produce (ROUNDS rounds, each an idempotent run then a transactional one; medians and their ratio):
 *    PRODUCERS kafkajs producers (bench/kafkajs-load.ts, pinned to the client core) write 1 KiB
 *    records, RECORDS per request, acks=all, to a topic of PARTITIONS partitions for DURATION s after a
 *    warm-up: idempotent producers (the baseline), then transactional ones (one transaction per request:
 *    AddPartitionsToTxn, Produce, EndTxn commit), each on a broker of its own (fresh data directory,
 *    broker pinned to the server core; acks=all waits for fdatasync, as by default, unless --no-flush:
 *    gregor.flush.acks.all=false, Kafka's own default of no fsync per write). Printed: records/s
 *    and MB/s of each, the ratio transactional / idempotent (target >= 0.7), and the commit latency
 *    (EndTxn as the client sees it) p50/p99/max.
 * 2. Consume: after the last transactional run, MIXED_S more seconds of transactions of which one in ten is
 *    aborted; the broker is restarted on that data directory and one raw-frame client (Fetch v12, every
 *    partition in each request, 8 MiB per fetch, records kept as bytes) reads the whole topic from offset 0
 *    to its end, alternately with read_uncommitted and read_committed (PASSES each, after one pass of each
 *    not counted). Printed: MB/s of each (median), and the ratio read_committed / read_uncommitted
 *    (target >= 0.9); both read the same bytes (the LSO is the high watermark once every transaction has
 *    ended).
 *
 * Run: npm run build && npm run bench:txn [-- --duration S --warmup S --producers N --partitions N
 *      --records N --rounds N --passes N --no-flush --profile]
 * With --profile each broker runs with --cpu-prof; the top self-time functions of each phase are printed.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { schemas } from '../protocol/index.js';
import { formatSummary, summarizeProfile } from './cpu-profile.js';
import { median } from './measure.js';
import { RawBenchClient } from './raw-client.js';
import { root, runTool, startGregor, type ServerProcess } from './processes.js';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    producers: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
    records: { type: 'string', default: '100' },
    'mixed-seconds': { type: 'string', default: '3' },
    passes: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    'no-flush': { type: 'boolean', default: false },
  },
  strict: true,
});

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = KiB;
const DURATION_S = Number(opts.duration);
const WARMUP_S = Number(opts.warmup);
const PRODUCERS = Number(opts.producers);
const PARTITIONS = Number(opts.partitions);
const RECORDS = Number(opts.records);
const MIXED_S = Number(opts['mixed-seconds']);
const PASSES = Number(opts.passes);
const ROUNDS = Number(opts.rounds);
const TOPIC = 'bench-txn';
const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
const kafkajsLoad = join(root, 'dist/bench/kafkajs-load.js');
const profileRoot = opts.profile ? mkdtempSync(join(os.tmpdir(), 'gregor-bench-txn-profiles-')) : undefined;
const scratch: string[] = [];


async function startBroker(dataDir: string, phase: string): Promise<ServerProcess> {
  const nodeArgs = profileRoot ? ['--cpu-prof', `--cpu-prof-dir=${join(profileRoot, phase)}`] : [];
  const flush = opts['no-flush'] ? ['-o', 'gregor.flush.acks.all=false'] : [];
  return startGregor({ dataDir, nodeArgs, args: ['-o', 'auto.create.topics.enable=false', ...flush] });
}

async function createTopic(bootstrap: string): Promise<void> {
  const c = await RawBenchClient.connect(bootstrap, 'bench-txn');
  const res = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
    topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  c.close();
  const error = res.topics[0]?.errorCode ?? -1;
  if (error !== 0) throw new Error(`creating ${TOPIC}: error ${error}`);
}

interface ProduceFigures {
  readonly msgsPerS: number;
  readonly mbPerS: number;
  readonly brokerCpuS: number;
  /** CPU seconds of the kafkajs process over the window. */
  readonly clientCpuS: number;
  readonly seconds: number;
  readonly commitP50Ms?: number;
  readonly commitP99Ms?: number;
  readonly commitMaxMs?: number;
  readonly commits?: number;
}

async function produce(broker: ServerProcess, mode: 'txn' | 'idempotent', abortEvery: number, warmupS: number, durationS: number): Promise<ProduceFigures> {
  const args =
    mode === 'txn'
      ? [kafkajsLoad, 'txn', broker.bootstrap, TOPIC, String(SIZE), String(RECORDS), String(PRODUCERS), String(abortEvery), String(warmupS), String(durationS)]
      : [kafkajsLoad, 'idempotent', broker.bootstrap, TOPIC, String(SIZE), String(RECORDS), String(PRODUCERS), String(warmupS), String(durationS)];
  const r = await runTool(process.execPath, args, { watch: [broker.pid], timeoutMs: (warmupS + durationS) * 1000 + 120_000 });
  const e = r.end;
  const seconds = Number(e.seconds);
  const num = (k: string): number | undefined => (typeof e[k] === 'number' ? e[k] : undefined);
  return {
    msgsPerS: Number(e.msgs) / seconds,
    mbPerS: Number(e.bytes) / 1e6 / seconds,
    brokerCpuS: r.watchedCpu[0] ?? 0,
    clientCpuS: r.toolCpu,
    seconds,
    commitP50Ms: num('commitP50Ms'),
    commitP99Ms: num('commitP99Ms'),
    commitMaxMs: num('commitMaxMs'),
    commits: num('commits'),
  };
}

/** Offset after the last whole batch of a partition's record bytes (the fetch offset itself when none). */
function nextOffset(records: Buffer, offset: number): number {
  let pos = 0;
  let next = offset;
  while (pos + 61 <= records.length) {
    const batchLength = records.readInt32BE(pos + 8);
    if (pos + 12 + batchLength > records.length) break;
    next = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23) + 1;
    pos += 12 + batchLength;
  }
  return next;
}

interface ReadFigures {
  readonly mbPerS: number;
  readonly bytes: number;
  readonly abortedListed: number;
}

/** Reads every partition from offset 0 to `ends` with one isolation level: MB/s of record bytes. */
async function readAll(c: RawBenchClient, isolationLevel: number, ends: readonly number[]): Promise<ReadFigures> {
  const offsets = ends.map(() => 0);
  let bytes = 0;
  let abortedListed = 0;
  const started = performance.now();
  while (offsets.some((o, p) => o < ends[p]!)) {
    const wanted = offsets.map((o, p) => ({ p, o })).filter(({ o, p }) => o < ends[p]!);
    const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 8 * MiB,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: TOPIC,
          partitions: wanted.map(({ p, o }) => ({ partition: p, fetchOffset: BigInt(o), partitionMaxBytes: 2 * MiB, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    for (const part of res.responses[0]?.partitions ?? []) {
      if (part.errorCode !== 0) throw new Error(`fetch ${TOPIC}-${part.partitionIndex}: error ${part.errorCode}`);
      const records = part.records as Buffer | null;
      abortedListed += part.abortedTransactions?.length ?? 0;
      if (!records || records.length === 0) continue;
      bytes += records.length;
      const next = nextOffset(records, offsets[part.partitionIndex]!);
      if (next <= offsets[part.partitionIndex]!) throw new Error(`fetch ${TOPIC}-${part.partitionIndex} at ${offsets[part.partitionIndex]}: no whole batch in 2 MiB`);
      offsets[part.partitionIndex] = next;
    }
  }
  return { mbPerS: bytes / 1e6 / ((performance.now() - started) / 1000), bytes, abortedListed };
}

/** High watermark and LSO of every partition (ListOffsets latest, each isolation level). */
async function ends(c: RawBenchClient, isolationLevel: number): Promise<number[]> {
  const res = await c.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, 7, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: TOPIC, partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n })) }],
  });
  const out = Array.from({ length: PARTITIONS }, () => 0);
  for (const p of res.topics[0]?.partitions ?? []) out[p.partitionIndex] = Number(p.offset);
  return out;
}

function dir(name: string): string {
  const d = mkdtempSync(join(os.tmpdir(), `gregor-bench-txn-${name}-`));
  scratch.push(d);
  return d;
}

function profileOf(phase: string): string {
  if (!profileRoot) return '';
  const d = join(profileRoot, phase);
  const files = readdirSync(d).filter((f) => f.endsWith('.cpuprofile'));
  return files.map((f) => formatSummary(summarizeProfile(join(d, f), 25))).join('\n');
}

const f1 = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(1));

async function main(): Promise<void> {
  console.log(
    `transactions: ${PRODUCERS} kafkajs producers, ${RECORDS} x 1 KiB records per request (per transaction), acks=all, ${PARTITIONS} partitions, ` +
      `${opts['no-flush'] ? 'gregor.flush.acks.all=false' : 'fdatasync before acks=all answers'}, ${WARMUP_S} s warm-up + ${DURATION_S} s; then read_committed vs read_uncommitted over the transactional data (${PASSES} passes each)`,
  );

  // 1. idempotent baseline, then transactions, each on a fresh broker; ROUNDS times, alternately
  const idems: ProduceFigures[] = [];
  const txns: ProduceFigures[] = [];
  let txnDir = '';
  let broker: ServerProcess;
  for (let round = 0; round < ROUNDS; round++) {
    const idemDir = dir('idempotent');
    broker = await startBroker(idemDir, 'idempotent');
    await createTopic(broker.bootstrap);
    idems.push(await produce(broker, 'idempotent', 0, WARMUP_S, DURATION_S));
    await broker.stop();
    rmSync(idemDir, { recursive: true, force: true });
    if (txnDir !== '') rmSync(txnDir, { recursive: true, force: true });
    txnDir = dir('txn');
    broker = await startBroker(txnDir, 'txn');
    await createTopic(broker.bootstrap);
    txns.push(await produce(broker, 'txn', 0, WARMUP_S, DURATION_S));
    await broker.stop();
  }
  // more data for the consumers, on the last round's: one transaction in ten aborted
  broker = await startBroker(txnDir, 'txn');
  const mixed = MIXED_S > 0 ? await produce(broker, 'txn', 10, 0, MIXED_S) : undefined;
  await broker.stop();

  const row = (label: string, f: ProduceFigures): string =>
    `  ${label.padEnd(32)} ${f.msgsPerS.toFixed(0).padStart(10)} ${f.mbPerS.toFixed(1).padStart(9)} ${f.brokerCpuS.toFixed(1).padStart(14)} ${f.clientCpuS.toFixed(1).padStart(14)}` +
    (f.commits ? `   commit p50 ${f1(f.commitP50Ms)} ms, p99 ${f1(f.commitP99Ms)} ms, max ${f1(f.commitMaxMs)} ms (${f.commits} commits)` : '');
  console.log('');
  console.log(`produce (1 KiB records, acks=all)     records/s      MB/s   broker CPU s   client CPU s   (CPU over the ${DURATION_S} s window)`);
  for (let round = 0; round < ROUNDS; round++) {
    console.log(row(`round ${round + 1} idempotent (baseline)`, idems[round]!));
    console.log(row(`round ${round + 1} transactional`, txns[round]!));
  }
  const idemMedian = median(idems.map((f) => f.msgsPerS));
  const txnMedian = median(txns.map((f) => f.msgsPerS));
  console.log(`  median records/s: idempotent ${idemMedian.toFixed(0)}, transactional ${txnMedian.toFixed(0)}`);
  console.log(
    `  ratio transactional / idempotent: ${(txnMedian / idemMedian).toFixed(2)} (target >= 0.7; per round: ${txns.map((t, i) => (t.msgsPerS / idems[i]!.msgsPerS).toFixed(2)).join(', ')})`,
  );
  console.log(
    `  commit latency (EndTxn), median of the rounds: p50 ${f1(median(txns.map((t) => t.commitP50Ms ?? 0)))} ms, p99 ${f1(median(txns.map((t) => t.commitP99Ms ?? 0)))} ms`,
  );
  if (mixed) console.log(`  (then ${MIXED_S} s with one transaction in ten aborted: ${mixed.msgsPerS.toFixed(0)} committed records/s)`);

  // 2. consume the transactional data, both isolation levels, alternately
  broker = await startBroker(txnDir, 'consume');
  const c = await RawBenchClient.connect(broker.bootstrap, 'bench-txn');
  const hw = await ends(c, READ_UNCOMMITTED);
  const lso = await ends(c, READ_COMMITTED);
  if (hw.some((h, p) => h !== lso[p])) console.log(`  note: LSO ${lso.join(',')} below the high watermark ${hw.join(',')}`);
  const uncommitted: ReadFigures[] = [];
  const committed: ReadFigures[] = [];
  // a first pass of each, not counted: the restarted broker opens its files and fills its caches
  await readAll(c, READ_UNCOMMITTED, hw);
  await readAll(c, READ_COMMITTED, lso);
  for (let i = 0; i < PASSES; i++) {
    uncommitted.push(await readAll(c, READ_UNCOMMITTED, hw));
    committed.push(await readAll(c, READ_COMMITTED, lso));
  }
  c.close();
  await broker.stop();
  const ru = median(uncommitted.map((r) => r.mbPerS));
  const rc = median(committed.map((r) => r.mbPerS));
  console.log('');
  console.log(`consume (raw Fetch v12, ${(uncommitted[0]!.bytes / MiB).toFixed(0)} MiB, ${hw.reduce((a, b) => a + b, 0)} offsets incl. markers)   MB/s (median of ${PASSES})`);
  console.log(`  read_uncommitted (baseline)       ${ru.toFixed(0).padStart(9)}   passes: ${uncommitted.map((r) => r.mbPerS.toFixed(0)).join(', ')}`);
  console.log(`  read_committed                    ${rc.toFixed(0).padStart(9)}   passes: ${committed.map((r) => r.mbPerS.toFixed(0)).join(', ')}; aborted transactions listed per pass: ${committed[0]!.abortedListed}`);
  console.log(`  ratio read_committed / read_uncommitted: ${(rc / ru).toFixed(2)} (target >= 0.9)`);

  if (profileRoot) {
    for (const phase of ['idempotent', 'txn', 'consume']) console.log(`\nbroker profile, ${phase}:\n${profileOf(phase)}`);
    console.log(`profiles kept in ${profileRoot}`);
  }
}

try {
  await main();
} finally {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
}
