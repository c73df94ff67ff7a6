/**
 * The limits and configs of consumer groups (KIP-848) on a real broker with
 * raw frames: group.consumer.max.size, the session and heartbeat bounds
 * checked at start, group configs (DescribeConfigs / IncrementalAlterConfigs
 * on GROUP resources, stored across a restart, used by the heartbeat),
 * static members rejoining, and the members' racks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { ConfigError, startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { consumerGroupHeartbeatRequest: hbReq, consumerGroupHeartbeatResponse: hbRes } = schemas;
const GROUP = 32;
const SET = 0;
const DELETE = 1;
type HeartbeatBody = MessageInput<typeof hbReq>;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

const BOUNDS = {
  'group.consumer.min.session.timeout.ms': 1_000,
  'group.consumer.session.timeout.ms': 3_000,
  'group.consumer.min.heartbeat.interval.ms': 100,
  'group.consumer.heartbeat.interval.ms': 500,
};

function newId(): string {
  return randomBytes(16).toString('base64url');
}

describe('consumer group limits', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-limits-'));
    broker = await startBroker({ dataDir, port: 0, config: { ...BOUNDS, 'group.consumer.max.size': 2, 'broker.rack': 'rack-a', 'gregor.flush.acks.all': false } });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'cg-limits');
    clients.push(c);
    return c;
  }

  async function heartbeat(c: RawClient, body: HeartbeatBody, version = 1): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, version, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  function joinBody(groupId: string, memberId: string, topics: string[], instanceId: string | null = null): HeartbeatBody {
    return { groupId, memberId, memberEpoch: 0, instanceId, rebalanceTimeoutMs: 5000, subscribedTopicNames: topics, topicPartitions: [] };
  }

  it("a member's rack is kept and shown; a new rack is written without a rebalance (the group epoch does not move, as Kafka)", async () => {
    await broker.broker.topics.create({ name: 'lim-rack', numPartitions: 2, replicationFactor: 1, configs: {} });
    const c = await client();
    const memberId = newId();
    const joined = await heartbeat(c, { ...joinBody('lim-rack', memberId, ['lim-rack']), rackId: 'rack-1' });
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    const describe = async () =>
      (await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 0, { groupIds: ['lim-rack'], includeAuthorizedOperations: false })).groups[0]!;
    const before = await describe();
    expect(before.members.map((m) => m.rackId)).toEqual(['rack-1']);
    const moved = await heartbeat(c, { groupId: 'lim-rack', memberId, memberEpoch: joined.memberEpoch, rackId: 'rack-2' });
    expect(moved).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: joined.memberEpoch });
    const after = await describe();
    expect(after.members.map((m) => m.rackId)).toEqual(['rack-2']);
    expect(after.groupEpoch).toBe(before.groupEpoch);
    const empty = await heartbeat(c, { groupId: 'lim-rack', memberId, memberEpoch: joined.memberEpoch, rackId: '' });
    expect(empty).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "RackId can't be empty." });
  });

  describe('group.consumer.max.size', () => {
    it('a third member is refused with GROUP_MAX_SIZE_REACHED; members already in keep heartbeating; a leave makes room', async () => {
      await broker.broker.topics.create({ name: 'lim-size', numPartitions: 2, replicationFactor: 1, configs: {} });
      const c = await client();
      const a = newId();
      const b = newId();
      const resA = await heartbeat(c, joinBody('lim-size', a, ['lim-size']));
      expect(resA.errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-size', b, ['lim-size']))).errorCode).toBe(ErrorCode.NONE);

      const third = await heartbeat(c, joinBody('lim-size', newId(), ['lim-size']));
      expect(third).toMatchObject({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, errorMessage: 'The consumer group has reached its maximum capacity of 2 members.' });
      // v0: the coordinator makes the member id, so every v0 join is a new member
      const v0 = await heartbeat(c, joinBody('lim-size', '', ['lim-size']), 0);
      expect(v0.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);

      // a member of the group is not refused, even when it joins again
      expect((await heartbeat(c, { groupId: 'lim-size', memberId: a, memberEpoch: resA.memberEpoch })).errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-size', a, ['lim-size']))).errorCode).toBe(ErrorCode.NONE);

      const left = await heartbeat(c, { groupId: 'lim-size', memberId: b, memberEpoch: -1 });
      expect(left.errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-size', newId(), ['lim-size']))).errorCode).toBe(ErrorCode.NONE);
    });

    it('a static member replacing its old self under a new member id counts as a new member (as Kafka)', async () => {
      await broker.broker.topics.create({ name: 'lim-static-size', numPartitions: 2, replicationFactor: 1, configs: {} });
      const c = await client();
      const s1 = newId();
      const joined = await heartbeat(c, joinBody('lim-static-size', s1, ['lim-static-size'], 'instance-1'));
      expect(joined.errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-static-size', newId(), ['lim-static-size']))).errorCode).toBe(ErrorCode.NONE);
      // the static member leaves for a while (epoch -2), then a new process of it joins under a new member id
      expect((await heartbeat(c, { groupId: 'lim-static-size', memberId: s1, memberEpoch: -2, instanceId: 'instance-1' })).errorCode).toBe(ErrorCode.NONE);
      const back = await heartbeat(c, joinBody('lim-static-size', newId(), ['lim-static-size'], 'instance-1'));
      expect(back.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    });
  });
});

describe('static members rejoining at epoch 0 (Kafka 4.x)', () => {
  let broker: RunningBroker;
  let dataDir: string;
  let c: RawClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-static-'));
    broker = await startBroker({ dataDir, port: 0, config: { ...BOUNDS, 'gregor.flush.acks.all': false } });
    await broker.broker.topics.create({ name: 'st-topic', numPartitions: 4, replicationFactor: 1, configs: {} });
    c = await RawClient.connect(broker.port, '127.0.0.1', 'cg-static');
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function heartbeat(body: HeartbeatBody): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, 1, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const join = (memberId: string, instanceId: string): Promise<HeartbeatAnswer> =>
    heartbeat({ groupId: 'st-group', memberId, instanceId, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['st-topic'], topicPartitions: [] });

  it('is UNRELEASED_INSTANCE_ID while the old member has not left with -2, even under its own member id; after -2 it takes its place with its partitions', async () => {
    const s1 = newId();
    const first = await join(s1, 'inst-1');
    expect(first.errorCode).toBe(ErrorCode.NONE);
    const epoch = first.memberEpoch;
    const partitions = first.assignment!.topicPartitions.flatMap((t) => t.partitions).sort();
    expect(partitions).toEqual([0, 1, 2, 3]);

    expect(await join(s1, 'inst-1')).toMatchObject({
      errorCode: ErrorCode.UNRELEASED_INSTANCE_ID,
      errorMessage: `Static member ${s1} with instance id inst-1 cannot join the group because the instance id is owned by ${s1} member.`,
    });
    const s2 = newId();
    expect(await join(s2, 'inst-1')).toMatchObject({
      errorCode: ErrorCode.UNRELEASED_INSTANCE_ID,
      errorMessage: `Static member ${s2} with instance id inst-1 cannot join the group because the instance id is owned by ${s1} member.`,
    });
    // the refused joins changed nothing: the member goes on at its epoch
    expect(await heartbeat({ groupId: 'st-group', memberId: s1, instanceId: 'inst-1', memberEpoch: epoch })).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: epoch });

    // -2, then back under its own member id: same partitions, no rebalance (the group epoch does not move)
    expect((await heartbeat({ groupId: 'st-group', memberId: s1, instanceId: 'inst-1', memberEpoch: -2 })).errorCode).toBe(ErrorCode.NONE);
    const back = await join(s1, 'inst-1');
    expect(back).toMatchObject({ errorCode: ErrorCode.NONE, memberId: s1, memberEpoch: epoch });
    expect(back.assignment!.topicPartitions.flatMap((t) => t.partitions).sort()).toEqual([0, 1, 2, 3]);

    // -2, then a new process under a new member id: it takes the place; the old id is fenced
    expect((await heartbeat({ groupId: 'st-group', memberId: s1, instanceId: 'inst-1', memberEpoch: -2 })).errorCode).toBe(ErrorCode.NONE);
    const s3 = newId();
    const replaced = await join(s3, 'inst-1');
    expect(replaced).toMatchObject({ errorCode: ErrorCode.NONE, memberId: s3, memberEpoch: epoch });
    expect(await heartbeat({ groupId: 'st-group', memberId: s1, instanceId: 'inst-1', memberEpoch: epoch })).toMatchObject({
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      errorMessage: `Static member ${s1} with instance id inst-1 was fenced by member ${s3}.`,
    });
    expect(await heartbeat({ groupId: 'st-group', memberId: s1, instanceId: 'inst-unknown', memberEpoch: epoch })).toMatchObject({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
      errorMessage: 'Instance id inst-unknown is unknown.',
    });
    const described = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 0, { groupIds: ['st-group'], includeAuthorizedOperations: false });
    expect(described.groups[0]!.members.map((m) => [m.memberId, m.instanceId])).toEqual([[s3, 'inst-1']]);
    expect(described.groups[0]!.groupEpoch).toBe(epoch);
  });
});

async function alterGroup(c: RawClient, groupId: string, configs: Array<{ name: string; configOperation: number; value: string | null }>, validateOnly = false) {
  const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType: GROUP, resourceName: groupId, configs }],
    validateOnly,
  });
  return res.responses[0]!;
}

async function describeGroupConfigs(c: RawClient, groupId: string) {
  const res = await c.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, 4, {
    resources: [{ resourceType: GROUP, resourceName: groupId, configurationKeys: null }],
    includeSynonyms: true,
    includeDocumentation: false,
  });
  return res.results[0]!;
}

describe('group configs (GROUP resources)', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-group-configs-'));
    broker = await startBroker({ dataDir, port: 0, config: { ...BOUNDS, 'group.consumer.max.session.timeout.ms': 60_000, 'gregor.flush.acks.all': false } });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'group-configs');
    clients.push(c);
    return c;
  }

  async function heartbeat(c: RawClient, body: HeartbeatBody): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, 1, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('a group without configs is described with the broker defaults; set ones are GROUP_CONFIG, kept across a restart', async () => {
    let c = await client();
    const fresh = await describeGroupConfigs(c, 'gc-any');
    expect(fresh.errorCode).toBe(ErrorCode.NONE);
    // the share groups' configs (KIP-932) follow the consumer groups' ones
    expect(fresh.configs.map((e) => e.name)).toEqual([
      'consumer.session.timeout.ms',
      'consumer.heartbeat.interval.ms',
      'share.session.timeout.ms',
      'share.heartbeat.interval.ms',
      'share.record.lock.duration.ms',
      'share.auto.offset.reset',
      'share.isolation.level',
    ]);
    const consumerConfigs = (configs: typeof fresh.configs) => configs.filter((e) => e.name.startsWith('consumer.'));
    expect(consumerConfigs(fresh.configs).map((e) => [e.name, e.value, e.configSource, e.readOnly])).toEqual([
      ['consumer.session.timeout.ms', '3000', 5, false],
      ['consumer.heartbeat.interval.ms', '500', 5, false],
    ]);

    expect(await alterGroup(c, 'gc-kept', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '20000' }])).toMatchObject({ errorCode: ErrorCode.NONE });
    // validate_only changes nothing
    expect(await alterGroup(c, 'gc-kept', [{ name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '900' }], true)).toMatchObject({ errorCode: ErrorCode.NONE });
    const set = await describeGroupConfigs(c, 'gc-kept');
    expect(consumerConfigs(set.configs).map((e) => [e.name, e.value, e.configSource])).toEqual([
      ['consumer.session.timeout.ms', '20000', 8],
      ['consumer.heartbeat.interval.ms', '500', 5],
    ]);
    expect(set.configs[0]!.synonyms).toEqual([{ name: 'consumer.session.timeout.ms', value: '20000', source: 8 }]);

    await broker.close();
    broker = await startBroker({ dataDir, port: 0, config: { ...BOUNDS, 'group.consumer.max.session.timeout.ms': 60_000, 'gregor.flush.acks.all': false } });
    clients.splice(0);
    c = await client();
    const after = await describeGroupConfigs(c, 'gc-kept');
    expect(consumerConfigs(after.configs).map((e) => [e.name, e.value, e.configSource])).toEqual([
      ['consumer.session.timeout.ms', '20000', 8],
      ['consumer.heartbeat.interval.ms', '500', 5],
    ]);
    // DELETE goes back to the broker's value
    expect(await alterGroup(c, 'gc-kept', [{ name: 'consumer.session.timeout.ms', configOperation: DELETE, value: null }])).toMatchObject({ errorCode: ErrorCode.NONE });
    expect((await describeGroupConfigs(c, 'gc-kept')).configs[0]).toMatchObject({ value: '3000', configSource: 5 });
  });

  it('refuses what Kafka refuses, with its errors and words', async () => {
    const c = await client();
    const cases: Array<[string, Array<{ name: string; configOperation: number; value: string | null }>, number, string]> = [
      ['gc-bad', [{ name: 'streams.session.timeout.ms', configOperation: SET, value: '45000' }], ErrorCode.INVALID_CONFIG, 'Unknown group config name: streams.session.timeout.ms'],
      ['gc-bad', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: 'soon' }], ErrorCode.INVALID_CONFIG, 'Invalid value soon for configuration consumer.session.timeout.ms: Not a number of type INT'],
      ['gc-bad', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '0' }], ErrorCode.INVALID_CONFIG, 'Invalid value 0 for configuration consumer.session.timeout.ms: Value must be at least 1'],
      ['gc-bad', [{ name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '50' }], ErrorCode.INVALID_CONFIG, 'consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms'],
      ['gc-bad', [{ name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '20000' }], ErrorCode.INVALID_CONFIG, 'consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms'],
      ['gc-bad', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '999' }], ErrorCode.INVALID_CONFIG, 'consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms'],
      ['gc-bad', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '70000' }], ErrorCode.INVALID_CONFIG, 'consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms'],
      ['gc-bad', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '1000' }, { name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '1000' }], ErrorCode.INVALID_CONFIG, 'consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms'],
      ['gc-bad', [{ name: 'consumer.session.timeout.ms', configOperation: 2, value: '1' }], ErrorCode.INVALID_CONFIG, "Can't APPEND to key consumer.session.timeout.ms because its type is not LIST."],
      ['', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '5000' }], ErrorCode.INVALID_REQUEST, 'Default group resources are not allowed.'],
    ];
    for (const [groupId, configs, errorCode, message] of cases) {
      expect(await alterGroup(c, groupId, configs), JSON.stringify(configs)).toMatchObject({ errorCode, errorMessage: message });
    }
    expect((await describeGroupConfigs(c, 'gc-bad')).configs.map((e) => e.configSource)).toEqual([5, 5, 5, 5, 5, 5, 5]);
    expect(await describeGroupConfigs(c, '')).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Group name must not be empty' });
  });

  it('the heartbeat gives the group its own interval, and a silent member is removed after the group\'s own session timeout', async () => {
    await broker.broker.topics.create({ name: 'gc-topic', numPartitions: 2, replicationFactor: 1, configs: {} });
    const c = await client();
    expect(await alterGroup(c, 'gc-long', [
      { name: 'consumer.session.timeout.ms', configOperation: SET, value: '60000' },
      { name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '900' },
    ])).toMatchObject({ errorCode: ErrorCode.NONE });
    const join = (groupId: string, memberId: string): Promise<HeartbeatAnswer> =>
      heartbeat(c, { groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['gc-topic'], topicPartitions: [] });
    const long = await join('gc-long', newId());
    const short = await join('gc-short', newId());
    expect(long).toMatchObject({ errorCode: ErrorCode.NONE, heartbeatIntervalMs: 900 });
    expect(short).toMatchObject({ errorCode: ErrorCode.NONE, heartbeatIntervalMs: 500 });

    // neither heartbeats again: the member of the group with the broker's 3 s session goes first
    const members = async (groupId: string): Promise<number> => {
      const res = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 0, { groupIds: [groupId], includeAuthorizedOperations: false });
      return res.groups[0]!.members.length;
    };
    const deadline = Date.now() + 20_000;
    while ((await members('gc-short')) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await members('gc-short')).toBe(0);
    expect(await members('gc-long')).toBe(1);
  });
});

describe('group.consumer session timeout and heartbeat interval bounds at start', () => {
  const cases: Array<[Record<string, number>, string]> = [
    [{ 'group.consumer.min.heartbeat.interval.ms': 6000, 'group.consumer.max.heartbeat.interval.ms': 5500 }, 'group.consumer.max.heartbeat.interval.ms: 5500 (from overrides) must be greater than or equal to group.consumer.min.heartbeat.interval.ms (6000 (from overrides))'],
    [{ 'group.consumer.heartbeat.interval.ms': 1000 }, 'group.consumer.heartbeat.interval.ms: 1000 (from overrides) must be greater than or equal to group.consumer.min.heartbeat.interval.ms (5000)'],
    [{ 'group.consumer.heartbeat.interval.ms': 20000 }, 'group.consumer.heartbeat.interval.ms: 20000 (from overrides) must be less than or equal to group.consumer.max.heartbeat.interval.ms (15000)'],
    [{ 'group.consumer.session.timeout.ms': 6000 }, 'group.consumer.session.timeout.ms: 6000 (from overrides) must be greater than or equal to group.consumer.min.session.timeout.ms (45000)'],
    [{ 'group.consumer.session.timeout.ms': 90000 }, 'group.consumer.session.timeout.ms: 90000 (from overrides) must be less than or equal to group.consumer.max.session.timeout.ms (60000)'],
    [{ 'group.consumer.min.session.timeout.ms': 1000, 'group.consumer.session.timeout.ms': 5000 }, 'group.consumer.heartbeat.interval.ms: 5000 must be less than group.consumer.session.timeout.ms (5000 (from overrides))'],
  ];
  it.each(cases)('%o is refused', async (config, message) => {
    const dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-bounds-'));
    try {
      const started = startBroker({ dataDir, port: 0, config });
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(`invalid configuration ${message}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
