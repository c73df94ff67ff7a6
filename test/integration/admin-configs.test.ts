/**
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs against a real
 * broker on a real port: kafkajs 2.2.4's admin client (DescribeConfigs v0-2,
 * the non-incremental AlterConfigs), @platformatic/kafka's admin for
 * IncrementalAlterConfigs, and our own codec client for the versions, fields
 * and error paths the clients do not reach. Every change is checked by its
 * effect: old segments deleted after retention.ms is lowered, MESSAGE_TOO_LARGE
 * after max.message.bytes is lowered, keys required after cleanup.policy gains
 * compact, segments rolled at the new segment.bytes, and everything still in
 * place after a restart on the same data dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { ConfigResourceTypes, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageValue } from '../../protocol/index.js';
import type { RunningBroker } from '../../src/index.js';
import { startWithAdminClients, type AdminClients } from '../helpers/admin-clients.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const SOURCE = { TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5, DYNAMIC_BROKER_LOGGER_CONFIG: 6 };

type DescribeResult = MessageValue<typeof schemas.describeConfigsResponse>['results'][number];
type DescribedEntry = DescribeResult['configs'][number];
type AlterResult = MessageValue<typeof schemas.incrementalAlterConfigsResponse>['responses'][number];
type PlatformaticConfigs = Parameters<PlatformaticAdmin['incrementalAlterConfigs']>[0]['resources'][number]['configs'];

async function describe1(raw: RawClient, resourceType: number, resourceName: string, opts: { version?: number; keys?: string[] | null; synonyms?: boolean; documentation?: boolean } = {}): Promise<DescribeResult> {
  const res = await raw.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, opts.version ?? 4, {
    resources: [{ resourceType, resourceName, configurationKeys: opts.keys ?? null }],
    includeSynonyms: opts.synonyms ?? true,
    includeDocumentation: opts.documentation ?? false,
  });
  return res.results[0]!;
}

function entries(result: DescribeResult): Map<string, DescribedEntry> {
  return new Map(result.configs.map((c) => [c.name, c]));
}

async function incremental(
  raw: RawClient,
  resourceType: number,
  resourceName: string,
  configs: Array<{ name: string; configOperation: number; value: string | null }>,
  validateOnly = false,
): Promise<AlterResult> {
  const res = await raw.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType, resourceName, configs }],
    validateOnly,
  });
  return res.responses[0]!;
}

async function legacyAlter(raw: RawClient, resourceType: number, resourceName: string, configs: Array<{ name: string; value: string | null }>, validateOnly = false): Promise<AlterResult> {
  const res = await raw.request(schemas.alterConfigsRequest, schemas.alterConfigsResponse, 2, {
    resources: [{ resourceType, resourceName, configs }],
    validateOnly,
  });
  return res.responses[0]!;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('topic and broker configs', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let admin: Admin;
  let producer: Producer;
  let raw: RawClient;

  let clients: AdminClients | undefined;

  const start = async (): Promise<void> => {
    clients = await startWithAdminClients('admin-configs-test', {
      dataDir,
      config: { 'num.partitions': 1, 'log.retention.check.interval.ms': 50, 'log.segment.delete.delay.ms': 0 },
    });
    ({ broker, admin, producer, raw } = clients);
  };
  const stop = async (): Promise<void> => {
    await clients?.close();
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-admin-configs-'));
    await start();
  });
  afterAll(async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('describes a topic with kafkajs: overrides as TOPIC_CONFIG, the rest with Kafka\'s sources and synonyms', async () => {
    await admin.createTopics({ topics: [{ topic: 'described', configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
    const { resources } = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'described' }] });
    expect(resources).toHaveLength(1);
    const byName = new Map(resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(byName.get('retention.ms')).toMatchObject({
      configValue: '3600000',
      configSource: SOURCE.TOPIC_CONFIG,
      readOnly: false,
      isSensitive: false,
      configSynonyms: [{ configName: 'retention.ms', configValue: '3600000', configSource: SOURCE.TOPIC_CONFIG }],
    });
    expect(byName.get('segment.bytes')).toMatchObject({
      configValue: '1073741824',
      configSource: SOURCE.DEFAULT_CONFIG,
      configSynonyms: [{ configName: 'log.segment.bytes', configValue: '1073741824', configSource: SOURCE.DEFAULT_CONFIG }],
    });
    expect(byName.get('cleanup.policy')).toMatchObject({ configValue: 'delete', configSource: SOURCE.DEFAULT_CONFIG });
    expect(byName.size).toBeGreaterThanOrEqual(35);
  });

  it('describes an unset retention.ms as Kafka does: the value from log.retention.hours, DEFAULT_CONFIG, no synonyms', async () => {
    const c = entries(await describe1(raw, TOPIC, 'described', { keys: ['segment.ms', 'cleanup.policy', 'max.message.bytes', 'not.a.config'], documentation: true }));
    expect([...c.keys()].sort()).toEqual(['cleanup.policy', 'max.message.bytes', 'segment.ms']);
    // segment.ms falls back to log.roll.ms (unset), then log.roll.hours=168: Kafka lists no synonyms then
    expect(c.get('segment.ms')).toMatchObject({ value: '604800000', configSource: SOURCE.DEFAULT_CONFIG, synonyms: [], configType: 5, readOnly: false });
    expect(c.get('cleanup.policy')).toMatchObject({ value: 'delete', configType: 7 });
    expect(c.get('cleanup.policy')!.documentation).toMatch(/retention policy/);
    expect(c.get('max.message.bytes')).toMatchObject({
      value: '1048588',
      configType: 3,
      synonyms: [{ name: 'message.max.bytes', value: '1048588', source: SOURCE.DEFAULT_CONFIG }],
    });
    const noDocs = entries(await describe1(raw, TOPIC, 'described', { keys: ['retention.ms'], synonyms: false }));
    expect(noDocs.get('retention.ms')).toMatchObject({ value: '3600000', configSource: SOURCE.TOPIC_CONFIG, synonyms: [], documentation: null });
  });

  it('answers DescribeConfigs v0 with is_default instead of a source', async () => {
    const c = entries(await describe1(raw, TOPIC, 'described', { version: 0, keys: ['retention.ms', 'segment.bytes'] }));
    expect(c.get('retention.ms')).toMatchObject({ value: '3600000', isDefault: false, readOnly: false, isSensitive: false });
    expect(c.get('segment.bytes')).toMatchObject({ value: '1073741824', isDefault: true });
  });

  it('describes this broker with kafkajs: static and default values, read-only flags, Kafka\'s synonyms', async () => {
    const { resources } = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }] });
    const byName = new Map(resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(byName.get('num.partitions')).toMatchObject({
      configValue: '1',
      readOnly: true,
      configSource: SOURCE.STATIC_BROKER_CONFIG,
      configSynonyms: [
        { configName: 'num.partitions', configValue: '1', configSource: SOURCE.STATIC_BROKER_CONFIG },
        { configName: 'num.partitions', configValue: '1', configSource: SOURCE.DEFAULT_CONFIG },
      ],
    });
    expect(byName.get('log.retention.check.interval.ms')).toMatchObject({ configValue: '50', readOnly: true, configSource: SOURCE.STATIC_BROKER_CONFIG });
    // log.retention.ms has no value of its own (log.retention.hours applies) but can be changed at runtime
    expect(byName.get('log.retention.ms')).toMatchObject({ configValue: null, readOnly: false, configSource: SOURCE.DEFAULT_CONFIG, configSynonyms: [] });
    expect(byName.get('log.retention.hours')).toMatchObject({
      configValue: '168',
      readOnly: true,
      configSynonyms: [{ configName: 'log.retention.hours', configValue: '168', configSource: SOURCE.DEFAULT_CONFIG }],
    });
    expect(byName.get('message.max.bytes')).toMatchObject({ configValue: '1048588', readOnly: false, isSensitive: false });
    expect(byName.get('log.dirs')).toMatchObject({ configValue: dataDir, readOnly: true });
  });

  it('describes the cluster-wide broker defaults ("") as empty until one is set', async () => {
    const result = await describe1(raw, BROKER, '');
    expect(result).toMatchObject({ errorCode: ErrorCode.NONE, resourceName: '', configs: [] });
  });

  it('alters topic configs with kafkajs (non-incremental): keys not named go back to their defaults, and the logs follow', async () => {
    await admin.createTopics({
      topics: [{ topic: 'altered', configEntries: [{ name: 'retention.ms', value: '1000' }, { name: 'segment.bytes', value: '1048576' }] }],
    });
    const log = (): { segmentBytes: number; retentionMs: number } => broker.broker.topics.get('altered')!.config.log;
    expect(log()).toMatchObject({ segmentBytes: 1048576, retentionMs: 1000 });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'altered', configEntries: [{ name: 'max.message.bytes', value: '2000' }] }] });
    const c = entries(await describe1(raw, TOPIC, 'altered', { keys: ['retention.ms', 'segment.bytes', 'max.message.bytes'] }));
    expect(c.get('max.message.bytes')).toMatchObject({ value: '2000', configSource: SOURCE.TOPIC_CONFIG });
    expect(c.get('retention.ms')).toMatchObject({ value: '604800000', configSource: SOURCE.DEFAULT_CONFIG });
    expect(c.get('segment.bytes')).toMatchObject({ value: '1073741824', configSource: SOURCE.DEFAULT_CONFIG });
    expect(log()).toMatchObject({ segmentBytes: 1073741824, retentionMs: 604800000 });
    expect(broker.broker.topics.get('altered')!.overrides).toEqual(new Map([['max.message.bytes', '2000']]));
  });

  it('rejects a batch above a lowered max.message.bytes with MESSAGE_TOO_LARGE, and accepts it again once raised', async () => {
    await admin.createTopics({ topics: [{ topic: 'sized' }] });
    await producer.send({ topic: 'sized', messages: [{ value: Buffer.alloc(5000, 1) }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'sized', configEntries: [{ name: 'max.message.bytes', value: '1000' }] }] });
    await expect(producer.send({ topic: 'sized', messages: [{ value: Buffer.alloc(5000, 1) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    await producer.send({ topic: 'sized', messages: [{ value: Buffer.alloc(100, 1) }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'sized', configEntries: [] }] });
    await producer.send({ topic: 'sized', messages: [{ value: Buffer.alloc(5000, 1) }] });
  });

  it('deletes old segments once retention.ms is lowered', async () => {
    await admin.createTopics({ topics: [{ topic: 'retained', configEntries: [{ name: 'segment.bytes', value: '1024' }] }] });
    for (let i = 0; i < 12; i++) await producer.send({ topic: 'retained', messages: [{ key: `k${i}`, value: Buffer.alloc(400, i) }] });
    const log = broker.broker.topics.get('retained')!.partitions[0]!.log;
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(log.logStartOffset).toBe(0);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'retained', configEntries: [{ name: 'segment.bytes', value: '1024' }, { name: 'retention.ms', value: '1' }] }],
    });
    await until('retention to delete the old segments', () => log.segmentCount === 1);
    expect(log.logStartOffset).toBeGreaterThan(0);
    const offsets = await admin.fetchTopicOffsets('retained');
    expect(offsets[0]).toMatchObject({ low: String(log.logStartOffset), high: '12' });
  });

  it('rolls segments at a lowered segment.bytes (IncrementalAlterConfigs SET)', async () => {
    await admin.createTopics({ topics: [{ topic: 'rolling' }] });
    const log = broker.broker.topics.get('rolling')!.partitions[0]!.log;
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'rolling', messages: [{ value: Buffer.alloc(400, i) }] });
    expect(log.segmentCount).toBe(1);
    expect(await incremental(raw, TOPIC, 'rolling', [{ name: 'segment.bytes', configOperation: SET, value: '1024' }])).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'rolling', messages: [{ value: Buffer.alloc(400, i) }] });
    expect(log.segmentCount).toBeGreaterThan(2);
  });

  it('applies SET, APPEND, SUBTRACT and DELETE with @platformatic/kafka; cleanup.policy=compact then requires keys', async () => {
    await admin.createTopics({ topics: [{ topic: 'policy' }] });
    const pAdmin = new PlatformaticAdmin({ clientId: 'admin-configs-platformatic', bootstrapBrokers: [broker.bootstrap], retries: 0 });
    try {
      const alter = (configs: PlatformaticConfigs): Promise<void> => pAdmin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'policy', configs }] });
      const policy = async (): Promise<unknown> => {
        const [described] = await pAdmin.describeConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'policy', configurationKeys: ['cleanup.policy', 'retention.ms'] }], includeSynonyms: true });
        return Object.fromEntries(described!.configs.map((c) => [c.name, { value: c.value, source: c.configSource }]));
      };
      await alter([{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }, { name: 'retention.ms', configOperation: SET, value: '86400000' }]);
      expect(await policy()).toEqual({
        'cleanup.policy': { value: 'delete,compact', source: SOURCE.TOPIC_CONFIG },
        'retention.ms': { value: '86400000', source: SOURCE.TOPIC_CONFIG },
      });
      await expect(producer.send({ topic: 'policy', messages: [{ value: 'no key' }] })).rejects.toMatchObject({ type: 'INVALID_RECORD' });
      await producer.send({ topic: 'policy', messages: [{ key: 'k', value: 'keyed' }] });
      await alter([{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }]);
      expect(broker.broker.topics.get('policy')!.config.cleanupPolicy).toBe('compact');
      await alter([{ name: 'cleanup.policy', configOperation: DELETE }, { name: 'retention.ms', configOperation: DELETE }]);
      expect(await policy()).toEqual({
        'cleanup.policy': { value: 'delete', source: SOURCE.DEFAULT_CONFIG },
        'retention.ms': { value: '604800000', source: SOURCE.DEFAULT_CONFIG },
      });
      await producer.send({ topic: 'policy', messages: [{ value: 'no key again' }] });
    } finally {
      await pAdmin.close();
    }
  });

  it('applies concurrent incremental changes one after the other, losing none', async () => {
    await admin.createTopics({ topics: [{ topic: 'concurrent' }] });
    const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(broker.port)));
    try {
      const results = await Promise.all(
        clients.map((c, i) => incremental(c, TOPIC, 'concurrent', [{ name: 'leader.replication.throttled.replicas', configOperation: APPEND, value: `${i}:1` }])),
      );
      expect(results.map((r) => r.errorCode)).toEqual([0, 0, 0, 0]);
    } finally {
      for (const c of clients) c.close();
    }
    const value = broker.broker.topics.get('concurrent')!.overrides.get('leader.replication.throttled.replicas')!;
    expect(value.split(',').sort()).toEqual(['0:1', '1:1', '2:1', '3:1']);
  });

  it('changes nothing with validate_only, in both APIs', async () => {
    await admin.createTopics({ topics: [{ topic: 'dry' }] });
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'dry', configEntries: [{ name: 'retention.ms', value: '1' }] }] });
    expect(await incremental(raw, TOPIC, 'dry', [{ name: 'segment.bytes', configOperation: SET, value: '2048' }], true)).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(await legacyAlter(raw, BROKER, '1', [{ name: 'log.retention.ms', value: '5' }], true)).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(broker.broker.topics.get('dry')!.overrides.size).toBe(0);
    expect(broker.broker.config.dynamicConfigs('broker')).toEqual({});
    expect(await legacyAlter(raw, TOPIC, 'dry', [{ name: 'retention.ms', value: 'never' }], true)).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
  });

  it('answers every topic validation error path with Kafka\'s error and message', async () => {
    await admin.createTopics({ topics: [{ topic: 'strict', configEntries: [{ name: 'retention.ms', value: '5000' }] }] });
    const cases: Array<[string, Promise<AlterResult>, number, string | RegExp | null]> = [
      ['unknown name', incremental(raw, TOPIC, 'strict', [{ name: 'retention.mss', configOperation: SET, value: '1' }]), ErrorCode.INVALID_CONFIG, 'Unknown topic config name: retention.mss'],
      ['not a number', legacyAlter(raw, TOPIC, 'strict', [{ name: 'retention.ms', value: 'soon' }]), ErrorCode.INVALID_CONFIG, 'Invalid value soon for configuration retention.ms: Not a number of type LONG'],
      ['below the minimum', incremental(raw, TOPIC, 'strict', [{ name: 'segment.bytes', configOperation: SET, value: '10' }]), ErrorCode.INVALID_CONFIG, 'Invalid value 10 for configuration segment.bytes: Value must be at least 14'],
      ['not a choice', incremental(raw, TOPIC, 'strict', [{ name: 'cleanup.policy', configOperation: APPEND, value: 'shred' }]), ErrorCode.INVALID_CONFIG, 'Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete'],
      ['APPEND to a non-list', incremental(raw, TOPIC, 'strict', [{ name: 'retention.ms', configOperation: APPEND, value: '1' }]), ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."],
      ['SUBTRACT from an unknown key', incremental(raw, TOPIC, 'strict', [{ name: 'nope', configOperation: SUBTRACT, value: '1' }]), ErrorCode.INVALID_CONFIG, "Can't SUBTRACT to key nope because its type is not LIST."],
      ['unknown operation', incremental(raw, TOPIC, 'strict', [{ name: 'retention.ms', configOperation: 9, value: '1' }]), ErrorCode.INVALID_REQUEST, 'Unknown operations type 9'],
      ['null value', legacyAlter(raw, TOPIC, 'strict', [{ name: 'retention.ms', value: null }, { name: 'segment.ms', value: null }]), ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms, segment.ms'],
      ['null SET value', incremental(raw, TOPIC, 'strict', [{ name: 'retention.ms', configOperation: SET, value: null }]), ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
      [
        'a key twice',
        incremental(raw, TOPIC, 'strict', [{ name: 'retention.ms', configOperation: SET, value: '1' }, { name: 'retention.ms', configOperation: DELETE, value: null }]),
        ErrorCode.INVALID_REQUEST,
        'Error due to duplicate config keys',
      ],
      ['unknown topic', incremental(raw, TOPIC, 'ghost', [{ name: 'retention.ms', configOperation: SET, value: '1' }]), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'ghost' does not exist."],
      ['empty topic name', legacyAlter(raw, TOPIC, '', [{ name: 'retention.ms', value: '1' }]), ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.'],
      ['illegal topic name', legacyAlter(raw, TOPIC, 'bad name', [{ name: 'retention.ms', value: '1' }]), ErrorCode.INVALID_TOPIC_EXCEPTION, /illegal/],
      ['tiered storage', incremental(raw, TOPIC, 'strict', [{ name: 'remote.storage.enable', configOperation: SET, value: 'true' }]), ErrorCode.INVALID_CONFIG, /Tiered storage/],
      ['unknown resource type', incremental(raw, 3, 'strict', [{ name: 'retention.ms', configOperation: SET, value: '1' }]), ErrorCode.INVALID_REQUEST, 'Unknown resource type 3'],
      ['unknown group config', incremental(raw, 32, 'g', [{ name: 'streams.session.timeout.ms', configOperation: SET, value: '45000' }]), ErrorCode.INVALID_CONFIG, 'Unknown group config name: streams.session.timeout.ms'],
    ];
    for (const [what, result, errorCode, message] of cases) {
      const r = await result;
      expect(r.errorCode, what).toBe(errorCode);
      if (typeof message === 'string') expect(r.errorMessage, what).toBe(message);
      else expect(r.errorMessage, what).toMatch(message!);
    }
    expect(broker.broker.topics.get('strict')!.overrides).toEqual(new Map([['retention.ms', '5000']]));
    await expect(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'strict', configEntries: [{ name: 'retention.ms', value: 'forever' }] }] }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
  });

  it('answers a resource named twice with INVALID_REQUEST for both, and the others normally', async () => {
    await admin.createTopics({ topics: [{ topic: 'twice-a' }, { topic: 'twice-b' }] });
    const res = await raw.request(schemas.alterConfigsRequest, schemas.alterConfigsResponse, 0, {
      resources: [
        { resourceType: TOPIC, resourceName: 'twice-a', configs: [{ name: 'retention.ms', value: '1000' }] },
        { resourceType: TOPIC, resourceName: 'twice-b', configs: [{ name: 'retention.ms', value: '2000' }] },
        { resourceType: TOPIC, resourceName: 'twice-a', configs: [] },
      ],
      validateOnly: false,
    });
    expect(res.responses).toEqual([
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.', resourceType: TOPIC, resourceName: 'twice-a' },
      { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: 'twice-b' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.', resourceType: TOPIC, resourceName: 'twice-a' },
    ]);
    expect(broker.broker.topics.get('twice-b')!.overrides.get('retention.ms')).toBe('2000');
    expect(broker.broker.topics.get('twice-a')!.overrides.size).toBe(0);
  });

  it('answers DescribeConfigs errors as Kafka: unknown topic, illegal name, wrong broker id, logger without id, unknown type', async () => {
    expect(await describe1(raw, TOPIC, 'ghost')).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, configs: [] });
    expect(await describe1(raw, TOPIC, 'bad/name')).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: expect.stringMatching(/illegal/) });
    expect(await describe1(raw, BROKER, '7')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 1 or empty string, but received 7' });
    expect(await describe1(raw, BROKER, 'one')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker id must be an integer, but it is: one' });
    expect(await describe1(raw, BROKER_LOGGER, '')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Broker id must not be empty' });
    expect(await describe1(raw, BROKER_LOGGER, '2')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 1 but received 2' });
    const res = await raw.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, 4, {
      resources: [
        { resourceType: TOPIC, resourceName: 'strict', configurationKeys: null },
        { resourceType: 99, resourceName: 'x', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['strict', ErrorCode.INVALID_REQUEST, 0],
      ['x', ErrorCode.INVALID_REQUEST, 0],
    ]);
    await expect(admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'ghost' }] })).rejects.toMatchObject({
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });

  it('changes dynamic broker configs: the cluster default, then this broker\'s own, followed live by topics without overrides', async () => {
    await admin.createTopics({ topics: [{ topic: 'follower' }, { topic: 'own', configEntries: [{ name: 'retention.ms', value: '1000' }, { name: 'max.message.bytes', value: '100000' }] }] });
    expect(await incremental(raw, BROKER, '', [{ name: 'log.retention.ms', configOperation: SET, value: '7200000' }])).toMatchObject({ errorCode: ErrorCode.NONE });
    let t = entries(await describe1(raw, TOPIC, 'follower', { keys: ['retention.ms'] }));
    expect(t.get('retention.ms')).toMatchObject({
      value: '7200000',
      configSource: SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG,
      synonyms: [
        { name: 'log.retention.ms', value: '7200000', source: SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG },
        { name: 'log.retention.hours', value: '168', source: SOURCE.DEFAULT_CONFIG },
      ],
    });
    expect(broker.broker.topics.get('follower')!.config.log.retentionMs).toBe(7_200_000);
    expect(broker.broker.topics.get('own')!.config.log.retentionMs).toBe(1000);
    expect(entries(await describe1(raw, BROKER, '')).get('log.retention.ms')).toMatchObject({
      value: '7200000',
      configSource: SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG,
      readOnly: false,
      synonyms: [{ name: 'log.retention.ms', value: '7200000', source: SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG }],
    });

    expect(await legacyAlter(raw, BROKER, '1', [{ name: 'log.retention.ms', value: '3600000' }, { name: 'message.max.bytes', value: '1000' }])).toMatchObject({ errorCode: ErrorCode.NONE });
    t = entries(await describe1(raw, TOPIC, 'follower', { keys: ['retention.ms'] }));
    expect(t.get('retention.ms')).toMatchObject({ value: '3600000', configSource: SOURCE.DYNAMIC_BROKER_CONFIG });
    expect(t.get('retention.ms')!.synonyms.map((s) => s.source)).toEqual([SOURCE.DYNAMIC_BROKER_CONFIG, SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG, SOURCE.DEFAULT_CONFIG]);
    const b = entries(await describe1(raw, BROKER, '1', { keys: ['log.retention.ms', 'message.max.bytes'] }));
    expect(b.get('log.retention.ms')).toMatchObject({ value: '3600000', configSource: SOURCE.DYNAMIC_BROKER_CONFIG });
    expect(b.get('message.max.bytes')).toMatchObject({
      value: '1000',
      configSource: SOURCE.DYNAMIC_BROKER_CONFIG,
      synonyms: [
        { name: 'message.max.bytes', value: '1000', source: SOURCE.DYNAMIC_BROKER_CONFIG },
        { name: 'message.max.bytes', value: '1048588', source: SOURCE.DEFAULT_CONFIG },
      ],
    });
    await expect(producer.send({ topic: 'follower', messages: [{ value: Buffer.alloc(3000, 1) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    await producer.send({ topic: 'own', messages: [{ value: Buffer.alloc(3000, 1) }] });

    // non-incremental: this broker's configs not named are removed
    expect(await legacyAlter(raw, BROKER, '1', [{ name: 'log.retention.ms', value: '3600000' }])).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(broker.broker.config.dynamicConfigs('broker')).toEqual({ 'log.retention.ms': '3600000' });
    await producer.send({ topic: 'follower', messages: [{ value: Buffer.alloc(3000, 1) }] });
  });

  it('answers every broker validation error path as Kafka (INVALID_REQUEST for what cannot change)', async () => {
    const cases: Array<[string, Promise<AlterResult>, number, string]> = [
      ['read-only', incremental(raw, BROKER, '1', [{ name: 'num.partitions', configOperation: SET, value: '3' }]), ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(num.partitions)'],
      [
        'read-only at the cluster level',
        legacyAlter(raw, BROKER, '', [{ name: 'log.dirs', value: '/tmp/x' }, { name: 'listeners', value: 'PLAINTEXT://:1' }, { name: 'log.retention.ms', value: '1' }]),
        ErrorCode.INVALID_REQUEST,
        'Cannot update these configs dynamically: Set(log.dirs, listeners)',
      ],
      ['bad value', incremental(raw, BROKER, '1', [{ name: 'message.max.bytes', configOperation: SET, value: 'big' }]), ErrorCode.INVALID_REQUEST, 'Invalid value big for configuration message.max.bytes: Not a number of type INT'],
      ['a value its topic configs refuse', incremental(raw, BROKER, '', [{ name: 'log.roll.ms', configOperation: SET, value: '0' }]), ErrorCode.INVALID_REQUEST, 'Invalid value 0 for configuration log.roll.ms: segment.ms: Value must be at least 1'],
      ['another broker', incremental(raw, BROKER, '2', [{ name: 'log.retention.ms', configOperation: SET, value: '1' }]), ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 2'],
      ['not a number', legacyAlter(raw, BROKER, 'one', [{ name: 'log.retention.ms', value: '1' }]), ErrorCode.INVALID_REQUEST, 'Node id must be an integer, but it is: one'],
      ['APPEND to a non-list', incremental(raw, BROKER, '1', [{ name: 'log.retention.ms', configOperation: APPEND, value: '1' }]), ErrorCode.INVALID_CONFIG, 'Config value append is not allowed for config key: log.retention.ms'],
      ['unknown operation', incremental(raw, BROKER, '1', [{ name: 'log.retention.ms', configOperation: 4, value: '1' }]), ErrorCode.INVALID_REQUEST, 'Unknown operations type 4'],
      ['logger via AlterConfigs', legacyAlter(raw, BROKER_LOGGER, '1', [{ name: 'root', value: 'DEBUG' }]), ErrorCode.INVALID_REQUEST, 'Unknown resource type 8'],
      [
        'unsupported level',
        incremental(raw, BROKER_LOGGER, '1', [{ name: 'root', configOperation: SET, value: 'LOUD' }]),
        ErrorCode.INVALID_CONFIG,
        'Cannot set the log level of root to LOUD as it is not a supported log level. Valid log levels are DEBUG, ERROR, FATAL, INFO, TRACE, WARN',
      ],
      ['unknown logger', incremental(raw, BROKER_LOGGER, '1', [{ name: 'kafka.server', configOperation: SET, value: 'DEBUG' }]), ErrorCode.INVALID_CONFIG, 'Logger kafka.server does not exist!'],
      ['removing root', incremental(raw, BROKER_LOGGER, '1', [{ name: 'root', configOperation: DELETE, value: null }]), ErrorCode.INVALID_REQUEST, 'Removing the log level of the root logger is not allowed'],
      ['APPEND to a logger', incremental(raw, BROKER_LOGGER, '1', [{ name: 'root', configOperation: APPEND, value: 'DEBUG' }]), ErrorCode.INVALID_REQUEST, 'APPEND operation is not allowed for the BROKER_LOGGER resource'],
      ['another node\'s loggers', incremental(raw, BROKER_LOGGER, '3', [{ name: 'root', configOperation: SET, value: 'DEBUG' }]), ErrorCode.INVALID_REQUEST, 'Unexpected node id. Expected 1, but received 3'],
    ];
    const before = { broker: broker.broker.config.dynamicConfigs('broker'), default: broker.broker.config.dynamicConfigs('default') };
    for (const [what, result, errorCode, message] of cases) {
      expect(await result, what).toMatchObject({ errorCode, errorMessage: message });
    }
    expect(broker.broker.config.dynamicConfigs('broker')).toEqual(before.broker);
    expect(broker.broker.config.dynamicConfigs('default')).toEqual(before.default);
    await expect(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'auto.create.topics.enable', value: 'false' }] }] }),
    ).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });

  it('describes and sets the root log level (BROKER_LOGGER), which is not stored', async () => {
    expect(await describe1(raw, BROKER_LOGGER, '1')).toMatchObject({
      errorCode: ErrorCode.NONE,
      configs: [{ name: 'root', value: 'WARN', configSource: SOURCE.DYNAMIC_BROKER_LOGGER_CONFIG, readOnly: false, isSensitive: false, synonyms: [] }],
    });
    expect(await incremental(raw, BROKER_LOGGER, '1', [{ name: 'root', configOperation: SET, value: 'ERROR' }], true)).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(broker.broker.logger.level).toBe('warn');
    expect(await incremental(raw, BROKER_LOGGER, '1', [{ name: 'root', configOperation: SET, value: 'ERROR' }])).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(broker.broker.logger.level).toBe('error');
    expect((await describe1(raw, BROKER_LOGGER, '1')).configs[0]).toMatchObject({ name: 'root', value: 'ERROR' });
  });

  it('keeps topic overrides and dynamic broker configs across a restart on the same data dir, and applies them to the logs', async () => {
    const overridesBefore = new Map(broker.broker.topics.all().map((t) => [t.name, t.overrides] as const));
    const dynamicBefore = { broker: broker.broker.config.dynamicConfigs('broker'), default: broker.broker.config.dynamicConfigs('default') };
    expect(dynamicBefore).toEqual({ broker: { 'log.retention.ms': '3600000' }, default: { 'log.retention.ms': '7200000' } });
    await stop();
    await start();
    expect(new Map(broker.broker.topics.all().map((t) => [t.name, t.overrides] as const))).toEqual(overridesBefore);
    expect(broker.broker.config.dynamicConfigs('broker')).toEqual(dynamicBefore.broker);
    expect(broker.broker.config.dynamicConfigs('default')).toEqual(dynamicBefore.default);
    expect(broker.broker.topics.get('follower')!.config.log.retentionMs).toBe(3_600_000);
    expect(broker.broker.topics.get('own')!.config.log.retentionMs).toBe(1000);
    expect(broker.broker.topics.get('rolling')!.config.log.segmentBytes).toBe(1024);
    const rolling = broker.broker.topics.get('rolling')!.partitions[0]!.log;
    const segments = rolling.segmentCount;
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'rolling', messages: [{ value: Buffer.alloc(400, i) }] });
    expect(rolling.segmentCount).toBeGreaterThan(segments);
    const t = entries(await describe1(raw, TOPIC, 'altered', { keys: ['max.message.bytes', 'retention.ms'] }));
    expect(t.get('max.message.bytes')).toMatchObject({ value: '2000', configSource: SOURCE.TOPIC_CONFIG });
    expect(t.get('retention.ms')).toMatchObject({ value: '3600000', configSource: SOURCE.DYNAMIC_BROKER_CONFIG });
    await expect(producer.send({ topic: 'altered', messages: [{ value: Buffer.alloc(3000, 1) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    // the log level is not stored (as Kafka's KIP-412 levels)
    expect((await describe1(raw, BROKER_LOGGER, '1')).configs[0]).toMatchObject({ name: 'root', value: 'WARN' });
    // DELETE at both levels brings the static/default value back, stored as such
    expect(await incremental(raw, BROKER, '1', [{ name: 'log.retention.ms', configOperation: DELETE, value: null }])).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(await incremental(raw, BROKER, '', [{ name: 'log.retention.ms', configOperation: DELETE, value: null }])).toMatchObject({ errorCode: ErrorCode.NONE });
    expect(broker.broker.topics.get('follower')!.config.log.retentionMs).toBe(604_800_000);
    await stop();
    await start();
    expect(broker.broker.config.dynamicConfigs('broker')).toEqual({});
    expect(broker.broker.config.dynamicConfigs('default')).toEqual({});
  });
}, 120_000);
