/**
 * Offset retention of consumer groups (KIP-848) on a real broker: offsets of
 * topics the members subscribe to are never expired while the group lives;
 * others expire by commit time; an empty consumer group whose offsets have
 * all expired (or that has none) is deleted with tombstones, and a restart
 * does not bring it back. The retention pass is run with a clock past the
 * retention time (offsets.retention.minutes=1).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const CONFIG = { 'gregor.flush.acks.all': false, 'offsets.retention.minutes': 1 };
const RETENTION_MS = 60_000;

describe('offset retention of consumer groups', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let c: RawClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-cg-retention-'));
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await RawClient.connect(broker.port);
    for (const name of ['ret-sub', 'ret-other']) await broker.broker.topics.create({ name, numPartitions: 1, replicationFactor: 1, configs: {} });
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function heartbeat(body: Parameters<typeof c.request<typeof schemas.consumerGroupHeartbeatRequest, typeof schemas.consumerGroupHeartbeatResponse>>[3]) {
    for (let i = 0; ; i++) {
      const res = await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function commit(groupId: string, topic: string, offset: bigint, memberId: string, memberEpoch: number): Promise<number> {
    const res = await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 9, {
      groupId,
      generationIdOrMemberEpoch: memberEpoch,
      memberId,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: null }] }],
    });
    return res.topics[0]!.partitions[0]!.errorCode;
  }

  async function committed(groupId: string): Promise<Record<string, bigint>> {
    const res = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 9, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }], requireStable: false });
    const out: Record<string, bigint> = {};
    for (const t of res.groups[0]!.topics) for (const p of t.partitions) out[t.name] = p.committedOffset;
    return out;
  }

  async function describeGroup(groupId: string): Promise<{ errorCode: number; groupState: string }> {
    const res = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 0, { groupIds: [groupId], includeAuthorizedOperations: false });
    return res.groups[0]!;
  }

  it('keeps the offsets of subscribed topics of a live group, expires the others, and deletes the group once empty and without offsets', async () => {
    const memberId = randomBytes(16).toString('base64url');
    const joined = await heartbeat({ groupId: 'ret-cg', memberId, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['ret-sub'], topicPartitions: [] });
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(await commit('ret-cg', 'ret-sub', 10n, memberId, joined.memberEpoch)).toBe(ErrorCode.NONE);
    expect(await commit('ret-cg', 'ret-other', 20n, memberId, joined.memberEpoch)).toBe(ErrorCode.NONE);

    // long past the retention time: only the offset of the topic no member subscribes to goes
    const later = Date.now() + 10 * RETENTION_MS;
    expect(await broker.broker.groups.expireOffsets(later)).toBe(1);
    expect(await committed('ret-cg')).toEqual({ 'ret-sub': 10n });
    expect(await describeGroup('ret-cg')).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Stable' });
    expect(await broker.broker.groups.expireOffsets(later)).toBe(0);

    // the member leaves: the group is empty, its last offset expires by commit time and the group goes with it
    expect((await heartbeat({ groupId: 'ret-cg', memberId, memberEpoch: -1 })).errorCode).toBe(ErrorCode.NONE);
    expect(await describeGroup('ret-cg')).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Empty' });
    expect(await broker.broker.groups.expireOffsets(Date.now())).toBe(0);
    expect(await describeGroup('ret-cg')).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Empty' });
    expect(await broker.broker.groups.expireOffsets(later)).toBe(1);
    expect(await describeGroup('ret-cg')).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
    expect(await committed('ret-cg')).toEqual({});

    // an empty consumer group that never committed goes at the next pass
    const lone = randomBytes(16).toString('base64url');
    expect((await heartbeat({ groupId: 'ret-none', memberId: lone, memberEpoch: 0, rebalanceTimeoutMs: 5000, subscribedTopicNames: ['ret-sub'], topicPartitions: [] })).errorCode).toBe(ErrorCode.NONE);
    expect(await broker.broker.groups.expireOffsets(later)).toBe(0);
    expect(await describeGroup('ret-none')).toMatchObject({ errorCode: ErrorCode.NONE });
    expect((await heartbeat({ groupId: 'ret-none', memberId: lone, memberEpoch: -1 })).errorCode).toBe(ErrorCode.NONE);
    expect(await broker.broker.groups.expireOffsets(Date.now())).toBe(0);
    expect(await describeGroup('ret-none')).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND });

    // the tombstones are in __consumer_offsets: a restart does not bring the groups back
    await broker.broker.groups.expireOffsets(Date.now());
    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await RawClient.connect(broker.port);
    await broker.broker.groups.whenLoaded();
    for (const groupId of ['ret-cg', 'ret-none']) {
      expect(await describeGroup(groupId)).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
      expect(await committed(groupId)).toEqual({});
    }
  });
});
