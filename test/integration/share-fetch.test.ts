/**
 * ShareFetch and ShareAcknowledge on a real broker, over the wire (raw
 * client): records acquired, accepted, released, rejected; acquisition locks
 * expiring and the records delivered again until the delivery count limit
 * archives them; share sessions' epochs and errors; a long poll woken by an
 * append; the close of a connection ending its share sessions (and its
 * waiting fetches acquiring nothing more); the share session limit; and the
 * share-partition state (start offset, per-record states and delivery
 * counts) after a restart on the same data directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { decodeRecords } from '../helpers/fetch-records.js';
import { RawClient } from '../helpers/raw-client.js';

const GROUP = 'queue';
const MEMBER = 'member-1';
const ACCEPT = 1;
const RELEASE = 2;
const REJECT = 3;

let dataDir: string;
let running: RunningBroker | undefined;
let client: RawClient | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-fetch-'));
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await running?.close();
  running = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const LOCK_CONFIG = {
  'group.share.record.lock.duration.ms': 1000,
  'group.share.min.record.lock.duration.ms': 1000,
  'group.share.delivery.count.limit': 2,
  'share.coordinator.state.topic.num.partitions': 3,
};

async function start(config: Record<string, string | number> = {}): Promise<RawClient> {
  running = await startBroker({ port: 0, dataDir, config: { 'share.coordinator.state.topic.num.partitions': 3, ...config } });
  client = await RawClient.connect(running.port);
  return client;
}

async function stop(): Promise<void> {
  client?.close();
  client = undefined;
  await running?.close();
  running = undefined;
}

async function createTopic(name: string): Promise<string> {
  const info = await running!.broker.topics.create({ name, numPartitions: 1, replicationFactor: 1, configs: {} });
  return info.topicId;
}

/** Appends `count` records as one batch; returns its base offset. */
async function produce(topic: string, count: number): Promise<number> {
  const log = running!.broker.topics.partition(topic, 0)!.log;
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) }));
  return (await log.append(buildUncompressedBatch(records), { leaderEpoch: 0 })).baseOffset;
}

interface FetchOpts {
  epoch: number;
  memberId?: string;
  maxWaitMs?: number;
  minBytes?: number;
  maxRecords?: number;
  maxBytes?: number;
  acks?: Array<{ firstOffset: number; lastOffset: number; types: number[] }>;
}

function shareFetch(c: RawClient, topicId: string, o: FetchOpts) {
  return c.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 2, {
    groupId: GROUP,
    memberId: o.memberId ?? MEMBER,
    shareSessionEpoch: o.epoch,
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: o.minBytes ?? 1,
    maxBytes: o.maxBytes ?? 1 << 20,
    maxRecords: o.maxRecords ?? 500,
    batchSize: 500,
    topics: [
      {
        topicId,
        partitions: [
          {
            partitionIndex: 0,
            acknowledgementBatches: (o.acks ?? []).map((a) => ({ firstOffset: BigInt(a.firstOffset), lastOffset: BigInt(a.lastOffset), acknowledgeTypes: a.types })),
          },
        ],
      },
    ],
    forgottenTopicsData: [],
  });
}

function shareAcknowledge(c: RawClient, topicId: string, epoch: number, acks: Array<{ firstOffset: number; lastOffset: number; types: number[] }>, memberId = MEMBER) {
  return c.request(schemas.shareAcknowledgeRequest, schemas.shareAcknowledgeResponse, 2, {
    groupId: GROUP,
    memberId,
    shareSessionEpoch: epoch,
    topics: [
      {
        topicId,
        partitions: [{ partitionIndex: 0, acknowledgementBatches: acks.map((a) => ({ firstOffset: BigInt(a.firstOffset), lastOffset: BigInt(a.lastOffset), acknowledgeTypes: a.types })) }],
      },
    ],
  });
}

type FetchResponse = Awaited<ReturnType<typeof shareFetch>>;

function acquired(res: FetchResponse): Array<[number, number, number]> {
  return res.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords.map((a) => [Number(a.firstOffset), Number(a.lastOffset), a.deliveryCount] as [number, number, number])));
}

async function persisted(topicId: string) {
  const res = await running!.broker.shareCoordinator.read({ groupId: GROUP, topics: [{ topicId, partitions: [{ partition: 0, leaderEpoch: -1 }] }] });
  return res.topics[0]!.partitions[0]!;
}

function sharePartition(topicId: string) {
  return running!.broker.shareFetches.partitions.sharePartition(GROUP, topicId, 0);
}

describe('ShareFetch and ShareAcknowledge', () => {
  it('acquires records, and accept / release / reject move them as KIP-932 says', async () => {
    const c = await start();
    const topicId = await createTopic('jobs');
    // the first fetch starts the share-partition at the log end (share.auto.offset.reset=latest)
    const first = await shareFetch(c, topicId, { epoch: 0 });
    expect(first.errorCode).toBe(ErrorCode.NONE);
    expect(first.acquisitionLockTimeoutMs).toBe(30000);
    expect(acquired(first)).toEqual([]);
    await produce('jobs', 2);
    await produce('jobs', 2);
    await produce('jobs', 2);

    const res = await shareFetch(c, topicId, { epoch: 1 });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(acquired(res)).toEqual([[0, 5, 1]]);
    const records = await decodeRecords(res.responses[0]!.partitions[0]!.records);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);

    // a second member finds nothing: every record is acquired
    const ack = await shareAcknowledge(c, topicId, 2, [
      { firstOffset: 0, lastOffset: 1, types: [ACCEPT] },
      { firstOffset: 2, lastOffset: 3, types: [RELEASE] },
      { firstOffset: 4, lastOffset: 5, types: [REJECT] },
    ]);
    expect(ack.errorCode).toBe(ErrorCode.NONE);
    expect(ack.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);

    // the released records come again, delivered a second time
    const again = await shareFetch(c, topicId, { epoch: 3 });
    expect(acquired(again)).toEqual([[2, 3, 2]]);

    // records another member holds cannot be acknowledged: INVALID_RECORD_STATE
    expect((await shareFetch(c, topicId, { epoch: 0, memberId: 'member-2' })).errorCode).toBe(ErrorCode.NONE);
    const foreign = await shareAcknowledge(c, topicId, 1, [{ firstOffset: 2, lastOffset: 3, types: [ACCEPT] }], 'member-2');
    expect(foreign.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    // acknowledged by their holder, piggybacked on a ShareFetch
    const piggy = await shareFetch(c, topicId, { epoch: 4, acks: [{ firstOffset: 2, lastOffset: 3, types: [ACCEPT] }] });
    expect(piggy.responses[0]!.partitions[0]!.acknowledgeErrorCode).toBe(ErrorCode.NONE);

    expect(sharePartition(topicId)?.startOffset()).toBe(6);
    // what is persisted: every record's end, from the start offset of the last write on
    const state = await persisted(topicId);
    expect(state.startOffset).toBe(2);
    expect(state.stateBatches).toEqual([
      { firstOffset: 2, lastOffset: 3, deliveryState: 2, deliveryCount: 2 },
      { firstOffset: 4, lastOffset: 5, deliveryState: 4, deliveryCount: 1 },
    ]);
  });

  it('checks share session epochs', async () => {
    const c = await start();
    const topicId = await createTopic('epochs');
    expect((await shareAcknowledge(c, topicId, 1, [])).errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    expect((await shareFetch(c, topicId, { epoch: 0 })).errorCode).toBe(ErrorCode.NONE);
    expect((await shareAcknowledge(c, topicId, 0, [])).errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    expect((await shareFetch(c, topicId, { epoch: 5 })).errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    expect((await shareFetch(c, topicId, { epoch: 1 })).errorCode).toBe(ErrorCode.NONE);
    // acknowledgements in the request that opens a session
    expect((await shareFetch(c, topicId, { epoch: 0, acks: [{ firstOffset: 0, lastOffset: 0, types: [ACCEPT] }] })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // closing: the session is gone afterwards
    expect((await shareFetch(c, topicId, { epoch: 0 })).errorCode).toBe(ErrorCode.NONE);
    expect((await shareAcknowledge(c, topicId, -1, [])).errorCode).toBe(ErrorCode.NONE);
    expect((await shareFetch(c, topicId, { epoch: 1 })).errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
  });

  it('redelivers records whose acquisition lock expired, and archives them at the delivery count limit', async () => {
    const c = await start(LOCK_CONFIG);
    const topicId = await createTopic('locks');
    await shareFetch(c, topicId, { epoch: 0 });
    await produce('locks', 3);
    expect(acquired(await shareFetch(c, topicId, { epoch: 1 }))).toEqual([[0, 2, 1]]);
    // the lock (1 s) expires: the records are available again; the fetch waits for them
    expect(acquired(await shareFetch(c, topicId, { epoch: 2, maxWaitMs: 5000 }))).toEqual([[0, 2, 2]]);
    // the second expiry reaches the limit (2): archived, never delivered again
    await expect.poll(() => sharePartition(topicId)?.startOffset(), { timeout: 5000 }).toBe(3);
    expect(acquired(await shareFetch(c, topicId, { epoch: 3 }))).toEqual([]);
    await expect.poll(async () => (await persisted(topicId)).stateBatches, { timeout: 5000 }).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryState: 4, deliveryCount: 2 }]);
  });

  it('the close of the connection that opened a share session ends it and releases its records at once (not at lock expiry)', async () => {
    const c = await start();
    const topicId = await createTopic('disconnect');
    const a = await RawClient.connect(running!.port);
    await shareFetch(a, topicId, { epoch: 0 });
    await produce('disconnect', 4);
    expect(acquired(await shareFetch(a, topicId, { epoch: 1 }))).toEqual([[0, 3, 1]]);
    // member-2 opens its session on a connection it then moves away from: that one's close does not end it
    const old = await RawClient.connect(running!.port);
    await shareFetch(old, topicId, { epoch: 0, memberId: 'member-2' });
    expect(acquired(await shareFetch(c, topicId, { epoch: 0, memberId: 'member-2' }))).toEqual([]);
    old.close();
    a.close();
    // the lock is 30 s: the records come back because the connection closed
    const res = await shareFetch(c, topicId, { epoch: 1, memberId: 'member-2', maxWaitMs: 5000 });
    expect(acquired(res)).toEqual([[0, 3, 2]]);
    expect(running!.broker.shareFetches.sessions.get(GROUP, MEMBER)).toBeUndefined();
    expect(running!.broker.shareFetches.sessions.get(GROUP, 'member-2')?.epoch).toBe(2);
  });

  it('a fetch still waiting when its connection closes acquires nothing more: the records go to another member at once', async () => {
    const c = await start();
    const topicId = await createTopic('closing');
    const a = await RawClient.connect(running!.port);
    await shareFetch(a, topicId, { epoch: 0 });
    await produce('closing', 4);
    expect(acquired(await shareFetch(a, topicId, { epoch: 1 }))).toEqual([[0, 3, 1]]);
    // member-1 asks for more and waits (nothing else is there); then its connection closes
    const waiting = shareFetch(a, topicId, { epoch: 2, maxWaitMs: 30000 }).catch(() => undefined);
    await expect.poll(() => running!.broker.shareFetches.sessions.get(GROUP, MEMBER)?.epoch, { timeout: 5000 }).toBe(3);
    a.close();
    await expect.poll(() => running!.broker.shareFetches.sessions.get(GROUP, MEMBER), { timeout: 5000 }).toBeUndefined();
    await produce('closing', 2);
    // the released records and the new ones are member-2's: the closed connection's fetch, woken by the
    // release and by the append, took none of them (held, they would come back only at lock expiry, 30 s)
    const got = await shareFetch(c, topicId, { epoch: 0, memberId: 'member-2', maxWaitMs: 5000 });
    expect(acquired(got)).toEqual([
      [0, 3, 2],
      [4, 5, 1],
    ]);
    await waiting;
  });

  it('answers SHARE_SESSION_LIMIT_REACHED to a new share session while group.share.max.share.sessions are open', async () => {
    const c = await start({ 'group.share.max.share.sessions': 1, 'group.share.max.size': 1 });
    const topicId = await createTopic('sessions');
    expect((await shareFetch(c, topicId, { epoch: 0 })).errorCode).toBe(ErrorCode.NONE);
    // a second member's session does not fit (answered after its MaxWaitMs, as Kafka)
    const full = await shareFetch(c, topicId, { epoch: 0, memberId: 'member-2', maxWaitMs: 100 });
    expect(full.errorCode).toBe(ErrorCode.SHARE_SESSION_LIMIT_REACHED);
    expect(full.responses).toEqual([]);
    // the member's own session opens again (its old one goes first) and goes on
    expect((await shareFetch(c, topicId, { epoch: 0 })).errorCode).toBe(ErrorCode.NONE);
    expect((await shareFetch(c, topicId, { epoch: 1 })).errorCode).toBe(ErrorCode.NONE);
    // once it is closed there is room again
    expect((await shareFetch(c, topicId, { epoch: -1 })).errorCode).toBe(ErrorCode.NONE);
    expect((await shareFetch(c, topicId, { epoch: 0, memberId: 'member-2' })).errorCode).toBe(ErrorCode.NONE);
  });

  it('a fetch of large records reads on until it holds MaxRecords: 500 records of 10 KB, in batches of 50, with a MaxBytes of 50 MiB', async () => {
    const c = await start({ 'gregor.cache.bytes': 0 });
    const topicId = await createTopic('big');
    // the first fetch starts the share-partition at the log end (empty)
    expect(acquired(await shareFetch(c, topicId, { epoch: 0 }))).toEqual([]);
    const log = running!.broker.topics.partition('big', 0)!.log;
    const value = Buffer.alloc(10_000, 7);
    for (let b = 0; b < 12; b++) {
      const records = Array.from({ length: 50 }, () => ({ key: null, value }));
      await log.append(buildUncompressedBatch(records), { leaderEpoch: 0 });
    }
    const res = await shareFetch(c, topicId, { epoch: 1, maxRecords: 500, maxBytes: 50 << 20 });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    // whole batches up to MaxRecords: offsets 0-499, all in one fetch, each record whole
    expect(acquired(res)).toEqual([[0, 499, 1]]);
    const part = res.responses[0]!.partitions[0]!;
    const values = (await decodeRecords(part.records)).map((r) => r.value);
    expect(values).toHaveLength(500);
    expect(values.every((v) => v !== null && v.length === 10_000)).toBe(true);
  });

  it('a waiting fetch is woken by an append', async () => {
    const c = await start();
    const topicId = await createTopic('wake');
    await shareFetch(c, topicId, { epoch: 0 });
    const waiting = shareFetch(c, topicId, { epoch: 1, maxWaitMs: 20000 });
    await new Promise((r) => setTimeout(r, 100));
    await produce('wake', 1);
    const started = Date.now();
    expect(acquired(await waiting)).toEqual([[0, 0, 1]]);
    // generous bound: woken, not timed out
    expect(Date.now() - started).toBeLessThan(10000);
  });

  it('keeps the start offset and each record\'s state and delivery count across a restart', async () => {
    let c = await start();
    const topicId = await createTopic('durable');
    await shareFetch(c, topicId, { epoch: 0 });
    await produce('durable', 4);
    await produce('durable', 4);
    expect(acquired(await shareFetch(c, topicId, { epoch: 1 }))).toEqual([[0, 7, 1]]);
    const ack = await shareAcknowledge(c, topicId, 2, [
      { firstOffset: 0, lastOffset: 1, types: [ACCEPT] },
      { firstOffset: 2, lastOffset: 3, types: [RELEASE] },
      { firstOffset: 4, lastOffset: 7, types: [REJECT, ACCEPT, RELEASE, ACCEPT] },
    ]);
    expect(ack.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    await stop();

    c = await start();
    await running!.broker.shareCoordinator.whenLoaded();
    const state = await persisted(topicId);
    expect(state.errorCode).toBe(ErrorCode.NONE);
    expect(state.startOffset).toBe(0);
    expect(state.stateBatches).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryState: 2, deliveryCount: 1 },
      { firstOffset: 2, lastOffset: 3, deliveryState: 0, deliveryCount: 1 },
      { firstOffset: 4, lastOffset: 4, deliveryState: 4, deliveryCount: 1 },
      { firstOffset: 5, lastOffset: 5, deliveryState: 2, deliveryCount: 1 },
      { firstOffset: 6, lastOffset: 6, deliveryState: 0, deliveryCount: 1 },
      { firstOffset: 7, lastOffset: 7, deliveryState: 2, deliveryCount: 1 },
    ]);
    // a new session of the restarted broker gets the released records again, delivered a second time
    expect(acquired(await shareFetch(c, topicId, { epoch: 0 }))).toEqual([
      [2, 3, 2],
      [6, 6, 2],
    ]);
    // loaded, the share-partition starts past the acknowledged records
    expect(sharePartition(topicId)?.startOffset()).toBe(2);
    expect(sharePartition(topicId)?.recordState(4)?.state).toBe(4);
    expect(sharePartition(topicId)?.recordState(5)?.state).toBe(2);
  });
});
