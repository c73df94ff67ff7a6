/**
 * `__consumer_offsets` holding the records of consumer groups (KIP-848) next
 * to the classic ones, as a data directory written by Kafka 4.x, or by a
 * later Gregor, would: the broker loads the partition without stumbling on
 * them (nor on a value of a version Kafka does not have; a share group's
 * record is a share group, served as well), serves the classic group and the committed offsets as before,
 * serves the consumer group its records describe (ConsumerGroupDescribe, a
 * heartbeat of its member), and keeps serving after the next restart. A real broker on a real data
 * directory; the consumer-group records are appended to the partition's log
 * while the broker is stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { DEFAULT_LOG_CONFIG, LogManager } from '../../storage/index.js';
import { serializeConsumerGroupRecord, type ConsumerGroupRecord } from '../../src/group/consumer-group-records.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const config = { 'offsets.topic.num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 };
const TOPIC_ID = 'ASNFZ4mrze_-3LqYdlQyEA';

const running: RunningBroker[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<RunningBroker> {
  const b = await startBroker({ port: 0, dataDir, config, logLevel: 'silent' });
  running.push(b);
  return b;
}

async function stop(b: RunningBroker): Promise<void> {
  await b.close();
  running.splice(running.indexOf(b), 1);
}

async function withRaw<T>(b: RunningBroker, run: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(b.port);
  try {
    return await run(c);
  } finally {
    c.close();
  }
}

async function commit(c: RawClient, groupId: string, offset: number): Promise<void> {
  const res = await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedMetadata: null }] }],
  });
  expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
}

async function committed(c: RawClient, groupId: string): Promise<number> {
  const res = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId, topics: [{ name: 'orders', partitionIndexes: [0] }] }], requireStable: false });
  expect(res.groups[0]!.errorCode).toBe(ErrorCode.NONE);
  return Number(res.groups[0]!.topics[0]!.partitions[0]!.committedOffset);
}

/** A consumer group of one member as Kafka 4.3 writes it, a tombstone, and records Gregor must skip. */
function kafkaWrittenRecords(): Array<{ key: Buffer; value: Buffer | null }> {
  const records: ConsumerGroupRecord[] = [
    {
      type: 'consumer-group-member-metadata',
      group: 'modern',
      memberId: 'm-1',
      value: { instanceId: null, rackId: null, clientId: 'rdkafka', clientHost: '/127.0.0.1', subscribedTopicNames: ['orders'], subscribedTopicRegex: null, rebalanceTimeoutMs: 300_000, serverAssignor: 'uniform', classicMemberMetadata: null },
    },
    { type: 'consumer-group-metadata', group: 'modern', value: { epoch: 1, metadataHash: 77n } },
    { type: 'consumer-group-target-assignment-member', group: 'modern', memberId: 'm-1', value: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0] }] } },
    { type: 'consumer-group-target-assignment-metadata', group: 'modern', value: { assignmentEpoch: 1, assignmentTimestamp: 1_700_000_000_000 } },
    { type: 'consumer-group-current-member-assignment', group: 'modern', memberId: 'm-1', value: { memberEpoch: 1, previousMemberEpoch: 0, state: 0, assignedPartitions: [{ topicId: TOPIC_ID, partitions: [0], assignmentEpochs: [1] }], partitionsPendingRevocation: [] } },
    { type: 'consumer-group-regular-expression', group: 'modern', regularExpression: 'ord.*', value: { topics: ['orders'], version: 10, timestamp: 1_700_000_000_000 } },
    { type: 'consumer-group-partition-metadata', group: 'modern', value: null },
  ];
  const bytes = records.map(serializeConsumerGroupRecord);
  const shareGroupKey = Buffer.concat([Buffer.from([0, 11, 0, 5]), Buffer.from('share')]); // record type 11: a share group's metadata
  const newerValue = Buffer.from([0, 1, 0, 0, 0, 2, 0]); // a ConsumerGroupMetadataValue of version 1: not Kafka's
  return [...bytes, { key: shareGroupKey, value: Buffer.from([0, 0, 0, 0, 0, 1, 0]) }, { key: serializeConsumerGroupRecord(records[1]!).key, value: newerValue }];
}

describe('__consumer_offsets with consumer-group records', () => {
  it('loads a partition holding consumer-group records and serves the classic groups and offsets, restart after restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-cg-records-'));
    dirs.push(dataDir);
    let broker = await start(dataDir);
    await withRaw(broker, async (c) => {
      const created = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
        topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
      await commit(c, 'classic', 5);
      await commit(c, 'modern', 7);
    });
    const nodeId = broker.broker.nodeId;
    await stop(broker);

    const logs = await LogManager.open({ logDir: dataDir, nodeId, defaults: DEFAULT_LOG_CONFIG });
    try {
      const log = logs.getLog('__consumer_offsets', 0);
      expect(log).toBeDefined();
      const before = log!.logEndOffset;
      await log!.append(buildUncompressedBatch(kafkaWrittenRecords()), { leaderEpoch: 0 });
      expect(log!.logEndOffset).toBe(before + 9);
    } finally {
      await logs.close();
    }

    broker = await start(dataDir);
    await withRaw(broker, async (c) => {
      expect(await committed(c, 'classic')).toBe(5);
      expect(await committed(c, 'modern')).toBe(7);
      await commit(c, 'classic', 6);
      const listed = await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 4, { statesFilter: [] });
      expect(listed.errorCode).toBe(ErrorCode.NONE);
      // the share group's metadata record (type 11) is a share group now served: Empty, at its epoch
      expect(listed.groups.map((g) => g.groupId).sort()).toEqual(['classic', 'modern', 'share']);
      const share = await c.request(schemas.shareGroupDescribeRequest, schemas.shareGroupDescribeResponse, 1, { groupIds: ['share'], includeAuthorizedOperations: false });
      expect(share.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Empty', groupEpoch: 1, members: [] });
      // the consumer group Kafka wrote is served: described as its records say, and its member goes on at its epoch
      // (its metadata record is superseded by one of a version Kafka does not have, skipped: the group epoch is
      // then the assignment epoch, never behind it)
      const described = await c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: ['modern'], includeAuthorizedOperations: false });
      expect(described.groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupEpoch: 1, assignmentEpoch: 1, assignorName: 'uniform' });
      expect(described.groups[0]!.members).toEqual([
        expect.objectContaining({
          memberId: 'm-1',
          memberEpoch: 1,
          clientId: 'rdkafka',
          subscribedTopicNames: ['orders'],
          assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: '', partitions: [0] }] },
          targetAssignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: '', partitions: [0] }] },
        }),
      ]);
      const beat = await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
        groupId: 'modern',
        memberId: 'm-1',
        memberEpoch: 1,
        topicPartitions: [{ topicId: TOPIC_ID, partitions: [0] }],
      });
      expect(beat).toMatchObject({ errorCode: ErrorCode.NONE, memberId: 'm-1' });
    });
    await stop(broker);

    broker = await start(dataDir);
    await withRaw(broker, async (c) => {
      expect(await committed(c, 'classic')).toBe(6);
      expect(await committed(c, 'modern')).toBe(7);
    });
  });
});
