/**
 * The versions Kafka 4.x added to APIs Gregor already served, on a real broker socket with raw frames:
 * each test sends the new version and checks the answer Kafka 4.3 gives (topic ids instead of names,
 * UNKNOWN_TOPIC_ID for ids the broker does not know, the new fields).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { decodeRecords } from '../helpers/fetch-records.js';
import { batchOf, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

/** An id no topic has. */
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

describe('Kafka 4.x versions', () => {
  let broker: RunningBroker;
  let client: RawClient;

  async function createTopic(name: string, numPartitions = 1): Promise<string> {
    await broker.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
    return broker.broker.topics.get(name)!.topicId;
  }

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    await broker?.close();
  });

  describe('Produce v13 (topic ids)', () => {
    it('appends to the topic of a known id and answers with the id; an unknown id gets UNKNOWN_TOPIC_ID, a missing partition UNKNOWN_TOPIC_OR_PARTITION', async () => {
      const topicId = await createTopic('produce13', 2);
      const res = await client.request(schemas.produceRequest, schemas.produceResponse, 13, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [
          { topicId, partitionData: [{ index: 1, records: await batchOf(testRecords(3)) }, { index: 7, records: await batchOf(testRecords(1)) }] },
          { topicId: UNKNOWN_ID, partitionData: [{ index: 0, records: await batchOf(testRecords(1)) }] },
        ],
      });
      expect(res.responses).toHaveLength(2);
      const known = res.responses.find((t) => t.topicId === topicId)!;
      expect(known.partitionResponses).toEqual([
        expect.objectContaining({ index: 1, errorCode: ErrorCode.NONE, baseOffset: 0n, logStartOffset: 0n }),
        expect.objectContaining({ index: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1n }),
      ]);
      const unknown = res.responses.find((t) => t.topicId === UNKNOWN_ID)!;
      expect(unknown.partitionResponses).toEqual([expect.objectContaining({ index: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, baseOffset: -1n })]);

      // the records are in the topic, read back by name (Fetch v12)
      const fetched = await client.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
        maxWaitMs: 0,
        minBytes: 0,
        topics: [{ topic: 'produce13', partitions: [{ partition: 1, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      });
      expect(await decodeRecords(fetched.responses[0]!.partitions[0]!.records as Buffer)).toHaveLength(3);
    });

    it('a transactional batch at v12+ adds its partition to the transaction (transaction version 2 finalized): appended without AddPartitionsToTxn, EndTxn v5 bumps the epoch', async () => {
      const topicId = await createTopic('produce13-txn');
      let init = { errorCode: -1, producerId: -1n, producerEpoch: -1 };
      for (let i = 0; i < 100; i++) {
        init = await client.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId: 'txn13', transactionTimeoutMs: 60_000 });
        if (init.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && init.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && init.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(init.errorCode).toBe(ErrorCode.NONE);
      const producerId = Number(init.producerId);
      const produceTxn = async (baseSequence: number) =>
        (
          await client.request(schemas.produceRequest, schemas.produceResponse, 13, {
            transactionalId: 'txn13',
            acks: -1,
            timeoutMs: 5000,
            topicData: [{ topicId, partitionData: [{ index: 0, records: await batchOf(testRecords(2), { producerId, producerEpoch: init.producerEpoch, baseSequence, transactional: true }) }] }],
          })
        ).responses[0]!.partitionResponses[0]!;
      expect(await produceTxn(0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
      const described = await client.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: ['txn13'] });
      expect(described.transactionStates[0]!.topics).toEqual([expect.objectContaining({ topic: 'produce13-txn', partitions: [0] })]);
      const ended = await client.request(schemas.endTxnRequest, schemas.endTxnResponse, 5, { transactionalId: 'txn13', producerId: init.producerId, producerEpoch: init.producerEpoch, committed: false });
      expect(ended).toMatchObject({ errorCode: ErrorCode.NONE, producerId: init.producerId, producerEpoch: init.producerEpoch + 1 });
    });

    it('v12 is v11 on the wire: topics by name', async () => {
      await createTopic('produce12');
      const res = await client.request(schemas.produceRequest, schemas.produceResponse, 12, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: 'produce12', partitionData: [{ index: 0, records: await batchOf(testRecords(2)) }] }],
      });
      expect(res.responses[0]!.name).toBe('produce12');
      expect(res.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    });
  });

  describe('Fetch v18 (a follower\'s high watermark)', () => {
    it('reads by topic id as v17 does, with or without the high watermark; an unknown id gets UNKNOWN_TOPIC_ID', async () => {
      const topicId = await createTopic('fetch18');
      await client.request(schemas.produceRequest, schemas.produceResponse, 13, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [{ topicId, partitionData: [{ index: 0, records: await batchOf(testRecords(4)) }] }],
      });
      for (const highWatermark of [9223372036854775807n, -1n, 0n]) {
        const res = await client.request(schemas.fetchRequest, schemas.fetchResponse, 18, {
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            { topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20, highWatermark }] },
            { topicId: UNKNOWN_ID, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] },
          ],
          rackId: '',
        });
        expect(res.errorCode).toBe(ErrorCode.NONE);
        const known = res.responses.find((t) => t.topicId === topicId)!.partitions[0]!;
        expect(known).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 4n, lastStableOffset: 4n, logStartOffset: 0n });
        expect(await decodeRecords(known.records as Buffer)).toHaveLength(4);
        expect(res.responses.find((t) => t.topicId === UNKNOWN_ID)!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
      }
    });
  });

  describe('Metadata v13 (a top-level error code)', () => {
    it('answers error code 0 with the brokers, topics by name and by id; an unknown id gets UNKNOWN_TOPIC_ID', async () => {
      const topicId = await createTopic('metadata13', 3);
      const res = await client.request(schemas.metadataRequest, schemas.metadataResponse, 13, {
        topics: [{ name: 'metadata13' }, { name: null, topicId }, { name: null, topicId: UNKNOWN_ID }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      expect(res.errorCode).toBe(ErrorCode.NONE);
      expect(res.brokers).toEqual([expect.objectContaining({ port: broker.port })]);
      expect(res.controllerId).toBe(res.brokers[0]!.nodeId);
      expect(res.topics.map((t) => [t.name, t.topicId, t.errorCode, t.partitions.length])).toEqual([
        ['metadata13', topicId, ErrorCode.NONE, 3],
        ['metadata13', topicId, ErrorCode.NONE, 3],
        [null, UNKNOWN_ID, ErrorCode.UNKNOWN_TOPIC_ID, 0],
      ]);
    });
  });

  describe('ListOffsets v10-11 (tiered storage timeout, earliest pending upload)', () => {
    it('answers earliest, latest and -6 (earliest pending upload: offset -1 without tiered storage) at v11, and v10 with a timeout', async () => {
      await createTopic('listoffsets11');
      await client.request(schemas.produceRequest, schemas.produceResponse, 12, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [{ name: 'listoffsets11', partitionData: [{ index: 0, records: await batchOf(testRecords(5)) }] }],
      });
      for (const version of [10, 11]) {
        const res = await client.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, version, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: 'listoffsets11', partitions: [-2n, -1n, -6n].map((timestamp) => ({ partitionIndex: 0, currentLeaderEpoch: -1, timestamp })) }],
          timeoutMs: 1000,
        });
        // a partition listed more than once gets INVALID_REQUEST, so one timestamp per request below
        expect(res.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
        const at = async (timestamp: bigint) => {
          const one = await client.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, version, {
            replicaId: -1,
            isolationLevel: 0,
            topics: [{ name: 'listoffsets11', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
            timeoutMs: 1000,
          });
          const p = one.topics[0]!.partitions[0]!;
          return { errorCode: p.errorCode, offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch };
        };
        expect(await at(-2n)).toMatchObject({ errorCode: ErrorCode.NONE, offset: 0n });
        expect(await at(-1n)).toMatchObject({ errorCode: ErrorCode.NONE, offset: 5n });
        expect(await at(-6n)).toEqual({ errorCode: ErrorCode.NONE, offset: -1n, timestamp: -1n, leaderEpoch: -1 });
      }
    });
  });

  describe('DescribeTopicPartitions v0 (KIP-966)', () => {
    const describe0 = (input: MessageInput<typeof schemas.describeTopicPartitionsRequest>) =>
      client.request(schemas.describeTopicPartitionsRequest, schemas.describeTopicPartitionsResponse, 0, input);
    const summary = (res: Awaited<ReturnType<typeof describe0>>) => ({
      topics: res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
      nextCursor: res.nextCursor,
    });

    it('pages through the listed topics in name order, at most response_partition_limit partitions per answer, with a cursor', async () => {
      const aId = await createTopic('dtp-a', 3);
      await createTopic('dtp-b', 2);
      const topics = [{ name: 'dtp-b' }, { name: 'dtp-missing' }, { name: 'dtp-a' }, { name: 'dtp-a' }];
      const first = await describe0({ topics, responsePartitionLimit: 2, cursor: null });
      expect(summary(first)).toEqual({ topics: [['dtp-a', ErrorCode.NONE, [0, 1]]], nextCursor: { topicName: 'dtp-a', partitionIndex: 2 } });
      const a = first.topics[0]!;
      expect(a).toMatchObject({ topicId: aId, isInternal: false });
      const node = a.partitions[0]!.leaderId;
      expect(a.partitions[0]).toEqual({
        errorCode: ErrorCode.NONE,
        partitionIndex: 0,
        leaderId: node,
        leaderEpoch: 0,
        replicaNodes: [node],
        isrNodes: [node],
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
        offlineReplicas: [],
      });
      expect(a.topicAuthorizedOperations).toBeGreaterThan(0);

      const second = await describe0({ topics, responsePartitionLimit: 2, cursor: first.nextCursor });
      expect(summary(second)).toEqual({
        topics: [
          ['dtp-a', ErrorCode.NONE, [2]],
          ['dtp-b', ErrorCode.NONE, [0]],
        ],
        nextCursor: { topicName: 'dtp-b', partitionIndex: 1 },
      });
      const third = await describe0({ topics, responsePartitionLimit: 2, cursor: second.nextCursor });
      expect(summary(third)).toEqual({
        topics: [
          ['dtp-b', ErrorCode.NONE, [1]],
          ['dtp-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
        ],
        nextCursor: null,
      });
      expect(third.topics[1]!.topicId).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    });

    it('an empty list describes every existing topic; a cursor outside the list or with a negative partition is INVALID_REQUEST for each topic', async () => {
      await createTopic('dtp-c', 1);
      const everything = await describe0({ topics: [], responsePartitionLimit: 2000, cursor: null });
      expect(everything.nextCursor).toBeNull();
      expect(everything.topics.every((t) => t.errorCode === ErrorCode.NONE)).toBe(true);
      expect(everything.topics.map((t) => t.name)).toEqual(expect.arrayContaining(['dtp-c']));
      const names = everything.topics.map((t) => t.name!);
      expect(names).toEqual([...names].sort());

      const outside = await describe0({ topics: [{ name: 'dtp-c' }, { name: 'bad name!' }], responsePartitionLimit: 10, cursor: { topicName: 'dtp-b', partitionIndex: 0 } });
      expect(summary(outside)).toEqual({
        topics: [
          ['dtp-c', ErrorCode.INVALID_REQUEST, []],
          ['bad name!', ErrorCode.INVALID_REQUEST, []],
        ],
        nextCursor: null,
      });
      const negative = await describe0({ topics: [{ name: 'dtp-c' }], responsePartitionLimit: 10, cursor: { topicName: 'dtp-c', partitionIndex: -1 } });
      expect(summary(negative).topics).toEqual([['dtp-c', ErrorCode.INVALID_REQUEST, []]]);
      const illegal = await describe0({ topics: [{ name: 'bad name!' }], responsePartitionLimit: 10, cursor: null });
      expect(summary(illegal).topics).toEqual([['bad name!', ErrorCode.INVALID_TOPIC_EXCEPTION, []]]);
    });
  });

  describe('OffsetCommit v10 / OffsetFetch v10 (topic ids)', () => {
    it('commits and fetches by topic id, answering the ids; offsets are the same as by name; an unknown id gets UNKNOWN_TOPIC_ID', async () => {
      const topicId = await createTopic('offsets10', 2);
      const commit = await client.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 10, {
        groupId: 'g10',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          { topicId, partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 0, committedMetadata: 'm' }, { partitionIndex: 5, committedOffset: 1n, committedMetadata: null }] },
          { topicId: UNKNOWN_ID, partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: null }] },
        ],
      });
      expect(commit.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])).toEqual([
        [topicId, [[0, ErrorCode.NONE], [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
        [UNKNOWN_ID, [[0, ErrorCode.UNKNOWN_TOPIC_ID]]],
      ]);

      const byId = await client.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 10, {
        groups: [{ groupId: 'g10', memberId: null, memberEpoch: -1, topics: [{ topicId, partitionIndexes: [0, 1] }, { topicId: UNKNOWN_ID, partitionIndexes: [3] }] }],
        requireStable: false,
      });
      const group = byId.groups[0]!;
      expect(group.errorCode).toBe(ErrorCode.NONE);
      expect(group.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode])])).toEqual([
        [topicId, [[0, 42n, 'm', ErrorCode.NONE], [1, -1n, '', ErrorCode.NONE]]],
        [UNKNOWN_ID, [[3, -1n, '', ErrorCode.UNKNOWN_TOPIC_ID]]],
      ]);

      const all = await client.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 10, {
        groups: [{ groupId: 'g10', memberId: null, memberEpoch: -1, topics: null }],
        requireStable: false,
      });
      expect(all.groups[0]!.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([[topicId, [[0, 42n]]]]);

      // stored under the topic's name: v9 reads the same commit by name
      const byName = await client.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 9, {
        groups: [{ groupId: 'g10', memberId: null, memberEpoch: -1, topics: [{ name: 'offsets10', partitionIndexes: [0] }] }],
        requireStable: false,
      });
      expect(byName.groups[0]!.topics[0]).toMatchObject({ name: 'offsets10', partitions: [expect.objectContaining({ committedOffset: 42n, committedLeaderEpoch: 0 })] });
    });
  });

  describe('GetTelemetrySubscriptions / PushTelemetry v0 (KIP-714), as Kafka without a telemetry receiver', () => {
    const get = (clientInstanceId: string) => client.request(schemas.getTelemetrySubscriptionsRequest, schemas.getTelemetrySubscriptionsResponse, 0, { clientInstanceId });
    const push = (input: MessageInput<typeof schemas.pushTelemetryRequest>) =>
      client.request(schemas.pushTelemetryRequest, schemas.pushTelemetryResponse, 0, { terminating: false, compressionType: 0, metrics: Buffer.alloc(10), ...input });

    it('are not listed in ApiVersions, like Kafka\'s without a telemetry receiver', async () => {
      const res = await client.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(res.apiKeys.map((k) => k.apiKey)).not.toContain(71);
      expect(res.apiKeys.map((k) => k.apiKey)).not.toContain(72);
    });

    it('a client that asks anyway gets an empty subscription; pushes are checked (subscription id, throttling, terminating, size) and dropped', async () => {
      const first = await get('AAAAAAAAAAAAAAAAAAAAAA');
      expect(first).toMatchObject({
        errorCode: ErrorCode.NONE,
        acceptedCompressionTypes: [4, 3, 1, 2],
        pushIntervalMs: 300000,
        telemetryMaxBytes: 1048576,
        deltaTemporality: true,
        requestedMetrics: [],
      });
      const id = first.clientInstanceId;
      expect(id).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
      // a new id for each client without one
      expect((await get('AAAAAAAAAAAAAAAAAAAAAA')).clientInstanceId).not.toBe(id);
      // asking again within the push interval
      expect((await get(id)).errorCode).toBe(ErrorCode.THROTTLING_QUOTA_EXCEEDED);

      const subscriptionId = first.subscriptionId;
      expect((await push({ clientInstanceId: 'AAAAAAAAAAAAAAAAAAAAAA', subscriptionId })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
      expect((await push({ clientInstanceId: id, subscriptionId: subscriptionId + 1 })).errorCode).toBe(ErrorCode.UNKNOWN_SUBSCRIPTION_ID);
      // the first push after a get is accepted at once, the next one within the interval is throttled
      expect((await push({ clientInstanceId: id, subscriptionId })).errorCode).toBe(ErrorCode.NONE);
      expect((await push({ clientInstanceId: id, subscriptionId })).errorCode).toBe(ErrorCode.THROTTLING_QUOTA_EXCEEDED);
      // a terminating push is never throttled, but is checked for size; after it the instance takes no more
      expect((await push({ clientInstanceId: id, subscriptionId, terminating: true, metrics: Buffer.alloc(1048577) })).errorCode).toBe(ErrorCode.TELEMETRY_TOO_LARGE);
      expect((await push({ clientInstanceId: id, subscriptionId, terminating: true })).errorCode).toBe(ErrorCode.INVALID_REQUEST);

      const other = await get('AAAAAAAAAAAAAAAAAAAAAA');
      expect((await push({ clientInstanceId: other.clientInstanceId, subscriptionId: other.subscriptionId, compressionType: 9 })).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    });
  });

  describe('DescribeGroups v6 (KIP-1043)', () => {
    it('an unknown group gets GROUP_ID_NOT_FOUND with a message at v6, is described as Dead before; a known group as before', async () => {
      await createTopic('groups6');
      await client.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 9, {
        groupId: 'known6',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: 'groups6', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }],
      });
      const v6 = await client.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 6, { groups: ['known6', 'unknown6'], includeAuthorizedOperations: false });
      expect(v6.groups.map((g) => [g.groupId, g.errorCode, g.errorMessage, g.groupState])).toEqual([
        ['known6', ErrorCode.NONE, null, 'Empty'],
        ['unknown6', ErrorCode.GROUP_ID_NOT_FOUND, 'Group unknown6 not found.', ''],
      ]);
      const v5 = await client.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 5, { groups: ['unknown6'], includeAuthorizedOperations: false });
      expect(v5.groups.map((g) => [g.groupId, g.errorCode, g.groupState])).toEqual([['unknown6', ErrorCode.NONE, 'Dead']]);
    });
  });

  describe('DescribeLogDirs v5 (KIP-1066)', () => {
    it('describes the log dir with its partitions and sizes, not cordoned', async () => {
      await createTopic('logdirs5', 2);
      const res = await client.request(schemas.describeLogDirsRequest, schemas.describeLogDirsResponse, 5, { topics: [{ topic: 'logdirs5', partitions: [0, 1] }] });
      expect(res.errorCode).toBe(ErrorCode.NONE);
      expect(res.results).toHaveLength(1);
      const dir = res.results[0]!;
      expect(dir).toMatchObject({ errorCode: ErrorCode.NONE, isCordoned: false });
      expect(dir.totalBytes).toBeGreaterThan(0n);
      expect(dir.topics.find((t) => t.name === 'logdirs5')!.partitions.map((p) => p.partitionIndex).sort()).toEqual([0, 1]);
    });
  });

  describe('DescribeCluster v2 (KIP-1073)', () => {
    it('lists this broker, not fenced, with or without fenced brokers asked for', async () => {
      for (const includeFencedBrokers of [false, true]) {
        const res = await client.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 2, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers });
        expect(res).toMatchObject({ errorCode: ErrorCode.NONE, endpointType: 1, clusterAuthorizedOperations: -2147483648 });
        expect(res.brokers).toEqual([{ brokerId: res.controllerId, host: expect.any(String), port: broker.port, rack: null, isFenced: false }]);
      }
    });
  });
});
