/**
 * The admin side of share groups' offsets on a real broker, over the wire (raw client):
 * AlterShareGroupOffsets sets an empty share group's start offsets and resets the share-partitions'
 * state (records delivered again from there, as new), creates a group that does not exist, and refuses a
 * group with members or of another type; DeleteShareGroupOffsets deletes a topic's share-partition state
 * so that the next member starts by share.auto.offset.reset; DeleteGroups of a share group deletes its
 * state too, and a group of the same id starts afresh; ApiVersions lists both APIs; both outcomes survive
 * a restart on the same data directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, ZERO_UUID } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const ACCEPT = 1;
const RELEASE = 2;
const REJECT = 3;
const GROUP_RESOURCE = 32;
const SET = 0;

let dataDir: string;
let running: RunningBroker | undefined;
let client: RawClient | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-admin-'));
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await running?.close();
  running = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<RawClient> {
  running = await startBroker({ port: 0, dataDir, config: { 'share.coordinator.state.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0 } });
  client = await RawClient.connect(running.port);
  return client;
}

async function restart(): Promise<RawClient> {
  client?.close();
  await running?.close();
  const c = await start();
  await running!.broker.shareCoordinator.whenLoaded();
  await running!.broker.groups.whenLoaded();
  return c;
}

async function createTopic(name: string, numPartitions = 1): Promise<string> {
  return (await running!.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} })).topicId;
}

/** Appends `count` records, one batch each, to partition 0. */
async function produce(topic: string, count: number): Promise<void> {
  const log = running!.broker.topics.partition(topic, 0)!.log;
  for (let i = 0; i < count; i++) await log.append(buildUncompressedBatch([{ key: null, value: Buffer.from(`v${i}`) }]), { leaderEpoch: 0 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A member joins and heartbeats until every partition of the topic is assigned (their state initialized); returns its id. */
async function joinGroup(c: RawClient, groupId: string, topic: string, partitions: number): Promise<string> {
  const memberId = randomBytes(16).toString('base64url');
  let epoch = 0;
  for (let i = 0; i < 400; i++) {
    const res = await c.request(schemas.shareGroupHeartbeatRequest, schemas.shareGroupHeartbeatResponse, 1, {
      groupId,
      memberId,
      memberEpoch: epoch,
      ...(epoch === 0 ? { subscribedTopicNames: [topic] } : {}),
    });
    if (res.errorCode === ErrorCode.NONE) {
      epoch = res.memberEpoch;
      if ((res.assignment?.topicPartitions.flatMap((t) => t.partitions) ?? []).length === partitions) return memberId;
    }
    await sleep(25);
  }
  throw new Error('no assignment');
}

async function leave(c: RawClient, groupId: string, memberId: string): Promise<void> {
  const res = await c.request(schemas.shareGroupHeartbeatRequest, schemas.shareGroupHeartbeatResponse, 1, { groupId, memberId, memberEpoch: -1 });
  expect(res.errorCode).toBe(ErrorCode.NONE);
}

interface Ack {
  firstOffset: number;
  lastOffset: number;
  types: number[];
}

function shareFetch(c: RawClient, groupId: string, memberId: string, topicId: string, epoch: number, acks: Ack[] = []) {
  return c.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 2, {
    groupId,
    memberId,
    shareSessionEpoch: epoch,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    maxRecords: 500,
    batchSize: 500,
    topics: [
      {
        topicId,
        partitions: [{ partitionIndex: 0, acknowledgementBatches: acks.map((a) => ({ firstOffset: BigInt(a.firstOffset), lastOffset: BigInt(a.lastOffset), acknowledgeTypes: a.types })) }],
      },
    ],
    forgottenTopicsData: [],
  });
}

function acquired(res: Awaited<ReturnType<typeof shareFetch>>): Array<[number, number, number]> {
  return res.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords.map((a) => [Number(a.firstOffset), Number(a.lastOffset), a.deliveryCount] as [number, number, number])));
}

/** A member's session: fetches all 6 records, accepts 0-1, releases 2-3, rejects 4-5, and closes (epoch -1). */
async function consumeSome(c: RawClient, groupId: string, memberId: string, topicId: string): Promise<void> {
  expect(acquired(await shareFetch(c, groupId, memberId, topicId, 0))).toEqual([[0, 5, 1]]);
  const acks = [
    { firstOffset: 0, lastOffset: 1, types: [ACCEPT] },
    { firstOffset: 2, lastOffset: 3, types: [RELEASE] },
    { firstOffset: 4, lastOffset: 5, types: [REJECT] },
  ];
  const closing = await shareFetch(c, groupId, memberId, topicId, -1, acks);
  expect(closing.responses[0]!.partitions[0]!.acknowledgeErrorCode).toBe(ErrorCode.NONE);
}

function alter(c: RawClient, groupId: string, topics: Array<{ topicName: string; partitions: Array<[number, number]> }>) {
  return c.request(schemas.alterShareGroupOffsetsRequest, schemas.alterShareGroupOffsetsResponse, 0, {
    groupId,
    topics: topics.map((t) => ({ topicName: t.topicName, partitions: t.partitions.map(([partitionIndex, startOffset]) => ({ partitionIndex, startOffset: BigInt(startOffset) })) })),
  });
}

function deleteOffsets(c: RawClient, groupId: string, topicNames: string[]) {
  return c.request(schemas.deleteShareGroupOffsetsRequest, schemas.deleteShareGroupOffsetsResponse, 0, { groupId, topics: topicNames.map((topicName) => ({ topicName })) });
}

async function startOffsets(c: RawClient, groupId: string): Promise<Array<[string, number, bigint]>> {
  const res = await c.request(schemas.describeShareGroupOffsetsRequest, schemas.describeShareGroupOffsetsResponse, 1, { groups: [{ groupId, topics: null }] });
  expect(res.groups[0]!.errorCode).toBe(ErrorCode.NONE);
  return res.groups[0]!.topics.flatMap((t) => t.partitions.map((p) => [t.topicName, p.partitionIndex, p.startOffset] as [string, number, bigint]));
}

/** The share coordinator's state of a share-partition (start offset -1 and no batches: none). */
async function persisted(groupId: string, topicId: string) {
  const res = await running!.broker.shareCoordinator.read({ groupId, topics: [{ topicId, partitions: [{ partition: 0, leaderEpoch: -1 }] }] });
  const p = res.topics[0]!.partitions[0]!;
  return { startOffset: p.startOffset, stateBatches: p.stateBatches };
}

async function setGroupConfig(c: RawClient, groupId: string, name: string, value: string): Promise<void> {
  const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType: GROUP_RESOURCE, resourceName: groupId, configs: [{ name, configOperation: SET, value }] }],
    validateOnly: false,
  });
  expect(res.responses[0]!.errorCode).toBe(ErrorCode.NONE);
}

describe('AlterShareGroupOffsets', () => {
  it('sets an empty group\'s start offset and resets the state: the records from there are delivered again, as new', async () => {
    const c = await start();
    const topicId = await createTopic('jobs');
    await setGroupConfig(c, 'workers', 'share.auto.offset.reset', 'earliest');
    const memberId = await joinGroup(c, 'workers', 'jobs', 1);
    await produce('jobs', 6);
    await consumeSome(c, 'workers', memberId, topicId);

    // not while the group has a member
    const refused = await alter(c, 'workers', [{ topicName: 'jobs', partitions: [[0, 1]] }]);
    expect(refused).toMatchObject({ errorCode: ErrorCode.NON_EMPTY_GROUP, errorMessage: 'The group is not empty.', responses: [] });

    await leave(c, 'workers', memberId);
    const res = await alter(c, 'workers', [
      { topicName: 'jobs', partitions: [[0, 1], [3, 0]] },
      { topicName: 'no-such-topic', partitions: [[0, 0]] },
    ]);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.responses).toEqual([
      {
        topicName: 'jobs',
        topicId,
        partitions: [
          { partitionIndex: 0, errorCode: ErrorCode.NONE, errorMessage: null },
          { partitionIndex: 3, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' },
        ],
      },
      {
        topicName: 'no-such-topic',
        topicId: ZERO_UUID,
        partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' }],
      },
    ]);
    expect(await startOffsets(c, 'workers')).toEqual([['jobs', 0, 1n]]);
    // a fresh snapshot: the new start offset, no delivery states
    expect(await persisted('workers', topicId)).toEqual({ startOffset: 1, stateBatches: [] });

    // from offset 1 every record comes again, delivered for the first time (the accepted 1 and the rejected 4-5 too)
    const again = await joinGroup(c, 'workers', 'jobs', 1);
    expect(acquired(await shareFetch(c, 'workers', again, topicId, 0))).toEqual([[1, 5, 1]]);
  });

  it('creates a share group that does not exist, which then starts at the offset set', async () => {
    const c = await start();
    const topicId = await createTopic('backlog');
    await produce('backlog', 5);
    const res = await alter(c, 'fresh', [{ topicName: 'backlog', partitions: [[0, 3]] }]);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.responses[0]!.partitions).toEqual([{ partitionIndex: 0, errorCode: ErrorCode.NONE, errorMessage: null }]);
    const listed = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 5, { statesFilter: [' EMPTY '], typesFilter: ['Share'] });
    expect(listed.groups).toEqual([{ groupId: 'fresh', protocolType: 'share', groupState: 'Empty', groupType: 'share' }]);
    expect(await startOffsets(c, 'fresh')).toEqual([['backlog', 0, 3n]]);
    // a member starts at 3, not at the log end (share.auto.offset.reset=latest decides only without a start offset)
    const memberId = await joinGroup(c, 'fresh', 'backlog', 1);
    expect(acquired(await shareFetch(c, 'fresh', memberId, topicId, 0))).toEqual([[3, 4, 1]]);
  });

  it('refuses a group of another type (GROUP_ID_NOT_FOUND) and the empty group id (INVALID_GROUP_ID)', async () => {
    const c = await start();
    await createTopic('other');
    const consumer = await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
      groupId: 'a-consumer-group',
      memberId: randomBytes(16).toString('base64url'),
      memberEpoch: 0,
      rebalanceTimeoutMs: 5000,
      subscribedTopicNames: ['other'],
      topicPartitions: [],
    });
    expect(consumer.errorCode).toBe(ErrorCode.NONE);
    expect(await alter(c, 'a-consumer-group', [{ topicName: 'other', partitions: [[0, 0]] }])).toMatchObject({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: 'Group a-consumer-group is not a share group.',
      responses: [],
    });
    expect((await alter(c, '', [{ topicName: 'other', partitions: [[0, 0]] }])).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });
});

describe('DeleteShareGroupOffsets', () => {
  it('deletes a topic\'s share-partition state: the next member starts by share.auto.offset.reset', async () => {
    const c = await start();
    const topicId = await createTopic('tasks');
    const otherId = await createTopic('untouched');
    await createTopic('never-consumed');
    await setGroupConfig(c, 'crew', 'share.auto.offset.reset', 'earliest');
    const memberId = await joinGroup(c, 'crew', 'tasks', 1);
    await produce('tasks', 6);
    await consumeSome(c, 'crew', memberId, topicId);
    expect((await persisted('crew', topicId)).stateBatches).not.toEqual([]);

    expect(await deleteOffsets(c, 'no-such-group', ['tasks'])).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group no-such-group not found.', responses: [] });
    expect(await deleteOffsets(c, 'crew', ['tasks'])).toMatchObject({ errorCode: ErrorCode.NON_EMPTY_GROUP, responses: [] });
    await leave(c, 'crew', memberId);

    const res = await deleteOffsets(c, 'crew', ['no-such-topic', 'tasks', 'never-consumed']);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.responses).toEqual([
      { topicName: 'tasks', topicId, errorCode: ErrorCode.NONE, errorMessage: null },
      { topicName: 'no-such-topic', topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' },
      { topicName: 'never-consumed', topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'There is no offset information to delete.' },
    ]);
    // the state is gone at the share coordinator, and the group no longer lists the topic
    expect(await persisted('crew', topicId)).toEqual({ startOffset: -1, stateBatches: [] });
    expect(await startOffsets(c, 'crew')).toEqual([]);
    expect(await persisted('crew', otherId)).toEqual({ startOffset: -1, stateBatches: [] });

    // a member consumes the topic again: initialized afresh, from the log start (earliest), every record as new
    const again = await joinGroup(c, 'crew', 'tasks', 1);
    expect(acquired(await shareFetch(c, 'crew', again, topicId, 0))).toEqual([[0, 5, 1]]);
  });
});

describe('DeleteGroups of a share group', () => {
  it('deletes its share-partitions\' state: a group of the same id starts afresh', async () => {
    const c = await start();
    const topicId = await createTopic('chores');
    await setGroupConfig(c, 'team', 'share.auto.offset.reset', 'earliest');
    const memberId = await joinGroup(c, 'team', 'chores', 1);
    await produce('chores', 6);
    await consumeSome(c, 'team', memberId, topicId);
    const del = () => c.request(schemas.deleteGroupsRequest, schemas.deleteGroupsResponse, 2, { groupsNames: ['team'] });
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    await leave(c, 'team', memberId);
    expect((await del()).results[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(await persisted('team', topicId)).toEqual({ startOffset: -1, stateBatches: [] });

    // the same id again: nothing of the old group's deliveries is left (the broker held them in memory too)
    const again = await joinGroup(c, 'team', 'chores', 1);
    expect(acquired(await shareFetch(c, 'team', again, topicId, 0))).toEqual([[0, 5, 1]]);
  });
});

describe('share group offsets admin', () => {
  it('ApiVersions lists AlterShareGroupOffsets and DeleteShareGroupOffsets v0', async () => {
    const c = await start();
    const res = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(res.apiKeys.filter((k) => k.apiKey === 91 || k.apiKey === 92).map((k) => [k.apiKey, k.minVersion, k.maxVersion])).toEqual([
      [91, 0, 0],
      [92, 0, 0],
    ]);
  });

  it('an altered start offset and a deleted state survive a restart', async () => {
    let c = await start();
    const altered = await createTopic('altered');
    const deleted = await createTopic('deleted');
    await produce('altered', 6);
    await produce('deleted', 6);
    await setGroupConfig(c, 'durable', 'share.auto.offset.reset', 'earliest');
    const a = await joinGroup(c, 'durable', 'altered', 1);
    await consumeSome(c, 'durable', a, altered);
    await leave(c, 'durable', a);
    const b = await joinGroup(c, 'durable', 'deleted', 1);
    await consumeSome(c, 'durable', b, deleted);
    await leave(c, 'durable', b);
    expect((await alter(c, 'durable', [{ topicName: 'altered', partitions: [[0, 4]] }])).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((await deleteOffsets(c, 'durable', ['deleted'])).responses[0]!.errorCode).toBe(ErrorCode.NONE);

    c = await restart();
    expect(await startOffsets(c, 'durable')).toEqual([['altered', 0, 4n]]);
    expect(await persisted('durable', altered)).toEqual({ startOffset: 4, stateBatches: [] });
    expect(await persisted('durable', deleted)).toEqual({ startOffset: -1, stateBatches: [] });
    const m = await joinGroup(c, 'durable', 'altered', 1);
    expect(acquired(await shareFetch(c, 'durable', m, altered, 0))).toEqual([[4, 5, 1]]);
    const n = await joinGroup(c, 'durable', 'deleted', 1);
    expect(acquired(await shareFetch(c, 'durable', n, deleted, 0))).toEqual([[0, 5, 1]]);
  });
});
