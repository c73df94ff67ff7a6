/**
 * DescribeClientQuotas and AlterClientQuotas against a real broker: the
 * admin client of @platformatic/kafka (v1), and our codec client at v0 and v1
 * for what that client refuses to send (ip entities, bad keys and filters).
 * Kafka's validation messages, the three match types and strict filters,
 * validate_only, removals, and quotas kept across a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

type Entity = Array<{ entityType: string; entityName: string | null }>;
type Op = { key: string; value?: number; remove?: boolean };
type Component = { entityType: string; matchType: number; match: string | null };

const EXACT = 0;
const DEFAULT = 1;
const SPECIFIED = 2;

async function alter(raw: RawClient, version: number, entries: Array<{ entity: Entity; ops: Op[] }>, validateOnly = false) {
  const body: MessageInput<typeof schemas.alterClientQuotasRequest> = {
    entries: entries.map((e) => ({ entity: e.entity, ops: e.ops.map((o) => ({ key: o.key, value: o.value ?? 0, remove: o.remove ?? false })) })),
    validateOnly,
  };
  return (await raw.request(schemas.alterClientQuotasRequest, schemas.alterClientQuotasResponse, version, body)).entries;
}

async function describeQuotas(raw: RawClient, version: number, components: Component[], strict = false) {
  return raw.request(schemas.describeClientQuotasRequest, schemas.describeClientQuotasResponse, version, { components, strict });
}

/** Entries as "type=name,…" → { key: value } (the order of entities does not matter). */
function byEntity(entries: ReadonlyArray<{ entity: Entity; values: Array<{ key: string; value: number }> }> | null): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const e of entries ?? []) {
    const name = e.entity.map((x) => `${x.entityType}=${x.entityName ?? '<default>'}`).sort().join(',');
    out[name] = Object.fromEntries(e.values.map((v) => [v.key, v.value]));
  }
  return out;
}

const user = (name: string | null) => ({ entityType: 'user', entityName: name });
const client = (name: string | null) => ({ entityType: 'client-id', entityName: name });
const ip = (name: string | null) => ({ entityType: 'ip', entityName: name });

describe('client quota administration', () => {
  let broker: RunningBroker;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    raw = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.close();
  });

  it('lists DescribeClientQuotas and AlterClientQuotas v0-1 in ApiVersions', async () => {
    const res = await raw.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const ranges = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(ranges.get(48)).toEqual([0, 1]);
    expect(ranges.get(49)).toEqual([0, 1]);
  });

  it('round-trips quotas of users, client ids, pairs and defaults with @platformatic/kafka\'s admin client', async () => {
    const admin = new PlatformaticAdmin({ clientId: 'quota-admin', bootstrapBrokers: [broker.bootstrap], retries: 0 });
    try {
      const results = await admin.alterClientQuotas({
        entries: [
          { entities: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] },
          { entities: [{ entityType: 'user', entityName: 'alice' }, { entityType: 'client-id', entityName: 'app' }], ops: [{ key: 'consumer_byte_rate', value: 2048, remove: false }, { key: 'request_percentage', value: 12.5, remove: false }] },
          { entities: [{ entityType: 'client-id', entityName: null }], ops: [{ key: 'producer_byte_rate', value: 4096, remove: false }] },
          { entities: [{ entityType: 'user', entityName: null }], ops: [{ key: 'consumer_byte_rate', value: 8192, remove: false }] },
        ],
      });
      expect(results.map((r) => r.errorCode)).toEqual([0, 0, 0, 0]);
      const users = await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: SPECIFIED }] });
      expect(byEntity(users)).toEqual({
        'user=alice': { producer_byte_rate: 1024 },
        'client-id=app,user=alice': { consumer_byte_rate: 2048, request_percentage: 12.5 },
        'user=<default>': { consumer_byte_rate: 8192 },
      });
      const alice = await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: EXACT, match: 'alice' }], strict: true });
      expect(byEntity(alice)).toEqual({ 'user=alice': { producer_byte_rate: 1024 } });
      const defaults = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: DEFAULT }] });
      expect(byEntity(defaults)).toEqual({ 'client-id=<default>': { producer_byte_rate: 4096 } });
      // removing the last value removes the entity
      await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: null }], ops: [{ key: 'producer_byte_rate', remove: true }] }] });
      expect(await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: DEFAULT }] })).toEqual([]);
    } finally {
      await admin.close();
    }
  });

  for (const version of [0, 1]) {
    it(`v${version}: matches EXACT, DEFAULT and SPECIFIED components, strictly or not`, async () => {
      const ops = (key: string, value: number): Op[] => [{ key, value }];
      const set = await alter(raw, version, [
        { entity: [user(`u${version}`)], ops: ops('producer_byte_rate', 100) },
        { entity: [user(`u${version}`), client(`c${version}`)], ops: ops('producer_byte_rate', 200) },
        { entity: [user(`u${version}`), client(null)], ops: ops('producer_byte_rate', 300) },
        { entity: [client(`c${version}`)], ops: ops('consumer_byte_rate', 400) },
        { entity: [ip('10.0.0.1')], ops: ops('connection_creation_rate', 5) },
        { entity: [ip(null)], ops: ops('connection_creation_rate', 50) },
      ]);
      expect(set.map((r) => [r.errorCode, r.errorMessage])).toEqual(Array(6).fill([0, null]));
      const exactUser = await describeQuotas(raw, version, [{ entityType: 'user', matchType: EXACT, match: `u${version}` }]);
      expect(exactUser.errorCode).toBe(0);
      expect(byEntity(exactUser.entries)).toEqual({
        [`user=u${version}`]: { producer_byte_rate: 100 },
        [`client-id=c${version},user=u${version}`]: { producer_byte_rate: 200 },
        [`client-id=<default>,user=u${version}`]: { producer_byte_rate: 300 },
      });
      const strictUser = await describeQuotas(raw, version, [{ entityType: 'user', matchType: EXACT, match: `u${version}` }], true);
      expect(byEntity(strictUser.entries)).toEqual({ [`user=u${version}`]: { producer_byte_rate: 100 } });
      const pairWithDefaultClient = await describeQuotas(raw, version, [
        { entityType: 'user', matchType: EXACT, match: `u${version}` },
        { entityType: 'client-id', matchType: DEFAULT, match: null },
      ]);
      expect(byEntity(pairWithDefaultClient.entries)).toEqual({ [`client-id=<default>,user=u${version}`]: { producer_byte_rate: 300 } });
      const clients = await describeQuotas(raw, version, [{ entityType: 'client-id', matchType: EXACT, match: `c${version}` }], true);
      expect(byEntity(clients.entries)).toEqual({ [`client-id=c${version}`]: { consumer_byte_rate: 400 } });
      const ips = await describeQuotas(raw, version, [{ entityType: 'ip', matchType: SPECIFIED, match: null }]);
      expect(byEntity(ips.entries)).toMatchObject({ 'ip=10.0.0.1': { connection_creation_rate: 5 }, 'ip=<default>': { connection_creation_rate: 50 } });
      const defaultIp = await describeQuotas(raw, version, [{ entityType: 'ip', matchType: DEFAULT, match: null }]);
      expect(byEntity(defaultIp.entries)).toEqual({ 'ip=<default>': { connection_creation_rate: 50 } });
      // clean up the ip quotas (they would limit this test's connections)
      await alter(raw, version, [
        { entity: [ip('10.0.0.1')], ops: [{ key: 'connection_creation_rate', remove: true }] },
        { entity: [ip(null)], ops: [{ key: 'connection_creation_rate', remove: true }] },
      ]);
      expect((await describeQuotas(raw, version, [{ entityType: 'ip', matchType: SPECIFIED, match: null }])).entries).toEqual([]);
    });

    it(`v${version}: refuses what Kafka refuses, entity by entity, with Kafka's messages`, async () => {
      const res = await alter(raw, version, [
        { entity: [user('bad-key')], ops: [{ key: 'connection_creation_rate', value: 5 }] },
        { entity: [user('negative')], ops: [{ key: 'producer_byte_rate', value: -1 }] },
        { entity: [user('zero')], ops: [{ key: 'request_percentage', value: 0 }] },
        { entity: [user('fraction')], ops: [{ key: 'producer_byte_rate', value: 1.5 }] },
        { entity: [ip('10.0.0.2')], ops: [{ key: 'connection_creation_rate', value: 3e9 }] },
        { entity: [ip('10.0.0.3')], ops: [{ key: 'producer_byte_rate', value: 10 }] },
        { entity: [user('x'), ip('10.0.0.4')], ops: [{ key: 'connection_creation_rate', value: 1 }] },
        { entity: [{ entityType: 'group', entityName: 'g' }], ops: [{ key: 'producer_byte_rate', value: 1 }] },
        { entity: [], ops: [{ key: 'producer_byte_rate', value: 1 }] },
        { entity: [user('')], ops: [{ key: 'producer_byte_rate', value: 1 }] },
        { entity: [ip('no-such-host.invalid')], ops: [{ key: 'connection_creation_rate', value: 1 }] },
        { entity: [user('twice')], ops: [{ key: 'producer_byte_rate', value: 1 }, { key: 'producer_byte_rate', value: 2 }] },
        { entity: [client('ok')], ops: [{ key: 'request_percentage', value: 0.5 }, { key: 'controller_mutation_rate', value: 2.5 }] },
      ]);
      const INVALID = ErrorCode.INVALID_REQUEST;
      expect(res.map((r) => [r.errorCode, r.errorMessage])).toEqual([
        [INVALID, 'Invalid configuration key connection_creation_rate'],
        [INVALID, 'Quota producer_byte_rate must be greater than 0'],
        [INVALID, 'Quota request_percentage must be greater than 0'],
        [INVALID, 'producer_byte_rate cannot be a fractional value.'],
        [INVALID, 'Proposed value for connection_creation_rate is too large for an INT.'],
        [INVALID, 'Invalid configuration key producer_byte_rate'],
        [INVALID, 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId'],
        [INVALID, 'Unhandled client quota entity type: group'],
        [INVALID, 'Invalid empty client quota entity'],
        [INVALID, 'Empty user not supported'],
        [INVALID, 'no-such-host.invalid is not a valid IP or resolvable host.'],
        [INVALID, 'Ignoring duplicate entity ClientQuotaEntity(entries={user=twice})'],
        [ErrorCode.NONE, null],
      ]);
      expect(res[6]!.entity).toEqual([user('x'), ip('10.0.0.4')]);
      // only the valid entity changed
      const all = byEntity((await describeQuotas(raw, version, [])).entries);
      expect(Object.keys(all).filter((k) => /bad-key|negative|zero|fraction|10\.0\.0\.[234]|twice/.test(k))).toEqual([]);
      expect(all['client-id=ok']).toEqual({ request_percentage: 0.5, controller_mutation_rate: 2.5 });
      // an entity given twice: answered once, as Kafka's map of results does
      const twice = await alter(raw, version, [
        { entity: [client('dup'), user('dup')], ops: [{ key: 'producer_byte_rate', value: 10 }] },
        { entity: [user('dup'), client('dup')], ops: [{ key: 'producer_byte_rate', value: 20 }] },
      ]);
      expect(twice).toHaveLength(1);
      // (Kafka prints the entity's HashMap: client-id before user)
      expect(twice[0]!.errorMessage).toBe('Ignoring duplicate entity ClientQuotaEntity(entries={client-id=dup, user=dup})');
      await alter(raw, version, [{ entity: [client('ok')], ops: [{ key: 'request_percentage', remove: true }, { key: 'controller_mutation_rate', remove: true }] }]);
      await alter(raw, version, [{ entity: [client('dup'), user('dup')], ops: [{ key: 'producer_byte_rate', remove: true }] }]);
    });

    it(`v${version}: validate_only checks and changes nothing`, async () => {
      const res = await alter(raw, version, [
        { entity: [user('dry')], ops: [{ key: 'producer_byte_rate', value: 1000 }] },
        { entity: [user('dry-bad')], ops: [{ key: 'producer_byte_rate', value: -5 }] },
      ], true);
      expect(res.map((r) => r.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.INVALID_REQUEST]);
      expect((await describeQuotas(raw, version, [{ entityType: 'user', matchType: EXACT, match: 'dry' }])).entries).toEqual([]);
    });

    it(`v${version}: answers a filter Kafka refuses with a top-level error and no entries`, async () => {
      const cases: Array<[Component[], number, string]> = [
        [[{ entityType: '', matchType: SPECIFIED, match: null }], ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.'],
        [[{ entityType: 'user', matchType: SPECIFIED, match: null }, { entityType: 'user', matchType: DEFAULT, match: null }], ErrorCode.INVALID_REQUEST, 'Entity type user cannot appear more than once in the filter.'],
        [[{ entityType: 'topic', matchType: SPECIFIED, match: null }], ErrorCode.UNSUPPORTED_VERSION, 'Unsupported entity type topic'],
        [[{ entityType: 'user', matchType: EXACT, match: null }], ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.'],
        [[{ entityType: 'user', matchType: DEFAULT, match: 'x' }], ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.'],
        [[{ entityType: 'user', matchType: SPECIFIED, match: 'x' }], ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.'],
        [[{ entityType: 'user', matchType: 7, match: null }], ErrorCode.INVALID_REQUEST, 'Unknown match type 7'],
        [[{ entityType: 'ip', matchType: SPECIFIED, match: null }, { entityType: 'client-id', matchType: SPECIFIED, match: null }], ErrorCode.INVALID_REQUEST, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.'],
      ];
      for (const [components, errorCode, errorMessage] of cases) {
        expect(await describeQuotas(raw, version, components)).toMatchObject({ errorCode, errorMessage, entries: null });
      }
    });
  }
});

describe('client quotas across a restart', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-quotas-'));
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the quotas set, and their removals, in the metadata store', async () => {
    broker = await startBroker({ port: 0, dataDir });
    let raw = await RawClient.connect(broker.port);
    await alter(raw, 1, [
      { entity: [user('kept')], ops: [{ key: 'producer_byte_rate', value: 5000 }, { key: 'request_percentage', value: 25 }] },
      { entity: [user(null), client(null)], ops: [{ key: 'consumer_byte_rate', value: 7000 }] },
      { entity: [ip('192.168.1.9')], ops: [{ key: 'connection_creation_rate', value: 9 }] },
      { entity: [client('gone')], ops: [{ key: 'producer_byte_rate', value: 1 }] },
    ]);
    await alter(raw, 1, [{ entity: [client('gone')], ops: [{ key: 'producer_byte_rate', remove: true }] }]);
    raw.close();
    await broker.close();

    broker = await startBroker({ port: 0, dataDir });
    raw = await RawClient.connect(broker.port);
    try {
      const all = await describeQuotas(raw, 0, []);
      expect(byEntity(all.entries)).toEqual({
        'user=kept': { producer_byte_rate: 5000, request_percentage: 25 },
        'client-id=<default>,user=<default>': { consumer_byte_rate: 7000 },
        'ip=192.168.1.9': { connection_creation_rate: 9 },
      });
    } finally {
      raw.close();
    }
  });
});
