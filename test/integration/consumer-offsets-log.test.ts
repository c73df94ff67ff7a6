/**
 * `__consumer_offsets` as a log: a coordinator restarting on a large offsets
 * partition answers COORDINATOR_LOAD_IN_PROGRESS for the groups it has not
 * loaded yet (SyncGroup REBALANCE_IN_PROGRESS, Heartbeat NONE, as Kafka) and
 * serves them once loaded, with the latest of 100,000 commits; the topic is
 * compacted by the log cleaner down to one record per key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { groupPartition } from '../../src/group/group-partition.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const CONFIG = { 'gregor.flush.acks.all': false };
/** Loaded first (partition 0) and large; the probe group lives in the last partition. */
const BIG_GROUP = 'big-18';
const PROBE_GROUP = 'probe-42';
const KEYS = 10;
const COMMITS = 100_000;

/** Commits offsets 1..COMMITS/KEYS to each of KEYS partitions, pipelining requests. */
async function commitMany(c: RawClient, groupId: string, topic: string, commits: number, keys: number): Promise<void> {
  const rounds = commits / keys;
  const window = 200;
  for (let start = 1; start <= rounds; start += window) {
    const batch = [];
    for (let round = start; round < Math.min(start + window, rounds + 1); round++) {
      batch.push(
        c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          topics: [{ name: topic, partitions: Array.from({ length: keys }, (_, p) => ({ partitionIndex: p, committedOffset: BigInt(round), committedMetadata: `r${round}` })) }],
        }),
      );
    }
    for (const res of await Promise.all(batch)) {
      for (const p of res.topics[0]!.partitions) if (p.errorCode !== 0) throw new Error(`commit failed with ${p.errorCode}`);
    }
  }
}

describe('__consumer_offsets loading', () => {
  let dataDir: string;
  let broker: RunningBroker;

  beforeAll(async () => {
    expect(groupPartition(BIG_GROUP, 50)).toBe(0);
    expect(groupPartition(PROBE_GROUP, 50)).toBe(49);
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-offsets-log-'));
    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS for groups not loaded yet after a restart, then serves the latest commits', async () => {
    let c = await RawClient.connect(broker.port);
    await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'many', numPartitions: KEYS, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    await commitMany(c, BIG_GROUP, 'many', COMMITS, KEYS);
    const probe = await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
      groupId: PROBE_GROUP,
      topics: [{ name: 'many', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedMetadata: null }] }],
    });
    expect(probe.topics[0]!.partitions[0]!.errorCode).toBe(0);
    c.close();
    await broker.close();

    broker = await startBroker({ port: 0, dataDir, config: CONFIG });
    c = await RawClient.connect(broker.port);
    // partition 0 holds 100,000 records and is replayed first: the probe's partition 49 is not loaded yet
    const [fetched, joined, synced, beat, listed] = await Promise.all([
      c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId: PROBE_GROUP, topics: null }] }),
      c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, {
        groupId: PROBE_GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      }),
      c.request(schemas.syncGroupRequest, schemas.syncGroupResponse, 3, { groupId: PROBE_GROUP, generationId: 1, memberId: 'm', assignments: [] }),
      c.request(schemas.heartbeatRequest, schemas.heartbeatResponse, 3, { groupId: PROBE_GROUP, generationId: 1, memberId: 'm' }),
      c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 4, { statesFilter: [] }),
    ]);
    expect(fetched.groups[0]!.errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(joined.errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(synced.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(beat.errorCode).toBe(ErrorCode.NONE);
    expect(listed.errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);

    await broker.broker.groups.whenLoaded();
    const after = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, {
      groups: [
        { groupId: PROBE_GROUP, topics: null },
        { groupId: BIG_GROUP, topics: null },
      ],
    });
    expect(after.groups[0]!.topics[0]!.partitions.map((p) => Number(p.committedOffset))).toEqual([42]);
    const big = after.groups[1]!.topics[0]!.partitions;
    expect(big.map((p) => [p.partitionIndex, Number(p.committedOffset), p.metadata])).toEqual(
      Array.from({ length: KEYS }, (_, p) => [p, COMMITS / KEYS, `r${COMMITS / KEYS}`]),
    );
    c.close();
  }, 120_000);
});

describe('__consumer_offsets compaction', () => {
  /** Small segments: the 100,000 commits roll hundreds of them, and the active one stays small. */
  const SEGMENT_BYTES = 8192;
  // the test cleans when it has counted the 100,000 records: no background cleaning before
  const config = { ...CONFIG, 'offsets.topic.segment.bytes': SEGMENT_BYTES, 'log.cleaner.enable': false };
  let dataDir: string;
  let broker: RunningBroker;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-offsets-compaction-'));
    broker = await startBroker({ port: 0, dataDir, config });
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Records of the group's partition: all of them, and those below the cleaner's checkpoint. */
  async function records(partition: number): Promise<{ total: number; cleaned: number }> {
    const checkpoint = broker.broker.logs.cleanerCheckpoint('__consumer_offsets', partition) ?? 0;
    let total = 0;
    let cleaned = 0;
    for await (const r of broker.broker.groups.offsetsTopic.replay(partition)) {
      total++;
      if (r.offset < checkpoint) cleaned++;
    }
    return { total, cleaned };
  }

  it('after 100,000 commits of 10 keys the cleaned topic holds one record per key, and a restart restores the latest offsets', async () => {
    let c = await RawClient.connect(broker.port);
    await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'compacted', numPartitions: KEYS, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    await commitMany(c, BIG_GROUP, 'compacted', COMMITS, KEYS);
    const partition = groupPartition(BIG_GROUP, 50);
    const topic = broker.broker.topics.get('__consumer_offsets')!;
    expect(topic.overrides.get('cleanup.policy')).toBe('compact');
    expect(topic.overrides.get('segment.bytes')).toBe(String(SEGMENT_BYTES));
    const before = await records(partition);
    expect(before.total).toBe(COMMITS);

    expect(await broker.broker.logs.cleanNow('__consumer_offsets', partition)).toBe(1);
    const after = await records(partition);
    // the cleaned part keeps the latest record of each key; only the active segment (at most
    // SEGMENT_BYTES of 10-record batches) is left uncleaned, as Kafka never cleans it
    expect(after.cleaned).toBeLessThanOrEqual(KEYS);
    expect(after.total).toBeLessThan(KEYS + SEGMENT_BYTES / 40);

    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config });
    await broker.broker.groups.whenLoaded();
    c = await RawClient.connect(broker.port);
    const fetched = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId: BIG_GROUP, topics: null }] });
    expect(fetched.groups[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset), p.metadata])).toEqual(
      Array.from({ length: KEYS }, (_, p) => [p, COMMITS / KEYS, `r${COMMITS / KEYS}`]),
    );
    c.close();
  }, 180_000);
});
