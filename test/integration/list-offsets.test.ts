/**
 * ListOffsets on a real broker: the raw client at every version's features
 * (earliest, latest, max timestamp, by timestamp, the tiered-storage
 * sentinels, v0 old-style offsets, errors) and kafkajs' admin offsets calls.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { kcatConsume } from '../helpers/kcat.js';
import { produceRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

type Request = MessageInput<typeof schemas.listOffsetsRequest>;
type PartitionResult = MessageValue<typeof schemas.listOffsetsResponse>['topics'][number]['partitions'][number];

/** Three batches of two records: timestamps 1000/1100, 2000/2100, 3000/3100 at offsets 0-5. */
const TIMESTAMPS = [
  [1000, 1100],
  [2000, 2100],
  [3000, 3100],
];

describe('ListOffsets', () => {
  let broker: RunningBroker;
  let client: RawClient;
  let admin: Admin;

  async function list(version: number, timestamp: number, extra: { topic?: string; partition?: number; currentLeaderEpoch?: number; maxNumOffsets?: number; isolationLevel?: number } = {}): Promise<PartitionResult> {
    const body: Request = {
      replicaId: -1,
      isolationLevel: extra.isolationLevel ?? 0,
      topics: [
        {
          name: extra.topic ?? 'times',
          partitions: [
            { partitionIndex: extra.partition ?? 0, currentLeaderEpoch: extra.currentLeaderEpoch ?? -1, timestamp: BigInt(timestamp), maxNumOffsets: extra.maxNumOffsets ?? 1 },
          ],
        },
      ],
    };
    const res = await client.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, version, body);
    return res.topics[0]!.partitions[0]!;
  }

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    await broker.broker.topics.create({ name: 'times', numPartitions: 1, replicationFactor: 1, configs: {} });
    await broker.broker.topics.create({ name: 'empty', numPartitions: 1, replicationFactor: 1, configs: {} });
    client = await RawClient.connect(broker.port);
    for (const [i, ts] of TIMESTAMPS.entries()) {
      await produceRecords(client, 'times', 0, ts.map((t, j) => ({ key: Buffer.from(`k${i}${j}`), value: Buffer.from('v'), timestamp: t })));
    }
    admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    client?.close();
    await broker?.close();
  });

  it('-2 (earliest) answers the log start offset with the leader epoch (v4+) and timestamp -1', async () => {
    expect(await list(4, -2)).toMatchObject({ errorCode: 0, offset: 0n, timestamp: -1n, leaderEpoch: 0 });
  });

  it('-1 (latest) answers the high watermark with the current leader epoch, for either isolation level', async () => {
    expect(await list(4, -1)).toMatchObject({ errorCode: 0, offset: 6n, timestamp: -1n, leaderEpoch: 0 });
    expect(await list(4, -1, { isolationLevel: 1 })).toMatchObject({ offset: 6n });
  });

  it('-3 (max timestamp, v7+) answers the offset and timestamp of the record with the largest timestamp', async () => {
    expect(await list(7, -3)).toMatchObject({ errorCode: 0, offset: 5n, timestamp: 3100n, leaderEpoch: 0 });
  });

  it('a timestamp answers the first record at or after it, with that record\'s timestamp', async () => {
    expect(await list(1, 2050)).toMatchObject({ errorCode: 0, offset: 3n, timestamp: 2100n });
    expect(await list(5, 1000)).toMatchObject({ offset: 0n, timestamp: 1000n, leaderEpoch: 0 });
    expect(await list(9, 1001)).toMatchObject({ offset: 1n, timestamp: 1100n });
  });

  it('a timestamp after every record answers offset -1 and timestamp -1', async () => {
    expect(await list(9, 5000)).toMatchObject({ errorCode: 0, offset: -1n, timestamp: -1n, leaderEpoch: -1 });
  });

  it('-4 (earliest local, v8+) answers as earliest; -5 (latest tiered, v9+) answers -1 as a broker without tiered storage does', async () => {
    expect(await list(8, -4)).toMatchObject({ errorCode: 0, offset: 0n, timestamp: -1n, leaderEpoch: 0 });
    expect(await list(9, -5)).toMatchObject({ errorCode: 0, offset: -1n, timestamp: -1n, leaderEpoch: -1 });
  });

  it('v0 answers old-style offsets: latest then log start for -1, log start for -2, at most max_num_offsets', async () => {
    expect((await list(0, -1, { maxNumOffsets: 10 })).oldStyleOffsets).toEqual([6n, 0n]);
    expect((await list(0, -1, { maxNumOffsets: 1 })).oldStyleOffsets).toEqual([6n]);
    expect((await list(0, -2, { maxNumOffsets: 10 })).oldStyleOffsets).toEqual([0n]);
    expect((await list(0, -1, { topic: 'empty', maxNumOffsets: 10 })).oldStyleOffsets).toEqual([0n]);
  });

  it('an empty partition answers 0 for earliest and latest and -1 for a timestamp and for max timestamp', async () => {
    expect(await list(9, -2, { topic: 'empty' })).toMatchObject({ offset: 0n });
    expect(await list(9, -1, { topic: 'empty' })).toMatchObject({ offset: 0n });
    expect(await list(9, 0, { topic: 'empty' })).toMatchObject({ offset: -1n, timestamp: -1n });
    expect(await list(9, -3, { topic: 'empty' })).toMatchObject({ offset: -1n, timestamp: -1n });
  });

  it('unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION', async () => {
    expect((await list(9, -1, { topic: 'nope' })).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await list(0, -1, { topic: 'nope' })).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await list(9, -1, { partition: 3 })).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('a current leader epoch newer than ours gets UNKNOWN_LEADER_EPOCH (v4+)', async () => {
    expect((await list(4, -1, { currentLeaderEpoch: 3 })).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect((await list(4, -1, { currentLeaderEpoch: 0 })).errorCode).toBe(ErrorCode.NONE);
  });

  it('a partition listed twice gets INVALID_REQUEST (v1+)', async () => {
    const res = await client.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, 5, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        { name: 'times', partitions: [{ partitionIndex: 0, timestamp: -1n }] },
        { name: 'times', partitions: [{ partitionIndex: 0, timestamp: -2n }] },
      ],
    });
    expect(res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  });

  it('kafkajs admin reads earliest/latest offsets and offsets by timestamp', async () => {
    expect(await admin.fetchTopicOffsets('times')).toEqual([{ partition: 0, offset: '6', high: '6', low: '0' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('times', 2001)).toEqual([{ partition: 0, offset: '3' }]);
  });

  it('kcat starts at the offset of a timestamp (-o s@ts) and at the end minus n (-o -n)', async () => {
    expect((await kcatConsume(broker.port, 'times', 0, ['-o', 's@2001'])).map((r) => r.offset)).toEqual([3, 4, 5]);
    expect((await kcatConsume(broker.port, 'times', 0, ['-o', '-2'])).map((r) => r.offset)).toEqual([4, 5]);
  });
});
