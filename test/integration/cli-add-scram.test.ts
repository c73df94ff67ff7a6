/**
 * `gregor --add-scram` (Kafka's `kafka-storage.sh format --add-scram`, KIP-900) as users run it: a broker
 * whose only listener is SASL_PLAINTEXT with SCRAM-SHA-512 gets its first user from the command line,
 * kafkajs logs in as that user and produces and consumes; a restart with another password on the command
 * line keeps the first credential; a malformed argument exits 2 naming the flag; no password reaches the
 * output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/broker-process.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli.js');

beforeAll(() => ensureBuilt(), 300_000);

let dirs: string[] = [];
let children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, GREGOR_METRICS_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function ready(r: Run): Promise<number> {
  for (;;) {
    const m = /ready: listening on \S+, advertised as [^:\s]+:(\d+)/.exec(r.stdout());
    if (m) return Number(m[1]);
    const done = await Promise.race([r.exited, new Promise<null>((res) => setTimeout(() => res(null), 25))]);
    if (done) throw new Error(`gregor exited (${JSON.stringify(done)}) before it was ready:\n${r.stdout()}\n${r.stderr()}`);
  }
}

/** Waits until the output holds `text` (the log is written asynchronously: it may follow the ready line). */
async function logged(r: Run, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!r.stdout().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no '${text}' in the output:\n${r.stdout()}\n${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** A broker whose only listener is SASL_PLAINTEXT with SCRAM-SHA-512 alone: nobody logs in without --add-scram. */
function scramOnly(dataDir: string, addScram: string[]): string[] {
  return [
    '--data-dir', dataDir,
    '--override', 'listeners=SASL_PLAINTEXT://127.0.0.1:0',
    '--override', 'sasl.enabled.mechanisms=SCRAM-SHA-512',
    '--override', 'connection.failed.authentication.delay.ms=0',
    '--log-level', 'debug',
    ...addScram.flatMap((a) => ['--add-scram', a]),
  ];
}

function client(port: number, password: string): Kafka {
  return new Kafka({
    clientId: 'add-scram-test',
    brokers: [`127.0.0.1:${port}`],
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

describe('gregor --add-scram', () => {
  it('creates the first SCRAM user of a SCRAM-only broker at start, and a restart with another password keeps the first', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-add-scram-'));
    dirs.push(dataDir);

    const first = run(scramOnly(dataDir, ['SCRAM-SHA-512=[name=admin,password=admin-secret]']));
    const port = await ready(first);
    await logged(first, 'SCRAM credential created (--add-scram)');
    const kafka = client(port, 'admin-secret');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'bootstrapped', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'bootstrapped', messages: [{ value: 'hello as admin' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'add-scram' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'bootstrapped', fromBeginning: true });
    const got = await new Promise<string>((res) => void consumer.run({ eachMessage: async ({ message }) => res(message.value!.toString()) }));
    await consumer.disconnect();
    expect(got).toBe('hello as admin');
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    // the same flag with another password: the stored credential stays, the start says so
    const second = run(scramOnly(dataDir, ['SCRAM-SHA-512=[name=admin,password=changed-secret]']));
    const port2 = await ready(second);
    await logged(second, 'SCRAM credential kept');
    expect(second.stdout()).not.toContain('SCRAM credential created');
    const kept = client(port2, 'admin-secret').admin();
    await kept.connect();
    expect(await kept.listTopics()).toContain('bootstrapped');
    await kept.disconnect();
    const refused = client(port2, 'changed-secret').admin();
    await expect(refused.connect()).rejects.toThrow(/authentication failed|invalid credentials/i);
    await refused.disconnect();
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    // not even at debug level does a password reach the output
    for (const r of [first, second]) {
      for (const secret of ['admin-secret', 'changed-secret']) {
        expect(r.stdout()).not.toContain(secret);
        expect(r.stderr()).not.toContain(secret);
      }
    }
  });

  it('refuses a malformed --add-scram with exit status 2 and one line naming the flag, without showing the password', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-add-scram-'));
    dirs.push(dataDir);
    const cases: Array<[string, string]> = [
      ['SCRAM-SHA-512=[name=admin]', "gregor: --add-scram: one of 'password' or 'saltedpassword' is required"],
      ['SCRAM-SHA-1=[name=admin,password=admin-secret]', "gregor: --add-scram: the mechanism 'SCRAM-SHA-1' is not supported (SCRAM-SHA-256 or SCRAM-SHA-512)"],
      ['SCRAM-SHA-256=[name=admin,password=admin-secret,iterations=100]', "gregor: --add-scram: 'iterations' must be >= 4096 for SCRAM-SHA-256"],
      // a comma in the password splits it: the message must not show the part after it
      ['SCRAM-SHA-256=[name=admin,password=admin,secret]', 'gregor: --add-scram: a component without an equals sign (expected key=value; a password cannot hold a comma)'],
      ['SCRAM-SHA-256=name=admin,password=admin-secret', 'gregor: --add-scram: expected the SCRAM-SHA-256 configuration in brackets: SCRAM-SHA-256=[name=...,password=...]'],
    ];
    for (const [arg, message] of cases) {
      const r = run(scramOnly(dataDir, [arg]));
      expect(await r.exited).toEqual({ code: 2, signal: null });
      expect(r.stderr().split('\n')[0]).toBe(message);
      expect(r.stderr()).not.toContain('secret');
      expect(r.stdout()).toBe('');
    }
  });
});
