/**
 * Fetch behaviour on a real broker, driven by the raw client: long poll woken
 * by appends, mid-batch fetches, size limits (KIP-74), incremental fetch
 * sessions (KIP-227), topic ids, isolation level and the per-partition errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, decode, encode, ErrorCode, schemas, ZERO_UUID, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { handlerFor } from '../../src/handlers/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { Session } from '../../src/session.js';
import { decodeRecords } from '../helpers/fetch-records.js';
import { produceRecords, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

type FetchRequest = MessageInput<typeof schemas.fetchRequest>;
type FetchResponse = MessageValue<typeof schemas.fetchResponse>;
type FetchPartition = FetchResponse['responses'][number]['partitions'][number];

interface Wanted {
  topic: string;
  partition: number;
  offset: number;
  maxBytes?: number;
  topicId?: string;
  currentLeaderEpoch?: number;
}

function fetchBody(wanted: Wanted[], extra: Partial<FetchRequest> = {}): FetchRequest {
  const topics: NonNullable<FetchRequest['topics']> = [];
  for (const w of wanted) {
    let t = topics.find((x) => x.topic === w.topic);
    if (!t) {
      t = { topic: w.topic, topicId: w.topicId ?? ZERO_UUID, partitions: [] };
      topics.push(t);
    }
    t.partitions!.push({
      partition: w.partition,
      fetchOffset: BigInt(w.offset),
      partitionMaxBytes: w.maxBytes ?? 1024 * 1024,
      currentLeaderEpoch: w.currentLeaderEpoch ?? -1,
      logStartOffset: -1n,
      lastFetchedEpoch: -1,
    });
  }
  return { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 50 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics, forgottenTopicsData: [], rackId: '', ...extra };
}

function partitionOf(res: FetchResponse, topic: string, partition: number): FetchPartition | undefined {
  return res.responses.filter((t) => t.topic === topic).flatMap((t) => t.partitions).find((p) => p.partitionIndex === partition);
}

function recordsSize(p: FetchPartition | undefined): number {
  return p?.records ? (p.records as Buffer).length : 0;
}

describe('Fetch', () => {
  let broker: RunningBroker;
  let client: RawClient;
  let producer: RawClient;

  const fetch = (version: number, body: FetchRequest): Promise<FetchResponse> =>
    client.request(schemas.fetchRequest, schemas.fetchResponse, version, body);

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    const topics = broker.broker.topics;
    await topics.create({ name: 'poll', numPartitions: 1, replicationFactor: 1, configs: {} });
    await topics.create({ name: 'batches', numPartitions: 1, replicationFactor: 1, configs: {} });
    await topics.create({ name: 'limits', numPartitions: 2, replicationFactor: 1, configs: {} });
    await topics.create({ name: 'sessions', numPartitions: 2, replicationFactor: 1, configs: {} });
    await topics.create({ name: 'zstd-topic', numPartitions: 1, replicationFactor: 1, configs: { 'compression.type': 'zstd' } });
    client = await RawClient.connect(broker.port);
    producer = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    producer?.close();
    await broker?.close();
  });

  describe('long poll', () => {
    it('a fetch waiting at the end of the log is woken by an append and returns the new records', async () => {
      const pending = fetch(12, fetchBody([{ topic: 'poll', partition: 0, offset: 0 }], { maxWaitMs: 50_000, minBytes: 1 }));
      // the fetch is parked (its connection answers nothing until it completes), then the append wakes it
      await new Promise((r) => setTimeout(r, 100));
      await produceRecords(producer, 'poll', 0, testRecords(3, 'woken'));
      const res = await pending;
      const records = await decodeRecords(partitionOf(res, 'poll', 0)!.records as Buffer);
      expect(records.map((r) => r.key)).toEqual(['woken-0', 'woken-1', 'woken-2']);
    });

    it('a fetch keeps waiting until min_bytes have been appended', async () => {
      const start = Number(partitionOf(await fetch(12, fetchBody([{ topic: 'poll', partition: 0, offset: 0 }])), 'poll', 0)!.highWatermark);
      const first = testRecords(1, 'small');
      const pending = fetch(12, fetchBody([{ topic: 'poll', partition: 0, offset: start }], { maxWaitMs: 50_000, minBytes: 3000 }));
      await new Promise((r) => setTimeout(r, 100));
      await produceRecords(producer, 'poll', 0, first);
      await produceRecords(producer, 'poll', 0, testRecords(1, 'big', 4000));
      const records = await decodeRecords(partitionOf(await pending, 'poll', 0)!.records as Buffer);
      expect(records.map((r) => r.key)).toEqual(['small-0', 'big-0']);
    });

    it('a fetch with nothing to return answers empty once max_wait_ms has passed', async () => {
      const hw = Number(partitionOf(await fetch(12, fetchBody([{ topic: 'poll', partition: 0, offset: 0 }])), 'poll', 0)!.highWatermark);
      const res = await fetch(12, fetchBody([{ topic: 'poll', partition: 0, offset: hw }], { maxWaitMs: 150, minBytes: 1 }));
      const p = partitionOf(res, 'poll', 0)!;
      expect(p.errorCode).toBe(ErrorCode.NONE);
      expect(recordsSize(p)).toBe(0);
      expect(Number(p.highWatermark)).toBe(hw);
    });

    it('an error answers at once even when min_bytes is not reached', async () => {
      const res = await fetch(12, fetchBody([{ topic: 'no-such-topic', partition: 0, offset: 0 }], { maxWaitMs: 50_000, minBytes: 1 }));
      expect(partitionOf(res, 'no-such-topic', 0)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });
  });

  describe('shutdown', () => {
    it('closing the broker answers a parked fetch instead of waiting out its max_wait_ms', async () => {
      const b = await startBroker({ port: 0 });
      await b.broker.topics.create({ name: 't', numPartitions: 1, replicationFactor: 1, configs: {} });
      const c = await RawClient.connect(b.port);
      const pending = c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 50_000, minBytes: 1 }));
      await new Promise((r) => setTimeout(r, 100));
      await b.close();
      const res = await pending;
      expect(partitionOf(res, 't', 0)!.errorCode).toBe(ErrorCode.NONE);
      expect(recordsSize(partitionOf(res, 't', 0))).toBe(0);
      c.close();
    });
  });

  describe('batches and size limits', () => {
    it('a fetch at an offset inside a batch returns the whole batch', async () => {
      const base = await produceRecords(producer, 'batches', 0, testRecords(10, 'mid'));
      const res = await fetch(12, fetchBody([{ topic: 'batches', partition: 0, offset: base + 5 }]));
      const records = await decodeRecords(partitionOf(res, 'batches', 0)!.records as Buffer);
      expect(records[0]!.offset).toBe(base);
      expect(records.map((r) => r.key)).toEqual(testRecords(10, 'mid').map((r) => r.key!.toString()));
    });

    it('the first batch is returned whole even when larger than max_bytes and partition_max_bytes (KIP-74); later partitions get nothing', async () => {
      await produceRecords(producer, 'limits', 0, testRecords(1, 'p0', 10_000));
      await produceRecords(producer, 'limits', 1, testRecords(1, 'p1', 10_000));
      const res = await fetch(12, fetchBody([
        { topic: 'limits', partition: 0, offset: 0, maxBytes: 1000 },
        { topic: 'limits', partition: 1, offset: 0, maxBytes: 1000 },
      ], { maxBytes: 1000 }));
      const p0 = partitionOf(res, 'limits', 0)!;
      expect((await decodeRecords(p0.records as Buffer)).map((r) => r.key)).toEqual(['p0-0']);
      expect(recordsSize(p0)).toBeGreaterThan(10_000);
      expect(recordsSize(partitionOf(res, 'limits', 1))).toBe(0);
    });

    it('partition_max_bytes limits how many further batches a partition returns', async () => {
      const base = await produceRecords(producer, 'limits', 1, testRecords(1, 'a', 4000));
      await produceRecords(producer, 'limits', 1, testRecords(1, 'b', 4000));
      await produceRecords(producer, 'limits', 1, testRecords(1, 'c', 4000));
      const res = await fetch(12, fetchBody([{ topic: 'limits', partition: 1, offset: base, maxBytes: 9000 }]));
      const p = partitionOf(res, 'limits', 1)!;
      expect((await decodeRecords(p.records as Buffer)).map((r) => r.key)).toEqual(['a-0', 'b-0']);
      expect(recordsSize(p)).toBeLessThanOrEqual(9000);
    });

    it('Fetch v2 has a hard limit: a first message larger than partition_max_bytes comes back cut at the limit', async () => {
      const res = await fetch(2, fetchBody([{ topic: 'limits', partition: 0, offset: 0, maxBytes: 1000 }]));
      const p = partitionOf(res, 'limits', 0)!;
      expect(recordsSize(p)).toBe(1000);
      expect(await decodeRecords(p.records as Buffer)).toEqual([]);
    });

    it('record sections are the storage\'s own buffers, not copies', async () => {
      const base = await produceRecords(producer, 'batches', 0, testRecords(4, 'same'));
      const log = broker.broker.topics.partition('batches', 0)!.log;
      const read = await log.read(base, 1024 * 1024);
      const handler = handlerFor(ApiKey.Fetch)!;
      const connection = { id: 0, remoteAddress: '127.0.0.1', remotePort: 0, close: () => {}, closeAfterResponse: () => {}, afterResponse: (done: () => void) => done(), detach: () => {}, whenClosed: () => {} };
      const session = new Session({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' });
      const header = { apiKey: ApiKey.Fetch, apiVersion: 12, correlationId: 1, clientId: null };
      const request = decode(schemas.fetchRequest, 12, encode(schemas.fetchRequest, 12, fetchBody([{ topic: 'batches', partition: 0, offset: base }])));
      const res = (await handler.handle({ services: broker.broker.services, session, connection, header, version: 12 }, request)) as { responses: Array<{ partitions: Array<{ records: Buffer[] }> }> };
      const chunks = res.responses[0]!.partitions[0]!.records;
      expect(chunks.length).toBe(read.chunks.length);
      // the same memory (views of the cache's slab), not copies of it
      chunks.forEach((c, i) => {
        const own = read.chunks[i]!;
        expect(c.buffer).toBe(own.buffer);
        expect([c.byteOffset, c.length]).toEqual([own.byteOffset, own.length]);
      });
    });

    it('max_bytes is capped by the broker config fetch.max.bytes', async () => {
      const small = await startBroker({ port: 0, config: { 'fetch.max.bytes': 5000 } });
      try {
        await small.broker.topics.create({ name: 't', numPartitions: 1, replicationFactor: 1, configs: {} });
        const c = await RawClient.connect(small.port);
        for (const k of ['a', 'b', 'c']) await produceRecords(c, 't', 0, testRecords(1, k, 2000));
        const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody([{ topic: 't', partition: 0, offset: 0 }]));
        expect((await decodeRecords(partitionOf(res, 't', 0)!.records as Buffer)).map((r) => r.key)).toEqual(['a-0', 'b-0']);
        c.close();
      } finally {
        await small.close();
      }
    });
  });

  describe('errors and fields', () => {
    it('a fetch offset past the log end gets OFFSET_OUT_OF_RANGE with -1 offsets and no records', async () => {
      const res = await fetch(12, fetchBody([{ topic: 'batches', partition: 0, offset: 1_000_000 }]));
      const p = partitionOf(res, 'batches', 0)!;
      expect(p.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
      expect(p.highWatermark).toBe(-1n);
      expect(recordsSize(p)).toBe(0);
    });

    it('an unknown partition of a known topic gets UNKNOWN_TOPIC_OR_PARTITION', async () => {
      const res = await fetch(12, fetchBody([{ topic: 'batches', partition: 7, offset: 0 }]));
      expect(partitionOf(res, 'batches', 7)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });

    it('Fetch v13+ names topics by id: a known id reads the topic, an unknown one gets UNKNOWN_TOPIC_ID', async () => {
      const topicId = broker.broker.topics.get('batches')!.topicId;
      const res = await fetch(13, fetchBody([
        { topic: '', topicId, partition: 0, offset: 0 },
        { topic: 'x', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partition: 0, offset: 0 },
      ]));
      const byId = new Map(res.responses.map((t) => [t.topicId, t.partitions[0]!]));
      expect(byId.get(topicId)!.errorCode).toBe(ErrorCode.NONE);
      expect((await decodeRecords(byId.get(topicId)!.records as Buffer)).length).toBeGreaterThan(0);
      expect(byId.get('AAAAAAAAAAAAAAAAAAAAAQ')!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    });

    it('READ_COMMITTED reports the last stable offset (= high watermark) and an empty aborted transaction list', async () => {
      const committed = partitionOf(await fetch(12, fetchBody([{ topic: 'batches', partition: 0, offset: 0 }], { isolationLevel: 1 })), 'batches', 0)!;
      expect(committed.lastStableOffset).toBe(committed.highWatermark);
      expect(committed.abortedTransactions).toEqual([]);
      expect(committed.logStartOffset).toBe(0n);
      expect(committed.preferredReadReplica).toBe(-1);
      const uncommitted = partitionOf(await fetch(12, fetchBody([{ topic: 'batches', partition: 0, offset: 0 }])), 'batches', 0)!;
      expect(uncommitted.abortedTransactions).toBeNull();
    });

    it('a current leader epoch newer than the broker\'s gets UNKNOWN_LEADER_EPOCH (v9+)', async () => {
      const res = await fetch(9, fetchBody([{ topic: 'batches', partition: 0, offset: 0, currentLeaderEpoch: 5 }]));
      expect(partitionOf(res, 'batches', 0)!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    });

    it('a topic with compression.type=zstd answers UNSUPPORTED_COMPRESSION_TYPE to Fetch below v10 and reads at v10', async () => {
      await produceRecords(producer, 'zstd-topic', 0, testRecords(2, 'z'));
      const old = await fetch(9, fetchBody([{ topic: 'zstd-topic', partition: 0, offset: 0 }]));
      expect(partitionOf(old, 'zstd-topic', 0)!.errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
      const res = await fetch(10, fetchBody([{ topic: 'zstd-topic', partition: 0, offset: 0 }]));
      const records = await decodeRecords(partitionOf(res, 'zstd-topic', 0)!.records as Buffer);
      expect(records.map((r) => r.key)).toEqual(['z-0', 'z-1']);
      expect(records[0]!.batch!.attributes & 7).toBe(4);
    });
  });

  describe('incremental fetch sessions', () => {
    it('a session answers only changed partitions, follows updated offsets, and checks ids and epochs', async () => {
      await produceRecords(producer, 'sessions', 0, testRecords(2, 's0'));
      await produceRecords(producer, 'sessions', 1, testRecords(2, 's1'));
      const full = await fetch(12, fetchBody([
        { topic: 'sessions', partition: 0, offset: 2 },
        { topic: 'sessions', partition: 1, offset: 2 },
      ], { sessionId: 0, sessionEpoch: 0 }));
      expect(full.errorCode).toBe(ErrorCode.NONE);
      const id = full.sessionId;
      expect(id).toBeGreaterThan(0);
      expect(full.responses.flatMap((t) => t.partitions)).toHaveLength(2);

      // nothing changed: an incremental fetch lists no partitions
      const quiet = await fetch(12, fetchBody([], { sessionId: id, sessionEpoch: 1 }));
      expect(quiet.sessionId).toBe(id);
      expect(quiet.responses).toEqual([]);

      // an append to partition 1: only partition 1 comes back, from the cached fetch offset
      await produceRecords(producer, 'sessions', 1, testRecords(1, 'new'));
      const changed = await fetch(12, fetchBody([], { sessionId: id, sessionEpoch: 2 }));
      expect(changed.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex))).toEqual([1]);
      expect((await decodeRecords(partitionOf(changed, 'sessions', 1)!.records as Buffer)).map((r) => r.key)).toEqual(['new-0']);

      // the client moves partition 1's offset forward; then nothing is new again
      const moved = await fetch(12, fetchBody([{ topic: 'sessions', partition: 1, offset: 3 }], { sessionId: id, sessionEpoch: 3 }));
      expect(moved.responses).toEqual([]);

      // wrong epoch, unknown id
      expect((await fetch(12, fetchBody([], { sessionId: id, sessionEpoch: 3 }))).errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      const unknown = await fetch(12, fetchBody([], { sessionId: id + 1, sessionEpoch: 1 }));
      expect(unknown.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      expect(unknown.sessionId).toBe(0);

      // forgetting partition 0, then an append to it is not reported
      await fetch(12, fetchBody([], { sessionId: id, sessionEpoch: 4, forgottenTopicsData: [{ topic: 'sessions', partitions: [0] }] }));
      await produceRecords(producer, 'sessions', 0, testRecords(1, 'forgotten'));
      expect((await fetch(12, fetchBody([], { sessionId: id, sessionEpoch: 5 }))).responses).toEqual([]);

      // epoch -1 closes the session
      const closed = await fetch(12, fetchBody([{ topic: 'sessions', partition: 0, offset: 0 }], { sessionId: id, sessionEpoch: -1 }));
      expect(closed.sessionId).toBe(0);
      expect((await fetch(12, fetchBody([], { sessionId: id, sessionEpoch: 6 }))).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    });

    it('an incremental fetch long-polls on the session\'s partitions and is woken by an append', async () => {
      const hw = Number(partitionOf(await fetch(12, fetchBody([{ topic: 'sessions', partition: 0, offset: 0 }])), 'sessions', 0)!.highWatermark);
      const full = await fetch(12, fetchBody([{ topic: 'sessions', partition: 0, offset: hw }], { sessionId: 0, sessionEpoch: 0 }));
      const pending = fetch(12, fetchBody([], { sessionId: full.sessionId, sessionEpoch: 1, maxWaitMs: 50_000, minBytes: 1 }));
      await new Promise((r) => setTimeout(r, 100));
      await produceRecords(producer, 'sessions', 0, testRecords(1, 'late'));
      const res = await pending;
      expect((await decodeRecords(partitionOf(res, 'sessions', 0)!.records as Buffer)).map((r) => r.key)).toEqual(['late-0']);
    });

    it('sessions use topic ids from v13: the session refuses a v12 request with FETCH_SESSION_TOPIC_ID_ERROR', async () => {
      const topicId = broker.broker.topics.get('sessions')!.topicId;
      const full = await fetch(13, fetchBody([{ topic: '', topicId, partition: 0, offset: 0 }], { sessionId: 0, sessionEpoch: 0 }));
      expect(full.sessionId).toBeGreaterThan(0);
      expect(full.responses[0]!.topicId).toBe(topicId);
      const res = await fetch(12, fetchBody([], { sessionId: full.sessionId, sessionEpoch: 1 }));
      expect(res.errorCode).toBe(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    });

    it('with max.incremental.fetch.session.cache.slots=0 no session is created, and incremental fetches are refused', async () => {
      const b = await startBroker({ port: 0, config: { 'max.incremental.fetch.session.cache.slots': 0 } });
      try {
        await b.broker.topics.create({ name: 't', numPartitions: 1, replicationFactor: 1, configs: {} });
        const c = await RawClient.connect(b.port);
        const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody([{ topic: 't', partition: 0, offset: 0 }], { sessionId: 0, sessionEpoch: 0 }));
        expect(res.sessionId).toBe(0);
        expect(partitionOf(res, 't', 0)!.errorCode).toBe(ErrorCode.NONE);
        c.close();
      } finally {
        await b.close();
      }
    });
  });
});
