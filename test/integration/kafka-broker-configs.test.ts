/**
 * Kafka 3.9's whole broker config table and its version strings, against a
 * real broker on a real port: kafkajs 2.2.4's admin (AlterConfigs,
 * DescribeConfigs, CreateTopics with configs), confluent-kafka-python 1.7
 * (librdkafka's CreateTopics, AlterConfigs and DescribeConfigs, run with /usr/bin/python3),
 * our codec client for DescribeConfigs v4 (types, documentation) and
 * IncrementalAlterConfigs, and the `gregor` command with a server.properties.
 * Each answer is Kafka 3.9's: a dynamic config Gregor does not implement is
 * accepted, stored across a restart and described as DYNAMIC_BROKER_CONFIG;
 * a name Kafka does not know is kept as a custom config; a bad value gets
 * Kafka's ConfigException text; a password is described without its value;
 * version strings are read by Kafka's MetadataVersion rules.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageValue } from '../../protocol/index.js';
import { startWithAdminClients, type AdminClients } from '../helpers/admin-clients.js';
import { ensureBuilt } from '../helpers/broker-process.js';
import type { RawClient } from '../helpers/raw-client.js';

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const SOURCE = { TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 };
const TYPE = { UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 };
const PYTHON = '/usr/bin/python3';
const root = resolve(import.meta.dirname, '../..');

type DescribeResult = MessageValue<typeof schemas.describeConfigsResponse>['results'][number];
type AlterResult = MessageValue<typeof schemas.incrementalAlterConfigsResponse>['responses'][number];

async function describeBroker(raw: RawClient, keys: string[] | null, resourceName = '1'): Promise<DescribeResult> {
  const res = await raw.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, 4, {
    resources: [{ resourceType: BROKER, resourceName, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: true,
  });
  return res.results[0]!;
}

async function incremental(raw: RawClient, resourceType: number, resourceName: string, configs: Array<{ name: string; value: string | null }>): Promise<AlterResult> {
  const res = await raw.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType, resourceName, configs: configs.map((c) => ({ ...c, configOperation: SET })) }],
    validateOnly: false,
  });
  return res.responses[0]!;
}

/** confluent-kafka-python's AlterConfigs (legacy, as 1.7 has it) then DescribeConfigs of broker 1: {error, configs}. */
async function pythonAlterAndDescribe(
  bootstrap: string,
  configs: Record<string, string>,
): Promise<{ error: string | null; configs: Record<string, { value: string | null; source: number; sensitive: boolean; readOnly: boolean }> }> {
  const script = `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource
admin = AdminClient({'bootstrap.servers': sys.argv[1]})
resource = ConfigResource('broker', '1', set_config=json.loads(sys.argv[2]))
error = None
try:
    admin.alter_configs([resource])[resource].result(15)
except Exception as e:
    error = str(e)
described = admin.describe_configs([ConfigResource('broker', '1')])[ConfigResource('broker', '1')].result(15)
wanted = json.loads(sys.argv[2]).keys()
print(json.dumps({'error': error, 'configs': {n: {'value': e.value, 'source': e.source, 'sensitive': e.is_sensitive, 'readOnly': e.is_read_only} for n, e in described.items() if n in wanted}}))
`;
  // asynchronously: the broker answers from this process
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, bootstrap, JSON.stringify(configs)], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Awaited<ReturnType<typeof pythonAlterAndDescribe>>;
}

/** confluent-kafka-python: CreateTopics with message.format.version, AlterConfigs of it, DescribeConfigs after each: the values, or the error. */
async function pythonTopicFormatVersion(bootstrap: string, topic: string, created: string, altered: string): Promise<{ error: string | null; values: string[] }> {
  const script = `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
admin = AdminClient({'bootstrap.servers': sys.argv[1]})
topic, created, altered = sys.argv[2], sys.argv[3], sys.argv[4]
resource = ConfigResource('topic', topic)
def described():
    return admin.describe_configs([resource])[resource].result(15)['message.format.version'].value
values = []
error = None
try:
    admin.create_topics([NewTopic(topic, 1, 1, config={'message.format.version': created})])[topic].result(15)
    values.append(described())
    admin.alter_configs([ConfigResource('topic', topic, set_config={'message.format.version': altered})])[resource].result(15)
    values.append(described())
except Exception as e:
    error = str(e)
print(json.dumps({'error': error, 'values': values}))
`;
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, bootstrap, topic, created, altered], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { error: string | null; values: string[] };
}

describe('Kafka 3.9 broker configs', () => {
  let dataDir: string;
  let clients: AdminClients;

  const start = async (): Promise<void> => {
    clients = await startWithAdminClients('kafka-broker-configs-test', { dataDir });
  };

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y --no-install-recommends python3-confluent-kafka`);
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-kafka-configs-'));
    await start();
  });
  afterAll(async () => {
    await clients?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('accepts a per-broker dynamic config Gregor does not implement (kafkajs), describes it as DYNAMIC_BROKER_CONFIG, and keeps it across a restart', async () => {
    const { admin } = clients;
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'sasl.kerberos.min.time.before.relogin', value: '120000' }] }],
    });
    const expected = {
      configValue: '120000',
      readOnly: false,
      isSensitive: false,
      configSource: SOURCE.DYNAMIC_BROKER_CONFIG,
      configSynonyms: [
        { configName: 'sasl.kerberos.min.time.before.relogin', configValue: '120000', configSource: SOURCE.DYNAMIC_BROKER_CONFIG },
        { configName: 'sasl.kerberos.min.time.before.relogin', configValue: '60000', configSource: SOURCE.DEFAULT_CONFIG },
      ],
    };
    const described = async (): Promise<unknown> => {
      const { resources } = await clients.admin.describeConfigs({
        includeSynonyms: true,
        resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['sasl.kerberos.min.time.before.relogin'] }],
      });
      return resources[0]!.configEntries[0];
    };
    expect(await described()).toMatchObject(expected);
    await clients.close();
    await start();
    expect(clients.broker.broker.config.dynamicConfigs('broker')).toEqual({ 'sasl.kerberos.min.time.before.relogin': '120000' });
    expect(await described()).toMatchObject(expected);
    // the documentation and type are Kafka's
    const entry = (await describeBroker(clients.raw, ['sasl.kerberos.min.time.before.relogin'])).configs[0]!;
    expect(entry).toMatchObject({ configType: TYPE.LONG, documentation: 'Login thread sleep time between refresh attempts.' });
  });

  it('describes every one of Kafka 3.9\'s documented broker configs with its type, read-only flag and documentation', async () => {
    const result = await describeBroker(clients.raw, null);
    expect(result.errorCode).toBe(ErrorCode.NONE);
    const byName = new Map(result.configs.map((c) => [c.name, c]));
    // Gregor's own 86 and Kafka's others: 314 documented, broker.id and log.dir being Gregor's aliases
    expect(byName.size).toBeGreaterThanOrEqual(312);
    expect(byName.get('num.io.threads')).toMatchObject({ value: '8', readOnly: false, configSource: SOURCE.DEFAULT_CONFIG, configType: TYPE.INT });
    expect(byName.get('process.roles')).toMatchObject({ value: '', readOnly: true, configType: TYPE.LIST });
    expect(byName.get('principal.builder.class')).toMatchObject({ value: 'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder', configType: TYPE.CLASS, readOnly: false });
    expect(byName.get('sasl.login.refresh.buffer.seconds')).toMatchObject({ value: '300', configType: TYPE.SHORT });
    expect(byName.get('sasl.kerberos.ticket.renew.window.factor')).toMatchObject({ value: '0.8', configType: TYPE.DOUBLE });
    expect(byName.get('zookeeper.connect')).toMatchObject({ value: null, readOnly: true, configType: TYPE.STRING });
    expect(byName.get('ssl.keystore.password')).toMatchObject({ value: null, isSensitive: true, configType: TYPE.PASSWORD });
    expect(byName.get('inter.broker.protocol.version')!.documentation).toContain('Specify which version of the inter-broker protocol will be used');
    // Gregor's own configs keep Gregor's documentation
    expect(byName.get('gregor.cache.bytes')!.documentation).toContain('Gregor:');
  });

  it('describes a password config without its value, in the entry and in every synonym (confluent-kafka-python)', async () => {
    const r = await pythonAlterAndDescribe(clients.broker.bootstrap, { 'sasl.jaas.config': 'org.example.Login required password="s3cret";', 'num.io.threads': '12' });
    expect(r.error).toBeNull();
    expect(r.configs['sasl.jaas.config']).toEqual({ value: null, source: SOURCE.DYNAMIC_BROKER_CONFIG, sensitive: true, readOnly: false });
    expect(r.configs['num.io.threads']).toEqual({ value: '12', source: SOURCE.DYNAMIC_BROKER_CONFIG, sensitive: false, readOnly: false });
    const entry = (await describeBroker(clients.raw, ['sasl.jaas.config'])).configs[0]!;
    expect(entry).toMatchObject({ value: null, isSensitive: true, configType: TYPE.PASSWORD });
    expect(entry.synonyms).toEqual([{ name: 'sasl.jaas.config', value: null, source: SOURCE.DYNAMIC_BROKER_CONFIG }]);
    // AlterConfigs replaces the whole set: the earlier config is gone
    expect(clients.broker.broker.config.dynamicConfigs('broker')).toEqual({ 'sasl.jaas.config': 'org.example.Login required password="s3cret";', 'num.io.threads': '12' });
  });

  it('keeps a name Kafka does not know as a custom config, described as Kafka does (UNKNOWN type, so sensitive and read-only)', async () => {
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'my.metrics.reporter.interval', value: '1000' }])).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
    const entry = (await describeBroker(clients.raw, ['my.metrics.reporter.interval'])).configs[0]!;
    expect(entry).toMatchObject({ value: null, isSensitive: true, readOnly: true, configType: TYPE.UNKNOWN, configSource: SOURCE.DYNAMIC_BROKER_CONFIG, documentation: null });
    expect(clients.broker.broker.config.dynamicConfigs('broker')['my.metrics.reporter.interval']).toBe('1000');
  });

  it('answers a bad value with Kafka\'s ConfigException text: INVALID_REQUEST for a broker config, INVALID_CONFIG for a topic config', async () => {
    const before = clients.broker.broker.config.dynamicConfigs('broker');
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'sasl.kerberos.min.time.before.relogin', value: 'an hour' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Invalid value an hour for configuration sasl.kerberos.min.time.before.relogin: Not a number of type LONG',
    });
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'ssl.client.auth', value: 'always' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Invalid value always for configuration ssl.client.auth: String must be one of: required, requested, none',
    });
    expect(await incremental(clients.raw, BROKER, '', [{ name: 'sasl.kerberos.min.time.before.relogin', value: '1000' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Cannot update these configs at default cluster level, broker id must be specified: Set(sasl.kerberos.min.time.before.relogin)',
    });
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'ssl.keystore.location', value: '/etc/k.jks' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)',
    });
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'num.io.threads', value: '100' }])).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid dynamic configuration' });
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'zookeeper.connect', value: 'localhost:2181' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Cannot update these configs dynamically: Set(zookeeper.connect)',
    });
    expect(clients.broker.broker.config.dynamicConfigs('broker')).toEqual(before);
    await expect(
      clients.admin.createTopics({ topics: [{ topic: 'typed', configEntries: [{ name: 'segment.ms', value: 'a week' }] }] }),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'INVALID_CONFIG' })] });
    expect(await incremental(clients.raw, TOPIC, 'no-such-topic', [{ name: 'segment.ms', value: 'a week' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Invalid value a week for configuration segment.ms: Not a number of type LONG',
    });
  });

  it('reads message.format.version as Kafka 3.9 does: legacy four-part, three-part and IV strings accepted and kept, the others refused', async () => {
    const { admin } = clients;
    const accepted = ['0.10.0.0', '0.10.0', '0.10.0-IV1', '0.8.2.2', '2.8', '3.9-IV0'];
    await admin.createTopics({ topics: accepted.map((v, i) => ({ topic: `legacy-${i}`, configEntries: [{ name: 'message.format.version', value: v }] })) });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: accepted.map((_, i) => ({ type: ConfigResourceTypes.TOPIC, name: `legacy-${i}`, configNames: ['message.format.version'] })),
    });
    expect(resources.map((r) => r.configEntries[0]!.configValue)).toEqual(accepted);
    // the format setting is ignored since 3.0: records are stored as produced
    await clients.producer.send({ topic: 'legacy-0', messages: [{ key: 'k', value: 'v' }] });

    for (const refused of ['0.10', '4.0', '3.9-IV1', 'latest']) {
      expect(await incremental(clients.raw, TOPIC, 'legacy-1', [{ name: 'message.format.version', value: refused }]), refused).toMatchObject({
        errorCode: ErrorCode.INVALID_CONFIG,
        errorMessage: `Invalid value ${refused} for configuration message.format.version: Version ${refused} is not a valid version`,
      });
    }
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'legacy-1', configEntries: [{ name: 'message.format.version', value: '2.8.1' }] }] });
    // confluent-kafka-python (librdkafka's CreateTopics and AlterConfigs) gets the same answers
    expect(await pythonTopicFormatVersion(clients.broker.bootstrap, 'legacy-py', '0.10.0.0', '0.10.0-IV1')).toEqual({ error: null, values: ['0.10.0.0', '0.10.0-IV1'] });
    const refused = await pythonTopicFormatVersion(clients.broker.bootstrap, 'legacy-py-refused', '0.10', '2.8');
    expect(refused.values).toEqual([]);
    expect(refused.error).toContain('Invalid value 0.10 for configuration message.format.version: Version 0.10 is not a valid version');
    // log.message.format.version and inter.broker.protocol.version are read-only in Kafka
    expect(await incremental(clients.raw, BROKER, '1', [{ name: 'log.message.format.version', value: '0.10.0.0' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Cannot update these configs dynamically: Set(log.message.format.version)',
    });
  });
}, 180_000);

describe('Kafka version strings in server.properties', () => {
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'gregor-kafka-versions-'));
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `gregor <file>`; resolves with its output once it has exited (stopped with SIGTERM once ready). */
  async function runCli(properties: string): Promise<{ ready: boolean; code: number | null; output: string }> {
    const file = join(dir, `server-${Math.random().toString(36).slice(2)}.properties`);
    await writeFile(file, `${properties}\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=${join(dir, 'data')}\ngregor.metrics.enabled=false\n`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GREGOR_')));
    const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), file], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let ready = false;
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (!ready && /ready: listening/.test(output)) {
        ready = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    return { ready, code, output };
  }

  it('starts with legacy version strings Kafka 3.9 accepts', async () => {
    const r = await runCli('log.message.format.version=0.10.0.0\ninter.broker.protocol.version=2.8\nprocess.roles=broker,controller');
    expect(r.ready, r.output).toBe(true);
    expect(r.output).toContain('no effect in Gregor');
  });

  it('refuses a version Kafka 3.9 refuses, with its words and exit status 2', async () => {
    const r = await runCli('inter.broker.protocol.version=0.10');
    expect(r.ready).toBe(false);
    expect(r.code).toBe(2);
    expect(r.output).toContain('invalid configuration inter.broker.protocol.version: Version 0.10 is not a valid version');
  });
}, 120_000);
