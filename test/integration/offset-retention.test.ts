/**
 * Offset retention (offsets.retention.minutes) and the records behind it:
 * expired offsets and dead groups are removed with tombstones in
 * `__consumer_offsets`, so a restart (which replays the topic) does not bring
 * them back; offsets a stable consumer group still subscribes to are kept.
 * The retention pass is run with a clock past the retention time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'gregor.flush.acks.all': false, 'offsets.retention.minutes': 60 };
const RETENTION_MS = 60 * 60_000;

function subscription(topic: string): Buffer {
  const name = Buffer.from(topic);
  const b = Buffer.alloc(2 + 4 + 2 + name.length + 4);
  b.writeInt16BE(0, 0);
  b.writeInt32BE(1, 2);
  b.writeInt16BE(name.length, 6);
  name.copy(b, 8);
  b.writeInt32BE(-1, 8 + name.length);
  return b;
}

describe('offset retention', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let c: RawClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-retention-'));
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await RawClient.connect(broker.port);
    await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: ['kept', 'dropped'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 5000,
    });
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function commit(groupId: string, topic: string, offset: bigint, generation = -1, memberId = '', version = 8, retentionTimeMs = -1n): Promise<number> {
    const res = await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, version, {
      groupId,
      generationIdOrMemberEpoch: generation,
      memberId,
      retentionTimeMs,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: null }] }],
    });
    return res.topics[0]!.partitions[0]!.errorCode;
  }

  async function committed(groupId: string, topic: string): Promise<number> {
    const res = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 5, { groupId, topics: [{ name: topic, partitionIndexes: [0] }] });
    return Number(res.topics[0]!.partitions[0]!.committedOffset);
  }

  /** One consumer member subscribed to `topic`: a Stable group of generation 1. */
  async function joinAndSync(groupId: string, topic: string): Promise<{ memberId: string }> {
    const join = await c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 3, {
      groupId,
      sessionTimeoutMs: 60_000,
      rebalanceTimeoutMs: 60_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(topic) }],
    });
    await c.request(schemas.syncGroupRequest, schemas.syncGroupResponse, 3, { groupId, generationId: 1, memberId: join.memberId, assignments: [] });
    return join;
  }

  function groupIds(): string[] {
    return broker.broker.groups.groupOverview().map((g) => g.groupId);
  }

  it('expires offsets by retention, deletes groups left without offsets, and a restart replays the tombstones', async () => {
    // an offsets-only group (simple consumer), and one committing with an explicit retention (OffsetCommit v2)
    expect(await commit('g-simple', 'kept', 11n)).toBe(0);
    expect(await commit('g-explicit', 'kept', 12n, -1, '', 2, 1000n)).toBe(0);
    // a stable consumer group subscribed to "kept" that also has an offset of "dropped"
    const join = await joinAndSync('g-live', 'kept');
    expect(await commit('g-live', 'kept', 21n, 1, join.memberId)).toBe(0);
    expect(await commit('g-live', 'dropped', 22n, 1, join.memberId)).toBe(0);

    // nothing is due yet, except the explicit 1-second retention once its time has come
    expect(await broker.broker.groups.expireOffsets(Date.now())).toBe(0);
    expect(await broker.broker.groups.expireOffsets(Date.now() + 2000)).toBe(1);
    expect(await committed('g-explicit', 'kept')).toBe(-1);
    expect(groupIds()).not.toContain('g-explicit');

    expect(await broker.broker.groups.expireOffsets(Date.now() + RETENTION_MS + 1000)).toBe(2);
    expect(await committed('g-simple', 'kept')).toBe(-1);
    expect(groupIds()).not.toContain('g-simple');
    expect(await committed('g-live', 'kept')).toBe(21);
    expect(await committed('g-live', 'dropped')).toBe(-1);

    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await RawClient.connect(broker.port);
    await broker.broker.groups.whenLoaded();
    expect(groupIds().sort()).toEqual(['g-live']);
    expect(await committed('g-live', 'kept')).toBe(21);
    expect(await committed('g-live', 'dropped')).toBe(-1);
    expect(await committed('g-simple', 'kept')).toBe(-1);
    // the loaded member is still in the group until its session times out
    expect(broker.broker.groups.groupOverview()[0]).toMatchObject({ groupId: 'g-live', state: 'Stable', members: 1, generationId: 1 });
  });

  it('expires every offset of a consumer group that has been Empty for the retention time', async () => {
    const join = await joinAndSync('g-left', 'kept');
    expect(await commit('g-left', 'kept', 5n, 1, join.memberId)).toBe(0);
    await c.request(schemas.leaveGroupRequest, schemas.leaveGroupResponse, 1, { groupId: 'g-left', memberId: join.memberId });
    expect(broker.broker.groups.groupOverview().find((g) => g.groupId === 'g-left')).toMatchObject({ state: 'Empty', generationId: 2 });
    // subscribed or not, an empty group's offsets go once it has been empty for the retention time
    await broker.broker.groups.expireOffsets(Date.now() + RETENTION_MS + 1000);
    expect(await committed('g-left', 'kept')).toBe(-1);
    expect(groupIds()).not.toContain('g-left');
  });
});
