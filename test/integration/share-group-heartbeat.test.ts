/**
 * ShareGroupHeartbeat and ShareGroupDescribe (KIP-932) on a real broker
 * socket with raw frames: members join and get share-partitions from the
 * simple assignor (shared when there are more members than partitions), a
 * member that leaves or goes silent is removed and announced to the share
 * membership's listeners, group.share.max.size caps the group, ids are not
 * shared with classic or consumer groups, ListGroups/DescribeGroups/
 * DeleteGroups see share groups as Kafka does, and the group's records in
 * `__consumer_offsets` bring it back after a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { shareGroupHeartbeatRequest: hbReq, shareGroupHeartbeatResponse: hbRes } = schemas;
type HeartbeatBody = MessageInput<typeof hbReq>;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

const SESSION_TIMEOUT_MS = 1_500;
const CONFIG = {
  'group.share.session.timeout.ms': SESSION_TIMEOUT_MS,
  'group.share.heartbeat.interval.ms': 250,
  // below Kafka's minima (45 s, 5 s), which are lowered with them
  'group.share.min.session.timeout.ms': 1_000,
  'group.share.min.heartbeat.interval.ms': 100,
  'group.share.max.size': 3,
  'group.initial.rebalance.delay.ms': 0,
  'gregor.flush.acks.all': false,
};

interface Member {
  readonly memberId: string;
  epoch: number;
  /** topic id → partitions */
  assigned: Map<string, number[]>;
}

function keysOf(m: Member): string[] {
  return [...m.assigned].flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`)).sort();
}

describe('ShareGroupHeartbeat', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-sg-'));
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
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'sg-client');
    clients.push(c);
    return c;
  }

  async function createTopic(name: string, numPartitions: number): Promise<string> {
    await broker.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
    return broker.broker.topics.get(name)!.topicId;
  }

  /** A heartbeat, retried while the coordinator's partition is being created or loaded. */
  async function heartbeat(c: RawClient, body: HeartbeatBody): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, 1, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  function apply(m: Member, res: HeartbeatAnswer): void {
    expect(res.errorCode).toBe(ErrorCode.NONE);
    m.epoch = res.memberEpoch;
    if (res.assignment !== null) m.assigned = new Map(res.assignment.topicPartitions.map((t) => [t.topicId, [...t.partitions]]));
  }

  async function join(c: RawClient, groupId: string, topics: string[]): Promise<{ member: Member; res: HeartbeatAnswer }> {
    const memberId = randomBytes(16).toString('base64url');
    const res = await heartbeat(c, { groupId, memberId, memberEpoch: 0, subscribedTopicNames: topics });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.memberId).toBe(memberId);
    const member: Member = { memberId, epoch: 0, assigned: new Map() };
    apply(member, res);
    return { member, res };
  }

  async function beat(c: RawClient, groupId: string, m: Member): Promise<HeartbeatAnswer> {
    const res = await heartbeat(c, { groupId, memberId: m.memberId, memberEpoch: m.epoch });
    apply(m, res);
    return res;
  }

  /**
   * Heartbeats until the member has partitions, as a real client does: with the share coordinator as
   * persister, a share-partition is assigned only once its state is initialized (as Kafka 4.1).
   */
  async function untilAssigned(c: RawClient, groupId: string, m: Member): Promise<void> {
    for (let i = 0; keysOf(m).length === 0; i++) {
      if (i > 200) throw new Error(`member ${m.memberId} got no partitions`);
      await new Promise((r) => setTimeout(r, 25));
      await beat(c, groupId, m);
    }
  }

  async function settle(c: RawClient, groupId: string, members: readonly Member[]): Promise<void> {
    for (let round = 0; round < 20; round++) {
      let changed = false;
      for (const m of members) {
        const before = `${m.epoch}|${keysOf(m).join()}`;
        await beat(c, groupId, m);
        if (`${m.epoch}|${keysOf(m).join()}` !== before) changed = true;
      }
      if (!changed) return;
    }
    throw new Error('the group did not settle');
  }

  it('ApiVersions lists ShareGroupHeartbeat and ShareGroupDescribe at v1', async () => {
    const c = await client();
    const res = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    expect(res.apiKeys.find((k) => k.apiKey === 76)).toMatchObject({ minVersion: 1, maxVersion: 1 });
    expect(res.apiKeys.find((k) => k.apiKey === 77)).toMatchObject({ minVersion: 1, maxVersion: 1 });
  });

  it('members split the partitions; with more members than partitions they share them; a leaving member is announced and its partitions go back', async () => {
    const topicId = await createTopic('sg-split', 2);
    const left: Array<[string, string, string]> = [];
    const stop = broker.broker.groups.onMemberLeft((g, m, reason) => left.push([g, m, reason]));
    try {
      const c = await client();
      const { member: a, res: aJoined } = await join(c, 'sg-split', ['sg-split']);
      expect(aJoined.memberEpoch).toBe(1);
      expect(aJoined.heartbeatIntervalMs).toBe(250);
      await untilAssigned(c, 'sg-split', a);
      expect(a.assigned.get(topicId)?.sort()).toEqual([0, 1]);
      expect(broker.broker.groups.isMember('sg-split', a.memberId)).toBe(true);

      const b = (await join(c, 'sg-split', ['sg-split'])).member;
      await settle(c, 'sg-split', [a, b]);
      expect([...keysOf(a), ...keysOf(b)].sort()).toEqual([`${topicId}-0`, `${topicId}-1`]);
      expect(keysOf(a)).toHaveLength(1);

      // a third member: 3 members over 2 partitions, each partition held by two members (4 slots: 2, 1, 1)
      const d = (await join(c, 'sg-split', ['sg-split'])).member;
      await settle(c, 'sg-split', [a, b, d]);
      expect([a, b, d].map((m) => keysOf(m).length).sort()).toEqual([1, 1, 2]);
      const all = [...keysOf(a), ...keysOf(b), ...keysOf(d)];
      expect(all.filter((k) => k === `${topicId}-0`)).toHaveLength(2);
      expect(all.filter((k) => k === `${topicId}-1`)).toHaveLength(2);
      expect([...broker.broker.groups.assignedPartitions('sg-split', d.memberId)!.get(topicId)!]).toEqual(d.assigned.get(topicId));

      const leave = await heartbeat(c, { groupId: 'sg-split', memberId: b.memberId, memberEpoch: -1 });
      expect(leave).toMatchObject({ errorCode: ErrorCode.NONE, memberId: b.memberId, memberEpoch: -1 });
      expect(left).toContainEqual(['sg-split', b.memberId, 'left']);
      expect(broker.broker.groups.isMember('sg-split', b.memberId)).toBe(false);
      await settle(c, 'sg-split', [a, d]);
      expect([...keysOf(a), ...keysOf(d)].sort()).toEqual([`${topicId}-0`, `${topicId}-1`]);
      // the member that left is unknown now
      expect((await heartbeat(c, { groupId: 'sg-split', memberId: b.memberId, memberEpoch: b.epoch })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    } finally {
      stop();
    }
  });

  it('a silent member is removed after group.share.session.timeout.ms and announced', async () => {
    await createTopic('sg-expiry', 2);
    const left: Array<[string, string, string]> = [];
    const stop = broker.broker.groups.onMemberLeft((g, m, reason) => left.push([g, m, reason]));
    try {
      const c = await client();
      const a = (await join(c, 'sg-expiry', ['sg-expiry'])).member;
      const b = (await join(c, 'sg-expiry', ['sg-expiry'])).member;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !left.some(([, m]) => m === b.memberId)) {
        await beat(c, 'sg-expiry', a);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(left).toContainEqual(['sg-expiry', b.memberId, 'session timeout']);
      await settle(c, 'sg-expiry', [a]);
      expect(keysOf(a)).toHaveLength(2);
      expect((await heartbeat(c, { groupId: 'sg-expiry', memberId: b.memberId, memberEpoch: b.epoch })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    } finally {
      stop();
    }
  });

  it('errors: invalid requests, unknown group, fenced epochs, group.share.max.size', async () => {
    await createTopic('sg-errors', 1);
    const c = await client();
    const noTopics = await heartbeat(c, { groupId: 'sg-errors', memberId: 'x', memberEpoch: 0, subscribedTopicNames: [] });
    expect(noTopics).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'SubscribedTopicNames must be set in first request.' });
    const noMember = await heartbeat(c, { groupId: 'sg-errors', memberId: '', memberEpoch: 0, subscribedTopicNames: ['sg-errors'] });
    expect(noMember).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "MemberId can't be empty." });
    const badEpoch = await heartbeat(c, { groupId: 'sg-errors', memberId: 'x', memberEpoch: -2 });
    expect(badEpoch.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const unknownGroup = await heartbeat(c, { groupId: 'sg-nowhere', memberId: 'x', memberEpoch: 3 });
    expect(unknownGroup.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    const a = (await join(c, 'sg-errors', ['sg-errors'])).member;
    const ahead = await heartbeat(c, { groupId: 'sg-errors', memberId: a.memberId, memberEpoch: a.epoch + 1 });
    expect(ahead.errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect((await heartbeat(c, { groupId: 'sg-errors', memberId: 'stranger', memberEpoch: 1 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    // group.share.max.size is 3: a fourth member is refused, members already in go on
    await join(c, 'sg-errors', ['sg-errors']);
    await join(c, 'sg-errors', ['sg-errors']);
    const fourth = await heartbeat(c, { groupId: 'sg-errors', memberId: 'fourth', memberEpoch: 0, subscribedTopicNames: ['sg-errors'] });
    expect(fourth).toMatchObject({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, errorMessage: 'The share group has reached its maximum capacity of 3 members.' });
    expect((await beat(c, 'sg-errors', a)).errorCode).toBe(ErrorCode.NONE);
  });

  it('ids are not shared across group types: JoinGroup to a share group is INCONSISTENT_GROUP_PROTOCOL, ConsumerGroupHeartbeat GROUP_ID_NOT_FOUND, and a share heartbeat to a consumer group GROUP_ID_NOT_FOUND', async () => {
    await createTopic('sg-mixed', 1);
    const c = await client();
    await join(c, 'sg-mixed-share', ['sg-mixed']);
    const classicJoin = await c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, {
      groupId: 'sg-mixed-share',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 1_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    expect(classicJoin.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const consumerBeat = (groupId: string) =>
      c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
        groupId,
        memberId: randomBytes(16).toString('base64url'),
        memberEpoch: 0,
        rebalanceTimeoutMs: 5000,
        subscribedTopicNames: ['sg-mixed'],
        topicPartitions: [],
      });
    expect(await consumerBeat('sg-mixed-share')).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg-mixed-share is not a consumer group.' });
    expect((await consumerBeat('sg-mixed-consumer')).errorCode).toBe(ErrorCode.NONE);
    const onConsumer = await heartbeat(c, { groupId: 'sg-mixed-consumer', memberId: 'm', memberEpoch: 0, subscribedTopicNames: ['sg-mixed'] });
    expect(onConsumer).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg-mixed-consumer is not a share group.' });
  });

  it('ListGroups lists a share group with type "share" and its state; DescribeGroups answers as for an unknown group; ShareGroupDescribe describes it; DeleteGroups deletes it only once empty', async () => {
    const topicId = await createTopic('sg-admin', 2);
    const c = await client();
    const a = (await join(c, 'sg-admin', ['sg-admin'])).member;
    await untilAssigned(c, 'sg-admin', a);
    // the group epoch moved once more when the share-partitions' state was initialized
    expect(a.epoch).toBe(2);
    const listed = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: ['share'] });
    expect(listed.groups.find((g) => g.groupId === 'sg-admin')).toEqual({ groupId: 'sg-admin', protocolType: 'share', groupState: 'Stable', groupType: 'share' });
    const byState = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: ['empty'], typesFilter: ['share'] });
    expect(byState.groups.map((g) => g.groupId)).not.toContain('sg-admin');
    const classicOnly = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: ['classic'] });
    expect(classicOnly.groups.map((g) => g.groupId)).not.toContain('sg-admin');
    const described = await c.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 6, { groups: ['sg-admin'], includeAuthorizedOperations: false });
    expect(described.groups[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    const sgDescribed = await c.request(schemas.shareGroupDescribeRequest, schemas.shareGroupDescribeResponse, 1, { groupIds: ['sg-admin', 'sg-nowhere'], includeAuthorizedOperations: false });
    const [group, unknown] = sgDescribed.groups;
    expect(group).toMatchObject({ errorCode: ErrorCode.NONE, groupId: 'sg-admin', groupState: 'Stable', groupEpoch: a.epoch, assignmentEpoch: a.epoch, assignorName: 'simple' });
    expect(group!.members).toHaveLength(1);
    expect(group!.members[0]).toMatchObject({ memberId: a.memberId, memberEpoch: a.epoch, clientId: 'sg-client', subscribedTopicNames: ['sg-admin'], rackId: null });
    expect(group!.members[0]!.assignment).toEqual({ topicPartitions: [{ topicId, topicName: 'sg-admin', partitions: [0, 1] }] });
    expect(unknown).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg-nowhere not found.' });

    const del = () => c.request(schemas.deleteGroupsRequest, schemas.deleteGroupsResponse, 2, { groupsNames: ['sg-admin'] });
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    await heartbeat(c, { groupId: 'sg-admin', memberId: a.memberId, memberEpoch: -1 });
    const empty = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: ['Empty'], typesFilter: [] });
    expect(empty.groups.find((g) => g.groupId === 'sg-admin')?.groupState).toBe('Empty');
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.NONE);
    const after = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [], typesFilter: [] });
    expect(after.groups.map((g) => g.groupId)).not.toContain('sg-admin');
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('after a restart the group is loaded from __consumer_offsets: members go on at their epochs, and a leave still moves partitions', async () => {
    const topicId = await createTopic('sg-restart', 4);
    let c = await client();
    const a = (await join(c, 'sg-restart', ['sg-restart'])).member;
    const b = (await join(c, 'sg-restart', ['sg-restart'])).member;
    await untilAssigned(c, 'sg-restart', a);
    await untilAssigned(c, 'sg-restart', b);
    await settle(c, 'sg-restart', [a, b]);
    const epoch = b.epoch;
    const bKeys = keysOf(b);
    expect(bKeys).toHaveLength(2);
    // a deleted group stays deleted
    const gone = (await join(c, 'sg-restart-gone', ['sg-restart'])).member;
    await heartbeat(c, { groupId: 'sg-restart-gone', memberId: gone.memberId, memberEpoch: -1 });
    expect((await c.request(schemas.deleteGroupsRequest, schemas.deleteGroupsResponse, 2, { groupsNames: ['sg-restart-gone'] })).results[0]!.errorCode).toBe(ErrorCode.NONE);

    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await client();
    const again = await heartbeat(c, { groupId: 'sg-restart', memberId: b.memberId, memberEpoch: b.epoch });
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: epoch });
    const described = await c.request(schemas.shareGroupDescribeRequest, schemas.shareGroupDescribeResponse, 1, { groupIds: ['sg-restart', 'sg-restart-gone'], includeAuthorizedOperations: false });
    expect(described.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupEpoch: epoch, assignmentEpoch: epoch });
    const bDescribed = described.groups[0]!.members.find((m) => m.memberId === b.memberId)!;
    expect(bDescribed.assignment.topicPartitions.flatMap((t) => t.partitions.map((p) => `${t.topicId}-${p}`)).sort()).toEqual(bKeys);
    expect(described.groups[1]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    await heartbeat(c, { groupId: 'sg-restart', memberId: a.memberId, memberEpoch: -1 });
    await settle(c, 'sg-restart', [b]);
    expect(b.epoch).toBe(epoch + 1);
    expect(b.assigned.get(topicId)?.sort()).toEqual([0, 1, 2, 3]);
  });
});
