/**
 * The command line with TLS, as a user runs it: a server.properties with several listeners, an inline PEM
 * key store written as Kafka's documentation writes it (continuation lines) and its key password from the
 * environment (config providers); the ready line names every listener; librdkafka connects over SSL; no
 * secret reaches the log, even at debug level and when a listener's key password is changed at runtime;
 * a wrong key password stops the start with a message that does not show it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { ensureBuilt } from '../helpers/broker-process.js';
import { TestPki, type Issued } from '../helpers/certificates.js';
import { kcatConsume, kcatProduce } from '../helpers/kcat.js';
import { RawClient } from '../helpers/raw-client.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli.js');
const KEY_PASSWORD = 'pa55-from-env';

let pki: TestPki;
let server: Issued;
let dir: string;
let children: ChildProcess[] = [];

beforeAll(async () => {
  ensureBuilt();
  pki = await TestPki.create();
  server = pki.issue('server', '/O=Gregor Test/CN=localhost', { san: 'DNS:localhost,IP:127.0.0.1', keyPassword: KEY_PASSWORD });
  dir = await mkdtemp(join(tmpdir(), 'gregor-tls-cli-'));
}, 300_000);

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
});

afterAll(async () => {
  await pki?.remove();
  await rm(dir, { recursive: true, force: true });
});

/** PEM as Kafka's documentation puts it in server.properties: one value over continuation lines. */
function continued(pem: string): string {
  return pem.trim().split('\n').join(' \\\n  ');
}

function run(args: string[], env: Record<string, string>): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, GREGOR_METRICS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, out: () => out, exited: new Promise((res) => child.on('exit', (code) => res(code))) };
}

async function properties(name: string, keyPassword: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      `log.dirs=${join(dir, `${name}-logs`)}`,
      'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
      'config.providers=env',
      'config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      'ssl.keystore.type=PEM',
      `ssl.keystore.key=${continued(server.keyText)}`,
      `ssl.keystore.certificate.chain=${continued(server.certText)}`,
      `ssl.key.password=${keyPassword}`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('gregor with a TLS listener', () => {
  it('starts from a server.properties with an inline PEM key store whose password comes from the environment, and logs no secret', async () => {
    const r = run([await properties('server.properties', '${env:TLS_KEY_PASSWORD}'), '-l', 'debug'], { TLS_KEY_PASSWORD: KEY_PASSWORD });
    let m: RegExpExecArray | null = null;
    for (let i = 0; i < 600 && m === null; i++) {
      m = /ready: listening on 127\.0\.0\.1:(\d+), advertised as 127\.0\.0\.1:\d+ .*; SSL \(SSL\) on 127\.0\.0\.1:(\d+), advertised as 127\.0\.0\.1:(\d+)/.exec(r.out());
      if (m === null) await new Promise((res) => setTimeout(res, 50));
    }
    expect(m, r.out()).not.toBeNull();
    const [plainPort, sslPort] = [Number(m![1]), Number(m![2])];
    expect(Number(m![3])).toBe(sslPort);
    const ssl = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caCert}`];
    await kcatProduce(sslPort, 'cli-tls', ['one', 'two'], ssl);
    expect((await kcatConsume(sslPort, 'cli-tls', 0, ssl)).map((x) => x.payload)).toEqual(['one', 'two']);
    // a key password changed at runtime (same key store) is logged redacted
    const c = await RawClient.connect(plainPort);
    const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
      resources: [{ resourceType: 4, resourceName: '1', configs: [{ name: 'listener.name.ssl.ssl.key.password', configOperation: 0, value: KEY_PASSWORD }] }],
      validateOnly: false,
    });
    c.close();
    expect(res.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    await new Promise((res) => setTimeout(res, 200));
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    const log = r.out();
    expect(log).toContain('altered dynamic broker configs');
    expect(log).toContain('"listener.name.ssl.ssl.key.password":"[hidden]"');
    expect(log).not.toContain(KEY_PASSWORD);
    expect(log).not.toContain('PRIVATE KEY');
    expect(log).not.toContain(server.certText.split('\n')[1]!);
  }, 120_000);

  it('refuses a wrong key password at start (exit status 2), naming the listener and not the password', async () => {
    const r = run([await properties('wrong.properties', 'not-the-password')], {});
    expect(await r.exited).toBe(2);
    expect(r.out()).toContain('gregor: invalid configuration of listener SSL (SSL): Invalid PEM keystore configs: Private key could not be loaded');
    expect(r.out()).not.toContain('not-the-password');
  }, 60_000);
});
