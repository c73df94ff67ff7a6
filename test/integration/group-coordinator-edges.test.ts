/**
 * The group state machine's edges, request by request, on a real broker with
 * our own codec client (exact versions and fields): MEMBER_ID_REQUIRED,
 * generations, parked JoinGroup/SyncGroup, session and rebalance timeouts,
 * static members and fencing, standalone commits, and the error codes Kafka
 * answers at each state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { joinGroupRequest, joinGroupResponse, syncGroupRequest, syncGroupResponse, heartbeatRequest, heartbeatResponse } = schemas;

/** A ConsumerProtocolSubscription v0 for the given topics. */
function subscription(...topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

type JoinBody = MessageInput<typeof joinGroupRequest>;

function joinBody(groupId: string, overrides: Partial<JoinBody> = {}): JoinBody {
  return {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 1_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('edges') }],
    ...overrides,
  };
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

describe('group coordinator edges', () => {
  let broker: RunningBroker;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    broker = await startBroker({
      port: 0,
      config: { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 100, 'group.max.size': 3, 'gregor.flush.acks.all': false },
    });
    const c = await client();
    await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'edges', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
  });

  async function client(clientId = 'edge-client'): Promise<RawClient> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', clientId);
    clients.push(c);
    return c;
  }

  /** Joins a new dynamic member (v5, MEMBER_ID_REQUIRED round trip included). */
  async function joinNew(groupId: string, overrides: Partial<JoinBody> = {}, version = 5) {
    const c = await client();
    const first = await c.request(joinGroupRequest, joinGroupResponse, version, joinBody(groupId, overrides));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joined = c.request(joinGroupRequest, joinGroupResponse, version, joinBody(groupId, { ...overrides, memberId: first.memberId }));
    return { c, memberId: first.memberId, joined };
  }

  /** One member, joined and synced: a Stable group of generation 1. */
  async function stableGroup(groupId: string, overrides: Partial<JoinBody> = {}) {
    const { c, memberId, joined } = await joinNew(groupId, overrides);
    const j = await joined;
    expect(j).toMatchObject({ errorCode: 0, generationId: 1, leader: memberId, memberId });
    const s = await c.request(syncGroupRequest, syncGroupResponse, 5, {
      groupId,
      generationId: 1,
      memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId, assignment: Buffer.from('all') }],
    });
    expect(s).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
    expect(s.assignment.toString()).toBe('all');
    return { c, memberId };
  }

  it('JoinGroup v4+ without a member id answers MEMBER_ID_REQUIRED with a generated id, and the rejoin with it joins', async () => {
    const c = await client('my-client');
    const first = await c.request(joinGroupRequest, joinGroupResponse, 4, joinBody('g-mir'));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^my-client-[0-9a-f-]{36}$/);
    expect(first.generationId).toBe(-1);
    const second = await c.request(joinGroupRequest, joinGroupResponse, 4, joinBody('g-mir', { memberId: first.memberId }));
    expect(second).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leader: first.memberId, memberId: first.memberId });
    expect(second.members.map((m) => m.memberId)).toEqual([first.memberId]);
  });

  it('JoinGroup v0-3 without a member id joins at once with a generated id', async () => {
    const c = await client();
    const res = await c.request(joinGroupRequest, joinGroupResponse, 3, joinBody('g-v3'));
    expect(res.errorCode).toBe(0);
    expect(res.memberId).not.toBe('');
    expect(res).toMatchObject({ generationId: 1, leader: res.memberId });
    // v0 has no rebalance timeout: the session timeout stands in for it
    const c0 = await client();
    const v0 = await c0.request(joinGroupRequest, joinGroupResponse, 0, joinBody('g-v0'));
    expect(v0).toMatchObject({ errorCode: 0, generationId: 1 });
  });

  it('answers JoinGroup errors as Kafka: invalid group id, session timeout out of range, unknown member of an unknown group, inconsistent protocols', async () => {
    const c = await client();
    expect((await c.request(joinGroupRequest, joinGroupResponse, 5, joinBody(''))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-err', { sessionTimeoutMs: 50 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-err', { sessionTimeoutMs: 1_800_001 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-none', { memberId: 'ghost' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-err', { protocolType: '' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-err', { protocols: [] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await stableGroup('g-proto');
    const other = await client();
    const wrongType = await other.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-proto', { protocolType: 'connect' }));
    expect(wrongType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const noCommon = await other.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-proto', { protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] }));
    expect(noCommon.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  /**
   * Forms one generation of several members (v3 joins): the first member
   * joins alone, the others join and park, then the first rejoins and the
   * join phase completes with everyone. Returns the responses in join order.
   */
  async function formGeneration(groupId: string, protocolLists: Array<JoinBody['protocols']>) {
    const overview = () => broker.broker.groups.groupOverview().find((g) => g.groupId === groupId);
    const cs = await Promise.all(protocolLists.map(() => client()));
    const first = await cs[0]!.request(joinGroupRequest, joinGroupResponse, 3, joinBody(groupId, { protocols: protocolLists[0] }));
    const parked = cs.slice(1).map((c, i) => c.request(joinGroupRequest, joinGroupResponse, 3, joinBody(groupId, { protocols: protocolLists[i + 1] })));
    await until(() => overview()?.members === protocolLists.length);
    const rejoined = cs[0]!.request(joinGroupRequest, joinGroupResponse, 3, joinBody(groupId, { memberId: first.memberId, protocols: protocolLists[0] }));
    return { clients: cs, responses: await Promise.all([rejoined, ...parked]) };
  }

  it('chooses the protocol every member supports that most members prefer', async () => {
    const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    // the leader prefers "range", two members prefer "sticky"; "roundrobin" is not supported by all
    const { responses } = await formGeneration('g-vote', [p('range', 'sticky', 'roundrobin'), p('sticky', 'range'), p('roundrobin', 'sticky', 'range')]);
    for (const r of responses) expect(r).toMatchObject({ errorCode: 0, generationId: 2, protocolName: 'sticky' });
    // only the leader gets the members, each with its metadata for the chosen protocol
    expect(responses[0]!.members.map((m) => m.metadata.toString())).toEqual(['sticky', 'sticky', 'sticky']);
    expect(responses[1]!.members).toEqual([]);
  });

  it('parks followers in SyncGroup until the leader assigns; a member the leader left out gets an empty assignment', async () => {
    const leader = await stableGroup('g-sync');
    const f = await joinNew('g-sync');
    // the leader learns about the rebalance from its heartbeat and rejoins
    const hb = await leader.c.request(heartbeatRequest, heartbeatResponse, 4, { groupId: 'g-sync', generationId: 1, memberId: leader.memberId });
    expect(hb.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const lj = await leader.c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-sync', { memberId: leader.memberId }));
    const fj = await f.joined;
    expect(lj).toMatchObject({ errorCode: 0, generationId: 2, leader: leader.memberId });
    expect(fj).toMatchObject({ errorCode: 0, generationId: 2, leader: leader.memberId, members: [] });
    const followerSync = f.c.request(syncGroupRequest, syncGroupResponse, 3, { groupId: 'g-sync', generationId: 2, memberId: f.memberId, assignments: [] });
    // the follower is parked: a heartbeat in CompletingRebalance is fine
    const hb2 = await leader.c.request(heartbeatRequest, heartbeatResponse, 4, { groupId: 'g-sync', generationId: 2, memberId: leader.memberId });
    expect(hb2.errorCode).toBe(0);
    const leaderSync = await leader.c.request(syncGroupRequest, syncGroupResponse, 3, {
      groupId: 'g-sync',
      generationId: 2,
      memberId: leader.memberId,
      assignments: [{ memberId: leader.memberId, assignment: Buffer.from('L') }],
    });
    expect(leaderSync.assignment.toString()).toBe('L');
    const fs = await followerSync;
    expect(fs.errorCode).toBe(0);
    expect(fs.assignment.length).toBe(0);
  });

  it('answers SyncGroup and Heartbeat errors: unknown group/member, illegal generation, inconsistent protocol', async () => {
    const { c, memberId } = await stableGroup('g-sync-err');
    const sync = (body: MessageInput<typeof syncGroupRequest>, v = 5) => c.request(syncGroupRequest, syncGroupResponse, v, body);
    expect((await sync({ groupId: 'g-nope', generationId: 1, memberId, protocolType: 'consumer', protocolName: 'range' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await sync({ groupId: 'g-sync-err', generationId: 1, memberId: 'ghost', protocolType: 'consumer', protocolName: 'range' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await sync({ groupId: 'g-sync-err', generationId: 7, memberId, protocolType: 'consumer', protocolName: 'range' })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await sync({ groupId: 'g-sync-err', generationId: 1, memberId, protocolType: 'consumer', protocolName: 'sticky' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await sync({ groupId: 'g-sync-err', generationId: 1, memberId, protocolType: null, protocolName: null })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // a Stable group answers a repeated SyncGroup with the current assignment
    const again = await sync({ groupId: 'g-sync-err', generationId: 1, memberId, protocolType: 'consumer', protocolName: 'range' });
    expect(again.assignment.toString()).toBe('all');
    const hb = (body: MessageInput<typeof heartbeatRequest>) => c.request(heartbeatRequest, heartbeatResponse, 4, body);
    expect((await hb({ groupId: 'g-sync-err', generationId: 1, memberId })).errorCode).toBe(0);
    expect((await hb({ groupId: 'g-sync-err', generationId: 0, memberId })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await hb({ groupId: 'g-sync-err', generationId: 1, memberId: 'ghost' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await hb({ groupId: 'g-nope', generationId: 1, memberId })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await hb({ groupId: '', generationId: 1, memberId })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('a member that stops heartbeating is removed after its session timeout and the group becomes Empty', async () => {
    await stableGroup('g-session', { sessionTimeoutMs: 300 });
    await until(() => broker.broker.groups.groupOverview().find((g) => g.groupId === 'g-session')?.state === 'Empty');
    expect(broker.broker.groups.groupOverview().find((g) => g.groupId === 'g-session')).toMatchObject({ members: 0, generationId: 2 });
  });

  it('a member that does not rejoin within the rebalance timeout is removed and the others form the next generation', async () => {
    const old = await stableGroup('g-rebalance', { rebalanceTimeoutMs: 400, sessionTimeoutMs: 20_000 });
    const fresh = await joinNew('g-rebalance', { rebalanceTimeoutMs: 400, sessionTimeoutMs: 20_000 });
    const j = await fresh.joined;
    expect(j).toMatchObject({ errorCode: 0, generationId: 2, leader: fresh.memberId });
    expect(j.members.map((m) => m.memberId)).toEqual([fresh.memberId]);
    const hb = await old.c.request(heartbeatRequest, heartbeatResponse, 4, { groupId: 'g-rebalance', generationId: 1, memberId: old.memberId });
    expect(hb.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a follower that does not send SyncGroup in time is removed and a new rebalance starts', async () => {
    const leader = await stableGroup('g-nosync', { rebalanceTimeoutMs: 400 });
    const f = await joinNew('g-nosync', { rebalanceTimeoutMs: 400 });
    const lj = await leader.c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-nosync', { memberId: leader.memberId, rebalanceTimeoutMs: 400 }));
    await f.joined;
    expect(lj.generationId).toBe(2);
    await leader.c.request(syncGroupRequest, syncGroupResponse, 3, { groupId: 'g-nosync', generationId: 2, memberId: leader.memberId, assignments: [] });
    // the follower never syncs: after the rebalance timeout it is gone and the leader must rejoin
    await until(async () => {
      const hb = await leader.c.request(heartbeatRequest, heartbeatResponse, 4, { groupId: 'g-nosync', generationId: 2, memberId: leader.memberId });
      return hb.errorCode === ErrorCode.REBALANCE_IN_PROGRESS;
    });
    const rejoin = await leader.c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-nosync', { memberId: leader.memberId, rebalanceTimeoutMs: 400 }));
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: 3 });
    expect(rejoin.members.map((m) => m.memberId)).toEqual([leader.memberId]);
  });

  it('a new member while the group is at group.max.size gets GROUP_MAX_SIZE_REACHED', async () => {
    const protocols = [{ name: 'range', metadata: Buffer.alloc(0) }];
    const { clients: cs, responses } = await formGeneration('g-max', [protocols, protocols, protocols]);
    const leader = responses[0]!;
    expect(leader.members).toHaveLength(3);
    await cs[0]!.request(syncGroupRequest, syncGroupResponse, 3, { groupId: 'g-max', generationId: 2, memberId: leader.memberId, assignments: [] });
    const c = await client();
    const res = await c.request(joinGroupRequest, joinGroupResponse, 3, joinBody('g-max', { protocols }));
    expect(res.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(res.memberId).toBe('');
  });

  it('static members skip MEMBER_ID_REQUIRED; a second join with the same instance id fences the first member id', async () => {
    const a = await client();
    const ja = await a.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-static-edge', { groupInstanceId: 'inst' }));
    expect(ja).toMatchObject({ errorCode: 0, generationId: 1 });
    expect(ja.memberId).toMatch(/^inst-/);
    expect(ja.members).toEqual([{ memberId: ja.memberId, groupInstanceId: 'inst', metadata: subscription('edges') }]);
    await a.request(syncGroupRequest, syncGroupResponse, 5, {
      groupId: 'g-static-edge', generationId: 1, memberId: ja.memberId, groupInstanceId: 'inst', protocolType: 'consumer', protocolName: 'range',
      assignments: [{ memberId: ja.memberId, assignment: Buffer.from('A') }],
    });
    const b = await client();
    const jb = await b.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-static-edge', { groupInstanceId: 'inst' }));
    // same generation, no rebalance; before v9 the old leader id is returned so the new member does not assign
    expect(jb).toMatchObject({ errorCode: 0, generationId: 1, leader: ja.memberId, members: [] });
    expect(jb.memberId).not.toBe(ja.memberId);
    const sb = await b.request(syncGroupRequest, syncGroupResponse, 5, {
      groupId: 'g-static-edge', generationId: 1, memberId: jb.memberId, groupInstanceId: 'inst', protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    expect(sb.assignment.toString()).toBe('A');
    const hb = await a.request(heartbeatRequest, heartbeatResponse, 4, { groupId: 'g-static-edge', generationId: 1, memberId: ja.memberId, groupInstanceId: 'inst' });
    expect(hb.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // v9: the rejoining static leader is told it leads but skips the assignment
    const c = await client();
    const jc = await c.request(joinGroupRequest, joinGroupResponse, 9, joinBody('g-static-edge', { groupInstanceId: 'inst' }));
    expect(jc).toMatchObject({ errorCode: 0, generationId: 1, leader: jc.memberId, skipAssignment: true });
    expect(jc.members).toHaveLength(1);
  });

  it('LeaveGroup answers per member from v3 and with the member error as top-level error before', async () => {
    const { c, memberId } = await stableGroup('g-leave');
    const v3 = await c.request(schemas.leaveGroupRequest, schemas.leaveGroupResponse, 3, {
      groupId: 'g-leave',
      members: [{ memberId: 'ghost', groupInstanceId: null }, { memberId, groupInstanceId: null }],
    });
    expect(v3.errorCode).toBe(0);
    expect(v3.members.map((m) => m.errorCode)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID, 0]);
    expect(broker.broker.groups.groupOverview().find((g) => g.groupId === 'g-leave')).toMatchObject({ state: 'Empty', members: 0 });
    const v0 = await c.request(schemas.leaveGroupRequest, schemas.leaveGroupResponse, 0, { groupId: 'g-leave', memberId: 'ghost' });
    expect(v0.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('OffsetCommit: standalone commits to an unknown or empty group succeed, others are checked against the generation', async () => {
    const c = await client();
    const commit = (groupId: string, generationIdOrMemberEpoch: number, memberId: string, offset: bigint, topic = 'edges', metadata: string | null = 'm') =>
      c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
        groupId, generationIdOrMemberEpoch, memberId,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: metadata }] }],
      });
    const code = (r: Awaited<ReturnType<typeof commit>>) => r.topics[0]!.partitions[0]!.errorCode;
    expect(code(await commit('g-simple', -1, '', 5n))).toBe(0);
    expect(broker.broker.groups.list([], []).groups.find((g) => g.groupId === 'g-simple')).toEqual({ groupId: 'g-simple', protocolType: '', state: 'Empty' });
    expect(code(await commit('g-unknown-gen', 3, 'someone', 5n))).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(code(await commit('g-simple', -1, '', 5n, 'no-such-topic'))).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(code(await commit('g-simple', -1, '', 5n, 'edges', 'x'.repeat(4097)))).toBe(ErrorCode.OFFSET_METADATA_TOO_LARGE);
    const { memberId } = await stableGroup('g-member-commit');
    expect(code(await commit('g-member-commit', -1, '', 5n))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(code(await commit('g-member-commit', 2, memberId, 5n))).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(code(await commit('g-member-commit', 1, 'ghost', 5n))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(code(await commit('g-member-commit', 1, memberId, 17n))).toBe(0);
    const fetched = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, {
      groups: [
        { groupId: 'g-member-commit', topics: [{ name: 'edges', partitionIndexes: [0, 1] }] },
        { groupId: 'g-simple', topics: null },
        { groupId: 'g-nobody', topics: [{ name: 'edges', partitionIndexes: [0] }] },
      ],
    });
    expect(fetched.groups.map((g) => g.topics.map((t) => t.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset), p.metadata])))).toEqual([
      [[[0, 17, 'm'], [1, -1, '']]],
      [[[0, 5, 'm']]],
      [[[0, -1, '']]],
    ]);
  });

  it('OffsetCommit during CompletingRebalance gets REBALANCE_IN_PROGRESS', async () => {
    const leader = await stableGroup('g-completing');
    const f = await joinNew('g-completing');
    await leader.c.request(joinGroupRequest, joinGroupResponse, 5, joinBody('g-completing', { memberId: leader.memberId }));
    const fj = await f.joined;
    const res = await f.c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 7, {
      groupId: 'g-completing', generationIdOrMemberEpoch: fj.generationId, memberId: f.memberId,
      topics: [{ name: 'edges', partitions: [{ partitionIndex: 1, committedOffset: 1n, committedMetadata: null }] }],
    });
    expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('DeleteGroups refuses non-empty and unknown groups and deletes empty ones with their offsets', async () => {
    const c = await client();
    await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 2, {
      groupId: 'g-del', topics: [{ name: 'edges', partitions: [{ partitionIndex: 0, committedOffset: 3n, committedMetadata: '' }] }],
    });
    await stableGroup('g-busy');
    const res = await c.request(schemas.deleteGroupsRequest, schemas.deleteGroupsResponse, 2, { groupsNames: ['g-del', 'g-busy', 'g-never'] });
    expect(res.results.map((r) => [r.groupId, r.errorCode])).toEqual([['g-del', 0], ['g-busy', ErrorCode.NON_EMPTY_GROUP], ['g-never', ErrorCode.GROUP_ID_NOT_FOUND]]);
    const described = await c.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 5, { groups: ['g-del', 'g-busy'], includeAuthorizedOperations: true });
    expect(described.groups[0]).toMatchObject({ groupId: 'g-del', errorCode: 0, groupState: 'Dead', members: [] });
    expect(described.groups[1]).toMatchObject({ groupId: 'g-busy', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range', authorizedOperations: 3400 });
    expect(described.groups[1]!.members[0]!.memberAssignment.toString()).toBe('all');
    expect(described.groups[1]!.members[0]!.clientHost).toBe('/127.0.0.1');
    const fetched = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 3, { groupId: 'g-del', topics: [{ name: 'edges', partitionIndexes: [0] }] });
    expect(Number(fetched.topics[0]!.partitions[0]!.committedOffset)).toBe(-1);
  });

  it('OffsetDelete refuses topics a stable consumer group subscribes to and deletes the others', async () => {
    const c = await client();
    await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'edges-other', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    const { memberId } = await stableGroup('g-offdel');
    await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
      groupId: 'g-offdel', generationIdOrMemberEpoch: 1, memberId,
      topics: [
        { name: 'edges', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] },
        { name: 'edges-other', partitions: [{ partitionIndex: 0, committedOffset: 2n, committedMetadata: null }] },
      ],
    });
    const res = await c.request(schemas.offsetDeleteRequest, schemas.offsetDeleteResponse, 0, {
      groupId: 'g-offdel',
      topics: [
        { name: 'edges', partitions: [{ partitionIndex: 0 }] },
        { name: 'edges-other', partitions: [{ partitionIndex: 0 }] },
        { name: 'missing', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    expect(res.errorCode).toBe(0);
    expect(res.topics.map((t) => [t.name, t.partitions[0]!.errorCode])).toEqual([
      ['edges', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
      ['edges-other', 0],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    const unknown = await c.request(schemas.offsetDeleteRequest, schemas.offsetDeleteResponse, 0, { groupId: 'g-nobody', topics: [] });
    expect(unknown.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('FindCoordinator answers group keys with this broker, transaction keys with this broker, an empty transactional id INVALID_REQUEST and unknown key types INVALID_REQUEST', async () => {
    const c = await client();
    const v0 = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 0, { key: 'g' });
    expect(v0).toMatchObject({ errorCode: 0, nodeId: 1, host: 'localhost', port: broker.port });
    const v2 = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 2, { key: 'txn', keyType: 1 });
    expect(v2).toMatchObject({ errorCode: 0, nodeId: 1, host: 'localhost', port: broker.port });
    const empty = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 2, { key: '', keyType: 1 });
    expect(empty).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, nodeId: -1, host: '', port: -1 });
    const v4 = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(v4.coordinators).toEqual([
      expect.objectContaining({ key: 'a', nodeId: 1, port: broker.port, errorCode: 0 }),
      expect.objectContaining({ key: 'b', nodeId: 1, port: broker.port, errorCode: 0 }),
    ]);
    const bad = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 6, { keyType: 5, coordinatorKeys: ['x'] });
    expect(bad.coordinators[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('ListGroups filters by state (case-insensitive) from v4 and by type from v5', async () => {
    await stableGroup('g-list-stable');
    const c = await client();
    const stable = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 4, { statesFilter: ['stable'] });
    expect(stable.groups.every((g) => g.groupState === 'Stable')).toBe(true);
    expect(stable.groups.map((g) => g.groupId)).toContain('g-list-stable');
    const consumerType = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(consumerType.groups).toEqual([]);
    const classic = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: ['classic'] });
    expect(classic.groups.find((g) => g.groupId === 'g-list-stable')).toEqual({ groupId: 'g-list-stable', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' });
  });
});
