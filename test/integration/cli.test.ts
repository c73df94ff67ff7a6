/**
 * The `gregor` command as users run it: `node dist/src/cli.js` in its own
 * process (built by `npm test`'s pretest, or here when dist/ is stale), a
 * ready line on stdout, kafkajs talking to it, SIGTERM for a clean stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gregor-cli-'));
  dirs.push(d);
  return d;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  // metrics on a free port, so a Gregor already running on this machine (port 9464) does not clash
  const childEnv = { ...process.env, GREGOR_METRICS_PORT: '0', ...env };
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the ready line and returns the advertised host and port it names. */
async function ready(r: Run): Promise<{ host: string; port: number; node: number }> {
  for (;;) {
    const m = /ready: listening on \S+, advertised as ([^:\s]+):(\d+) \(node (\d+)/.exec(r.stdout());
    if (m) return { host: m[1]!, port: Number(m[2]), node: Number(m[3]) };
    const done = await Promise.race([r.exited, new Promise<null>((res) => setTimeout(() => res(null), 25))]);
    if (done) throw new Error(`gregor exited (${JSON.stringify(done)}) before it was ready:\n${r.stdout()}\n${r.stderr()}`);
  }
}

describe('gregor CLI', () => {
  it('prints its version', async () => {
    const r = run(['--version']);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toMatch(/^gregor \d+\.\d+\.\d+\n$/);
  });

  it('prints usage with --help', async () => {
    const r = run(['-h']);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toContain('Usage: gregor');
    expect(r.stdout()).toContain('--override KEY=VALUE');
    expect(r.stdout()).toContain('GREGOR_');
  });

  it('starts with defaults on a free port, serves kafkajs, and exits 0 on SIGTERM after a clean shutdown', async () => {
    const dataDir = await tempDir();
    const r = run(['--port', '0', '--data-dir', dataDir], { GREGOR_NUM_PARTITIONS: '3', GREGOR_LOG_LEVEL: 'warn' });
    const { host, port } = await ready(r);
    expect(host).toBe('localhost');
    const admin = new Kafka({ clientId: 'cli-test', brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'from-cli' }] });
      const { topics } = await admin.fetchTopicMetadata({ topics: ['from-cli'] });
      // num.partitions came from GREGOR_NUM_PARTITIONS
      expect(topics[0]!.partitions).toHaveLength(3);
      expect((await admin.describeCluster()).brokers).toEqual([{ nodeId: 1, host: 'localhost', port }]);
    } finally {
      await admin.disconnect();
    }
    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(true);
    expect(existsSync(join(dataDir, 'from-cli-2'))).toBe(true);
  });

  it('reads a server.properties file given as its argument, with --override taking precedence', async () => {
    const dataDir = await tempDir();
    const file = join(dataDir, 'server.properties');
    await writeFile(file, `node.id=7\nlog.dirs=${join(dataDir, 'logs')}\nlisteners=PLAINTEXT://127.0.0.1:0\nnum.partitions=2\nprocess.roles=broker\n`);
    const r = run([file, '--override', 'num.partitions=4', '-l', 'warn']);
    const { host, port, node } = await ready(r);
    // a listener on a named interface is advertised on it
    expect(host).toBe('127.0.0.1');
    expect(node).toBe(7);
    // the unknown key of the file is reported, not fatal
    expect(r.stdout()).toContain('process.roles');
    const admin = new Kafka({ clientId: 'cli-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'four' }] });
      expect((await admin.fetchTopicMetadata({ topics: ['four'] })).topics[0]!.partitions).toHaveLength(4);
    } finally {
      await admin.disconnect();
    }
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(0);
  });

  it('rejects a bad config value with exit code 2, naming the key and the value', async () => {
    const r = run(['--override', 'num.partitions=zero']);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toContain("invalid configuration num.partitions: 'zero' is not an integer (from overrides)");
    expect(r.stdout()).toBe('');
  });

  it('refuses gregor.max.partitions.per.topic below offsets.topic.num.partitions or transaction.state.log.num.partitions with one line naming both, exit code 2', async () => {
    const r = run(['--override', 'gregor.max.partitions.per.topic=10']);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr().trim().split('\n')[0]).toBe(
      'gregor: invalid configuration gregor.max.partitions.per.topic: 10 (from overrides) is below offsets.topic.num.partitions (50), so __consumer_offsets could not be created; raise gregor.max.partitions.per.topic or lower offsets.topic.num.partitions',
    );
    expect(r.stdout()).toBe('');
    const txn = run(['--override', 'gregor.max.partitions.per.topic=10', '--override', 'offsets.topic.num.partitions=10']);
    expect((await txn.exited).code).toBe(2);
    expect(txn.stderr().trim().split('\n')[0]).toBe(
      'gregor: invalid configuration gregor.max.partitions.per.topic: 10 (from overrides) is below transaction.state.log.num.partitions (50), so __transaction_state could not be created; raise gregor.max.partitions.per.topic or lower transaction.state.log.num.partitions',
    );
    const fits = run(['--port', '0', '--data-dir', await tempDir(), '--override', 'gregor.max.partitions.per.topic=10', '--override', 'offsets.topic.num.partitions=10', '--override', 'transaction.state.log.num.partitions=10']);
    await ready(fits);
    fits.child.kill('SIGTERM');
    expect((await fits.exited).code).toBe(0);
  });

  it('rejects a bad GREGOR_ variable and an unknown flag with exit code 2', async () => {
    const env = run([], { GREGOR_AUTO_CREATE_TOPICS_ENABLE: 'maybe' });
    expect((await env.exited).code).toBe(2);
    expect(env.stderr()).toContain("auto.create.topics.enable: 'maybe' is not a boolean");
    expect(env.stderr()).toContain('GREGOR_AUTO_CREATE_TOPICS_ENABLE');
    const flag = run(['--prot', '9092']);
    expect((await flag.exited).code).toBe(2);
    expect(flag.stderr()).toContain("Unknown option '--prot'");
  });

  it('refuses a data dir of another node.id with a one-line message and exit code 1', async () => {
    const dataDir = await tempDir();
    const first = run(['-p', '0', '-d', dataDir, '-l', 'warn']);
    await ready(first);
    first.child.kill('SIGTERM');
    await first.exited;
    const second = run(['-p', '0', '-d', dataDir, '--node-id', '2', '-l', 'warn']);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr()).toMatch(/^gregor: failed to start: .*node\.id=1.*node\.id=2.*\n$/);
  });

  it('reports a port in use and exits 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = run(['--host', '127.0.0.1', '-p', String(port), '-d', await tempDir(), '-l', 'warn']);
      expect((await r.exited).code).toBe(1);
      expect(r.stderr()).toContain('EADDRINUSE');
      expect(r.stderr()).toMatch(/^gregor: failed to start: [^\n]*\n$/);
    } finally {
      blocker.close();
    }
  });

  it('reports a metrics port in use in one line, naming the port and the configs, and exits 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = run(['-p', '0', '-d', await tempDir(), '-l', 'warn', '-o', 'gregor.metrics.host=127.0.0.1', '--metrics-port', String(port)]);
      expect((await r.exited).code).toBe(1);
      expect(r.stderr()).toBe(
        `gregor: failed to start: cannot serve metrics on 127.0.0.1:${port} (gregor.metrics.host/port; gregor.metrics.enabled=false turns them off): EADDRINUSE\n`,
      );
      expect(r.stdout()).toBe('');
    } finally {
      blocker.close();
    }
  });

  /** Runs the CLI with bad input: exit code 2, and the message is one line (then the --help hint). */
  async function refused(args: string[]): Promise<string> {
    const r = run(['-d', await tempDir(), ...args]);
    expect((await r.exited).code).toBe(2);
    expect(r.stdout()).toBe('');
    const m = /^gregor: ([^\n]*)\nTry 'gregor --help'\.\n$/.exec(r.stderr());
    expect(m, r.stderr()).not.toBeNull();
    return m![1]!;
  }

  it('names the flag as typed when its value is bad, with exit code 2', async () => {
    expect(await refused(['--port', 'abc'])).toBe("--port: 'abc' is not a port number (0-65535)");
    expect(await refused(['-p', '70000'])).toBe("-p: '70000' is not a port number (0-65535)");
    expect(await refused(['--metrics-port', '94x'])).toBe("--metrics-port: '94x' is not a port number (0-65535)");
    expect(await refused(['-l', 'verbose'])).toBe(
      "invalid configuration gregor.log.level: 'verbose' is not one of trace, debug, info, warn, error, fatal, silent (from -l)",
    );
    expect(await refused(['--node-id', 'one'])).toBe("invalid configuration node.id: 'one' is not an integer (from --node-id)");
    expect(await refused(['-o', 'listeners=PLAINTEXT://:abc'])).toBe(
      "invalid configuration listeners: 'PLAINTEXT://:abc' is not of the form NAME://host:port (from overrides)",
    );
  });

  it('refuses a listener without a security protocol, a name twice and advertised names that are not listeners, with exit code 2', async () => {
    expect(await refused(['-o', 'listeners=PLAINTEXT://:9092,CONTROLLER://:9093'])).toBe(
      'invalid configuration listeners: No security protocol defined for listener CONTROLLER (listener.security.protocol.map has none for it) (from overrides)',
    );
    expect(await refused(['-o', 'listeners=PLAINTEXT://:9092,PLAINTEXT://:9093'])).toBe(
      'invalid configuration listeners: the listener name PLAINTEXT appears more than once (from overrides)',
    );
    expect(await refused(['-o', 'listeners=PLAINTEXT://:0', '-o', 'advertised.listeners=PLAINTEXT://a:1,EXTERNAL://b:2'])).toContain(
      'invalid configuration advertised.listeners: advertised.listeners listener names must be equal to or a subset of the ones defined in listeners.',
    );
  });

  it("starts from a KRaft server.properties, leaving out its controller listener with a warning", async () => {
    const dataDir = await tempDir();
    const file = join(dataDir, 'server.properties');
    await writeFile(
      file,
      [
        'process.roles=broker,controller',
        'node.id=1',
        'controller.quorum.voters=1@localhost:9093',
        'listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://:9093',
        'advertised.listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://localhost:9093',
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${join(dataDir, 'logs')}`,
        '',
      ].join('\n'),
    );
    const r = run([file, '-l', 'warn']);
    const { host } = await ready(r);
    expect(host).toBe('127.0.0.1');
    expect(r.stdout()).toContain('ignoring the controller listener CONTROLLER://:9093 (controller.listener.names)');
    // nothing listens on the controller's port on Gregor's behalf
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });

  it('warns at start when a replication setting is above the broker count, and topics then fail as it says', async () => {
    const r = run(['-p', '0', '-d', await tempDir(), '-l', 'warn', '-o', 'default.replication.factor=3']);
    const { port } = await ready(r);
    expect(r.stdout()).toContain(
      'default.replication.factor=3 (from overrides) is above the number of brokers (1): creating a topic with the default replication factor' +
        ' (auto-creation, CreateTopics with -1) fails with INVALID_REPLICATION_FACTOR; set it to 1',
    );
    const admin = new Kafka({ clientId: 'cli-test', brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      const err = (await admin.createTopics({ topics: [{ topic: 'rf-default' }] }).catch((e: unknown) => e)) as { errors?: Array<{ type: string }> };
      expect(err.errors?.map((e) => e.type)).toEqual(['INVALID_REPLICATION_FACTOR']);
    } finally {
      await admin.disconnect();
    }
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});
