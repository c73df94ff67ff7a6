/**
 * DescribeShareGroupOffsets (v0-1) on a real broker over the wire (raw client): a share group whose
 * member joined (its share-partitions initialized at the share coordinator) and fetched and accepted
 * records answers each partition's start offset; a null topic list gives the group's initialized
 * share-partitions; unknown topics, unknown groups and groups of another type get Kafka's errors.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const GROUP = 'offsets-queue';
const TOPIC = 'described';
const ACCEPT = 1;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('DescribeShareGroupOffsets', () => {
  let broker: RunningBroker;
  let c: RawClient;
  let dataDir: string;
  let topicId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-offsets-'));
    broker = await startBroker({ dataDir, port: 0, config: { 'share.coordinator.state.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0 } });
    topicId = (await broker.broker.topics.create({ name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: {} })).topicId;
    c = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function describeOffsets(version: number, groups: Array<{ groupId: string; topics: Array<{ topicName: string; partitions: number[] }> | null }>) {
    return c.request(schemas.describeShareGroupOffsetsRequest, schemas.describeShareGroupOffsetsResponse, version, { groups });
  }

  /** Joins a member and heartbeats until both share-partitions are assigned (their state initialized). */
  async function joinUntilAssigned(): Promise<void> {
    const memberId = randomBytes(16).toString('base64url');
    let epoch = 0;
    for (let i = 0; i < 400; i++) {
      const res = await c.request(schemas.shareGroupHeartbeatRequest, schemas.shareGroupHeartbeatResponse, 1, {
        groupId: GROUP,
        memberId,
        memberEpoch: epoch,
        ...(epoch === 0 ? { subscribedTopicNames: [TOPIC] } : {}),
      });
      if (res.errorCode === ErrorCode.NONE) {
        epoch = res.memberEpoch;
        const assigned = res.assignment?.topicPartitions.flatMap((t) => t.partitions) ?? [];
        if (assigned.length === 2) return;
      }
      await sleep(25);
    }
    throw new Error('no assignment');
  }

  it('answers the start offset of each share-partition, for the topics asked and for all (null)', async () => {
    await joinUntilAssigned();
    // before any fetch: initialized share-partitions with no start offset yet
    let res = await describeOffsets(0, [{ groupId: GROUP, topics: [{ topicName: TOPIC, partitions: [0, 1] }] }]);
    expect(res.groups).toEqual([
      {
        groupId: GROUP,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topics: [
          {
            topicName: TOPIC,
            topicId,
            partitions: [
              { partitionIndex: 0, startOffset: -1n, leaderEpoch: 0, lag: -1n, errorCode: ErrorCode.NONE, errorMessage: null },
              { partitionIndex: 1, startOffset: -1n, leaderEpoch: 0, lag: -1n, errorCode: ErrorCode.NONE, errorMessage: null },
            ],
          },
        ],
      },
    ]);

    // partition 0 starts at the log end (latest) at its first fetch; 3 records arrive and are accepted
    const fetch = (epoch: number, acks: Array<{ firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }> = []) =>
      c.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 2, {
        groupId: GROUP,
        memberId: 'fetcher',
        shareSessionEpoch: epoch,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        maxRecords: 500,
        batchSize: 500,
        topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
        forgottenTopicsData: [],
      });
    expect((await fetch(0)).errorCode).toBe(ErrorCode.NONE);
    const log = broker.broker.topics.partition(TOPIC, 0)!.log;
    await log.append(buildUncompressedBatch([0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`r${i}`) }))), { leaderEpoch: 0 });
    const got = await fetch(1);
    expect(got.responses[0]!.partitions[0]!.acquiredRecords.map((a) => [a.firstOffset, a.lastOffset])).toEqual([[0n, 2n]]);
    expect((await fetch(2, [{ firstOffset: 0n, lastOffset: 2n, acknowledgeTypes: [ACCEPT] }])).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    // the share coordinator holds what was written with the acknowledgement: start 0, 0-2 acknowledged
    res = await describeOffsets(1, [{ groupId: GROUP, topics: [{ topicName: TOPIC, partitions: [0] }] }]);
    expect(res.groups[0]!.topics[0]!.partitions[0]!.startOffset).toBe(0n);
    // the next write carries the start offset the acknowledgement moved to 3
    await log.append(buildUncompressedBatch([{ key: null, value: Buffer.from('r3') }]), { leaderEpoch: 0 });
    const next = await fetch(3);
    expect(next.responses[0]!.partitions[0]!.acquiredRecords.map((a) => [a.firstOffset, a.lastOffset])).toEqual([[3n, 3n]]);
    expect((await fetch(4, [{ firstOffset: 3n, lastOffset: 3n, acknowledgeTypes: [ACCEPT] }])).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);

    // two records nobody fetched yet
    await log.append(buildUncompressedBatch([{ key: null, value: Buffer.from('r4') }, { key: null, value: Buffer.from('r5') }]), { leaderEpoch: 0 });

    // v1, every initialized share-partition (null topics): partition 0 moved to 3 with 3 accepted above it
    // (lag: high watermark 6 - start 3 - 1 delivered), partition 1 not started (lag unknown)
    res = await describeOffsets(1, [{ groupId: GROUP, topics: null }]);
    expect(res.groups[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(res.groups[0]!.topics.map((t) => [t.topicName, t.topicId, t.partitions.map((p) => [p.partitionIndex, p.startOffset, p.lag, p.errorCode])])).toEqual([
      [TOPIC, topicId, [[0, 3n, 2n, ErrorCode.NONE], [1, -1n, -1n, ErrorCode.NONE]]],
    ]);
  });

  it('gives unknown topics UNKNOWN_TOPIC_OR_PARTITION and unknown or other groups GROUP_ID_NOT_FOUND', async () => {
    await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
      groupId: 'a-consumer-group',
      memberId: randomBytes(16).toString('base64url'),
      memberEpoch: 0,
      rebalanceTimeoutMs: 5000,
      subscribedTopicNames: [TOPIC],
      topicPartitions: [],
    });
    const res = await describeOffsets(1, [
      { groupId: GROUP, topics: [{ topicName: 'no-such-topic', partitions: [0] }] },
      { groupId: 'no-such-group', topics: null },
      { groupId: 'a-consumer-group', topics: null },
      { groupId: '', topics: null },
    ]);
    const [unknownTopic, unknownGroup, consumerGroup, empty] = res.groups;
    expect(unknownTopic!.errorCode).toBe(ErrorCode.NONE);
    expect(unknownTopic!.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(unknownGroup).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group no-such-group not found.', topics: [] });
    expect(consumerGroup).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group a-consumer-group is not a share group.' });
    expect(empty!.errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });
});
