/**
 * The share groups' metrics (KIP-932) of a real broker, scraped over HTTP while a raw client fetches
 * and acknowledges: records acquired, acknowledged by type, redelivered, archived, acquisition locks
 * that expired, and records in flight, per group, topic and partition.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { parseExposition, valueOf, type Sample } from '../helpers/prometheus-text.js';
import { RawClient } from '../helpers/raw-client.js';

const GROUP = 'metered';
const TOPIC = 'share-metrics';
const ACCEPT = 1;
const RELEASE = 2;
const REJECT = 3;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('share group metrics', () => {
  let broker: RunningBroker;
  let c: RawClient;
  let dataDir: string;
  let topicId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-metrics-'));
    broker = await startBroker({
      metrics: true,
      dataDir,
      port: 0,
      config: {
        'share.coordinator.state.topic.num.partitions': 3,
        'group.share.record.lock.duration.ms': 1000,
        'group.share.min.record.lock.duration.ms': 1000,
        'group.share.delivery.count.limit': 2,
      },
    });
    topicId = (await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} })).topicId;
    c = await RawClient.connect(broker.port, '127.0.0.1', 'share-metrics');
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`http://127.0.0.1:${broker.metricsPort!}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  }

  function fetchShare(epoch: number, acks: Array<{ firstOffset: number; lastOffset: number; types: number[] }> = []) {
    return c.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 2, {
      groupId: GROUP,
      memberId: 'member-1',
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

  const acquired = (res: Awaited<ReturnType<typeof fetchShare>>): Array<[number, number, number]> =>
    res.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords.map((a) => [Number(a.firstOffset), Number(a.lastOffset), a.deliveryCount] as [number, number, number])));

  it('counts acquisitions, acknowledgements by type, redeliveries, archives and lock timeouts per share-partition', async () => {
    const labels = { group: GROUP, topic: TOPIC, partition: '0' };
    // the first fetch starts the share-partition at the log end
    expect((await fetchShare(0)).errorCode).toBe(ErrorCode.NONE);
    const log = broker.broker.topics.partition(TOPIC, 0)!.log;
    await log.append(buildUncompressedBatch(Array.from({ length: 6 }, (_, i) => ({ key: null, value: Buffer.from(`r${i}`) }))), { leaderEpoch: 0 });

    expect(acquired(await fetchShare(1))).toEqual([[0, 5, 1]]);
    let s = await scrape();
    expect(valueOf(s, 'gregor_share_group_records_acquired_total', labels)).toBe(6);
    expect(valueOf(s, 'gregor_share_group_records_in_flight', labels)).toBe(6);

    // accept 0-1, release 2, reject 3; 4-5 are left to time out
    const res = await fetchShare(2, [
      { firstOffset: 0, lastOffset: 1, types: [ACCEPT] },
      { firstOffset: 2, lastOffset: 2, types: [RELEASE] },
      { firstOffset: 3, lastOffset: 3, types: [REJECT] },
    ]);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    // the released record comes back at once, delivered a second time
    expect(acquired(res)).toEqual([[2, 2, 2]]);
    s = await scrape();
    expect(valueOf(s, 'gregor_share_group_records_acknowledged_total', { ...labels, type: 'accept' })).toBe(2);
    expect(valueOf(s, 'gregor_share_group_records_acknowledged_total', { ...labels, type: 'release' })).toBe(1);
    expect(valueOf(s, 'gregor_share_group_records_acknowledged_total', { ...labels, type: 'reject' })).toBe(1);
    expect(valueOf(s, 'gregor_share_group_records_acquired_total', labels)).toBe(7);
    expect(valueOf(s, 'gregor_share_group_records_redelivered_total', labels)).toBe(1);
    expect(valueOf(s, 'gregor_share_group_records_archived_total', labels)).toBe(1);

    // 2, 4 and 5 hold their locks until they expire (1 s); 2 is then at the delivery count limit: archived
    for (let i = 0; i < 200; i++) {
      s = await scrape();
      if (valueOf(s, 'gregor_share_group_lock_timeouts_total', labels) >= 3) break;
      await sleep(50);
    }
    expect(valueOf(s, 'gregor_share_group_lock_timeouts_total', labels)).toBe(3);
    expect(valueOf(s, 'gregor_share_group_records_archived_total', labels)).toBe(2);
  });
});
