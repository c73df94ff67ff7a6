/**
 * DescribeConfigs' values, sources and synonyms as Kafka 3.9's ConfigHelper
 * builds them, over the broker's config layers (default, static, dynamic
 * cluster default, dynamic per broker), and the checks of dynamic broker
 * config changes.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/broker-config.js';
import { describeBrokerConfigEntries, describeTopicConfigEntries, formatConfigValue, type DescribedConfig } from '../../src/config/describe-configs.js';
import { BROKER_CONFIG_BY_NAME } from '../../src/config/definitions.js';
import { brokerConfigChangeProblem, dynamicBrokerConfigProblem, isDynamicBrokerConfig } from '../../src/config/dynamic-broker-configs.js';

const TOPIC_CONFIG = 1;
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

function entry(list: DescribedConfig[], name: string): DescribedConfig {
  const found = list.find((e) => e.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
}

describe('DescribeConfigs topic entries', () => {
  it('lists no synonyms for retention.ms when only log.retention.hours has a value, as Kafka (source DEFAULT_CONFIG)', () => {
    const config = loadConfig({ overrides: { 'log.retention.hours': '24' } });
    expect(entry(describeTopicConfigEntries(config, new Map()), 'retention.ms')).toMatchObject({ value: '86400000', source: DEFAULT_CONFIG, synonyms: [] });
  });

  it('lists the broker layers in precedence order once log.retention.ms has a value', () => {
    const config = loadConfig({ overrides: { 'log.retention.ms': '1000', 'log.retention.hours': '2' } });
    config.setDynamic('default', { 'log.retention.ms': '3000' });
    expect(entry(describeTopicConfigEntries(config, new Map()), 'retention.ms')).toEqual(
      expect.objectContaining({
        value: '3000',
        source: DYNAMIC_DEFAULT_BROKER_CONFIG,
        synonyms: [
          { name: 'log.retention.ms', value: '3000', source: DYNAMIC_DEFAULT_BROKER_CONFIG },
          { name: 'log.retention.ms', value: '1000', source: STATIC_BROKER_CONFIG },
          { name: 'log.retention.hours', value: '2', source: STATIC_BROKER_CONFIG },
          { name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG },
        ],
      }),
    );
    config.setDynamic('broker', { 'log.retention.ms': '4000' });
    const withOverride = entry(describeTopicConfigEntries(config, new Map([['retention.ms', '5']])), 'retention.ms');
    expect(withOverride.value).toBe('5');
    expect(withOverride.source).toBe(TOPIC_CONFIG);
    expect(withOverride.synonyms.map((s) => [s.name, s.source])).toEqual([
      ['retention.ms', TOPIC_CONFIG],
      ['log.retention.ms', DYNAMIC_BROKER_CONFIG],
      ['log.retention.ms', DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['log.retention.ms', STATIC_BROKER_CONFIG],
      ['log.retention.hours', STATIC_BROKER_CONFIG],
      ['log.retention.hours', DEFAULT_CONFIG],
    ]);
  });

  it('prints values as Kafka prints the parsed config, and gives types', () => {
    const config = loadConfig({ overrides: { 'log.cleanup.policy': 'delete, compact', 'log.preallocate': 'TRUE' } });
    const entries = describeTopicConfigEntries(config, new Map());
    expect(entry(entries, 'cleanup.policy')).toMatchObject({ value: 'delete,compact', source: STATIC_BROKER_CONFIG, type: 7 });
    expect(entry(entries, 'cleanup.policy').synonyms).toEqual([
      { name: 'log.cleanup.policy', value: 'delete, compact', source: STATIC_BROKER_CONFIG },
      { name: 'log.cleanup.policy', value: 'delete', source: DEFAULT_CONFIG },
    ]);
    expect(entry(entries, 'preallocate')).toMatchObject({ value: 'true', type: 1 });
    expect(entry(entries, 'min.cleanable.dirty.ratio')).toMatchObject({ value: '0.5', type: 6 });
    expect(entry(entries, 'follower.replication.throttled.replicas')).toMatchObject({ value: '', source: DEFAULT_CONFIG, synonyms: [] });
    expect(formatConfigValue(BROKER_CONFIG_BY_NAME.get('log.cleaner.min.cleanable.ratio')!, '1')).toBe('1.0');
    expect(formatConfigValue(BROKER_CONFIG_BY_NAME.get('num.partitions')!, '+07')).toBe('7');
  });
});

describe('DescribeConfigs broker entries', () => {
  it('describes this broker with every config, read-only unless dynamic, synonyms from the name itself on', () => {
    const config = loadConfig({ overrides: { 'log.retention.ms': '1000', 'num.partitions': '3' } });
    const entries = describeBrokerConfigEntries(config, true);
    expect(entries.length).toBe(new Set(entries.map((e) => e.name)).size);
    expect(entry(entries, 'num.partitions')).toMatchObject({ value: '3', source: STATIC_BROKER_CONFIG, readOnly: true, type: 3 });
    expect(entry(entries, 'log.retention.ms')).toMatchObject({ value: '1000', source: STATIC_BROKER_CONFIG, readOnly: false });
    // log.retention.hours: the synonyms before its own name (log.retention.ms) are dropped
    expect(entry(entries, 'log.retention.hours')).toMatchObject({ value: '168', readOnly: true, synonyms: [{ name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG }] });
    expect(entry(entries, 'log.retention.minutes')).toMatchObject({ value: null, source: DEFAULT_CONFIG, synonyms: [] });
  });

  it('describes the cluster default resource with only its dynamic values and synonyms', () => {
    const config = loadConfig({ overrides: { 'message.max.bytes': '2000' } });
    expect(describeBrokerConfigEntries(config, false)).toEqual([]);
    config.setDynamic('default', { 'message.max.bytes': '3000' });
    config.setDynamic('broker', { 'message.max.bytes': '4000' });
    expect(describeBrokerConfigEntries(config, false)).toEqual([
      expect.objectContaining({ name: 'message.max.bytes', value: '3000', source: DYNAMIC_DEFAULT_BROKER_CONFIG, synonyms: [{ name: 'message.max.bytes', value: '3000', source: DYNAMIC_DEFAULT_BROKER_CONFIG }] }),
    ]);
    expect(entry(describeBrokerConfigEntries(config, true), 'message.max.bytes').synonyms.map((s) => s.source)).toEqual([
      DYNAMIC_BROKER_CONFIG,
      DYNAMIC_DEFAULT_BROKER_CONFIG,
      STATIC_BROKER_CONFIG,
      DEFAULT_CONFIG,
    ]);
    expect(config.int('message.max.bytes')).toBe(4000);
    expect(config.source('message.max.bytes')).toBe('DYNAMIC_BROKER_CONFIG');
  });
});

describe('dynamic broker config changes', () => {
  it('allows the broker defaults of topic configs and Kafka\'s dynamic configs Gregor does not implement, not read-only or start-only configs', () => {
    for (const name of ['log.retention.ms', 'log.retention.bytes', 'log.segment.bytes', 'log.roll.ms', 'message.max.bytes', 'log.cleanup.policy', 'compression.type', 'min.insync.replicas']) {
      expect(isDynamicBrokerConfig(name), name).toBe(true);
    }
    for (const name of ['sasl.kerberos.min.time.before.relogin', 'num.io.threads', 'ssl.keystore.password', 'metric.reporters', 'transaction.partition.verification.enable']) {
      expect(isDynamicBrokerConfig(name), name).toBe(true);
    }
    // read-only in Kafka; or dynamic in Kafka but read by Gregor only at start
    for (const name of ['log.message.format.version', 'log.retention.hours', 'num.partitions', 'log.dirs', 'broker.id', 'process.roles', 'listeners', 'max.connections', 'producer.id.expiration.ms', 'custom.plugin.config']) {
      expect(isDynamicBrokerConfig(name), name).toBe(false);
    }
  });

  it('words every refusal as Kafka, and checks the value as the topic configs it becomes', () => {
    expect(brokerConfigChangeProblem({ 'num.partitions': '3', 'log.dirs': '/x', 'log.retention.ms': '1' }, true)).toBe('Cannot update these configs dynamically: Set(num.partitions, log.dirs)');
    expect(brokerConfigChangeProblem({ 'log.retention.ms': 'soon' }, true)).toBe('Invalid value soon for configuration log.retention.ms: Not a number of type LONG');
    expect(brokerConfigChangeProblem({ 'log.roll.ms': '0' }, false)).toBe('Invalid value 0 for configuration log.roll.ms: segment.ms: Value must be at least 1');
    // Kafka keeps names it does not know as custom configs (for plugins)
    expect(brokerConfigChangeProblem({ 'custom.plugin.config': 'x' }, false)).toBeUndefined();
    expect(brokerConfigChangeProblem({ 'log.retention.ms': '60000', 'log.cleanup.policy': 'compact,delete' }, false)).toBeUndefined();
    expect(brokerConfigChangeProblem({ 'sasl.kerberos.min.time.before.relogin': '1m' }, true)).toBe(
      'Invalid value 1m for configuration sasl.kerberos.min.time.before.relogin: Not a number of type LONG',
    );
    expect(brokerConfigChangeProblem({ 'sasl.kerberos.min.time.before.relogin': '120000' }, false)).toBe(
      'Cannot update these configs at default cluster level, broker id must be specified: Set(sasl.kerberos.min.time.before.relogin)',
    );
    expect(brokerConfigChangeProblem({ 'ssl.keystore.location': '/k.jks' }, true)).toBe(
      'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)',
    );
    expect(brokerConfigChangeProblem({ 'listener.name.external.ssl.keystore.location': '/k.jks' }, true)).toBeUndefined();
    expect(brokerConfigChangeProblem({ 'listener.name.external.ssl.keystore.location': '/k.jks' }, false)).toBe(
      'Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.external.ssl.keystore.location)',
    );
    expect(brokerConfigChangeProblem({ 'listener.name.external.max.connections': 'many' }, false)).toBe('Invalid value many for configuration max.connections: Not a number of type INT');
    expect(brokerConfigChangeProblem({ 'ssl.client.auth': 'always' }, true)).toBe('Invalid value always for configuration ssl.client.auth: String must be one of: required, requested, none');
    expect(brokerConfigChangeProblem({ 'background.threads': '0' }, true)).toBe('Invalid value 0 for configuration background.threads: Value must be at least 1');
    const current = loadConfig();
    expect(brokerConfigChangeProblem({ 'num.io.threads': '16' }, true, current)).toBeUndefined();
    expect(brokerConfigChangeProblem({ 'num.io.threads': '17' }, true, current)).toBe('Invalid dynamic configuration');
    expect(brokerConfigChangeProblem({ 'num.io.threads': '3' }, false, current)).toBe('Invalid dynamic configuration');
    expect(dynamicBrokerConfigProblem('auto.create.topics.enable', 'false')).toBe('Cannot update these configs dynamically: Set(auto.create.topics.enable)');
  });

  it('refuses aliases and bad values in a dynamic layer with ConfigError, changing nothing; keeps custom names', () => {
    const config = loadConfig();
    config.setDynamic('default', { 'log.retention.ms': '1000' });
    expect(() => config.setDynamic('default', { 'log.retention.ms': '2000', 'message.max.bytes': 'big' })).toThrow(ConfigError);
    expect(() => config.setDynamic('default', { 'broker.id': '2' })).toThrow(ConfigError);
    expect(config.dynamicConfigs('default')).toEqual({ 'log.retention.ms': '1000' });
    config.setDynamic('broker', { 'my.plugin.config': 'x' });
    expect(config.dynamicConfigs('broker')).toEqual({ 'my.plugin.config': 'x' });
  });
});
