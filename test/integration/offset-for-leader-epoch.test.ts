/**
 * OffsetForLeaderEpoch on a real broker with the raw client: end offsets of the current epoch (the log end,
 * also for an empty partition), of epochs above and below the cache, the -1 epoch, unknown partitions and
 * current-leader-epoch checks, at every version v0-v4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageValue } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

type EpochEndOffset = MessageValue<typeof schemas.offsetForLeaderEpochResponse>['topics'][number]['partitions'][number];

describe('OffsetForLeaderEpoch', () => {
  let broker: RunningBroker;
  let client: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    client = await RawClient.connect(broker.port);
    await broker.broker.topics.create({ name: 'epochs', numPartitions: 2, replicationFactor: 1 });
    await produceRaw(client, 'epochs', 1, await batchOf(testRecords(7)));
    await produceRaw(client, 'epochs', 1, await batchOf(testRecords(3)));
  });
  afterAll(async () => {
    client?.close();
    await broker?.close();
  });

  async function ask(version: number, partitions: Array<{ topic?: string; partition: number; leaderEpoch: number; currentLeaderEpoch?: number }>): Promise<EpochEndOffset[]> {
    const byTopic = new Map<string, typeof partitions>();
    for (const p of partitions) byTopic.set(p.topic ?? 'epochs', [...(byTopic.get(p.topic ?? 'epochs') ?? []), p]);
    const res = await client.request(schemas.offsetForLeaderEpochRequest, schemas.offsetForLeaderEpochResponse, version, {
      replicaId: -1,
      topics: [...byTopic].map(([topic, ps]) => ({
        topic,
        partitions: ps.map((p) => ({ partition: p.partition, leaderEpoch: p.leaderEpoch, currentLeaderEpoch: p.currentLeaderEpoch ?? -1 })),
      })),
    });
    return res.topics.flatMap((t) => t.partitions);
  }

  it('answers the current epoch with the log end offset, at every version', async () => {
    for (let v = 0; v <= 4; v++) {
      const [p] = await ask(v, [{ partition: 1, leaderEpoch: 0 }]);
      // v0 has no leader epoch in its answer (decoded as the default -1)
      expect(p).toMatchObject({ errorCode: ErrorCode.NONE, partition: 1, endOffset: 10n, leaderEpoch: v >= 1 ? 0 : -1 });
    }
  });

  it('answers the current epoch of an empty partition with end offset 0', async () => {
    expect(await ask(4, [{ partition: 0, leaderEpoch: 0 }])).toEqual([{ errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 0n }]);
  });

  it('answers an epoch above every known one, and epoch -1, with leader epoch -1 and end offset -1', async () => {
    const answers = await ask(4, [
      { partition: 1, leaderEpoch: 1 },
      { partition: 1, leaderEpoch: -1 },
      { partition: 0, leaderEpoch: 3 },
    ]);
    expect(answers.map((a) => [a.errorCode, a.leaderEpoch, a.endOffset])).toEqual([
      [ErrorCode.NONE, -1, -1n],
      [ErrorCode.NONE, -1, -1n],
      [ErrorCode.NONE, -1, -1n],
    ]);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for unknown topics and partitions, per partition', async () => {
    const answers = await ask(3, [
      { topic: 'nope', partition: 0, leaderEpoch: 0 },
      { partition: 9, leaderEpoch: 0 },
      { partition: 1, leaderEpoch: 0 },
    ]);
    expect(answers.map((a) => [a.partition, a.errorCode, a.endOffset])).toEqual([
      [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
      [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
      [1, ErrorCode.NONE, 10n],
    ]);
  });

  it('checks current_leader_epoch (v2+): a newer one gets UNKNOWN_LEADER_EPOCH, ours or -1 is answered', async () => {
    const answers = await ask(2, [
      { partition: 1, leaderEpoch: 0, currentLeaderEpoch: 1 },
      { partition: 1, leaderEpoch: 0, currentLeaderEpoch: 0 },
      { partition: 1, leaderEpoch: 0, currentLeaderEpoch: -1 },
    ]);
    expect(answers.map((a) => [a.errorCode, a.endOffset])).toEqual([
      [ErrorCode.UNKNOWN_LEADER_EPOCH, -1n],
      [ErrorCode.NONE, 10n],
      [ErrorCode.NONE, 10n],
    ]);
  });

  it('is listed by ApiVersions as v0-4', async () => {
    const res = await client.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(res.apiKeys.find((k) => k.apiKey === 23)).toMatchObject({ minVersion: 0, maxVersion: 4 });
    expect(res.apiKeys.find((k) => k.apiKey === 22)).toMatchObject({ minVersion: 0, maxVersion: 5 });
  });
});
