/**
 * Online migration between the classic and the consumer protocol
 * (group.consumer.migration.policy), on a real broker socket with raw frames:
 * a ConsumerGroupHeartbeat join upgrades a classic group with members, whose
 * members go on as classic members of the consumer group (JoinGroup,
 * SyncGroup, Heartbeat, OffsetCommit, LeaveGroup answered as Kafka's
 * coordinator answers them); the consumer member leaving downgrades it back;
 * the edge rules (policy, protocol type, protocols, member types) give
 * Kafka's errors; a mixed group survives a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { decodeAssignment, encodeAssignment } from '../../src/group/consumer-protocol.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { consumerGroupHeartbeatRequest: hbReq, consumerGroupHeartbeatResponse: hbRes } = schemas;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

/** A ConsumerProtocolSubscription v0 of these topics. */
function subscription(topics: string[]): Buffer {
  const parts = [Buffer.alloc(6)];
  parts[0]!.writeInt16BE(0, 0);
  parts[0]!.writeInt32BE(topics.length, 2);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t), 0);
    parts.push(len, Buffer.from(t));
  }
  const userData = Buffer.alloc(4);
  userData.writeInt32BE(-1, 0);
  parts.push(userData);
  return Buffer.concat(parts);
}

const CONFIG = { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'group.consumer.session.timeout.ms': 5_000, 'group.consumer.heartbeat.interval.ms': 250, 'group.initial.rebalance.delay.ms': 0, 'gregor.flush.acks.all': false };

describe('online migration between classic and consumer groups', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-migration-'));
    broker = await startBroker({ dataDir, port: 0, config: CONFIG });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function client(port = broker.port): Promise<RawClient> {
    const c = await RawClient.connect(port, '127.0.0.1', 'migration-client');
    clients.push(c);
    return c;
  }

  async function createTopic(name: string, numPartitions: number, b = broker): Promise<string> {
    await b.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
    return b.broker.topics.get(name)!.topicId;
  }

  async function retrying<T extends { errorCode: number }>(send: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      const res = await send();
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  function joinBody(groupId: string, memberId: string, topics: string[], protocols = ['range']): MessageInput<typeof schemas.joinGroupRequest> {
    return {
      groupId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 3_000,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: protocols.map((name) => ({ name, metadata: subscription(topics) })),
    };
  }

  function classicJoin(c: RawClient, body: MessageInput<typeof schemas.joinGroupRequest>) {
    return retrying(() => c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, body));
  }

  function classicSync(c: RawClient, groupId: string, memberId: string, generationId: number, assignments: Array<{ memberId: string; assignment: Buffer }> = []) {
    return c.request(schemas.syncGroupRequest, schemas.syncGroupResponse, 5, { groupId, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments });
  }

  function classicHeartbeat(c: RawClient, groupId: string, memberId: string, generationId: number) {
    return c.request(schemas.heartbeatRequest, schemas.heartbeatResponse, 4, { groupId, generationId, memberId, groupInstanceId: null });
  }

  /** A classic group of one member that owns every partition of `topic` (it leads and assigns itself all). */
  async function classicGroup(c: RawClient, groupId: string, topic: string, partitions: number): Promise<{ memberId: string; generation: number }> {
    const first = await classicJoin(c, joinBody(groupId, '', [topic]));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joined = await classicJoin(c, joinBody(groupId, first.memberId, [topic]));
    expect(joined).toMatchObject({ errorCode: ErrorCode.NONE, leader: first.memberId });
    const all = encodeAssignment([{ topic, partitions: [...Array(partitions).keys()] }], 0);
    const synced = await classicSync(c, groupId, first.memberId, joined.generationId, [{ memberId: first.memberId, assignment: all }]);
    expect(synced.errorCode).toBe(ErrorCode.NONE);
    return { memberId: first.memberId, generation: joined.generationId };
  }

  function consumerJoin(c: RawClient, groupId: string, topics: string[], memberId = randomBytes(16).toString('base64url')): Promise<HeartbeatAnswer> {
    return retrying(() => c.request(hbReq, hbRes, 1, { groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: topics, topicPartitions: [] }));
  }

  function describeConsumer(c: RawClient, groupId: string) {
    return c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: [groupId], includeAuthorizedOperations: false });
  }

  async function listed(c: RawClient, groupId: string) {
    const res = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: [] });
    return res.groups.find((g) => g.groupId === groupId);
  }

  it('upgrade: a consumer-protocol join converts a classic group; its member rejoins as a classic member, gets its share, commits at its generation; the consumer member leaving downgrades the group', async () => {
    const topicId = await createTopic('mig-up', 4);
    const c = await client();
    const classic = await classicGroup(c, 'mig-up', 'mig-up', 4);
    await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
      groupId: 'mig-up',
      generationIdOrMemberEpoch: classic.generation,
      memberId: classic.memberId,
      groupInstanceId: null,
      topics: [{ name: 'mig-up', partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });

    // the consumer member joins: the group becomes a consumer group; the classic member is told to rejoin
    const joined = await consumerJoin(c, 'mig-up', ['mig-up']);
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(joined.memberEpoch).toBe(classic.generation + 1);
    expect(await listed(c, 'mig-up')).toMatchObject({ protocolType: 'consumer', groupType: 'consumer' });
    let described = (await describeConsumer(c, 'mig-up')).groups[0]!;
    expect(described.errorCode).toBe(ErrorCode.NONE);
    const types = new Map(described.members.map((m) => [m.memberId, m.memberType]));
    expect(types.get(classic.memberId)).toBe(0);
    expect(types.get(joined.memberId!)).toBe(1);
    // still at its generation, with all four partitions until it rejoins
    expect(described.members.find((m) => m.memberId === classic.memberId)!.assignment.topicPartitions[0]!.partitions).toEqual([0, 1, 2, 3]);
    expect((await classicHeartbeat(c, 'mig-up', classic.memberId, classic.generation)).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect((await classicHeartbeat(c, 'mig-up', classic.memberId, classic.generation + 5)).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await classicHeartbeat(c, 'mig-up', joined.memberId!, 1)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // the committed offset stayed with the group
    const fetched = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 7, { groupId: 'mig-up', topics: [{ name: 'mig-up', partitionIndexes: [0] }], requireStable: false });
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(7n);

    // the classic member rejoins (an eager member owns nothing) and syncs: it keeps half
    const rejoined = await classicJoin(c, joinBody('mig-up', classic.memberId, ['mig-up']));
    expect(rejoined).toMatchObject({ errorCode: ErrorCode.NONE, memberId: classic.memberId, generationId: classic.generation + 1, protocolName: 'range', leader: '', members: [] });
    const synced = await classicSync(c, 'mig-up', classic.memberId, rejoined.generationId);
    expect(synced.errorCode).toBe(ErrorCode.NONE);
    const kept = decodeAssignment(synced.assignment).partitions;
    expect(kept).toHaveLength(1);
    expect(kept[0]!.partitions).toHaveLength(2);
    expect((await classicHeartbeat(c, 'mig-up', classic.memberId, rejoined.generationId)).errorCode).toBe(ErrorCode.NONE);

    // the consumer member gets the other half once released
    const hb = await c.request(hbReq, hbRes, 1, { groupId: 'mig-up', memberId: joined.memberId!, memberEpoch: joined.memberEpoch, topicPartitions: [] });
    expect(hb.errorCode).toBe(ErrorCode.NONE);
    const theirs = hb.assignment!.topicPartitions.find((t) => t.topicId === topicId)!.partitions;
    expect([...theirs, ...kept[0]!.partitions].sort()).toEqual([0, 1, 2, 3]);
    described = (await describeConsumer(c, 'mig-up')).groups[0]!;
    expect(described.groupState).toBe('Stable');

    // commits of the classic member are checked against its generation
    const commit = (generation: number) =>
      c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
        groupId: 'mig-up',
        generationIdOrMemberEpoch: generation,
        memberId: classic.memberId,
        groupInstanceId: null,
        topics: [{ name: 'mig-up', partitions: [{ partitionIndex: kept[0]!.partitions[0]!, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    expect((await commit(rejoined.generationId)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((await commit(rejoined.generationId - 1)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);

    // the consumer member leaves: only a classic member remains, the group is classic again and rebalances
    const left = await c.request(hbReq, hbRes, 1, { groupId: 'mig-up', memberId: joined.memberId!, memberEpoch: -1 });
    expect(left.errorCode).toBe(ErrorCode.NONE);
    expect(await listed(c, 'mig-up')).toMatchObject({ protocolType: 'consumer', groupType: 'classic', groupState: 'PreparingRebalance' });
    expect((await describeConsumer(c, 'mig-up')).groups[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    // the classic group's generation is the consumer group's epoch: the member's own
    const generation = rejoined.generationId;
    expect((await classicHeartbeat(c, 'mig-up', classic.memberId, generation)).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const back = await classicJoin(c, joinBody('mig-up', classic.memberId, ['mig-up']));
    expect(back).toMatchObject({ errorCode: ErrorCode.NONE, generationId: generation + 1, leader: classic.memberId });
    expect(back.members.map((m) => m.memberId)).toEqual([classic.memberId]);
    // the offsets committed before and during the migration stay with the group
    const mine = kept[0]!.partitions[0]!;
    const fetchedAgain = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 7, { groupId: 'mig-up', topics: [{ name: 'mig-up', partitionIndexes: [0, mine] }], requireStable: false });
    const offsets = new Map(fetchedAgain.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset]));
    expect(offsets.get(mine)).toBe(3n);
    if (mine !== 0) expect(offsets.get(0)).toBe(7n);
  });

  it('edge rules: a classic group of another protocol type is not upgraded; classic joins to a consumer group need protocol type "consumer" and a protocol every classic member supports; LeaveGroup removes classic members only', async () => {
    await createTopic('mig-edge', 2);
    const c = await client();
    // protocol type other than "consumer"
    const other = { ...joinBody('mig-other', '', ['mig-edge']), protocolType: 'connect' };
    const first = await classicJoin(c, other);
    expect((await classicJoin(c, { ...other, memberId: first.memberId })).errorCode).toBe(ErrorCode.NONE);
    const refused = await consumerJoin(c, 'mig-other', ['mig-edge']);
    expect(refused).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Cannot upgrade classic group mig-other to consumer group because the group does not use the consumer embedded protocol.' });
    // a heartbeat other than a join to a classic group with members
    const notJoin = await c.request(hbReq, hbRes, 1, { groupId: 'mig-other', memberId: 'x', memberEpoch: 3, topicPartitions: [] });
    expect(notJoin).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group mig-other is not a consumer group.' });

    // a consumer group with a consumer member: a classic member may join (protocol type "consumer")
    const a = await consumerJoin(c, 'mig-edge', ['mig-edge']);
    expect(a.errorCode).toBe(ErrorCode.NONE);
    expect((await classicJoin(c, { ...joinBody('mig-edge', '', ['mig-edge']), protocolType: 'connect' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const required = await classicJoin(c, joinBody('mig-edge', '', ['mig-edge'], ['range', 'roundrobin']));
    expect(required.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const b = await classicJoin(c, joinBody('mig-edge', required.memberId, ['mig-edge'], ['range', 'roundrobin']));
    expect(b).toMatchObject({ errorCode: ErrorCode.NONE, protocolName: 'range', leader: '' });
    // another classic member must share a protocol with it
    expect((await classicJoin(c, joinBody('mig-edge', '', ['mig-edge'], ['cooperative-sticky']))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await classicJoin(c, joinBody('mig-edge', '', ['mig-edge'], ['roundrobin']))).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    // SyncGroup with another protocol name, or behind the group epoch
    const wrongName = await c.request(schemas.syncGroupRequest, schemas.syncGroupResponse, 5, { groupId: 'mig-edge', generationId: b.generationId, memberId: b.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] });
    expect(wrongName.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    // LeaveGroup: the consumer member is not a classic one; the classic member leaves
    const leave = await c.request(schemas.leaveGroupRequest, schemas.leaveGroupResponse, 5, {
      groupId: 'mig-edge',
      members: [
        { memberId: a.memberId!, groupInstanceId: null, reason: null },
        { memberId: b.memberId, groupInstanceId: null, reason: null },
      ],
    });
    expect(leave.members.map((m) => m.errorCode)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.NONE]);
    const described = (await describeConsumer(c, 'mig-edge')).groups[0]!;
    expect(described.members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  it('a mixed group (a classic member in a consumer group) survives a restart with its assignments', async () => {
    await createTopic('mig-restart', 2);
    let c = await client();
    const classic = await classicGroup(c, 'mig-restart', 'mig-restart', 2);
    const joined = await consumerJoin(c, 'mig-restart', ['mig-restart']);
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    const rejoined = await classicJoin(c, joinBody('mig-restart', classic.memberId, ['mig-restart']));
    const synced = await classicSync(c, 'mig-restart', classic.memberId, rejoined.generationId);
    const kept = decodeAssignment(synced.assignment).partitions;
    const before = (await describeConsumer(c, 'mig-restart')).groups[0]!;

    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await client();
    const after = await retrying(async () => {
      const g = (await describeConsumer(c, 'mig-restart')).groups[0]!;
      return g;
    });
    expect(after.errorCode).toBe(ErrorCode.NONE);
    const member = (g: typeof after, id: string) => g.members.find((m) => m.memberId === id)!;
    expect(member(after, classic.memberId)).toMatchObject({ memberType: 0, memberEpoch: member(before, classic.memberId).memberEpoch, assignment: member(before, classic.memberId).assignment });
    expect(member(after, joined.memberId!).memberType).toBe(1);
    // the classic member goes on: a heartbeat at its generation, a SyncGroup with its assignment
    expect((await classicHeartbeat(c, 'mig-restart', classic.memberId, rejoined.generationId)).errorCode).toBe(ErrorCode.NONE);
    const again = await classicSync(c, 'mig-restart', classic.memberId, rejoined.generationId);
    expect(decodeAssignment(again.assignment).partitions).toEqual(kept);
  });

  it('with group.consumer.migration.policy=disabled a consumer-protocol join to a classic group is GROUP_ID_NOT_FOUND, and a consumer group left with classic members only stays a consumer group', async () => {
    const dir = await mkdtemp(pathJoin(tmpdir(), 'gregor-migration-off-'));
    const off = await startBroker({ dataDir: dir, port: 0, config: { ...CONFIG, 'group.consumer.migration.policy': 'disabled' } });
    try {
      await createTopic('mig-off', 2, off);
      const c = await client(off.port);
      await classicGroup(c, 'mig-off', 'mig-off', 2);
      const refused = await consumerJoin(c, 'mig-off', ['mig-off']);
      expect(refused).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Cannot upgrade classic group mig-off to consumer group because online upgrade is disabled.' });

      const a = await consumerJoin(c, 'mig-off-2', ['mig-off']);
      const required = await classicJoin(c, joinBody('mig-off-2', '', ['mig-off']));
      const b = await classicJoin(c, joinBody('mig-off-2', required.memberId, ['mig-off']));
      expect(b.errorCode).toBe(ErrorCode.NONE);
      await c.request(hbReq, hbRes, 1, { groupId: 'mig-off-2', memberId: a.memberId!, memberEpoch: -1 });
      const g = (await describeConsumer(c, 'mig-off-2')).groups[0]!;
      expect(g.errorCode).toBe(ErrorCode.NONE);
      expect(g.members.map((m) => [m.memberId, m.memberType])).toEqual([[b.memberId, 0]]);
    } finally {
      await off.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
