/**
 * Child processes of the benchmark: the Gregor broker (the CLI, pinned to one core), librdkafka's mock
 * cluster, and tools that report JSON lines ({"event":"start"} when their measured window opens,
 * {"event":"end",...} with their figures). While a tool's window is open the CPU time of the processes
 * named in `watch` is sampled from /proc, so every result carries the broker's CPU seconds.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = join(root, 'dist/src/cli.js');

/** Cores: the broker (or any server under test) on one, load generators on the other. */
export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

/** User + system CPU seconds of a process so far (0 once it has gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Resident set size and its peak (VmHWM), MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** `cmd args` pinned to `cpu` (taskset execs the command: the child's pid is the command's). */
export function spawnPinned(cpu: number | null, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const [file, argv] = cpu === null ? [cmd, [...args]] : ['taskset', ['-c', String(cpu), cmd, ...args]];
  return spawn(file, argv, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => child.once('exit', (code) => res(code)));
}

/** Calls `onLine` for each stdout line; collects stderr. */
function readLines(child: ChildProcess, onLine: (line: string) => void): { stderr: () => string } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      onLine(line);
    }
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  return { stderr: () => err };
}

export interface ServerProcess {
  readonly pid: number;
  /** host:port clients bootstrap from. */
  readonly bootstrap: string;
  /** Stops it (SIGTERM, SIGKILL after 30 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface GregorOptions {
  readonly dataDir: string;
  readonly cpu?: number | null;
  /** Extra CLI arguments (e.g. --override k=v). */
  readonly args?: readonly string[];
  /** Extra node options before the script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Another build's dist/src/cli.js (before/after comparisons); default this tree's. */
  readonly cli?: string;
}

/** Starts the gregor CLI (metrics on a free port, logs at warn) and waits for its ready line. */
export async function startGregor(opts: GregorOptions): Promise<ServerProcess & { readonly readyMs: number }> {
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [
    ...(opts.nodeArgs ?? []),
    opts.cli ?? cli,
    '-p',
    String(port),
    '--host',
    '127.0.0.1',
    '--advertised-host',
    '127.0.0.1',
    '-d',
    opts.dataDir,
    '--metrics-port',
    String(metricsPort),
    '-l',
    'warn',
    ...(opts.args ?? []),
  ];
  const t0 = performance.now();
  const child = spawnPinned(opts.cpu === undefined ? SERVER_CPU : opts.cpu, process.execPath, args);
  const done = exited(child);
  const readyMs = await new Promise<number>((res, rej) => {
    const { stderr } = readLines(child, (line) => {
      if (line.includes(' ready: ')) res(performance.now() - t0);
    });
    void done.then((code) => rej(new Error(`gregor exited (${code}) before it was ready: ${stderr()}`)));
  });
  return {
    pid: child.pid!,
    bootstrap: `127.0.0.1:${port}`,
    readyMs,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
  };
}

/** librdkafka's in-process mock cluster (one broker) with `topics` ("name:partitions"), pinned like the broker. */
export async function startMock(loadgen: string, topics: readonly string[], cpu: number | null = SERVER_CPU): Promise<ServerProcess> {
  const child = spawnPinned(cpu, loadgen, ['mock', ...topics.flatMap((t) => ['-T', t])]);
  const done = exited(child);
  const bootstrap = await new Promise<string>((res, rej) => {
    const { stderr } = readLines(child, (line) => {
      if (line.startsWith('{')) {
        const ev = JSON.parse(line) as { event: string; bootstraps?: string };
        if (ev.event === 'mock' && ev.bootstraps) res(ev.bootstraps.split(',')[0]!);
      }
    });
    void done.then((code) => rej(new Error(`mock cluster exited (${code}): ${stderr()}`)));
  });
  return {
    pid: child.pid!,
    bootstrap,
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
  };
}

/** What a tool reported at the end of its window, with CPU seconds of it and of the watched processes. */
export interface ToolResult {
  readonly end: Record<string, number | string | boolean>;
  /** CPU seconds of each watched pid during the window (start event to end event). */
  readonly watchedCpu: number[];
  /** CPU seconds of the tool itself during the window. */
  readonly toolCpu: number;
}

export interface ToolOptions {
  readonly cpu?: number | null;
  /** Processes whose CPU time is sampled when the window opens and closes. */
  readonly watch?: readonly number[];
  /** Kills the tool after this long (ms). */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a JSON-line tool to completion. */
export async function runTool(cmd: string, args: readonly string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const watch = opts.watch ?? [];
  const child = spawnPinned(opts.cpu === undefined ? CLIENT_CPU : opts.cpu, cmd, args, opts.env);
  const done = exited(child);
  let startCpu: number[] = watch.map(() => 0);
  let startTool = 0;
  let endCpu: number[] | undefined;
  let endTool = 0;
  let end: Record<string, number | string | boolean> | undefined;
  const { stderr } = readLines(child, (line) => {
    if (process.env.BENCH_DEBUG) process.stderr.write(`[${cmd.split('/').pop()}] ${line}\n`);
    if (!line.startsWith('{')) return;
    let ev: Record<string, number | string | boolean>;
    try {
      ev = JSON.parse(line) as Record<string, number | string | boolean>;
    } catch {
      return;
    }
    if (ev.event === 'start') {
      startCpu = watch.map(cpuSeconds);
      startTool = cpuSeconds(child.pid!);
    } else if (ev.event === 'end') {
      endCpu = watch.map(cpuSeconds);
      endTool = cpuSeconds(child.pid!);
      end = ev;
    }
  });
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
  const code = await done;
  if (timer) clearTimeout(timer);
  if (end === undefined || endCpu === undefined) {
    throw new Error(`${cmd.split('/').pop()} ${args.join(' ')} exited (${code}) without a result: ${stderr().slice(-2000)}`);
  }
  const closed = endCpu;
  return { end, watchedCpu: closed.map((c, i) => c - startCpu[i]!), toolCpu: endTool - startTool };
}
