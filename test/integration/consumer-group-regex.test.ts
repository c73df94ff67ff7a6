/**
 * Regular-expression subscriptions of the consumer protocol (KIP-848's
 * SubscribedTopicRegex) on a real broker socket with raw frames: a member
 * subscribed by an RE2 expression is assigned the topics whose whole name
 * matches, a topic created or deleted later changes its assignment at its
 * next heartbeat (the group epoch bumps), what RE2 refuses is
 * INVALID_REGULAR_EXPRESSION, and the resolutions come back after a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { consumerGroupHeartbeatRequest: hbReq, consumerGroupHeartbeatResponse: hbRes } = schemas;
type HeartbeatBody = MessageInput<typeof hbReq>;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

const CONFIG = { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'group.consumer.session.timeout.ms': 10_000, 'group.consumer.heartbeat.interval.ms': 250, 'gregor.flush.acks.all': false };

interface Member {
  readonly memberId: string;
  epoch: number;
  owned: Map<string, number[]>;
}

describe('ConsumerGroupHeartbeat with SubscribedTopicRegex', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-regex-'));
    broker = await startBroker({ dataDir, port: 0, config: CONFIG });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'cg-regex-client');
    clients.push(c);
    return c;
  }

  async function createTopic(name: string, numPartitions: number): Promise<string> {
    await broker.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
    return broker.broker.topics.get(name)!.topicId;
  }

  async function heartbeat(c: RawClient, body: HeartbeatBody): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, 1, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  function apply(m: Member, res: HeartbeatAnswer): void {
    expect(res.errorCode, res.errorMessage ?? '').toBe(ErrorCode.NONE);
    m.epoch = res.memberEpoch;
    if (res.assignment !== null) m.owned = new Map(res.assignment.topicPartitions.map((t) => [t.topicId, [...t.partitions].sort((a, b) => a - b)]));
  }

  async function join(c: RawClient, groupId: string, subscription: { regex?: string; names?: string[] }): Promise<Member> {
    const memberId = randomBytes(16).toString('base64url');
    const res = await heartbeat(c, {
      groupId,
      memberId,
      memberEpoch: 0,
      rebalanceTimeoutMs: 5000,
      subscribedTopicNames: subscription.names ?? null,
      subscribedTopicRegex: subscription.regex ?? null,
      topicPartitions: [],
    });
    const m: Member = { memberId, epoch: 0, owned: new Map() };
    apply(m, res);
    return m;
  }

  async function beat(c: RawClient, groupId: string, m: Member, extra: Partial<HeartbeatBody> = {}): Promise<HeartbeatAnswer> {
    const res = await heartbeat(c, {
      groupId,
      memberId: m.memberId,
      memberEpoch: m.epoch,
      topicPartitions: [...m.owned].map(([topicId, partitions]) => ({ topicId, partitions })),
      ...extra,
    });
    apply(m, res);
    return res;
  }

  async function settle(c: RawClient, groupId: string, members: readonly Member[]): Promise<void> {
    for (let round = 0; round < 20; round++) {
      let changed = false;
      for (const m of members) {
        const before = JSON.stringify([m.epoch, [...m.owned]]);
        await beat(c, groupId, m);
        if (JSON.stringify([m.epoch, [...m.owned]]) !== before) changed = true;
      }
      if (!changed) return;
    }
    throw new Error('the group did not settle');
  }

  function topicsOf(m: Member): Record<string, number[]> {
    const byId = new Map(broker.broker.topics.all().map((t) => [t.topicId, t.name]));
    return Object.fromEntries([...m.owned].map(([id, ps]) => [byId.get(id) ?? id, ps]));
  }

  async function describeGroup(c: RawClient, groupId: string) {
    const res = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: [groupId], includeAuthorizedOperations: false });
    return res.groups[0]!;
  }

  it('a member subscribed by a regular expression is assigned the topics whose whole name matches', async () => {
    await createTopic('rx-orders-eu', 2);
    await createTopic('rx-orders-us', 1);
    await createTopic('rx-payments', 1);
    await createTopic('old-rx-orders-eu', 1);
    const c = await client();
    const m = await join(c, 'rx-match', { regex: 'rx-orders-.*' });
    await settle(c, 'rx-match', [m]);
    expect(topicsOf(m)).toEqual({ 'rx-orders-eu': [0, 1], 'rx-orders-us': [0] });

    const described = await describeGroup(c, 'rx-match');
    expect(described.errorCode).toBe(ErrorCode.NONE);
    expect(described.members[0]!.subscribedTopicRegex).toBe('rx-orders-.*');
    expect(described.members[0]!.subscribedTopicNames).toEqual([]);
  });

  it('a topic created after the member joined is assigned at its next heartbeat, with a group epoch bump; a deleted one goes', async () => {
    await createTopic('rx-late-1', 2);
    const c = await client();
    const m = await join(c, 'rx-late', { regex: '^rx-late-\\d+$' });
    await settle(c, 'rx-late', [m]);
    const epoch = m.epoch;
    expect(topicsOf(m)).toEqual({ 'rx-late-1': [0, 1] });

    await createTopic('rx-late-2', 1);
    await createTopic('rx-late-x', 1);
    await beat(c, 'rx-late', m);
    expect(m.epoch).toBeGreaterThan(epoch);
    expect(topicsOf(m)).toEqual({ 'rx-late-1': [0, 1], 'rx-late-2': [0] });

    await broker.broker.topics.delete('rx-late-1');
    await settle(c, 'rx-late', [m]);
    expect(topicsOf(m)).toEqual({ 'rx-late-2': [0] });
  });

  it('members by names and by expression share a group; changing the expression or dropping it reassigns', async () => {
    await createTopic('rx-mix-a', 2);
    await createTopic('rx-mix-b', 2);
    const c = await client();
    const byRegex = await join(c, 'rx-mix', { regex: 'rx-mix-[ab]' });
    const byName = await join(c, 'rx-mix', { names: ['rx-mix-a'] });
    await settle(c, 'rx-mix', [byRegex, byName]);
    const all = [...Object.entries(topicsOf(byRegex)), ...Object.entries(topicsOf(byName))].flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`)).sort();
    expect(all).toEqual(['rx-mix-a-0', 'rx-mix-a-1', 'rx-mix-b-0', 'rx-mix-b-1']);
    expect(Object.keys(topicsOf(byName))).toEqual(['rx-mix-a']);

    // the expression now matches only rx-mix-b
    await beat(c, 'rx-mix', byRegex, { subscribedTopicRegex: 'rx-mix-b' });
    await settle(c, 'rx-mix', [byRegex, byName]);
    expect(topicsOf(byRegex)).toEqual({ 'rx-mix-b': [0, 1] });
    expect(topicsOf(byName)).toEqual({ 'rx-mix-a': [0, 1] });

    // an empty expression and names: the member now subscribes by names only
    await beat(c, 'rx-mix', byRegex, { subscribedTopicRegex: '', subscribedTopicNames: ['rx-mix-a'] });
    await settle(c, 'rx-mix', [byRegex, byName]);
    expect(Object.keys(topicsOf(byRegex)).concat(Object.keys(topicsOf(byName))).every((t) => t === 'rx-mix-a')).toBe(true);
    expect((await describeGroup(c, 'rx-mix')).members.every((mm) => mm.subscribedTopicRegex === null)).toBe(true);
  });

  it('an expression RE2 refuses is INVALID_REGULAR_EXPRESSION with Kafka\'s message, and no group is made', async () => {
    const c = await client();
    for (const [regex, description] of [
      ['rx-(?=orders)', 'invalid or unsupported Perl syntax'],
      ['(rx)\\1', 'invalid escape sequence'],
      ['rx-a*+', 'invalid nested repetition operator'],
      ['rx-[', 'missing closing ]'],
    ] as const) {
      const res = await heartbeat(c, { groupId: 'rx-invalid', memberId: randomBytes(16).toString('base64url'), memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicRegex: regex, topicPartitions: [] });
      expect(res.errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
      expect(res.errorMessage).toBe(`SubscribedTopicRegex \`${regex}\` is not a valid regular expression: ${description}.`);
    }
    expect((await describeGroup(c, 'rx-invalid')).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    // a member of a group changing to an invalid expression keeps its subscription
    await createTopic('rx-keep', 1);
    const m = await join(c, 'rx-invalid-2', { regex: 'rx-keep' });
    await settle(c, 'rx-invalid-2', [m]);
    const res = await heartbeat(c, { groupId: 'rx-invalid-2', memberId: m.memberId, memberEpoch: m.epoch, subscribedTopicRegex: '(?<!x)rx', topicPartitions: [] });
    expect(res.errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect((await describeGroup(c, 'rx-invalid-2')).members[0]!.subscribedTopicRegex).toBe('rx-keep');
  });

  it('internal topics match, as Kafka resolves against every topic name', async () => {
    const c = await client();
    const m = await join(c, 'rx-internal', { regex: '__consumer_offs.*' });
    await settle(c, 'rx-internal', [m]);
    expect(Object.keys(topicsOf(m))).toEqual(['__consumer_offsets']);
    await heartbeat(c, { groupId: 'rx-internal', memberId: m.memberId, memberEpoch: -1 });
  });

  it('after a restart the resolutions are loaded, the member goes on at its epoch, and a topic created then is assigned', async () => {
    await createTopic('rx-restart-1', 2);
    let c = await client();
    const m = await join(c, 'rx-restart', { regex: 'rx-restart-.*' });
    await settle(c, 'rx-restart', [m]);
    const epoch = m.epoch;
    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await client();
    const described = await (async () => {
      for (;;) {
        const d = await describeGroup(c, 'rx-restart');
        if (d.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && d.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE) return d;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    expect(described.errorCode).toBe(ErrorCode.NONE);
    expect(described.members[0]!.subscribedTopicRegex).toBe('rx-restart-.*');
    await beat(c, 'rx-restart', m);
    // the loaded resolution names the same topics: no rebalance
    expect(m.epoch).toBe(epoch);
    expect(topicsOf(m)).toEqual({ 'rx-restart-1': [0, 1] });

    await createTopic('rx-restart-2', 1);
    await settle(c, 'rx-restart', [m]);
    expect(m.epoch).toBeGreaterThan(epoch);
    expect(topicsOf(m)).toEqual({ 'rx-restart-1': [0, 1], 'rx-restart-2': [0] });
  });
});
