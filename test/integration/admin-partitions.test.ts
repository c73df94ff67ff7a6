/**
 * CreatePartitions and DeleteRecords against a real broker on a real port:
 * kafkajs 2.2.4's admin (createPartitions, deleteTopicRecords), kcat -L
 * (librdkafka's Metadata view), @platformatic/kafka's deleteRecords, and our
 * own codec client for every version and error path; the new partitions and
 * the moved log start offsets survive a restart on the same data dir.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageValue } from '../../protocol/index.js';
import type { RunningBroker } from '../../src/index.js';
import { startWithAdminClients, type AdminClients } from '../helpers/admin-clients.js';
import { kcatConsume } from '../helpers/kcat.js';
import type { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);

interface KcatMetadata {
  controllerid: number;
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{ topic: string; error?: string; partitions: Array<{ partition: number; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }>;
}

async function kcatMetadata(port: number, topic?: string): Promise<KcatMetadata> {
  const { stdout } = await run('kcat', ['-b', `127.0.0.1:${port}`, '-L', '-J', ...(topic === undefined ? [] : ['-t', topic])], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout) as KcatMetadata;
}

type CreatePartitionsResult = MessageValue<typeof schemas.createPartitionsResponse>['results'][number];

async function createPartitions(
  raw: RawClient,
  topics: Array<{ name: string; count: number; assignments?: number[][] | null }>,
  opts: { version?: number; validateOnly?: boolean } = {},
): Promise<CreatePartitionsResult[]> {
  const res = await raw.request(schemas.createPartitionsRequest, schemas.createPartitionsResponse, opts.version ?? 3, {
    topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: t.assignments === undefined || t.assignments === null ? null : t.assignments.map((brokerIds) => ({ brokerIds })) })),
    timeoutMs: 30_000,
    validateOnly: opts.validateOnly ?? false,
  });
  return res.results;
}

async function deleteRecords(raw: RawClient, topic: string, partitions: Array<[number, number]>, version = 2): Promise<Array<{ partitionIndex: number; lowWatermark: bigint; errorCode: number }>> {
  const res = await raw.request(schemas.deleteRecordsRequest, schemas.deleteRecordsResponse, version, {
    topics: [{ name: topic, partitions: partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset: BigInt(offset) })) }],
    timeoutMs: 30_000,
  });
  return res.topics[0]!.partitions;
}

describe('partitions and records', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let admin: Admin;
  let producer: Producer;
  let raw: RawClient;

  let clients: AdminClients | undefined;

  const start = async (): Promise<void> => {
    clients = await startWithAdminClients('admin-partitions-test', { dataDir, config: { 'gregor.max.partitions.per.topic': 20, 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 3 } });
    ({ broker, admin, producer, raw } = clients);
  };
  const stop = async (): Promise<void> => {
    await clients?.close();
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-admin-partitions-'));
    await start();
  });
  afterAll(async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('adds partitions with kafkajs: metadata, kcat -L and the data dir show them, and they take records', async () => {
    await admin.createTopics({ topics: [{ topic: 'growing', numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 5 }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: ['growing'] });
    expect(topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3, 4]);
    for (let p = 0; p < 5; p++) expect(existsSync(join(broker.dataDir, `growing-${p}`))).toBe(true);

    const meta = await kcatMetadata(broker.port);
    expect(meta.controllerid).toBe(1);
    expect(meta.brokers).toEqual([{ id: 1, name: `localhost:${broker.port}` }]);
    const growing = meta.topics.find((t) => t.topic === 'growing')!;
    expect(growing.error).toBeUndefined();
    expect(growing.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const p of growing.partitions) expect(p).toMatchObject({ leader: 1, replicas: [{ id: 1 }], isrs: [{ id: 1 }] });

    await producer.send({ topic: 'growing', messages: [{ partition: 4, key: 'k', value: 'on a new partition' }] });
    const records = await kcatConsume(broker.port, 'growing', 4);
    expect(records.map((r) => r.payload)).toEqual(['on a new partition']);
  });

  it('answers the same or a lower count with INVALID_PARTITIONS, in Kafka\'s words', async () => {
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 5 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    const results = await createPartitions(raw, [
      { name: 'growing', count: 5 },
      { name: 'growing-not', count: 3 },
    ]);
    expect(results).toEqual([
      { name: 'growing', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Topic already has 5 partition(s).' },
      { name: 'growing-not', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null },
    ]);
    expect(await createPartitions(raw, [{ name: 'growing', count: 3 }])).toEqual([
      { name: 'growing', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'The topic growing currently has 5 partition(s); 3 would not be an increase.' },
    ]);
    expect(await createPartitions(raw, [{ name: 'growing', count: 21 }])).toEqual([
      { name: 'growing', errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Number of partitions 21 exceeds the limit of 20 (gregor.max.partitions.per.topic).' },
    ]);
    expect(broker.broker.topics.get('growing')!.numPartitions).toBe(5);
  });

  it('validates manual assignments as Kafka on one broker', async () => {
    await admin.createTopics({ topics: [{ topic: 'assigned', numPartitions: 1 }] });
    const cases: Array<[number[][], string]> = [
      [[[1]], 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'],
      [[[1], []], 'The manual partition assignment includes an empty replica list.'],
      [[[1], [2]], 'The manual partition assignment includes broker 2, but no such broker is registered.'],
      [[[1], [1, 1]], 'The manual partition assignment includes the broker 1 more than once.'],
    ];
    for (const [assignments, message] of cases) {
      expect(await createPartitions(raw, [{ name: 'assigned', count: 3, assignments }]), message).toEqual([
        { name: 'assigned', errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: message },
      ]);
    }
    expect(broker.broker.topics.get('assigned')!.numPartitions).toBe(1);
    expect(await createPartitions(raw, [{ name: 'assigned', count: 3, assignments: [[1], [1]] }])).toEqual([{ name: 'assigned', errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(broker.broker.topics.get('assigned')!.numPartitions).toBe(3);
    await admin.createPartitions({ topicPartitions: [{ topic: 'assigned', count: 4, assignments: [[1]] }] });
    expect(broker.broker.topics.get('assigned')!.numPartitions).toBe(4);
  });

  it('answers a topic named twice with INVALID_REQUEST, listed first, and handles the rest', async () => {
    await admin.createTopics({ topics: [{ topic: 'dup' }, { topic: 'single' }] });
    const results = await createPartitions(raw, [
      { name: 'single', count: 2 },
      { name: 'dup', count: 2 },
      { name: 'dup', count: 3 },
    ], { version: 0 });
    expect(results).toEqual([
      { name: 'dup', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' },
      { name: 'single', errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    expect(broker.broker.topics.get('dup')!.numPartitions).toBe(1);
    expect(broker.broker.topics.get('single')!.numPartitions).toBe(2);
  });

  it('checks without adding when validate_only is set', async () => {
    await admin.createTopics({ topics: [{ topic: 'dry-partitions' }] });
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'dry-partitions', count: 4 }] });
    expect(await createPartitions(raw, [{ name: 'dry-partitions', count: 1 }], { validateOnly: true })).toMatchObject([{ errorCode: ErrorCode.INVALID_PARTITIONS }]);
    expect(broker.broker.topics.get('dry-partitions')!.numPartitions).toBe(1);
    expect(existsSync(join(broker.dataDir, 'dry-partitions-1'))).toBe(false);
  });

  it('does not add partitions to __consumer_offsets', async () => {
    await broker.broker.groups.offsetsTopic.ensureCreated();
    const before = broker.broker.topics.get('__consumer_offsets')!.numPartitions;
    expect(await createPartitions(raw, [{ name: '__consumer_offsets', count: before + 1 }])).toMatchObject([{ errorCode: ErrorCode.INVALID_PARTITIONS }]);
    expect(broker.broker.topics.get('__consumer_offsets')!.numPartitions).toBe(before);
  });

  it('deletes records with kafkajs: the log start moves, consumers start there, old segments go', async () => {
    await admin.createTopics({ topics: [{ topic: 'trimmed', numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '1024' }] }] });
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'trimmed', messages: [{ partition: 0, key: `k${i}`, value: Buffer.alloc(300, i) }] });
    await producer.send({ topic: 'trimmed', messages: [{ partition: 1, value: 'a' }, { partition: 1, value: 'b' }] });
    const log = broker.broker.topics.get('trimmed')!.partitions[0]!.log;
    const segmentsBefore = log.segmentCount;
    expect(segmentsBefore).toBeGreaterThan(3);
    // kafkajs finds the partition leaders in its cached metadata (as against Kafka)
    await admin.fetchTopicMetadata({ topics: ['trimmed'] });
    await admin.deleteTopicRecords({ topic: 'trimmed', partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '-1' }] });
    const offsets = await admin.fetchTopicOffsets('trimmed');
    expect(offsets.sort((a, b) => a.partition - b.partition).map((o) => [o.low, o.high])).toEqual([['7', '10'], ['2', '2']]);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    const records = await kcatConsume(broker.port, 'trimmed', 0);
    expect(records.map((r) => r.offset)).toEqual([7, 8, 9]);
    // an offset at or below the log start changes nothing and reports the current start
    expect(await deleteRecords(raw, 'trimmed', [[0, 3]], 0)).toEqual([{ partitionIndex: 0, lowWatermark: 7n, errorCode: ErrorCode.NONE }]);
  });

  it('answers DeleteRecords errors as Kafka: beyond the high watermark, negative, unknown, internal, compacted', async () => {
    await admin.createTopics({ topics: [{ topic: 'compacted', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await broker.broker.groups.offsetsTopic.ensureCreated();
    await expect(admin.deleteTopicRecords({ topic: 'trimmed', partitions: [{ partition: 0, offset: '11' }] })).rejects.toMatchObject({
      cause: { partitions: [{ partition: 0, error: { type: 'OFFSET_OUT_OF_RANGE' } }] },
    });
    expect(await deleteRecords(raw, 'trimmed', [[0, 11], [0, -2], [9, 0]], 1)).toEqual([
      { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
      { partitionIndex: 9, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
    expect(await deleteRecords(raw, 'nowhere', [[0, 0]])).toEqual([{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }]);
    expect(await deleteRecords(raw, '__consumer_offsets', [[0, 0]])).toEqual([{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION }]);
    expect(await deleteRecords(raw, 'compacted', [[0, 0]])).toEqual([{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.POLICY_VIOLATION }]);
    expect(broker.broker.topics.get('trimmed')!.partitions[0]!.log.logStartOffset).toBe(7);
  });

  it('deletes records with @platformatic/kafka (DeleteRecords v2)', async () => {
    await admin.createTopics({ topics: [{ topic: 'trimmed-too' }] });
    await producer.send({ topic: 'trimmed-too', messages: [{ value: '1' }, { value: '2' }, { value: '3' }] });
    const pAdmin = new PlatformaticAdmin({ clientId: 'admin-partitions-platformatic', bootstrapBrokers: [broker.bootstrap], retries: 0 });
    try {
      const result = await pAdmin.deleteRecords({ topics: [{ name: 'trimmed-too', partitions: [{ partition: 0, offset: 2n }] as never }] });
      expect(result).toEqual([{ name: 'trimmed-too', partitions: [{ partition: 0, lowWatermark: 2n }] }]);
    } finally {
      await pAdmin.close();
    }
  });

  it('keeps the added partitions and the moved log start offsets across a restart', async () => {
    await stop();
    await start();
    expect(broker.broker.topics.get('growing')!.numPartitions).toBe(5);
    expect(broker.broker.topics.get('assigned')!.numPartitions).toBe(4);
    const offsets = await admin.fetchTopicOffsets('trimmed');
    expect(offsets.sort((a, b) => a.partition - b.partition).map((o) => [o.low, o.high])).toEqual([['7', '10'], ['2', '2']]);
    expect((await kcatMetadata(broker.port, 'growing')).topics[0]!.partitions).toHaveLength(5);
    const records = await kcatConsume(broker.port, 'growing', 4);
    expect(records.map((r) => r.payload)).toEqual(['on a new partition']);
  });
});
