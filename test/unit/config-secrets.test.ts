/**
 * Secrets in the configuration: Kafka's config providers (`${env:NAME}`, `${file:path:key}`,
 * `${dir:path:file}`) resolved at load as Kafka's ConfigTransformer resolves them; listener-prefixed
 * configs (listener.name.<listener>.<config>) kept, checked and described; sensitive values (passwords,
 * keys, custom configs) never described nor logged.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/broker-config.js';
import { describeBrokerConfigEntries, type DescribedConfig } from '../../src/config/describe-configs.js';
import { redactedConfigs } from '../../src/config/dynamic-broker-configs.js';

const STATIC_BROKER_CONFIG = 4;
const ENV = 'org.apache.kafka.common.config.provider.EnvVarConfigProvider';
const FILE = 'org.apache.kafka.common.config.provider.FileConfigProvider';
const DIR = 'org.apache.kafka.common.config.provider.DirectoryConfigProvider';

const dir = mkdtempSync(join(tmpdir(), 'gregor-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entry(list: DescribedConfig[], name: string): DescribedConfig {
  const found = list.find((e) => e.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
}

describe('config providers', () => {
  it('resolves ${env:NAME} in a server.properties file with config.providers=env (EnvVarConfigProvider)', () => {
    const file = join(dir, 'env.properties');
    writeFileSync(
      file,
      [
        'config.providers=env',
        `config.providers.env.class=${ENV}`,
        'listener.name.ssl.ssl.key.password=${env:SECRET_TEST_KEY_PASSWORD}',
        'num.partitions=${env:SECRET_TEST_PARTITIONS}',
        'log.dirs=/var/lib/${env:SECRET_TEST_DIR}/logs',
        '',
      ].join('\n'),
    );
    const c = loadConfig({ file, env: { SECRET_TEST_KEY_PASSWORD: 's3cret', SECRET_TEST_PARTITIONS: '6', SECRET_TEST_DIR: 'gregor' } });
    expect(c.listenerValue('SSL', 'ssl.key.password')).toBe('s3cret');
    expect(c.int('num.partitions')).toBe(6);
    expect(c.string('log.dirs')).toBe('/var/lib/gregor/logs');
  });

  it('leaves a variable as written when its provider is not configured or has no such key (Kafka\'s ConfigTransformer)', () => {
    const providers = { 'config.providers': 'env', 'config.providers.env.class': ENV };
    expect(loadConfig({ overrides: { ...providers, 'ssl.keystore.location': '${env:SECRET_TEST_UNSET}' }, env: {} }).string('ssl.keystore.location')).toBe('${env:SECRET_TEST_UNSET}');
    expect(loadConfig({ overrides: { ...providers, 'ssl.keystore.location': '${vault:secret}' }, env: {} }).string('ssl.keystore.location')).toBe('${vault:secret}');
    // no config.providers: nothing is resolved
    expect(loadConfig({ overrides: { 'ssl.keystore.location': '${env:HOME}' }, env: { HOME: '/h' } }).string('ssl.keystore.location')).toBe('${env:HOME}');
    // a provider named without a class is not configured
    expect(loadConfig({ overrides: { 'config.providers': 'env', 'ssl.keystore.location': '${env:HOME}' }, env: { HOME: '/h' } }).string('ssl.keystore.location')).toBe('${env:HOME}');
  });

  it('limits the variables the env provider reads with allowlist.pattern, and refuses a path', () => {
    const providers = { 'config.providers': 'env', 'config.providers.env.class': ENV, 'config.providers.env.param.allowlist.pattern': 'KAFKA_.*' };
    const c = loadConfig({ overrides: { ...providers, 'ssl.keystore.location': '${env:KAFKA_KS}', 'ssl.truststore.location': '${env:HOME}' }, env: { KAFKA_KS: '/ks.pem', HOME: '/h' } });
    expect(c.string('ssl.keystore.location')).toBe('/ks.pem');
    expect(c.string('ssl.truststore.location')).toBe('${env:HOME}');
    expect(() => loadConfig({ overrides: { 'config.providers': 'env', 'config.providers.env.class': ENV, 'ssl.keystore.location': '${env:/etc:HOME}' }, env: { HOME: '/h' } })).toThrow(
      "Path is not supported for EnvVarConfigProvider, invalid value '/etc'",
    );
  });

  it('reads a key of a properties file (FileConfigProvider) and a file of a directory (DirectoryConfigProvider)', () => {
    writeFileSync(join(dir, 'secrets.properties'), 'keystore.password=from-file\ntruststore.location=/trust.pem\n');
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const c = loadConfig({
      overrides: {
        'config.providers': 'file,dir',
        'config.providers.file.class': FILE,
        'config.providers.dir.class': DIR,
        'listener.name.ssl.ssl.key.password': `\${file:${join(dir, 'secrets.properties')}:keystore.password}`,
        'ssl.truststore.location': `\${file:${join(dir, 'secrets.properties')}:truststore.location}`,
        'ssl.truststore.certificates': `\${dir:${join(dir, 'secrets')}:ca.pem}`,
      },
    });
    expect(c.listenerValue('SSL', 'ssl.key.password')).toBe('from-file');
    expect(c.string('ssl.truststore.location')).toBe('/trust.pem');
    expect(c.string('ssl.truststore.certificates')).toContain('BEGIN CERTIFICATE');
    // allowed.paths: a path outside is not read (left as written)
    const outside = loadConfig({
      overrides: {
        'config.providers': 'file',
        'config.providers.file.class': FILE,
        'config.providers.file.param.allowed.paths': join(dir, 'secrets'),
        'ssl.truststore.location': `\${file:${join(dir, 'secrets.properties')}:truststore.location}`,
      },
    });
    expect(outside.string('ssl.truststore.location')).toBe(`\${file:${join(dir, 'secrets.properties')}:truststore.location}`);
  });

  it('refuses a provider class Gregor does not have', () => {
    expect(() => loadConfig({ overrides: { 'config.providers': 'vault', 'config.providers.vault.class': 'com.example.VaultConfigProvider' } })).toThrow(
      "invalid configuration config.providers.vault.class: Gregor has no config provider class 'com.example.VaultConfigProvider'",
    );
  });
});

describe('listener-prefixed configs', () => {
  it('gives a listener its own value over the unprefixed one (Kafka\'s valuesWithPrefixOverride), static and dynamic', () => {
    const c = loadConfig({ overrides: { 'ssl.client.auth': 'requested', 'listener.name.internal.ssl.client.auth': 'required' } });
    expect(c.listenerValue('INTERNAL', 'ssl.client.auth')).toBe('required');
    expect(c.listenerValue('EXTERNAL', 'ssl.client.auth')).toBe('requested');
    expect(c.listenerIsSet('INTERNAL', 'ssl.client.auth')).toBe(true);
    expect(c.listenerIsSet('EXTERNAL', 'ssl.client.auth')).toBe(false);
    c.setDynamic('broker', { 'listener.name.internal.ssl.client.auth': 'none' });
    expect(c.listenerValue('INTERNAL', 'ssl.client.auth')).toBe('none');
    // a custom prefixed name (a SASL mechanism's) is kept as given
    expect(loadConfig({ overrides: { 'listener.name.sasl_ssl.plain.sasl.jaas.config': 'x required;' } }).listenerValue('SASL_SSL', 'plain.sasl.jaas.config')).toBe('x required;');
  });

  it('checks a prefixed value as its config, and reads prefixed keys from a server.properties file instead of ignoring them', () => {
    expect(() => loadConfig({ overrides: { 'listener.name.ssl.ssl.client.auth': 'always' } })).toThrow(
      "invalid configuration listener.name.ssl.ssl.client.auth: 'always' is not one of required, requested, none",
    );
    const file = join(dir, 'prefixed.properties');
    writeFileSync(file, 'listener.name.ssl.ssl.keystore.location=/etc/gregor/ssl.pem\nsome.unknown.key=1\n');
    const c = loadConfig({ file });
    expect(c.listenerValue('SSL', 'ssl.keystore.location')).toBe('/etc/gregor/ssl.pem');
    expect(c.ignored).toEqual(['some.unknown.key']);
  });

  it('refuses TLS versions other than 1.2 and 1.3, and invalid principal mapping rules, at start', () => {
    expect(() => loadConfig({ overrides: { 'ssl.enabled.protocols': 'TLSv1.2,TLSv1.1' } })).toThrow('TLSv1.1 is not served: Gregor serves TLSv1.2 and TLSv1.3 only');
    expect(() => loadConfig({ overrides: { 'ssl.protocol': 'SSLv3' } })).toThrow('ssl.protocol');
    expect(() => loadConfig({ overrides: { 'listener.name.ssl.ssl.principal.mapping.rules': 'RULE:x' } })).toThrow('Invalid rule: `RULE:x`');
  });
});

describe('sensitive configs', () => {
  it('describes passwords, keys and custom configs without their values (null, sensitive), static or dynamic, prefixed or not', () => {
    const c = loadConfig({
      overrides: {
        'ssl.key.password': 'p1',
        'ssl.keystore.key': '-----BEGIN PRIVATE KEY-----',
        'listener.name.ssl.ssl.key.password': 'p2',
        'listener.name.ssl.ssl.keystore.location': '/etc/ssl.pem',
        'sasl.jaas.config': 'org.example.Login required;',
        'config.providers': 'env',
      },
    });
    c.setDynamic('broker', { 'listener.name.ssl.ssl.truststore.password': 'p3', 'my.plugin.password': 'p4' });
    const described = describeBrokerConfigEntries(c, true);
    for (const name of ['ssl.key.password', 'ssl.keystore.key', 'sasl.jaas.config', 'ssl.keystore.password', 'ssl.truststore.certificates']) {
      expect(entry(described, name)).toMatchObject({ value: null, sensitive: true });
      for (const s of entry(described, name).synonyms) expect(s.value).toBeNull();
    }
    expect(entry(described, 'listener.name.ssl.ssl.key.password')).toMatchObject({ value: null, sensitive: true, source: STATIC_BROKER_CONFIG });
    expect(entry(described, 'listener.name.ssl.ssl.truststore.password')).toMatchObject({ value: null, sensitive: true });
    expect(entry(described, 'my.plugin.password')).toMatchObject({ value: null, sensitive: true });
    expect(entry(described, 'config.providers')).toMatchObject({ value: null, sensitive: true });
    // a prefixed config that is not secret is described with its value, from the static layer
    expect(entry(described, 'listener.name.ssl.ssl.keystore.location')).toMatchObject({ value: '/etc/ssl.pem', sensitive: false, source: STATIC_BROKER_CONFIG });
    expect(JSON.stringify(described)).not.toMatch(/p1|p2|p3|p4|PRIVATE KEY|org\.example\.Login/);
  });

  it('redacts them in what is logged (Kafka: [hidden] for passwords, [redacted] for custom configs)', () => {
    expect(redactedConfigs({ 'listener.name.ssl.ssl.keystore.key': 'k', 'listener.name.ssl.ssl.keystore.location': '/a.pem', 'my.secret': 'x', 'log.retention.ms': '1' })).toEqual({
      'listener.name.ssl.ssl.keystore.key': '[hidden]',
      'listener.name.ssl.ssl.keystore.location': '/a.pem',
      'my.secret': '[redacted]',
      'log.retention.ms': '1',
    });
  });
});
