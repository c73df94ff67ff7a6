/**
 * Share-group benchmark (prints numbers, asserts nothing): how fast CONSUMERS share consumers of one share
 * group (KIP-932, queues) read a topic, against one consumer of a classic consumer group (the baseline) on
 * the same topic, measured in the same run on one broker (its own process, pinned to the server core).
 *
 * Both sides are librdkafka 2.15 (the first with a share consumer, a preview C API), through
 * bench/native/queue-consumer.c, one process per consumer, every consumer process pinned to the client
 * core: the share consumers with implicit acknowledgement (each poll accepts the batch before it,
 * max.poll.records 500), the classic one polling record by record with auto commit. librdkafka 2.15 is
 * built from the source in the npm package @confluentinc/kafka-javascript by test/compat/librdkafka.mjs
 * (about 3 minutes the first time, then cached in $COMPAT_WORK_DIR or ~/.cache/gregor).
 *
 * 1. RECORDS records of SIZE bytes are produced first (raw Produce v9, BATCH records per batch, acks=1) to a
 *    topic of 1 partition and, unless --no-three, to one of 3 partitions (batches round-robin).
 * 2. For each topic, ROUNDS rounds, each with new groups reading the whole topic from its start:
 *    - classic: one consumer (auto.offset.reset=earliest) subscribes and reads until it has every record;
 *    - share: the group's share.auto.offset.reset is set to earliest (IncrementalAlterConfigs on the group);
 *      CONSUMERS share consumers subscribe, and once ShareGroupDescribe shows each of them holding its
 *      assignment (every partition assigned), all are told to start polling at once; they read until
 *      together they have had RECORDS records.
 *    What is timed: from the first record any consumer of the run got to the last one (CLOCK_MONOTONIC in
 *    the consumer processes), so joining is not counted. Printed per run: records/s, MB/s (of values), the
 *    broker's CPU per record (from the start signal, or the classic consumer's start, to the last record),
 *    the records each share consumer got; then medians and the ratio share / classic.
 *
 * The broker runs with group.initial.rebalance.delay.ms=0 and a share heartbeat of 1 s (members learn their
 * assignment sooner; nothing is timed meanwhile), otherwise Kafka's defaults: record locks of 30 s,
 * group.share.partition.max.record.locks 2000 in flight per share-partition, a batch cache
 * (gregor.cache.bytes) of 64 MiB, which holds the default topics whole.
 *
 * Run: npm run build && npm run bench:share [-- --records N --size B --batch N --consumers N --rounds N --no-three --profile
 *      --override key=value ...]
 * With --profile the broker runs with --cpu-prof; the top self-time functions of the whole run are printed.
 * --override (repeatable) passes a broker config, e.g. group.share.partition.max.record.locks=10000.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ErrorCode, schemas } from '../protocol/index.js';
import { buildUncompressedBatch } from '../protocol/records/index.js';
import { formatSummary, summarizeProfile } from './cpu-profile.js';
import { median } from './measure.js';
import { CLIENT_CPU, cpuSeconds, root, spawnPinned, startGregor, type ServerProcess } from './processes.js';
import { RawBenchClient } from './raw-client.js';

const { values: opts } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    size: { type: 'string', default: '100' },
    batch: { type: 'string', default: '1000' },
    consumers: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    'no-three': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    override: { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});

const RECORDS = Number(opts.records);
const SIZE = Number(opts.size);
const BATCH = Number(opts.batch);
const CONSUMERS = Number(opts.consumers);
const ROUNDS = Number(opts.rounds);
const TOPICS = opts['no-three'] ? [{ name: 'bench-share-1p', partitions: 1 }] : [{ name: 'bench-share-1p', partitions: 1 }, { name: 'bench-share-3p', partitions: 3 }];
/** ConfigResource type GROUP, IncrementalAlterConfigs' SET. */
const GROUP_RESOURCE = 32;
const SET = 0;
const RUN_TIMEOUT_MS = 180_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const out = (line: string): void => void process.stdout.write(`${line}\n`);

// ------------------------------------------------------------------------ the consumer program

/** What test/compat/librdkafka.mjs gives (it is JavaScript, outside the compiled tree). */
interface LibrdkafkaBuild {
  readonly version: string;
  readonly libDir: string;
}
interface LibrdkafkaModule {
  librdkafka(options: { log: (msg: string) => void }): Promise<LibrdkafkaBuild>;
  compileProgram(rd: LibrdkafkaBuild, source: string, out: string, options: { extraArgs: string[] }): Promise<string>;
}

/** bench/native/queue-consumer.c built against librdkafka 2.15, cached by source and library. */
async function buildConsumer(): Promise<{ binary: string; version: string }> {
  const lib = (await import(pathToFileURL(join(root, 'test/compat/librdkafka.mjs')).href)) as LibrdkafkaModule;
  const rd = await lib.librdkafka({ log: (msg) => process.stderr.write(`[librdkafka] ${msg}\n`) });
  const source = join(root, 'bench/native/queue-consumer.c');
  const hash = createHash('sha256').update(readFileSync(source)).update(rd.libDir).digest('hex').slice(0, 16);
  const dir = join(os.tmpdir(), `gregor-bench-share-${hash}`);
  const binary = join(dir, 'queue-consumer');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    await lib.compileProgram(rd, source, binary, { extraArgs: ['-Werror', '-std=gnu11'] });
  }
  return { binary, version: rd.version };
}

// ------------------------------------------------------------------------ raw requests

async function createTopic(c: RawBenchClient, name: string, partitions: number): Promise<void> {
  const res = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  const error = res.topics[0]?.errorCode;
  if (error !== ErrorCode.NONE) throw new Error(`CreateTopics ${name}: error ${error}`);
}

/** RECORDS records of SIZE bytes, BATCH per batch, the batches round-robin over the partitions; returns seconds. */
async function produce(c: RawBenchClient, topic: string, partitions: number): Promise<number> {
  const started = performance.now();
  const value = Buffer.alloc(SIZE, 'x');
  for (let sent = 0, n = 0; sent < RECORDS; sent += BATCH, n++) {
    const records = Array.from({ length: Math.min(BATCH, RECORDS - sent) }, () => ({ key: null, value }));
    const res = await c.request(schemas.produceRequest, schemas.produceResponse, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: n % partitions, records: buildUncompressedBatch(records, { timestamp: Date.now() }) }] }],
    });
    const error = res.responses[0]?.partitionResponses[0]?.errorCode;
    if (error !== ErrorCode.NONE) throw new Error(`Produce ${topic}: error ${error}`);
  }
  return (performance.now() - started) / 1000;
}

async function shareFromEarliest(c: RawBenchClient, group: string): Promise<void> {
  const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType: GROUP_RESOURCE, resourceName: group, configs: [{ name: 'share.auto.offset.reset', configOperation: SET, value: 'earliest' }] }],
    validateOnly: false,
  });
  const r = res.responses[0];
  if (r?.errorCode !== ErrorCode.NONE) throw new Error(`IncrementalAlterConfigs ${group}: error ${r?.errorCode} ${r?.errorMessage ?? ''}`);
}

/** Waits until the share group has `members` members, each at the group's assignment epoch with some partitions, together all. */
async function shareAssigned(c: RawBenchClient, group: string, members: number, partitions: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await c.request(schemas.shareGroupDescribeRequest, schemas.shareGroupDescribeResponse, 1, { groupIds: [group], includeAuthorizedOperations: false });
    const g = res.groups[0];
    const held = (g?.members ?? []).map((m) => m.assignment.topicPartitions.flatMap((tp) => tp.partitions));
    if (
      g !== undefined &&
      g.members.length === members &&
      g.assignmentEpoch === g.groupEpoch &&
      g.members.every((m) => m.memberEpoch === g.assignmentEpoch) &&
      held.every((h) => h.length > 0) &&
      new Set(held.flat()).size === partitions
    ) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`share group ${group}: not every member assigned after 60 s: ${JSON.stringify(g)}`);
    await sleep(100);
  }
}

// ------------------------------------------------------------------------ one run

interface Run {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerS: number;
  readonly mbPerS: number;
  /** Broker CPU µs per record, from the start signal until the last record. */
  readonly brokerUsPerRecord: number;
  /** Records each consumer got. */
  readonly perConsumer: number[];
  readonly errors: number;
}

interface End {
  readonly records: number;
  readonly bytes: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly errors: number;
}

/**
 * `count` consumer processes of `mode` in `group` on `topic`, reading until together they have had RECORDS
 * records. With `ready` (share), they start polling together once each has subscribed and `ready` resolved
 * (the group assigned them all); without (classic), at once: a classic consumer fetches in the background
 * as soon as it is assigned, so holding its first poll back would leave fetches out of the time.
 */
async function run(binary: string, broker: ServerProcess, mode: 'share' | 'classic', group: string, topic: string, count: number, ready?: () => Promise<void>): Promise<Run> {
  let cpuStart = cpuSeconds(broker.pid);
  const procs = Array.from({ length: count }, () => {
    const child = spawnPinned(CLIENT_CPU, binary, ['-m', mode, '-b', broker.bootstrap, '-g', group, '-t', topic]);
    const state = { subscribed: false, progress: 0, end: undefined as End | undefined, fatal: '', stderr: '' };
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const ev = JSON.parse(l) as { event: string; records?: number; error?: string } & Partial<End>;
        if (ev.event === 'subscribed') state.subscribed = true;
        else if (ev.event === 'progress') state.progress = ev.records ?? 0;
        else if (ev.event === 'end') state.end = ev as End;
        else if (ev.event === 'fatal') state.fatal = ev.error ?? 'fatal';
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (state.stderr = (state.stderr + chunk).slice(-4000)));
    const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
    if (ready === undefined) child.stdin!.write('go\n');
    return { child, state, exited };
  });
  const waitFor = async (check: () => boolean, what: string, ms: number): Promise<void> => {
    for (const deadline = Date.now() + ms; !check(); await sleep(20)) {
      const failed = procs.find((p) => p.state.fatal !== '' || p.child.exitCode !== null);
      if (failed !== undefined) throw new Error(`queue-consumer exited waiting for ${what}: ${failed.state.fatal} ${failed.state.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };
  try {
    if (ready !== undefined) {
      await waitFor(() => procs.every((p) => p.state.subscribed), 'the consumers to subscribe', 30_000);
      await ready();
      cpuStart = cpuSeconds(broker.pid);
      for (const p of procs) p.child.stdin!.write('go\n');
    }
    await waitFor(() => procs.reduce((n, p) => n + p.state.progress, 0) >= RECORDS, `${RECORDS} records`, RUN_TIMEOUT_MS);
    const cpu = cpuSeconds(broker.pid) - cpuStart;
    for (const p of procs) p.child.stdin!.end();
    await Promise.all(procs.map((p) => p.exited));
    const ends = procs.map((p) => {
      if (p.state.end === undefined) throw new Error(`queue-consumer ended without a result: ${p.state.fatal} ${p.state.stderr}`);
      return p.state.end;
    });
    const got = ends.filter((e) => e.records > 0);
    const records = ends.reduce((n, e) => n + e.records, 0);
    const seconds = (Math.max(...got.map((e) => e.lastMs)) - Math.min(...got.map((e) => e.firstMs))) / 1000;
    return {
      records,
      seconds,
      recordsPerS: records / seconds,
      mbPerS: ends.reduce((n, e) => n + e.bytes, 0) / 1e6 / seconds,
      brokerUsPerRecord: (cpu * 1e6) / records,
      perConsumer: ends.map((e) => e.records),
      errors: ends.reduce((n, e) => n + e.errors, 0),
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
}

function describe(label: string, r: Run): string {
  const split = r.perConsumer.length > 1 ? `, per consumer ${r.perConsumer.join(' / ')}` : '';
  const extra = r.records !== RECORDS ? ` (${r.records} records delivered: ${r.records - RECORDS} more than produced)` : '';
  const errors = r.errors > 0 ? `, ${r.errors} errors` : '';
  return `  ${label.padEnd(26)} ${r.recordsPerS.toFixed(0).padStart(9)} records/s ${r.mbPerS.toFixed(1).padStart(6)} MB/s  broker ${r.brokerUsPerRecord.toFixed(2)} µs/record  ${r.seconds.toFixed(2)} s${split}${extra}${errors}`;
}

// ------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const { binary, version } = await buildConsumer();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'gregor-bench-share-'));
  const profileDir = opts.profile ? mkdtempSync(join(os.tmpdir(), 'gregor-bench-share-profile-')) : undefined;
  const broker = await startGregor({
    dataDir,
    nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    args: [
      '-o', 'auto.create.topics.enable=false',
      '-o', 'group.initial.rebalance.delay.ms=0',
      '-o', 'group.share.min.heartbeat.interval.ms=1000',
      '-o', 'group.share.heartbeat.interval.ms=1000',
      '-o', 'gregor.flush.acks.all=false',
      ...(opts.override ?? []).flatMap((o) => ['-o', o]),
    ],
  });
  const admin = await RawBenchClient.connect(broker.bootstrap, 'bench-share');
  try {
    out(
      `share groups: ${CONSUMERS} share consumers (one share group) vs 1 classic consumer, librdkafka ${version}, ` +
        `${RECORDS} records of ${SIZE} B (${BATCH} per batch) read from the start, ${ROUNDS} rounds (medians), ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}` +
        ((opts.override ?? []).length > 0 ? `; broker overrides ${(opts.override ?? []).join(' ')}` : ''),
    );
    for (const t of TOPICS) {
      await createTopic(admin, t.name, t.partitions);
      const s = await produce(admin, t.name, t.partitions);
      out(`  produced ${t.name} (${t.partitions} partition${t.partitions > 1 ? 's' : ''}) in ${s.toFixed(2)} s`);
    }
    for (const t of TOPICS) {
      out(`${t.name}: ${t.partitions} partition${t.partitions > 1 ? 's' : ''}`);
      const classic: Run[] = [];
      const share: Run[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const c = await run(binary, broker, 'classic', `classic-${t.name}-${round}`, t.name, 1);
        out(describe(`round ${round} classic, 1 consumer`, c));
        classic.push(c);
        const group = `share-${t.name}-${round}`;
        await shareFromEarliest(admin, group);
        const s = await run(binary, broker, 'share', group, t.name, CONSUMERS, () => shareAssigned(admin, group, CONSUMERS, t.partitions));
        out(describe(`round ${round} share, ${CONSUMERS} consumers`, s));
        share.push(s);
      }
      const c = median(classic.map((r) => r.recordsPerS));
      const s = median(share.map((r) => r.recordsPerS));
      out(
        `  median: classic ${c.toFixed(0)} records/s (broker ${median(classic.map((r) => r.brokerUsPerRecord)).toFixed(2)} µs/record), ` +
          `share ${s.toFixed(0)} records/s (broker ${median(share.map((r) => r.brokerUsPerRecord)).toFixed(2)} µs/record); ` +
          `ratio share / classic ${(s / c).toFixed(2)} (per round: ${share.map((r, i) => (r.recordsPerS / classic[i]!.recordsPerS).toFixed(2)).join(', ')})`,
      );
    }
  } finally {
    admin.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (profileDir !== undefined) {
    for (const f of readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) out(`broker profile:\n${formatSummary(summarizeProfile(join(profileDir, f), 25))}`);
    out(`profile kept in ${profileDir}`);
  }
}

await main();
process.exit(0);
