/**
 * The load scenarios of `npm run bench` (bench/run.ts), each run against Gregor and against librdkafka's
 * mock cluster (the upper reference), with the server on one core and the generator on the other:
 * - produce 1 KiB and 100 B records, acks=1 and acks=all, to 1 and 16 partitions (native generator);
 *   1 KiB acks=1 to 16 partitions with kafkajs; 100 B acks=1 to 1 partition with rdkafka_performance;
 * - consume from the segment files (broker restarted, page cache dropped, the log read again and again
 *   from the start) and from the batch cache (48 MiB just produced, read again and again);
 * - consumer group throughput (16 partitions, native generator and kafkajs: a group reads a prepared log
 *   once, so its window opens at the first record when the log is read before the warm-up ends);
 * - end-to-end latency at a fixed 10,000 msg/s, acks=1, linger 0 (p50/p99/p999).
 * Each repetition of a Gregor scenario starts a broker on its own data directory; the broker's CPU time
 * over the measured window comes with every figure.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeTools } from './native-build.js';
import {
  CLIENT_CPU,
  cpuSeconds,
  memoryMiB,
  root,
  runTool,
  spawnPinned,
  startGregor,
  startMock,
  type ServerProcess,
  type ToolResult,
} from './processes.js';

export type Target = 'gregor' | 'mock';

export interface RunConfig {
  readonly quick: boolean;
  readonly warmupS: number;
  readonly durationS: number;
  readonly reps: number;
  readonly tools: NativeTools;
  /** Scratch space on the disk under test (data directories). */
  readonly workDir: string;
  /** When set, Gregor runs with --cpu-prof into this directory. */
  readonly profileDir: string | undefined;
  /** Another build's dist/src/cli.js to measure instead of this tree's. */
  readonly cli: string | undefined;
}

/** One repetition's measurement. */
export interface Rep {
  readonly msgs: number;
  readonly bytes: number;
  readonly seconds: number;
  /** CPU seconds of the server (broker or mock) during the window. */
  readonly serverCpuS: number;
  /** CPU seconds of the generator during the window. */
  readonly generatorCpuS: number;
  /** Server RSS at the end and its peak (MiB). */
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  /** Latency scenarios: milliseconds. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly p999Ms?: number;
  readonly maxMs?: number;
}

export type Metric = 'MB/s' | 'msg/s' | 'p99 ms';

export interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly generator: 'loadgen' | 'kafkajs' | 'rdkafka_performance';
  /** The figure the table shows (medians over repetitions). */
  readonly metric: Metric;
  /** Runs cfg.reps repetitions against `target`. */
  run(target: Target, cfg: RunConfig): Promise<Rep[]>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

let dirSeq = 0;
function freshDir(cfg: RunConfig, name: string): string {
  const dir = join(cfg.workDir, `${name}-${process.pid}-${dirSeq++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function gregor(cfg: RunConfig, dataDir: string, label: string, args: readonly string[] = []): Promise<ServerProcess> {
  const nodeArgs = cfg.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(cfg.profileDir, label)}`] : [];
  return startGregor({ dataDir, nodeArgs, args, ...(cfg.cli ? { cli: cfg.cli } : {}) });
}

/** Runs `fn` against a server of `target` that has `topics` ("name:partitions"); stops it afterwards. */
async function withServer<T>(
  target: Target,
  cfg: RunConfig,
  topics: readonly string[],
  fn: (server: ServerProcess) => Promise<T>,
  dataDir?: string,
  label = 'run',
  gregorArgs: readonly string[] = [],
): Promise<T> {
  const own = dataDir === undefined && target === 'gregor';
  const dir = dataDir ?? (target === 'gregor' ? freshDir(cfg, label) : '');
  const server = target === 'gregor' ? await gregor(cfg, dir, label, gregorArgs) : await startMock(cfg.tools.loadgen, topics);
  try {
    if (target === 'gregor' && topics.length > 0) await createTopics(cfg, server.bootstrap, topics);
    return await fn(server);
  } finally {
    await server.stop();
    if (own) rmSync(dir, { recursive: true, force: true });
  }
}

async function createTopics(cfg: RunConfig, bootstrap: string, topics: readonly string[]): Promise<void> {
  await runTool(cfg.tools.loadgen, ['create', '-b', bootstrap, ...topics.flatMap((t) => ['-T', t])], { timeoutMs: 60_000 });
}

function repOf(r: ToolResult, server: ServerProcess): Rep {
  const mem = memoryMiB(server.pid);
  const e = r.end;
  const num = (k: string): number | undefined => (typeof e[k] === 'number' ? (e[k] as number) : undefined);
  if ((num('errors') ?? 0) > 0) process.stderr.write(`  (${num('errors')} errors: ${String(e.lastError ?? '')})\n`);
  const rep: Rep = {
    msgs: num('msgs') ?? 0,
    bytes: num('bytes') ?? 0,
    seconds: num('seconds') ?? 0,
    serverCpuS: r.watchedCpu[0] ?? 0,
    generatorCpuS: r.toolCpu,
    rssMiB: mem.rss,
    peakRssMiB: mem.peak,
  };
  const p50 = num('p50Ms');
  return p50 === undefined ? rep : { ...rep, p50Ms: p50, p99Ms: num('p99Ms')!, p999Ms: num('p999Ms')!, maxMs: num('maxMs')! };
}

function loadgenArgs(cfg: RunConfig, mode: string, bootstrap: string, rest: readonly string[]): string[] {
  return [mode, '-b', bootstrap, '-w', String(cfg.warmupS), '-d', String(cfg.durationS), ...rest];
}

const timeout = (cfg: RunConfig): number => (cfg.warmupS + cfg.durationS) * 1000 + 180_000;

/** One measured run of a generator against `server` (its CPU time sampled over the window). */
async function measured(cfg: RunConfig, server: ServerProcess, cmd: string, args: readonly string[]): Promise<Rep> {
  return repOf(await runTool(cmd, args, { watch: [server.pid], timeoutMs: timeout(cfg) }), server);
}

/** kafkajs-load.js with `args` after its mode. */
const kafkajs = (mode: 'produce' | 'group', server: ServerProcess, args: readonly string[]): [string, string[]] => [
  process.execPath,
  [join(root, 'dist/bench/kafkajs-load.js'), mode, server.bootstrap, ...args],
];

async function repeat(cfg: RunConfig, fn: (i: number) => Promise<Rep>): Promise<Rep[]> {
  const out: Rep[] = [];
  for (let i = 0; i < cfg.reps; i++) out.push(await fn(i));
  return out;
}

/** Fills `topic` with `count` records of `size` bytes (count-limited produce, acks=1), unmeasured. */
async function fill(cfg: RunConfig, bootstrap: string, topic: string, size: number, count: number): Promise<void> {
  await runTool(cfg.tools.loadgen, ['produce', '-b', bootstrap, '-t', topic, '-s', String(size), '-a', '1', '-w', '0', '-d', '100000', '-n', String(count)], {
    timeoutMs: 30 * 60_000,
  });
}

function produceScenario(size: number, acks: 1 | -1, partitions: 1 | 16): Scenario {
  const sizeLabel = size >= KiB ? `${size / KiB} KiB` : `${size} B`;
  const id = `produce-${size >= KiB ? `${size / KiB}k` : size}-acks${acks === 1 ? '1' : 'all'}-p${partitions}`;
  return {
    id,
    label: `produce ${sizeLabel}, acks=${acks === 1 ? '1' : 'all'}, ${partitions} partition${partitions > 1 ? 's' : ''}`,
    generator: 'loadgen',
    metric: size >= KiB ? 'MB/s' : 'msg/s',
    run: (target, cfg) =>
      repeat(cfg, () =>
        withServer(target, cfg, [`p:${partitions}`], (server) =>
          measured(cfg, server, cfg.tools.loadgen, loadgenArgs(cfg, 'produce', server.bootstrap, ['-t', 'p', '-s', String(size), '-a', String(acks)])),
        undefined, id),
      ),
  };
}

const kafkajsProduce: Scenario = {
  id: 'produce-1k-acks1-p16-kafkajs',
  label: 'produce 1 KiB, acks=1, 16 partitions (kafkajs)',
  generator: 'kafkajs',
  metric: 'MB/s',
  run: (target, cfg) =>
    repeat(cfg, () =>
      withServer(target, cfg, ['p:16'], (server) =>
        measured(cfg, server, ...kafkajs('produce', server, ['p', '1024', '1', String(cfg.warmupS), String(cfg.durationS)])),
      undefined, 'produce-kafkajs'),
    ),
};

/** rdkafka_performance, time-boxed by SIGINT; its own summary (whole run, warm-up included). */
const rdkafkaPerformanceProduce: Scenario = {
  id: 'produce-100-acks1-p1-rdkafka_performance',
  label: 'produce 100 B, acks=1, 1 partition (rdkafka_performance, whole run)',
  generator: 'rdkafka_performance',
  metric: 'msg/s',
  run: (target, cfg) =>
    repeat(cfg, () =>
      withServer(target, cfg, ['p:1'], async (server) => {
        const bin = cfg.tools.rdkafkaPerformance;
        if (bin === null) throw new Error('rdkafka_performance is not available');
        const cpu0 = cpuSeconds(server.pid);
        const child = spawnPinned(CLIENT_CPU, bin, ['-P', '-t', 'p', '-p', '0', '-b', server.bootstrap, '-s', '100', '-a', '1', '-u', '-c', '2000000000']);
        let out = '';
        child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
        const exited = new Promise<void>((res) => child.once('exit', () => res()));
        const started = performance.now();
        await new Promise((r) => setTimeout(r, (cfg.warmupS + cfg.durationS) * 1000));
        const genCpu = cpuSeconds(child.pid!);
        child.kill('SIGINT');
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(killer);
        const seconds = (performance.now() - started) / 1000;
        // last table row: | elapsed ms | msgs | bytes | rtt | dr | dr_m/s | dr_MB/s | dr_err | tx_err | outq | offset
        const rows = out.split('\n').filter((l) => /^\|\s+\d/.test(l));
        const last = rows[rows.length - 1];
        if (last === undefined) throw new Error(`rdkafka_performance printed no summary: ${out.slice(-1000)}`);
        const cols = last.split('|').map((c) => Number(c.trim()));
        const delivered = cols[5]!;
        const elapsed = cols[1]! / 1000;
        const mem = memoryMiB(server.pid);
        return {
          msgs: delivered,
          bytes: delivered * 100,
          seconds: elapsed || seconds,
          serverCpuS: cpuSeconds(server.pid) - cpu0,
          generatorCpuS: genCpu,
          rssMiB: mem.rss,
          peakRssMiB: mem.peak,
        };
      }, undefined, 'produce-rdkafka-performance'),
    ),
};

/** Gregor scenarios that read prepared data: one data directory filled once, a broker per repetition. */
async function withPreparedData(
  target: Target,
  cfg: RunConfig,
  topic: string,
  partitions: number,
  size: number,
  count: number,
  label: string,
  rep: (server: ServerProcess, i: number) => Promise<Rep>,
  beforeEach?: (dir: string) => Promise<void>,
): Promise<Rep[]> {
  const spec = `${topic}:${partitions}`;
  if (target === 'mock') {
    // the mock keeps a few MiB per partition in memory: fill it in each run
    return repeat(cfg, (i) =>
      withServer('mock', cfg, [spec], async (server) => {
        await fill(cfg, server.bootstrap, topic, size, Math.min(count, 200_000));
        return rep(server, i);
      }),
    );
  }
  const dir = freshDir(cfg, label);
  try {
    await withServer('gregor', cfg, [spec], (server) => fill(cfg, server.bootstrap, topic, size, count), dir, `${label}-fill`);
    return await repeat(cfg, async (i) => {
      await beforeEach?.(dir);
      return withServer('gregor', cfg, [], (server) => rep(server, i), dir, label);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The .log files under a data directory. */
function segmentFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.log')) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

const consumeCold: Scenario = {
  id: 'consume-cold',
  label: 'consume 1 KiB, 1 partition, from segment files (restarted broker, page cache dropped first)',
  generator: 'loadgen',
  metric: 'MB/s',
  run: (target, cfg) =>
    withPreparedData(
      target,
      cfg,
      'cold',
      1,
      1024,
      Math.round(((cfg.quick ? 256 : 2048) * MiB) / 1024),
      'consume-cold',
      // read again and again from the start while the window lasts (the first pass after the page cache drop)
      (server, i) => measured(cfg, server, cfg.tools.loadgen, loadgenArgs(cfg, 'consume', server.bootstrap, ['-t', 'cold', '-P', '1', '-L', '-g', `cold-${i}`])),
      async (dir) => {
        await runTool(cfg.tools.loadgen, ['dropcache', ...segmentFiles(dir)], { cpu: null }).catch(() => undefined);
      },
    ),
};

/**
 * The log fits the batch cache and is read again and again: 384 MiB in a 512 MiB cache in full mode (passes
 * long enough that the consumer's restart at the end of each does not weigh), 48 MiB in the default 64 MiB
 * cache in quick mode.
 */
const consumeCache: Scenario = {
  id: 'consume-cache',
  label: 'consume 1 KiB, 1 partition, from the batch cache (a log that fits it, read again and again)',
  generator: 'loadgen',
  metric: 'MB/s',
  run: (target, cfg) =>
    repeat(cfg, (i) =>
      withServer(
        target,
        cfg,
        ['hot:1'],
        async (server) => {
          await fill(cfg, server.bootstrap, 'hot', 1024, (cfg.quick ? 48 : 384) * 1024);
          return measured(cfg, server, cfg.tools.loadgen, loadgenArgs(cfg, 'consume', server.bootstrap, ['-t', 'hot', '-P', '1', '-L', '-g', `hot-${i}`]));
        },
        undefined,
        'consume-cache',
        cfg.quick ? [] : ['-o', `gregor.cache.bytes=${512 * MiB}`],
      ),
    ),
};

function groupScenario(generator: 'loadgen' | 'kafkajs'): Scenario {
  return {
    id: generator === 'loadgen' ? 'consume-group-p16' : 'consume-group-p16-kafkajs',
    label: `consumer group, 1 KiB, 16 partitions${generator === 'kafkajs' ? ' (kafkajs)' : ''}`,
    generator,
    metric: 'MB/s',
    run: (target, cfg) =>
      withPreparedData(target, cfg, 'grp', 16, 1024, Math.round(((cfg.quick ? 256 : 2048) * MiB) / 1024), `group-${generator}`, (server, i) =>
        generator === 'loadgen'
          ? measured(cfg, server, cfg.tools.loadgen, loadgenArgs(cfg, 'group', server.bootstrap, ['-t', 'grp', '-P', '16', '-g', `grp-${process.pid}-${i}`]))
          : measured(cfg, server, ...kafkajs('group', server, ['grp', '16', String(cfg.warmupS), String(cfg.durationS)])),
      ),
  };
}

const latency: Scenario = {
  id: 'latency-10k',
  label: 'end-to-end latency, 100 B at 10,000 msg/s, acks=1, linger 0',
  generator: 'loadgen',
  metric: 'p99 ms',
  run: (target, cfg) =>
    repeat(cfg, (i) =>
      withServer(target, cfg, ['lat:1'], (server) =>
        measured(cfg, server, cfg.tools.loadgen, loadgenArgs(cfg, 'latency', server.bootstrap, ['-t', 'lat', '-r', '10000', '-s', '100', '-a', '1', '-g', `lat-${i}`])),
      undefined, 'latency'),
    ),
};

export const SCENARIOS: readonly Scenario[] = [
  produceScenario(1024, 1, 1),
  produceScenario(1024, 1, 16),
  produceScenario(1024, -1, 1),
  produceScenario(1024, -1, 16),
  produceScenario(100, 1, 1),
  produceScenario(100, 1, 16),
  produceScenario(100, -1, 1),
  produceScenario(100, -1, 16),
  kafkajsProduce,
  rdkafkaPerformanceProduce,
  consumeCold,
  consumeCache,
  groupScenario('loadgen'),
  groupScenario('kafkajs'),
  latency,
];
