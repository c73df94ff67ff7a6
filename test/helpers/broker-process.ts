/**
 * A broker in its own process, for tests that kill it, read its memory from /proc, or must see it crash:
 * - spawnCli: `node dist/src/cli.js` as users run it (the bundled CLI, built by ensureBuilt when older than the
 *   sources);
 * - spawnEmbedded: startBroker() from dist/ in a child process over storage's FaultyFs, driven by commands
 *   on stdin ('hold fdatasync', 'release', 'stats'), for a slow disk while the broker's own memory is measured.
 * Both resolve once the broker listens; `status()` reads VmRSS and VmHWM (peak RSS) in bytes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
const cli = join(repoRoot, 'dist/src/cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (`npm run build`: tsc, then the CLI bundled) when it is older than src/, protocol/ or storage/. */
export function ensureBuilt(): void {
  const built = existsSync(cli) ? statSync(cli).mtimeMs : 0;
  const sources = Math.max(...['src', 'protocol', 'storage'].map((d) => newestSource(join(repoRoot, d))));
  if (built >= sources) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'pipe' });
}

export interface ProcessMemory {
  /** Resident set size now, bytes. */
  readonly rss: number;
  /** Peak resident set size (VmHWM), bytes. */
  readonly peakRss: number;
}

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Memory from /proc/<pid>/status; undefined once the process is gone. */
  memory(): ProcessMemory | undefined;
  /**
   * Open descriptors by kind: sockets, and files that were deleted while still open (what a leaked
   * file handle looks like once its segment is gone); undefined once the process is gone.
   */
  openFdKinds(): { sockets: number; deletedFiles: number } | undefined;
  get alive(): boolean;
  /** Sends a line on stdin (spawnEmbedded commands) and resolves with the next line starting with `reply`. */
  command(line: string, reply: string): Promise<string>;
}

export interface CliOptions {
  readonly dataDir: string;
  /** Port to bind on 127.0.0.1 (default 0: a free one). */
  readonly port?: number;
  /** Config overrides (--override key=value). */
  readonly config?: Record<string, string | number | boolean>;
  readonly logLevel?: string;
}

const children = new Set<ChildProcess>();

/** SIGKILLs every broker process still running (afterEach/afterAll). */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export function spawnCli(opts: CliOptions): Promise<BrokerProcess> {
  const args = [cli, '--host', '127.0.0.1', '-p', String(opts.port ?? 0), '-d', opts.dataDir, '-l', opts.logLevel ?? 'warn', '-o', 'gregor.metrics.enabled=false'];
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push('-o', `${k}=${String(v)}`);
  return track(spawn(process.execPath, args, { cwd: repoRoot, env: brokerEnv(), stdio: ['ignore', 'pipe', 'pipe'] }), /ready: listening on [^\s:]+:(\d+)/);
}

/** The test's environment without GREGOR_* variables (the CLI reads them as configuration; tests use some for themselves). */
function brokerEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GREGOR_')));
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly config?: Record<string, string | number | boolean>;
  readonly logLevel?: string;
}

/**
 * The child: startBroker over a FaultyFs; stdin commands: 'hold <op>' holds that fs operation (a slow disk),
 * 'release' releases every hold, 'stats' prints the request and fetch budgets' use and peaks.
 */
const EMBEDDED_SCRIPT = `
import { createInterface } from 'node:readline';
const [{ startBroker }, { FaultyFs }] = await Promise.all([import(process.env.GREGOR_INDEX), import(process.env.GREGOR_STORAGE)]);
const fs = new FaultyFs();
const opts = JSON.parse(process.env.GREGOR_EMBEDDED);
const b = await startBroker({ port: 0, dataDir: opts.dataDir, config: opts.config, logLevel: opts.logLevel, storageFs: fs });
const holds = [];
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'hold') { holds.push(fs.hold(arg)); process.stdout.write('held\\n'); }
  else if (cmd === 'release') { for (const h of holds.splice(0)) h.release(); process.stdout.write('released\\n'); }
  else if (cmd === 'stats') {
    const r = b.broker.requestMemory, f = b.broker.fetchMemory;
    process.stdout.write('stats ' + JSON.stringify({ requestUsed: r.used, requestPeak: r.peak, requestWaiting: r.waiting, fetchUsed: f.used, fetchPeak: f.peak, connections: b.broker.connections.size }) + '\\n');
  }
});
process.on('SIGTERM', () => b.close().then(() => process.exit(0), () => process.exit(1)));
process.stdout.write('ready: listening on 127.0.0.1:' + b.port + '\\n');
`;

export function spawnEmbedded(opts: EmbeddedOptions): Promise<BrokerProcess> {
  const env = {
    ...brokerEnv(),
    GREGOR_INDEX: join(repoRoot, 'dist/src/index.js'),
    GREGOR_STORAGE: join(repoRoot, 'dist/storage/index.js'),
    GREGOR_EMBEDDED: JSON.stringify({ dataDir: opts.dataDir, config: opts.config ?? {}, logLevel: opts.logLevel ?? 'warn' }),
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', EMBEDDED_SCRIPT], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  return track(child, /ready: listening on [^\s:]+:(\d+)/);
}

/** Follows a broker child process until it prints its ready line (the port in group 1); other spawners use it too. */
export async function track(child: ChildProcess, readyLine: RegExp): Promise<BrokerProcess> {
  children.add(child);
  let out = '';
  let lines = '';
  const lineWaiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  child.stdout!.on('data', (c: Buffer) => {
    const text = c.toString();
    out += text;
    lines += text;
    let nl: number;
    while ((nl = lines.indexOf('\n')) >= 0) {
      const line = lines.slice(0, nl);
      lines = lines.slice(nl + 1);
      const i = lineWaiters.findIndex((w) => line.startsWith(w.prefix));
      if (i >= 0) lineWaiters.splice(i, 1)[0]!.resolve(line);
    }
  });
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      res({ code, signal });
    }),
  );
  let port = 0;
  for (;;) {
    const m = readyLine.exec(out);
    if (m) {
      port = Number(m[1]);
      break;
    }
    const done = await Promise.race([exited, new Promise<null>((res) => setTimeout(() => res(null), 20))]);
    // (a broker that printed its ready line and then died is ready: its caller sees `exited`)
    if (done && !readyLine.test(out)) throw new Error(`broker exited (${JSON.stringify(done)}) before it was ready:\n${out}`);
  }
  const pid = child.pid!;
  return {
    child,
    pid,
    port,
    exited,
    output: () => out,
    memory: () => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
        return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
      } catch {
        return undefined;
      }
    },
    openFdKinds: () => {
      try {
        let sockets = 0;
        let deletedFiles = 0;
        for (const fd of readdirSync(`/proc/${pid}/fd`)) {
          let target: string;
          try {
            target = readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            continue; // closed between the listing and the readlink
          }
          if (target.startsWith('socket:')) sockets++;
          else if (target.endsWith(' (deleted)')) deletedFiles++;
        }
        return { sockets, deletedFiles };
      } catch {
        return undefined;
      }
    },
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    command: (line, reply) =>
      new Promise((res, rej) => {
        if (!child.stdin) return rej(new Error('no stdin'));
        lineWaiters.push({ prefix: reply, resolve: res });
        child.stdin.write(`${line}\n`);
      }),
  };
}
