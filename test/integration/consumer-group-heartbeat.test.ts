/**
 * ConsumerGroupHeartbeat (KIP-848) on a real broker socket with raw frames:
 * members join, the uniform assignor splits the partitions, revocations come
 * before assignments so no partition is ever held by two members, a leaving
 * or silent member's partitions go to the others, classic and consumer
 * groups of one id refuse each other as Kafka when they cannot migrate
 * (group-migration.test.ts has the migration), and
 * a group's records in `__consumer_offsets` bring it back after a restart.
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

const SESSION_TIMEOUT_MS = 1_500;
/** Kafka's bounds (45 s and 5 s at least by default) lowered so the short session and heartbeat are valid. */
const CONSUMER_BOUNDS = { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100 };

/** A member as the client keeps it: id, epoch and the partitions it owns (topic id → partitions). */
interface Member {
  readonly memberId: string;
  epoch: number;
  owned: Map<string, number[]>;
}

function ownedList(m: Member): Array<{ topicId: string; partitions: number[] }> {
  return [...m.owned].map(([topicId, partitions]) => ({ topicId, partitions }));
}

function keysOf(m: Member): string[] {
  return [...m.owned].flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`));
}

describe('ConsumerGroupHeartbeat', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-'));
    broker = await startBroker({
      dataDir,
      port: 0,
      config: { ...CONSUMER_BOUNDS, 'group.consumer.session.timeout.ms': SESSION_TIMEOUT_MS, 'group.consumer.heartbeat.interval.ms': 250, 'group.initial.rebalance.delay.ms': 0, 'gregor.flush.acks.all': false },
    });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'cg-client');
    clients.push(c);
    return c;
  }

  function topicIdOf(name: string): string {
    return broker.broker.topics.get(name)!.topicId;
  }

  async function createTopic(name: string, numPartitions: number): Promise<string> {
    await broker.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
    return broker.broker.topics.get(name)!.topicId;
  }

  /** A heartbeat, retried while the coordinator's partition is being created or loaded. */
  async function heartbeat(c: RawClient, body: HeartbeatBody, version = 1): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, version, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function join(c: RawClient, groupId: string, topics: string[]): Promise<{ member: Member; res: HeartbeatAnswer }> {
    const memberId = randomBytes(16).toString('base64url');
    const res = await heartbeat(c, { groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: topics, topicPartitions: [] });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.memberId).toBe(memberId);
    const member: Member = { memberId, epoch: res.memberEpoch, owned: new Map() };
    apply(member, res);
    return { member, res };
  }

  function apply(m: Member, res: HeartbeatAnswer): void {
    expect(res.errorCode).toBe(ErrorCode.NONE);
    m.epoch = res.memberEpoch;
    if (res.assignment !== null) m.owned = new Map(res.assignment.topicPartitions.map((t) => [t.topicId, [...t.partitions]]));
  }

  async function beat(c: RawClient, groupId: string, m: Member): Promise<HeartbeatAnswer> {
    const res = await heartbeat(c, { groupId, memberId: m.memberId, memberEpoch: m.epoch, topicPartitions: ownedList(m) });
    apply(m, res);
    return res;
  }

  function expectDisjoint(members: readonly Member[]): void {
    const seen = new Set<string>();
    for (const m of members) {
      for (const key of keysOf(m)) {
        expect(seen.has(key), `${key} owned by two members`).toBe(false);
        seen.add(key);
      }
    }
  }

  /** Heartbeats every member in turn until nothing changes for a full round, checking no partition has two owners. */
  async function settle(c: RawClient, groupId: string, members: readonly Member[]): Promise<void> {
    for (let round = 0; round < 20; round++) {
      let changed = false;
      for (const m of members) {
        const before = `${m.epoch}|${keysOf(m).sort().join()}`;
        await beat(c, groupId, m);
        expectDisjoint(members);
        if (`${m.epoch}|${keysOf(m).sort().join()}` !== before) changed = true;
      }
      if (!changed) return;
    }
    throw new Error('the group did not settle');
  }

  it('two members split the partitions; when one leaves the other gets all; no partition is ever owned twice', async () => {
    const topicId = await createTopic('cg-split', 6);
    const c = await client();
    const a = (await join(c, 'cg-split', ['cg-split'])).member;
    expect(a.epoch).toBe(1);
    expect(a.owned.get(topicId)?.sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const { member: b, res: bJoined } = await join(c, 'cg-split', ['cg-split']);
    expect(bJoined.memberEpoch).toBe(2);
    expect(bJoined.heartbeatIntervalMs).toBe(250);
    // A still owns everything: B gets nothing until A revokes
    expect(keysOf(b)).toEqual([]);
    expectDisjoint([a, b]);

    // A is told to revoke half, keeping its epoch until it has
    const revoke = await beat(c, 'cg-split', a);
    expect(revoke.memberEpoch).toBe(1);
    expect(keysOf(a)).toHaveLength(3);
    await settle(c, 'cg-split', [a, b]);
    expect(a.epoch).toBe(2);
    expect(b.epoch).toBe(2);
    expect(keysOf(a)).toHaveLength(3);
    expect(keysOf(b)).toHaveLength(3);

    // A leaves: B gets all six at the next group epoch
    const left = await heartbeat(c, { groupId: 'cg-split', memberId: a.memberId, memberEpoch: -1 });
    expect(left).toMatchObject({ errorCode: ErrorCode.NONE, memberId: a.memberId, memberEpoch: -1 });
    a.owned = new Map();
    await settle(c, 'cg-split', [b]);
    expect(b.epoch).toBe(3);
    expect(b.owned.get(topicId)?.sort()).toEqual([0, 1, 2, 3, 4, 5]);

    // an unchanged heartbeat carries no assignment (not a full request, nothing changed)
    const quiet = await heartbeat(c, { groupId: 'cg-split', memberId: b.memberId, memberEpoch: b.epoch });
    expect(quiet).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: 3, assignment: null });
  });

  it('three members over two topics: every partition is assigned once, balanced, through joins and a leave', async () => {
    const t1 = await createTopic('cg-three-a', 4);
    const t2 = await createTopic('cg-three-b', 3);
    const c = await client();
    const members: Member[] = [];
    for (let i = 0; i < 3; i++) {
      members.push((await join(c, 'cg-three', ['cg-three-a', 'cg-three-b'])).member);
      await settle(c, 'cg-three', members);
    }
    const all = members.flatMap(keysOf).sort();
    expect(all).toEqual([...[0, 1, 2, 3].map((p) => `${t1}-${p}`), ...[0, 1, 2].map((p) => `${t2}-${p}`)].sort());
    expect(members.map((m) => keysOf(m).length).sort()).toEqual([2, 2, 3]);
    const [gone, ...rest] = members;
    await heartbeat(c, { groupId: 'cg-three', memberId: gone!.memberId, memberEpoch: -1 });
    await settle(c, 'cg-three', rest);
    expect(rest.flatMap(keysOf)).toHaveLength(7);
  });

  it('a member that stops heartbeating is removed after group.consumer.session.timeout.ms and its partitions go to the others', async () => {
    await createTopic('cg-session', 4);
    const c = await client();
    const a = (await join(c, 'cg-session', ['cg-session'])).member;
    const b = (await join(c, 'cg-session', ['cg-session'])).member;
    await settle(c, 'cg-session', [a, b]);
    expect(keysOf(b)).toHaveLength(2);
    // only A heartbeats; B's session expires
    const deadline = Date.now() + 20_000;
    while (keysOf(a).length < 4 && Date.now() < deadline) {
      await beat(c, 'cg-session', a);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(keysOf(a)).toHaveLength(4);
    const fenced = await heartbeat(c, { groupId: 'cg-session', memberId: b.memberId, memberEpoch: b.epoch, topicPartitions: ownedList(b) });
    expect(fenced.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('v0 generates the joining member id; errors as Kafka: unknown group, unknown member, fenced epoch, invalid requests', async () => {
    await createTopic('cg-errors', 2);
    const c = await client();
    const v0 = await heartbeat(c, { groupId: 'cg-errors', memberId: '', memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['cg-errors'], topicPartitions: [] }, 0);
    expect(v0.errorCode).toBe(ErrorCode.NONE);
    expect(v0.memberId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(v0.memberEpoch).toBe(1);

    expect((await heartbeat(c, { groupId: 'cg-nothing', memberId: 'm', memberEpoch: 3 })).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect((await heartbeat(c, { groupId: 'cg-errors', memberId: 'nobody', memberEpoch: 3 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await heartbeat(c, { groupId: 'cg-errors', memberId: v0.memberId!, memberEpoch: 7 })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // v1: the client names its member; a join must carry the rebalance timeout, the subscription and no partitions
    const missingId = await heartbeat(c, { groupId: 'cg-errors', memberId: '', memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['cg-errors'], topicPartitions: [] });
    expect(missingId).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "MemberId can't be empty." });
    const noTimeout = await heartbeat(c, { groupId: 'cg-errors', memberId: 'x', memberEpoch: 0, subscribedTopicNames: ['cg-errors'], topicPartitions: [] });
    expect(noTimeout).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'RebalanceTimeoutMs must be provided in first request.' });
    const badAssignor = await heartbeat(c, { groupId: 'cg-errors', memberId: 'x', memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['cg-errors'], serverAssignor: 'sticky', topicPartitions: [] });
    expect(badAssignor.errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
  });

  it('classic and consumer groups of one id: a classic JoinGroup of another protocol type to a consumer group with members is INCONSISTENT_GROUP_PROTOCOL; a join to a classic group with members whose subscription does not read is GROUP_ID_NOT_FOUND', async () => {
    await createTopic('cg-mixed', 2);
    const c = await client();
    await join(c, 'cg-mixed-consumer', ['cg-mixed']);
    const classicJoin = await c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, {
      groupId: 'cg-mixed-consumer',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 1_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'connect',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    expect(classicJoin.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    // a classic group with a member (MEMBER_ID_REQUIRED, then the join completes)
    const joinBody = { groupId: 'cg-mixed-classic', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 1_000, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] };
    const first = await c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, { ...joinBody, memberId: '' });
    const joined = await c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, { ...joinBody, memberId: first.memberId });
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    const onClassic = await heartbeat(c, { groupId: 'cg-mixed-classic', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['cg-mixed'], topicPartitions: [] });
    expect(onClassic).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Cannot upgrade classic group cg-mixed-classic to consumer group because the embedded consumer protocol is malformed.' });
  });

  it('OffsetCommit to a consumer group checks the member and its epoch (STALE_MEMBER_EPOCH), and so does OffsetFetch v9 (open to a fetch without a member)', async () => {
    await createTopic('cg-commit', 1);
    const c = await client();
    const a = (await join(c, 'cg-commit', ['cg-commit'])).member;
    const commit = (memberId: string, epoch: number) =>
      c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 9, {
        groupId: 'cg-commit',
        generationIdOrMemberEpoch: epoch,
        memberId,
        groupInstanceId: null,
        topics: [{ name: 'cg-commit', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    expect((await commit(a.memberId, a.epoch + 5)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await commit('stranger', a.epoch)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await commit(a.memberId, a.epoch)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const fetch = (memberId: string | null, memberEpoch: number) =>
      c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 9, {
        groups: [{ groupId: 'cg-commit', memberId, memberEpoch, topics: [{ name: 'cg-commit', partitionIndexes: [0] }] }],
        requireStable: false,
      });
    const asMember = (await fetch(a.memberId, a.epoch)).groups[0]!;
    expect(asMember.errorCode).toBe(ErrorCode.NONE);
    expect(asMember.topics[0]!.partitions[0]!.committedOffset).toBe(42n);
    expect((await fetch(null, -1)).groups[0]!.topics[0]!.partitions[0]!.committedOffset).toBe(42n);
    expect((await fetch(a.memberId, a.epoch + 1)).groups[0]!.errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await fetch('stranger', 1)).groups[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('after a restart the group is loaded from __consumer_offsets: members go on at their epochs, and a leave still moves partitions', async () => {
    const topicId = await createTopic('cg-restart', 4);
    let c = await client();
    const a = (await join(c, 'cg-restart', ['cg-restart'])).member;
    const b = (await join(c, 'cg-restart', ['cg-restart'])).member;
    await settle(c, 'cg-restart', [a, b]);
    const epoch = b.epoch;
    const bOwned = keysOf(b).sort();

    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config: { ...CONSUMER_BOUNDS, 'group.consumer.session.timeout.ms': SESSION_TIMEOUT_MS, 'group.consumer.heartbeat.interval.ms': 250, 'gregor.flush.acks.all': false } });
    c = await client();

    const again = await heartbeat(c, { groupId: 'cg-restart', memberId: b.memberId, memberEpoch: b.epoch, topicPartitions: ownedList(b) });
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: epoch });
    expect(keysOf(b).sort()).toEqual(bOwned);
    await heartbeat(c, { groupId: 'cg-restart', memberId: a.memberId, memberEpoch: -1 });
    await settle(c, 'cg-restart', [b]);
    expect(b.epoch).toBe(epoch + 1);
    expect(b.owned.get(topicId)?.sort()).toEqual([0, 1, 2, 3]);
  });

  it('ListGroups lists a consumer group with type "consumer" and its state; DescribeGroups answers as for an unknown group; ConsumerGroupDescribe describes it; DeleteGroups deletes it only once empty', async () => {
    await createTopic('cg-admin', 2);
    const c = await client();
    const a = (await join(c, 'cg-admin', ['cg-admin'])).member;
    await settle(c, 'cg-admin', [a]);
    const listed = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(listed.groups.find((g) => g.groupId === 'cg-admin')).toEqual({ groupId: 'cg-admin', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' });
    const classicOnly = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: ['classic'] });
    expect(classicOnly.groups.map((g) => g.groupId)).not.toContain('cg-admin');
    const described = await c.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 6, { groups: ['cg-admin'], includeAuthorizedOperations: false });
    expect(described.groups[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    const describedV5 = await c.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 5, { groups: ['cg-admin'], includeAuthorizedOperations: false });
    expect(describedV5.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Dead' });
    const cgDescribed = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: ['cg-admin', 'cg-nowhere'], includeAuthorizedOperations: false });
    const [group, unknown] = cgDescribed.groups;
    expect(group).toMatchObject({ errorCode: ErrorCode.NONE, groupId: 'cg-admin', groupState: 'Stable', groupEpoch: 1, assignmentEpoch: 1, assignorName: 'uniform' });
    expect(group!.members).toHaveLength(1);
    expect(group!.members[0]).toMatchObject({ memberId: a.memberId, memberEpoch: 1, clientId: 'cg-client', subscribedTopicNames: ['cg-admin'], memberType: 1 });
    const expected = { topicPartitions: [{ topicId: topicIdOf('cg-admin'), topicName: 'cg-admin', partitions: [0, 1] }] };
    expect(group!.members[0]!.assignment).toEqual(expected);
    expect(group!.members[0]!.targetAssignment).toEqual(expected);
    expect(unknown).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group cg-nowhere not found.' });
    const del = () => c.request(schemas.deleteGroupsRequest, schemas.deleteGroupsResponse, 2, { groupsNames: ['cg-admin'] });
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    await heartbeat(c, { groupId: 'cg-admin', memberId: a.memberId, memberEpoch: -1 });
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.NONE);
    const after = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: [] });
    expect(after.groups.map((g) => g.groupId)).not.toContain('cg-admin');
  });

  it('a member that does not revoke within its rebalance timeout is removed, and the partitions go to the member waiting for them', async () => {
    await createTopic('cg-rebalance', 2);
    const c = await client();
    const memberId = randomBytes(16).toString('base64url');
    const joined = await heartbeat(c, { groupId: 'cg-rebalance', memberId, memberEpoch: 0, rebalanceTimeoutMs: 300, subscribedTopicNames: ['cg-rebalance'], topicPartitions: [] });
    const a: Member = { memberId, epoch: joined.memberEpoch, owned: new Map() };
    apply(a, joined);
    const b = (await join(c, 'cg-rebalance', ['cg-rebalance'])).member;
    // A is told to revoke one partition and keeps reporting both
    const stubborn = ownedList(a);
    await beat(c, 'cg-rebalance', a);
    expect(keysOf(a)).toHaveLength(1);
    const deadline = Date.now() + 10_000;
    let last = await heartbeat(c, { groupId: 'cg-rebalance', memberId, memberEpoch: a.epoch, topicPartitions: stubborn });
    while (last.errorCode === ErrorCode.NONE && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      last = await heartbeat(c, { groupId: 'cg-rebalance', memberId, memberEpoch: a.epoch, topicPartitions: stubborn });
    }
    expect(last.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    await settle(c, 'cg-rebalance', [b]);
    expect(keysOf(b)).toHaveLength(2);
  });

  it('a static member that leaves with -2 keeps its partitions for its instance id: it comes back under a new member id with the same assignment', async () => {
    await createTopic('cg-static', 4);
    const c = await client();
    const staticJoin = async (instanceId: string): Promise<Member> => {
      const memberId = randomBytes(16).toString('base64url');
      const res = await heartbeat(c, { groupId: 'cg-static', memberId, instanceId, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['cg-static'], topicPartitions: [] });
      const m: Member = { memberId, epoch: res.memberEpoch, owned: new Map() };
      apply(m, res);
      return m;
    };
    const a = await staticJoin('instance-a');
    const b = await staticJoin('instance-b');
    const beatStatic = async (m: Member, instanceId: string) => {
      const res = await heartbeat(c, { groupId: 'cg-static', memberId: m.memberId, instanceId, memberEpoch: m.epoch, topicPartitions: ownedList(m) });
      apply(m, res);
    };
    for (let i = 0; i < 6; i++) {
      await beatStatic(a, 'instance-a');
      await beatStatic(b, 'instance-b');
      expectDisjoint([a, b]);
    }
    expect(keysOf(a)).toHaveLength(2);
    const aKeys = keysOf(a).sort();
    const epoch = b.epoch;
    const away = await heartbeat(c, { groupId: 'cg-static', memberId: a.memberId, instanceId: 'instance-a', memberEpoch: -2 });
    expect(away).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: -2 });
    const back = await staticJoin('instance-a');
    expect(keysOf(back).sort()).toEqual(aKeys);
    // nothing moved: B stays at its epoch with its partitions
    await beatStatic(b, 'instance-b');
    expect(b.epoch).toBe(epoch);
    expectDisjoint([back, b]);
  });
});
