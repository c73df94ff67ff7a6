/**
 * Startup benchmark (prints numbers, asserts nothing): the `gregor` CLI from
 * process spawn to
 *   - the ready line on stdout, and
 *   - the first TCP connect that succeeds (polled every 2 ms from spawn),
 * on an empty data dir and on one holding 1,000 partitions (100 topics × 10,
 * clean shutdown), plus the idle RSS one second after ready and the time a
 * SIGTERM takes to exit. Baseline, measured in the same run: a bare Node
 * process that listens on a port and prints a line (the floor of any Node
 * server's startup). Each figure is the median of several runs (min–max after).
 *
 * Run: npm run build && npm run bench:startup [-- --runs N]
 * (bench/run.ts runs it too, through startupBench).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../src/index.js';
import { cli, cpuSeconds, freePort, root } from './processes.js';

export interface Sample {
  readyMs: number;
  /** CPU time (user + system, all threads) the process used until its ready line: what a loaded machine does not stretch. */
  cpuMs: number;
  connectMs: number;
  rssMiB: number;
  stopMs: number;
}

/** Medians of each series. */
export interface StartupReport {
  readonly runs: number;
  readonly baseline: Sample;
  readonly empty: Sample;
  readonly partitions1000: Sample;
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Spawns a server process and measures it; `args` are node's arguments, the ready line matches `readyPattern`. */
async function measureOnce(args: string[], port: number, readyPattern: RegExp): Promise<Sample> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let cpuAtReady = NaN;
  const ready = new Promise<number>((res, rej) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (readyPattern.test(out)) {
        cpuAtReady = cpuSeconds(child.pid!) * 1000;
        res(performance.now() - t0);
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    void exited.then((code) => rej(new Error(`exited ${code} before ready: ${out}${err}`)));
  });
  ready.catch(() => undefined);
  let connectMs = -1;
  while (connectMs < 0) {
    if (child.exitCode !== null) break;
    if (await tryConnect(port)) connectMs = performance.now() - t0;
    else await new Promise((r) => setTimeout(r, 2));
  }
  const readyMs = await ready;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = await rssMiB(child.pid!);
  const s0 = performance.now();
  child.kill('SIGTERM');
  await exited;
  return { readyMs, cpuMs: cpuAtReady, connectMs, rssMiB: rss, stopMs: performance.now() - s0 };
}

function summary(samples: Sample[], key: keyof Sample, unit: string, digits = 0): string {
  const v = samples.map((s) => s[key]).sort((a, b) => a - b);
  const median = v[Math.floor(v.length / 2)]!;
  return `${median.toFixed(digits)} ${unit} (${v[0]!.toFixed(digits)}–${v[v.length - 1]!.toFixed(digits)})`;
}

function median(samples: Sample[], key: keyof Sample): number {
  const v = samples.map((s) => s[key]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}

function medians(samples: Sample[]): Sample {
  return { readyMs: median(samples, 'readyMs'), cpuMs: median(samples, 'cpuMs'), connectMs: median(samples, 'connectMs'), rssMiB: median(samples, 'rssMiB'), stopMs: median(samples, 'stopMs') };
}

/** The gregor CLI's arguments: a free metrics port, so that runs never collide on the default one. */
async function gregorArgs(port: number, dir: string): Promise<string[]> {
  return [cli, '-p', String(port), '--host', '127.0.0.1', '-d', dir, '--metrics-port', String(await freePort())];
}

async function series(label: string, runs: number, makeArgs: (port: number) => Promise<string[]>, readyPattern: RegExp): Promise<Sample[]> {
  const samples: Sample[] = [];
  // one unmeasured run warms the file system cache
  for (let i = 0; i <= runs; i++) {
    const port = await freePort();
    const s = await measureOnce(await makeArgs(port), port, readyPattern);
    if (i > 0) samples.push(s);
  }
  console.log(
    `${label.padEnd(34)} ready ${summary(samples, 'readyMs', 'ms')} (CPU ${summary(samples, 'cpuMs', 'ms')}), connect ${summary(samples, 'connectMs', 'ms')}, ` +
      `idle RSS ${summary(samples, 'rssMiB', 'MiB', 1)}, SIGTERM→exit ${summary(samples, 'stopMs', 'ms')}`,
  );
  return samples;
}

/** A data dir with `topics` × `partitions` partitions, shut down cleanly. */
async function prepareDataDir(topics: number, partitions: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gregor-bench-startup-'));
  const broker = await startBroker({ port: 0, dataDir: dir });
  for (let t = 0; t < topics; t++) {
    await broker.broker.topics.create({ name: `topic-${t}`, numPartitions: partitions, replicationFactor: 1, configs: {} });
  }
  await broker.close();
  return dir;
}

/** Runs the three series (`runs` measured runs each) and prints a line per series; returns their medians. */
export async function startupBench(runs: number): Promise<StartupReport> {
  console.log(`gregor startup, ${runs} runs each (median, min–max), node ${process.version}`);
  const baselineScript =
    "const s=require('net').createServer().listen(Number(process.argv[1]),'127.0.0.1',()=>console.log('ready'));process.on('SIGTERM',()=>s.close(()=>process.exit(0)))";
  const baseline = await series('baseline: bare node net server', runs, async (port) => ['-e', baselineScript, String(port)], /ready/);

  const empty = await mkdtemp(join(tmpdir(), 'gregor-bench-startup-'));
  const emptyRuns: Sample[] = [];
  try {
    // a fresh empty dir per run: the first start writes meta.properties
    for (let i = 0; i <= runs; i++) {
      const dir = join(empty, `run-${i}`);
      const port = await freePort();
      const s = await measureOnce(await gregorArgs(port, dir), port, /ready:/);
      if (i > 0) emptyRuns.push(s);
    }
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
  console.log(
    `${'gregor, empty data dir'.padEnd(34)} ready ${summary(emptyRuns, 'readyMs', 'ms')} (CPU ${summary(emptyRuns, 'cpuMs', 'ms')}), connect ${summary(emptyRuns, 'connectMs', 'ms')}, ` +
      `idle RSS ${summary(emptyRuns, 'rssMiB', 'MiB', 1)}, SIGTERM→exit ${summary(emptyRuns, 'stopMs', 'ms')}`,
  );

  const full = await prepareDataDir(100, 10);
  let fullRuns: Sample[];
  try {
    fullRuns = await series('gregor, 1,000 partitions', runs, (port) => gregorArgs(port, full), /ready:/);
  } finally {
    await rm(full, { recursive: true, force: true });
  }

  const ratio = (s: Sample[], key: keyof Sample): string => (median(s, key) / median(baseline, key)).toFixed(1);
  console.log(
    `ratio to baseline (connect): empty ${ratio(emptyRuns, 'connectMs')}x, 1,000 partitions ${ratio(fullRuns, 'connectMs')}x; ` +
      `goal on an empty dir: ≤ 300 ms and ≤ 80 MiB → ${median(emptyRuns, 'connectMs') <= 300 && median(emptyRuns, 'rssMiB') <= 80 ? 'met' : 'not met'}`,
  );
  return { runs, baseline: medians(baseline), empty: medians(emptyRuns), partitions1000: medians(fullRuns) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const runsArg = process.argv.indexOf('--runs');
  await startupBench(runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5);
}
