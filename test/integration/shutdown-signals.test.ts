/**
 * Stopping the broker with a signal, the way process managers and people do: SIGTERM and SIGINT to
 * `npm start` (what `docker stop`, systemd and `kill` send to the process they started), Ctrl-C (SIGINT
 * to the terminal's whole process group), and the same to `node dist/src/cli.js`. Each time the broker
 * must finish a clean shutdown — exit status 0, the clean-shutdown marker written, the port closed — and
 * leave no process of its group behind (npm used to exit on SIGTERM while the broker kept serving).
 *
 * Each command runs in its own process group (detached), so "no orphan" is checked as "no process of
 * that group is left", whatever the processes in between were.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../helpers/broker-process.js';

beforeAll(() => ensureBuilt(), 300_000);

/** Generous: a clean shutdown of an idle broker takes milliseconds; this only catches one that never ends. */
const SHUTDOWN_BOUND_MS = 30_000;

let groups: number[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
  groups = [];
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});

interface Started {
  readonly child: ChildProcess;
  /** The process group of the command (its leader's pid). */
  readonly pgid: number;
  readonly dataDir: string;
  readonly port: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** The test's environment without GREGOR_* variables (the CLI reads them as configuration). */
function brokerEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GREGOR_')));
}

/** Starts `command` in its own process group with the broker flags appended, and waits for the ready line. */
async function start(command: string, args: string[]): Promise<Started> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gregor-signals-'));
  dirs.push(dataDir);
  const flags = ['--host', '127.0.0.1', '-p', '0', '-d', dataDir, '-l', 'info', '-o', 'gregor.metrics.enabled=false'];
  const child = spawn(command, [...args, ...flags], { cwd: repoRoot, env: brokerEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  for (;;) {
    const m = /ready: listening on [^\s:]+:(\d+)/.exec(out);
    if (m) return { child, pgid: child.pid!, dataDir, port: Number(m[1]), exited, output: () => out };
    const done = await Promise.race([exited, new Promise<null>((res) => setTimeout(() => res(null), 25))]);
    if (done) throw new Error(`${command} exited (${JSON.stringify(done)}) before the broker was ready:\n${out}`);
  }
}

/** Pids of the live processes (zombies excluded) in a process group, from /proc. */
function processesOfGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) pids.push(Number(name));
  }
  return pids;
}

/** Whether something accepts connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Produces a few records with acks=all, so the shutdown has logs to flush and checkpoint. */
async function produceSome(port: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'signals-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic: 'before-stop', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}` })) });
  } finally {
    await producer.disconnect();
  }
}

/** Sends `signal` (to the command's pid, or to its whole group as a terminal does) and checks a clean stop. */
async function stopsCleanly(started: Started, signal: NodeJS.Signals, to: 'process' | 'group'): Promise<void> {
  const { child, pgid, dataDir, port, exited } = started;
  // a clean start wrote nothing yet; the marker must come from this shutdown
  expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(false);
  expect(processesOfGroup(pgid).length).toBeGreaterThan(0);
  process.kill(to === 'group' ? -pgid : child.pid!, signal);
  const result = await Promise.race([exited, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), SHUTDOWN_BOUND_MS))]);
  expect(result, started.output()).toEqual({ code: 0, signal: null });
  // the broker is gone with the command, not reparented and still serving
  for (let i = 0; i < 100 && processesOfGroup(pgid).length > 0; i++) await new Promise((res) => setTimeout(res, 50));
  expect(processesOfGroup(pgid), started.output()).toEqual([]);
  expect(await accepts(port)).toBe(false);
  expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(true);
  expect(started.output()).toContain('"msg":"stopped"');
  expect(started.output()).not.toContain('second signal');
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the broker cleanly on ${signal} to npm`, async () => {
      const started = await start('npm', ['start', '--']);
      await produceSome(started.port);
      await stopsCleanly(started, signal, 'process');
      expect(existsSync(join(started.dataDir, 'before-stop-0'))).toBe(true);
    });
  }

  it('stops the broker cleanly on Ctrl-C (SIGINT to the process group: the broker gets it from the terminal and from npm)', async () => {
    const started = await start('npm', ['start', '--']);
    await produceSome(started.port);
    await stopsCleanly(started, 'SIGINT', 'group');
  });
});

describe('node dist/src/cli.js', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops cleanly on ${signal}`, async () => {
      const started = await start(process.execPath, [join(repoRoot, 'dist/src/cli.js')]);
      await produceSome(started.port);
      await stopsCleanly(started, signal, 'process');
    });
  }
});
