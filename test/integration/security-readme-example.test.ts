/**
 * The README's Security example works as written: its `server.properties`, `admin.properties` and
 * `client.properties` blocks and its commands are read from README.md (so they cannot drift), with only
 * the paths, the host and the port substituted: the certificates are made at test time (the broker's key
 * encrypted with the README's `ssl.key.password`), the broker listens on a free port of 127.0.0.1. A
 * broker started from that server.properties (plus a data directory) serves SASL_SSL with PLAIN and the
 * StandardAuthorizer; the super user creates the README's `kafka-acls.sh` ACLs (`--producer`,
 * `--consumer`, expanded as Kafka's AclCommand expands them) with kafkajs; alice, with the
 * client.properties settings, produces with kafkajs and with the README's kcat line and consumes in
 * Group-1; bob, who logs in but has no ACL, is refused with Kafka's errors; a wrong password is
 * SASL_AUTHENTICATION_FAILED; no password reaches the broker's log.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type AclEntry,
  type SASLOptions,
} from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, loadConfig } from '../../src/index.js';
import { parseProperties } from '../../src/config/properties.js';
import { TestPki } from '../helpers/certificates.js';
import { freePort } from '../helpers/free-port.js';
import { REPO_ROOT } from '../helpers/grafana-dashboard.js';

/** The README's "## Security" section, and its fenced code blocks in order. */
async function readmeSecurityBlocks(): Promise<Array<{ lang: string; text: string }>> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Security\n');
  expect(start, 'README.md has a "## Security" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

/** The block whose first line is `# <name>`. */
function block(blocks: ReadonlyArray<{ lang: string; text: string }>, name: string): string {
  const found = blocks.find((b) => b.lang === 'properties' && b.text.startsWith(`# ${name}\n`));
  if (found === undefined) throw new Error(`README.md's Security section has no properties block starting "# ${name}"`);
  return found.text;
}

/** One `kafka-acls.sh --add` line as the ACLs Kafka's AclCommand creates for it. */
function aclsOf(line: string): AclEntry[] {
  const args = line.trim().split(/\s+/).slice(1);
  const values = (flag: string): string[] => args.flatMap((a, i) => (a === flag && args[i + 1] !== undefined ? [args[i + 1]!] : []));
  expect(args).toContain('--add');
  expect(values('--command-config')).toEqual(['admin.properties']);
  const principals = values('--allow-principal');
  const topics = values('--topic');
  const groups = values('--group');
  const wanted: Array<{ resourceType: AclResourceTypes; resourceName: string; operation: AclOperationTypes }> = [];
  if (args.includes('--producer')) {
    for (const t of topics) for (const op of [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE, AclOperationTypes.CREATE]) wanted.push({ resourceType: AclResourceTypes.TOPIC, resourceName: t, operation: op });
  }
  if (args.includes('--consumer')) {
    for (const t of topics) for (const op of [AclOperationTypes.READ, AclOperationTypes.DESCRIBE]) wanted.push({ resourceType: AclResourceTypes.TOPIC, resourceName: t, operation: op });
    for (const g of groups) wanted.push({ resourceType: AclResourceTypes.GROUP, resourceName: g, operation: AclOperationTypes.READ });
  }
  expect(wanted.length, `a --producer or --consumer line: ${line}`).toBeGreaterThan(0);
  return principals.flatMap((principal) =>
    wanted.map((w) => ({ ...w, principal, host: '*', permissionType: AclPermissionTypes.ALLOW, resourcePatternType: ResourcePatternTypes.LITERAL })),
  );
}

const README_SSL_DIR = '/etc/gregor/ssl/';

describe("the README's SASL_SSL + ACL example", () => {
  let pki: TestPki;
  let dir: string;
  let broker: Broker | undefined;
  let port: number;
  let serverProperties: string;
  let adminProperties: Map<string, string>;
  let clientProperties: Map<string, string>;
  let commands: string[];
  const logs: string[] = [];

  /** The README's text with this test's paths, host and port. */
  const localize = (text: string): string =>
    text.replaceAll(README_SSL_DIR, `${pki.dir}/`).replaceAll('://:9093', `://127.0.0.1:${port}`).replaceAll('broker.example.com:9093', `127.0.0.1:${port}`);

  beforeAll(async () => {
    const blocks = await readmeSecurityBlocks();
    pki = await TestPki.create();
    dir = await mkdtemp(join(tmpdir(), 'gregor-security-readme-'));
    port = await freePort();
    serverProperties = localize(block(blocks, 'server.properties'));
    adminProperties = parseProperties(localize(block(blocks, 'admin.properties')));
    clientProperties = parseProperties(localize(block(blocks, 'client.properties')));
    const sh = blocks.find((b) => b.lang === 'sh' && b.text.includes('kafka-acls.sh --bootstrap-server broker.example.com:9093'));
    expect(sh, 'the example commands').toBeDefined();
    commands = localize(sh!.text).split('\n').filter((l) => l.trim() !== '');

    // the key store and trust store the example names, as PEM files: broker.pem (key encrypted with
    // ssl.key.password, then the chain), ca.pem
    const server = parseProperties(serverProperties);
    expect(server.get('ssl.keystore.location')).toBe(join(pki.dir, 'broker.pem'));
    expect(server.get('ssl.truststore.location')).toBe(join(pki.dir, 'ca.pem'));
    pki.issue('broker', '/CN=broker.example.com', { san: 'DNS:broker.example.com,DNS:localhost,IP:127.0.0.1', keyPassword: server.get('ssl.key.password')! });
    await copyFile(pki.caCert, join(pki.dir, 'ca.pem'));

    const file = join(dir, 'server.properties');
    await writeFile(file, serverProperties);
    const config = loadConfig({ file, overrides: { 'log.dirs': join(dir, 'data'), 'gregor.metrics.enabled': 'false', 'group.initial.rebalance.delay.ms': '0' } });
    // the inter-broker lines of Kafka's example are accepted and named in the start warning (one node)
    expect(config.warnings.join('\n')).toMatch(/no effect.*security\.inter\.broker\.protocol/);
    expect(config.warnings.join('\n')).toMatch(/no effect.*sasl\.mechanism\.inter\.broker\.protocol/);
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
    broker = await Broker.start({ config, logger });
    expect(broker.boundPorts.get('SASL_SSL')).toBe(port);
  }, 120_000);

  afterAll(async () => {
    await broker?.close();
    await pki?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    for (const secret of ['admin-secret', 'alice-secret', 'bob-secret', 'not-alices-password']) expect(logs.join('')).not.toContain(secret);
  });

  /** kafkajs configured as a client.properties / admin.properties says (its JAAS line's login, its PEM trust store). */
  async function kafkaFor(props: Map<string, string>, login?: { username: string; password: string }, errors?: string[]): Promise<Kafka> {
    expect(props.get('security.protocol')).toBe('SASL_SSL');
    expect(props.get('ssl.truststore.type')).toBe('PEM');
    const jaas = props.get('sasl.jaas.config')!;
    expect(jaas).toMatch(/^org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule required /);
    const username = login?.username ?? /username="([^"]*)"/.exec(jaas)![1]!;
    const password = login?.password ?? /password="([^"]*)"/.exec(jaas)![1]!;
    const sasl: SASLOptions = { mechanism: 'plain', username, password };
    expect(props.get('sasl.mechanism')).toBe('PLAIN');
    const ca = await readFile(props.get('ssl.truststore.location')!, 'utf8');
    return new Kafka({
      clientId: `readme-${username}`,
      brokers: [`127.0.0.1:${port}`],
      ssl: { ca: [ca] },
      sasl,
      // the errors kafkajs logs (at debug) behind the ones it throws: Kafka's error names
      logLevel: errors === undefined ? logLevel.NOTHING : logLevel.DEBUG,
      logCreator: () => (entry) => {
        const error = (entry.log as { error?: unknown }).error;
        if (errors !== undefined && error !== undefined) errors.push(String((error as { type?: string }).type ?? error));
      },
      retry: { retries: 3, initialRetryTime: 100 },
    });
  }

  it('lets the super user create the kafka-acls.sh ACLs, and alice produce (kafkajs, kcat) and consume in Group-1', async () => {
    const aclLines = commands.filter((c) => c.startsWith('kafka-acls.sh '));
    expect(aclLines).toHaveLength(2);
    const acls = aclLines.flatMap(aclsOf);
    const admin = (await kafkaFor(adminProperties)).admin();
    await admin.connect();
    await admin.createAcls({ acl: acls });
    const listed = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    // --producer and --consumer both grant DESCRIBE on the topic: one ACL, as in Kafka
    expect(listed.resources.flatMap((r) => r.acls)).toHaveLength(new Set(acls.map((a) => JSON.stringify(a))).size);
    await admin.disconnect();

    // alice's client.properties
    expect(/username="([^"]*)"/.exec(clientProperties.get('sasl.jaas.config')!)![1]).toBe('alice');
    const alice = await kafkaFor(clientProperties);
    const producer = alice.producer();
    await producer.connect();
    await producer.send({ topic: 'Test-topic', messages: [{ value: 'hello from kafkajs' }] });
    await producer.disconnect();

    // the README's kcat line, as a shell would run it: echo "…" | kcat …
    const kcatLine = commands.find((c) => c.includes('| kcat '));
    const m = /^echo "([^"]*)" \| kcat (.*)$/.exec(kcatLine ?? '');
    expect(m, `the kcat line: ${kcatLine}`).not.toBeNull();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('kcat', m![2]!.split(/\s+/), { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`kcat exited ${code}: ${stderr}`));
      });
      child.stdin.end(`${m![1]}\n`);
    });

    const consumer = alice.consumer({ groupId: 'Group-1', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'Test-topic', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
          if (got.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(got.sort()).toEqual(['hello from kafkajs', 'hello from kcat']);
  }, 120_000);

  it('refuses bob, who logs in but has no ACL, and a wrong password', async () => {
    const errors: string[] = [];
    const bob = await kafkaFor(clientProperties, { username: 'bob', password: 'bob-secret' }, errors);
    const admin = bob.admin();
    await admin.connect();
    // Test-topic is hidden from bob's Metadata, and refused when he names it
    expect(await admin.listTopics()).not.toContain('Test-topic');
    // FindCoordinator for Group-1 (kafkajs throws its own "Failed to find group coordinator" after Kafka's error)
    await expect(admin.fetchOffsets({ groupId: 'Group-1', topics: ['Test-topic'] })).rejects.toThrow();
    expect(errors).toContain('GROUP_AUTHORIZATION_FAILED');
    await admin.disconnect();
    const producer = bob.producer();
    await producer.connect();
    await expect(producer.send({ topic: 'Test-topic', messages: [{ value: 'from bob' }] })).rejects.toThrow(/not authorized|TOPIC_AUTHORIZATION_FAILED/i);
    await producer.disconnect();

    const wrong = (await kafkaFor(clientProperties, { username: 'alice', password: 'not-alices-password' })).admin();
    await expect(wrong.connect()).rejects.toThrow(/Authentication failed: Invalid username or password/);
    await wrong.disconnect();
  }, 60_000);
});
