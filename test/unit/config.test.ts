import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advertisedListenerOf, brokerListenersOf, ConfigError, envKey, listenerOf, loadConfig } from '../../src/config/broker-config.js';
import { logDefaultsOf } from '../../src/config/log-defaults.js';
import { parseProperties } from '../../src/config/properties.js';
import { describeTopicConfigs, resolveTopicConfig, TOPIC_CONFIGS, validateTopicConfigs } from '../../src/config/topic-configs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gregor-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function propsFile(text: string): Promise<string> {
  const file = join(dir, `server-${Math.random().toString(36).slice(2)}.properties`);
  await writeFile(file, text);
  return file;
}

describe('server.properties parsing', () => {
  it('reads key=value, key: value and key value, skipping # and ! comments', () => {
    const p = parseProperties('# comment\n! other comment\na=1\nb: 2\nc 3\n  d = spaced value  \n\n');
    expect([...p]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', 'spaced value  '],
    ]);
  });

  it('joins backslash-continued lines and decodes escapes', () => {
    const p = parseProperties('listeners=PLAINTEXT://:9092,\\\n    PLAINTEXT://:9093\npath=C:\\\\data\\tx\nu=\\u0041');
    expect(p.get('listeners')).toBe('PLAINTEXT://:9092,PLAINTEXT://:9093');
    expect(p.get('path')).toBe('C:\\data\tx');
    expect(p.get('u')).toBe('A');
  });
});

describe('broker configuration', () => {
  it('has Kafka quickstart defaults: node 1, port 9092 advertised on localhost, ./data', () => {
    const c = loadConfig();
    expect(c.int('node.id')).toBe(1);
    expect(listenerOf(c)).toEqual({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '', port: 9092 });
    expect(advertisedListenerOf(c)).toEqual({ host: 'localhost', port: 9092 });
    expect(c.string('log.dirs')).toBe('./data');
    expect(c.int('num.partitions')).toBe(1);
    expect(c.bool('auto.create.topics.enable')).toBe(true);
  });

  it('applies a properties file, then GREGOR_* environment, then overrides', async () => {
    const file = await propsFile('num.partitions=3\nlog.retention.hours=24\nlog.segment.bytes=1000\n');
    const c = loadConfig({
      file,
      env: { GREGOR_NUM_PARTITIONS: '5', GREGOR_LOG_RETENTION_HOURS: '48', PATH: '/usr/bin' },
      overrides: { 'num.partitions': '7' },
    });
    expect(c.int('num.partitions')).toBe(7);
    expect(c.int('log.retention.hours')).toBe(48);
    expect(c.int('log.segment.bytes')).toBe(1000);
    expect(c.source('log.segment.bytes')).toBe('STATIC_BROKER_CONFIG');
    expect(c.source('message.max.bytes')).toBe('DEFAULT_CONFIG');
  });

  it('maps GREGOR_ variables to dotted keys, gregor.* keys without repeating the prefix', () => {
    expect(envKey('GREGOR_LOG_DIRS')).toBe('log.dirs');
    expect(envKey('GREGOR_AUTO_CREATE_TOPICS_ENABLE')).toBe('auto.create.topics.enable');
    expect(envKey('GREGOR_LOG_LEVEL')).toBe('gregor.log.level');
    expect(envKey('GREGOR_NO_SUCH_THING')).toBeUndefined();
  });

  it('accepts broker.id as the alias of node.id and log.dir of log.dirs', () => {
    const c = loadConfig({ overrides: { 'broker.id': '4', 'log.dir': '/tmp/x' } });
    expect(c.int('node.id')).toBe(4);
    expect(c.string('log.dirs')).toBe('/tmp/x');
  });

  it('reports keys of the config file it does not know instead of failing', async () => {
    const file = await propsFile('my.plugin.setting=1\nnum.partitions=2\nmy.other.setting=x\n');
    const c = loadConfig({ file });
    expect(c.int('num.partitions')).toBe(2);
    expect(c.ignored).toEqual(['my.plugin.setting', 'my.other.setting']);
  });

  it('accepts and validates Kafka configs that have no effect in Gregor, and reports them at start', async () => {
    const file = await propsFile('process.roles=broker,controller\nnum.partitions=2\ncontroller.quorum.voters=1@localhost:9093\nnum.io.threads=8\n');
    const c = loadConfig({ file });
    expect(c.ignored).toEqual([]);
    expect(c.get('process.roles')).toBe('broker,controller');
    expect(c.source('num.io.threads')).toBe('STATIC_BROKER_CONFIG');
    expect(c.warnings).toContain('these Kafka configs are accepted but have no effect in Gregor (README: Configuration): process.roles, controller.quorum.voters, num.io.threads');
    const bad = await propsFile('process.roles=broker,zookeeper\n');
    expect(() => loadConfig({ file: bad })).toThrow(`invalid configuration process.roles: 'zookeeper' is not one of broker, controller (from ${bad})`);
    expect(() => loadConfig({ overrides: { 'sasl.kerberos.min.time.before.relogin': 'soon' } })).toThrow("sasl.kerberos.min.time.before.relogin: 'soon' is not an integer");
    expect(() => loadConfig({ overrides: { 'controller.quorum.voters': 'localhost:9093' } })).toThrow('Each entry should be in the form `{id}@{host}:{port}`');
  });

  it('reads Kafka\'s version strings as Kafka 3.9 does, and refuses the others with its words', () => {
    for (const v of ['0.10.0.0', '0.10.0', '0.10.0-IV1', '0.8.0.x', '2.8', '2.8.1', '1.0.1', '3.9-IV0', '3.9', '4.0-IV1', ' 3.0 ']) {
      expect(() => loadConfig({ overrides: { 'inter.broker.protocol.version': v, 'log.message.format.version': v } }), v).not.toThrow();
    }
    for (const v of ['4.0', '3.9-IV1', '0.10', '2.8.', '3', 'abc', '']) {
      expect(() => loadConfig({ overrides: { 'log.message.format.version': v } }), v).toThrow(`log.message.format.version: Version ${v.trim()} is not a valid version`);
    }
    expect(validateTopicConfigs({ 'message.format.version': '0.10.0.0' })).toEqual({ ok: new Map([['message.format.version', '0.10.0.0']]) });
    expect(validateTopicConfigs({ 'message.format.version': '0.10' })).toEqual({
      error: 'Invalid value 0.10 for configuration message.format.version: Version 0.10 is not a valid version',
    });
  });

  it('rejects a bad value naming the key, the value and where it came from', async () => {
    const file = await propsFile('num.partitions=many\n');
    expect(() => loadConfig({ file })).toThrow(ConfigError);
    expect(() => loadConfig({ file })).toThrow(`invalid configuration num.partitions: 'many' is not an integer (from ${file})`);
    expect(() => loadConfig({ env: { GREGOR_AUTO_CREATE_TOPICS_ENABLE: 'yes' } })).toThrow(
      "invalid configuration auto.create.topics.enable: 'yes' is not a boolean (true or false) (from environment variable GREGOR_AUTO_CREATE_TOPICS_ENABLE)",
    );
    expect(() => loadConfig({ overrides: { 'num.partitions': '0' } })).toThrow('num.partitions: 0 is below the minimum 1 (from overrides)');
    expect(() => loadConfig({ overrides: { 'log.cleanup.policy': 'delete,shred' } })).toThrow("log.cleanup.policy: 'shred' is not one of delete, compact");
    expect(() => loadConfig({ overrides: { 'message.max.bytes': '3000000000' } })).toThrow("message.max.bytes: '3000000000' is out of the int range");
    expect(() => loadConfig({ overrides: { 'log.retention.ms': '99999999999999999999' } })).toThrow('is out of the long range');
  });

  it('refuses at start an internal topic with more partitions than gregor.max.partitions.per.topic, naming both keys', () => {
    expect(() => loadConfig({ overrides: { 'gregor.max.partitions.per.topic': '10', 'offsets.topic.num.partitions': '10' } })).toThrow(
      'invalid configuration gregor.max.partitions.per.topic: 10 (from overrides) is below transaction.state.log.num.partitions (50), so __transaction_state could not be created; raise gregor.max.partitions.per.topic or lower transaction.state.log.num.partitions',
    );
    expect(() => loadConfig({ overrides: { 'gregor.max.partitions.per.topic': '10', 'offsets.topic.num.partitions': '10', 'transaction.state.log.num.partitions': '11' } })).toThrow(
      'is below transaction.state.log.num.partitions (11 (from overrides)), so __transaction_state could not be created',
    );
    expect(() => loadConfig({ overrides: { 'transaction.state.log.num.partitions': '10001' } })).toThrow(
      'gregor.max.partitions.per.topic: 10000 is below transaction.state.log.num.partitions (10001 (from overrides))',
    );
    expect(() => loadConfig({ overrides: { 'gregor.max.partitions.per.topic': '10', 'offsets.topic.num.partitions': '10', 'transaction.state.log.num.partitions': '10' } })).not.toThrow();
  });

  it('rejects unknown keys in overrides and in GREGOR_ variables', () => {
    expect(() => loadConfig({ overrides: { 'num.partition': '3' } })).toThrow("unknown configuration 'num.partition' (from overrides)");
    expect(() => loadConfig({ env: { GREGOR_NUM_PARTITION: '3' } })).toThrow('unknown configuration in environment variable GREGOR_NUM_PARTITION');
  });

  it('rejects a missing config file with its path', () => {
    expect(() => loadConfig({ file: join(dir, 'missing.properties') })).toThrow(`cannot read config file ${join(dir, 'missing.properties')}`);
  });

  it('rejects listeners that are not NAME://host:port and advertised wildcard hosts', () => {
    expect(() => loadConfig({ overrides: { listeners: 'localhost:9092' } })).toThrow("invalid configuration listeners: 'localhost:9092' is not of the form NAME://host:port");
    expect(() => loadConfig({ overrides: { 'advertised.listeners': 'PLAINTEXT://0.0.0.0:9092' } })).toThrow('must name a host clients can reach');
  });

  it('serves several named listeners, each with its security protocol from listener.security.protocol.map (Kafka\'s default maps the four names to themselves)', () => {
    const c = loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,ssl://127.0.0.1:9093,SASL_SSL://:9094,SASL_PLAINTEXT://[::1]:9095' } });
    expect(brokerListenersOf(c).listeners).toEqual([
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '', port: 9092 },
      { name: 'SSL', securityProtocol: 'SSL', host: '127.0.0.1', port: 9093 },
      { name: 'SASL_SSL', securityProtocol: 'SASL_SSL', host: '', port: 9094 },
      { name: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT', host: '::1', port: 9095 },
    ]);
    // not set: each listener advertised at its own host, localhost for every interface
    expect([...brokerListenersOf(c).advertised]).toEqual([
      ['PLAINTEXT', { host: 'localhost', port: 9092 }],
      ['SSL', { host: '127.0.0.1', port: 9093 }],
      ['SASL_SSL', { host: 'localhost', port: 9094 }],
      ['SASL_PLAINTEXT', { host: '::1', port: 9095 }],
    ]);
    const named = loadConfig({
      overrides: {
        listeners: 'INTERNAL://:9092,EXTERNAL://:9093',
        'listener.security.protocol.map': 'INTERNAL:PLAINTEXT, external:ssl',
        'advertised.listeners': 'INTERNAL://broker.internal:9092,EXTERNAL://broker.example.com:19093',
      },
    });
    expect(brokerListenersOf(named).listeners.map((l) => [l.name, l.securityProtocol])).toEqual([
      ['INTERNAL', 'PLAINTEXT'],
      ['EXTERNAL', 'SSL'],
    ]);
    expect(brokerListenersOf(named).advertised.get('EXTERNAL')).toEqual({ host: 'broker.example.com', port: 19093 });
    expect(listenerOf(named)).toEqual({ name: 'INTERNAL', securityProtocol: 'PLAINTEXT', host: '', port: 9092 });
    expect(advertisedListenerOf(named)).toEqual({ host: 'broker.internal', port: 9092 });
  });

  it('refuses a listener without a security protocol, a bad map, a name twice and a port twice (but IPv4 and IPv6 may share one, and port 0 repeats)', () => {
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,EXTERNAL://:9093' } })).toThrow('No security protocol defined for listener EXTERNAL');
    expect(() => loadConfig({ overrides: { 'listener.security.protocol.map': 'PLAINTEXT:TLS' } })).toThrow(
      'invalid configuration listener.security.protocol.map: invalid security protocol `TLS` (one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)',
    );
    expect(() => loadConfig({ overrides: { 'listener.security.protocol.map': 'PLAINTEXT' } })).toThrow("'PLAINTEXT' is not of the form NAME:PROTOCOL");
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,PLAINTEXT://:9093' } })).toThrow('the listener name PLAINTEXT appears more than once');
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,plaintext://:9093' } })).toThrow('the listener name PLAINTEXT appears more than once');
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,SSL://:9092' } })).toThrow('each listener must have a different port');
    expect(brokerListenersOf(loadConfig({ overrides: { listeners: 'PLAINTEXT://127.0.0.1:9092,SSL://[::1]:9092' } })).listeners).toHaveLength(2);
    expect(brokerListenersOf(loadConfig({ overrides: { listeners: 'PLAINTEXT://:0,SSL://:0' } })).listeners).toHaveLength(2);
  });

  it('leaves out a controller listener (controller.listener.names) with a warning', () => {
    const kraft = loadConfig({
      overrides: { listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093', 'controller.listener.names': 'CONTROLLER', 'advertised.listeners': 'PLAINTEXT://h:9092,CONTROLLER://h:9093' },
    });
    expect(listenerOf(kraft)).toEqual({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '', port: 9092 });
    expect(advertisedListenerOf(kraft)).toEqual({ host: 'h', port: 9092 });
    expect(kraft.warnings).toEqual([
      'ignoring the controller listener CONTROLLER://:9093 (controller.listener.names): Gregor is its own controller and serves only the client listeners',
    ]);
    // without controller.listener.names, CONTROLLER is a client listener, and Kafka's map has no protocol for it
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093' } })).toThrow('No security protocol defined for listener CONTROLLER');
    expect(() => loadConfig({ overrides: { listeners: 'CONTROLLER://:9093', 'controller.listener.names': 'CONTROLLER' } })).toThrow('has only controller listeners');
  });

  it('checks advertised.listeners against listeners, and warns about a listener it leaves out', () => {
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:0', 'advertised.listeners': 'PLAINTEXT://a:1,EXTERNAL://b:2' } })).toThrow(
      'advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found PLAINTEXT,EXTERNAL. The valid options based on the current configuration are PLAINTEXT',
    );
    const partial = loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092,SSL://:9093', 'advertised.listeners': 'PLAINTEXT://a:9092' } });
    expect([...brokerListenersOf(partial).advertised.keys()]).toEqual(['PLAINTEXT']);
    expect(partial.warnings).toEqual([
      'listener SSL is not in advertised.listeners: clients connected to it find no broker in Metadata and no coordinator (as in Kafka)',
    ]);
  });

  it('checks inter.broker.listener.name and security.inter.broker.protocol as Kafka does (and asks nothing when neither is set)', () => {
    expect(() =>
      loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092', 'inter.broker.listener.name': 'PLAINTEXT', 'security.inter.broker.protocol': 'PLAINTEXT' } }),
    ).toThrow('Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.');
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092', 'inter.broker.listener.name': 'INTERNAL' } })).toThrow(
      'Listener with name INTERNAL defined in inter.broker.listener.name not found in listener.security.protocol.map.',
    );
    expect(() => loadConfig({ overrides: { listeners: 'PLAINTEXT://:9092', 'security.inter.broker.protocol': 'SSL' } })).toThrow(
      'inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are PLAINTEXT',
    );
    expect(() => loadConfig({ overrides: { listeners: 'SSL://:9093,PLAINTEXT://:9092', 'security.inter.broker.protocol': 'SSL' } })).not.toThrow();
    expect(() => loadConfig({ overrides: { listeners: 'SSL://:9093' } })).not.toThrow();
  });

  it('warns when a replication factor or min.insync.replicas is above the one broker', () => {
    expect(loadConfig().warnings).toEqual([]);
    const c = loadConfig({ overrides: { 'default.replication.factor': '3', 'offsets.topic.replication.factor': '3', 'min.insync.replicas': '2' } });
    expect(c.warnings).toHaveLength(3);
    expect(c.warnings[0]).toMatch(/^default\.replication\.factor=3 \(from overrides\) is above the number of brokers \(1\): .*INVALID_REPLICATION_FACTOR; set it to 1$/);
    expect(c.warnings[1]).toContain('offsets.topic.replication.factor=3');
    expect(c.warnings[2]).toContain('NOT_ENOUGH_REPLICAS');
  });

  it('names the origin given for an override (a command-line flag) in its error', () => {
    expect(() => loadConfig({ overrides: { 'gregor.log.level': 'loud' }, origins: { 'gregor.log.level': '-l' } })).toThrow(
      "invalid configuration gregor.log.level: 'loud' is not one of trace, debug, info, warn, error, fatal, silent (from -l)",
    );
  });

  it('rejects session timeout bounds that contradict each other', () => {
    expect(() => loadConfig({ overrides: { 'group.min.session.timeout.ms': '50000', 'group.max.session.timeout.ms': '40000' } })).toThrow(
      'group.min.session.timeout.ms: 50000 is above group.max.session.timeout.ms (40000)',
    );
  });

  it('advertises the listener port on localhost when advertised.listeners is not set', () => {
    expect(advertisedListenerOf(loadConfig({ overrides: { listeners: 'PLAINTEXT://:19092' } }))).toEqual({ host: 'localhost', port: 19092 });
    expect(advertisedListenerOf(loadConfig({ overrides: { listeners: 'PLAINTEXT://127.0.0.1:19092' } }))).toEqual({ host: '127.0.0.1', port: 19092 });
    expect(advertisedListenerOf(loadConfig({ overrides: { 'advertised.listeners': 'PLAINTEXT://broker.example:9999' } }))).toEqual({ host: 'broker.example', port: 9999 });
  });
});

describe('topic configuration', () => {
  it('lists the Kafka 3.9 topic configs with their broker synonyms', () => {
    const names = TOPIC_CONFIGS.map((d) => d.name);
    for (const name of [
      'cleanup.policy', 'compression.type', 'delete.retention.ms', 'file.delete.delay.ms', 'flush.messages', 'flush.ms',
      'index.interval.bytes', 'max.compaction.lag.ms', 'max.message.bytes', 'message.downconversion.enable',
      'message.timestamp.type', 'min.cleanable.dirty.ratio', 'min.compaction.lag.ms', 'min.insync.replicas',
      'retention.bytes', 'retention.ms', 'segment.bytes', 'segment.index.bytes', 'segment.ms', 'unclean.leader.election.enable',
    ]) {
      expect(names).toContain(name);
    }
    expect([...names].sort()).toEqual(names);
    const synonyms = (name: string): string[] => TOPIC_CONFIGS.find((d) => d.name === name)!.synonyms.map((s) => s.name);
    expect(synonyms('retention.ms')).toEqual(['log.retention.ms', 'log.retention.minutes', 'log.retention.hours']);
    expect(synonyms('max.message.bytes')).toEqual(['message.max.bytes']);
    expect(synonyms('segment.bytes')).toEqual(['log.segment.bytes']);
    expect(synonyms('cleanup.policy')).toEqual(['log.cleanup.policy']);
    expect(synonyms('message.timestamp.type')).toEqual(['log.message.timestamp.type']);
  });

  it('resolves an effective value from the override, else the first broker synonym with a value, else the default', () => {
    const broker = loadConfig({ overrides: { 'log.retention.minutes': '30', 'message.max.bytes': '2000000' } });
    const none = resolveTopicConfig(broker, new Map());
    expect(none.log.retentionMs).toBe(30 * 60_000);
    expect(none.messageMaxBytes).toBe(2_000_000);
    expect(none.values.get('delete.retention.ms')).toBe('86400000');
    const withOverride = resolveTopicConfig(broker, new Map([['retention.ms', '1000'], ['message.timestamp.type', 'LogAppendTime']]));
    expect(withOverride.log.retentionMs).toBe(1000);
    expect(withOverride.timestampType).toBe('LogAppendTime');
    const entry = describeTopicConfigs(broker, new Map([['retention.ms', '1000']])).find((e) => e.def.name === 'retention.ms')!;
    expect(entry.source).toBe('TOPIC_CONFIG');
    expect(entry.synonyms.map((s) => s.name)).toEqual(['retention.ms', 'log.retention.minutes', 'log.retention.hours']);
    const fromBroker = describeTopicConfigs(broker, new Map()).find((e) => e.def.name === 'retention.ms')!;
    expect(fromBroker.source).toBe('STATIC_BROKER_CONFIG');
    expect(fromBroker.value).toBe('1800000');
  });

  it('derives the broker log defaults from the same table (log.retention.hours, log.roll.hours)', () => {
    const defaults = logDefaultsOf(loadConfig({ overrides: { 'log.retention.hours': '2', 'log.roll.hours': '1', 'log.segment.bytes': '4096' } }));
    expect(defaults.retentionMs).toBe(2 * 3_600_000);
    expect(defaults.segmentMs).toBe(3_600_000);
    expect(defaults.segmentBytes).toBe(4096);
    expect(defaults.cleanupPolicy).toBe('delete');
  });

  it('validates topic overrides with Kafka-worded INVALID_CONFIG messages', () => {
    expect(validateTopicConfigs({ 'retention.ms': '1000', 'cleanup.policy': 'compact, delete' })).toEqual({
      ok: new Map([['retention.ms', '1000'], ['cleanup.policy', 'compact,delete']]),
    });
    expect(validateTopicConfigs({ 'retention.mss': '1' })).toEqual({ error: 'Unknown topic config name: retention.mss' });
    expect(validateTopicConfigs({ 'retention.ms': null })).toEqual({ error: 'Null value not supported for topic configs: retention.ms' });
    expect(validateTopicConfigs({ 'retention.ms': 'soon' })).toEqual({ error: 'Invalid value soon for configuration retention.ms: Not a number of type LONG' });
    expect(validateTopicConfigs({ 'retention.ms': '-2' })).toEqual({ error: 'Invalid value -2 for configuration retention.ms: Value must be at least -1' });
    expect(validateTopicConfigs({ 'min.cleanable.dirty.ratio': '1.5' })).toEqual({
      error: 'Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1',
    });
    expect(validateTopicConfigs({ 'cleanup.policy': 'compact,shred' })).toEqual({ error: 'Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete' });
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': '0:1,x' })).toEqual({
      error:
        "Invalid value [0:1, x] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
    });
    expect(validateTopicConfigs({ 'compression.type': 'brotli' })).toHaveProperty('error');
    expect(validateTopicConfigs({ 'compression.gzip.level': '0' })).toHaveProperty('error');
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': '0:1,1:1' })).toHaveProperty('ok');
    expect(validateTopicConfigs({ 'leader.replication.throttled.replicas': 'all' })).toHaveProperty('error');
    expect(validateTopicConfigs({ 'remote.storage.enable': 'true' })).toHaveProperty('error');
  });
});
