/**
 * The limits that protect a broker exposed to clients, each a config with a default (README: Reliability):
 * max.connections and max.connections.per.ip, connections.max.idle.ms, gregor.request.read.timeout.ms,
 * queued.max.requests per connection, queued.max.request.bytes across the broker, and
 * gregor.fetch.response.max.memory.bytes; plus a zero-length request frame, which once crashed the broker.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker, type StartBrokerOptions } from '../../src/index.js';
import { FaultyFs } from '../../storage/index.js';
import { Compression } from '../../protocol/records/index.js';
import { decodeRecords } from '../helpers/fetch-records.js';
import { decompressionBombs } from '../helpers/fuzz-cases.js';
import { batchOf, produceRaw, produceRecords, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const brokers: RunningBroker[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.close().catch(() => undefined);
});

async function broker(opts: StartBrokerOptions): Promise<RunningBroker> {
  const b = await startBroker({ port: 0, logLevel: 'silent', ...opts });
  brokers.push(b);
  return b;
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

/** Resolves true when the server closes the socket within `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function socketTo(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.on('error', () => undefined);
    s.once('error', reject);
  });
}

async function apiVersionsWorks(c: RawClient): Promise<boolean> {
  return c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'limits', clientSoftwareVersion: '1' }).then(
    (r) => r.errorCode === ErrorCode.NONE,
    () => false,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('connection limits', () => {
  it('max.connections: a connection beyond the limit is held unanswered, not closed, and served in arrival order once one leaves (as Kafka\'s blocked acceptor)', async () => {
    const b = await broker({ config: { 'max.connections': 4 } });
    const admitted = await Promise.all(Array.from({ length: 4 }, () => client(b.port)));
    for (const c of admitted) expect(await apiVersionsWorks(c)).toBe(true);
    // TCP connects, and its request is read only once a slot frees
    const first = await client(b.port);
    let firstAnswered = false;
    const firstAnswer = apiVersionsWorks(first).then((ok) => (firstAnswered = ok));
    const second = await client(b.port);
    const secondAnswer = apiVersionsWorks(second);
    for (let i = 0; i < 200 && b.broker.connectionCounts.waiting < 2; i++) await sleep(10);
    expect(b.broker.connectionCounts.waiting).toBe(2);
    // a round trip on an admitted connection after the waiting one's request was sent: it was not answered
    expect(await apiVersionsWorks(admitted[1]!)).toBe(true);
    expect(firstAnswered).toBe(false);
    expect(first.isClosed).toBe(false);
    admitted[0]!.close();
    expect(await firstAnswer).toBe(true);
    expect(b.broker.connectionCounts.waiting).toBe(1);
    admitted[2]!.close();
    expect(await secondAnswer).toBe(true);
    expect(b.broker.connectionCounts).toMatchObject({ open: 4, waiting: 0, rejected: 0 });
  });

  it('max.connections: a waiting connection its client closes leaves the queue; beyond socket.listen.backlog.size waiting ones a connection is closed at once', async () => {
    const b = await broker({ config: { 'max.connections': 1, 'socket.listen.backlog.size': 5 } });
    const only = await client(b.port);
    expect(await apiVersionsWorks(only)).toBe(true);
    const waiting = await Promise.all(Array.from({ length: 5 }, () => socketTo(b.port)));
    for (let i = 0; i < 200 && b.broker.connectionCounts.waiting < 5; i++) await sleep(10);
    expect(b.broker.connectionCounts.waiting).toBe(5);
    const extra = await socketTo(b.port);
    expect(await closedWithin(extra, 2000)).toBe(true);
    expect(b.broker.connectionCounts.rejected).toBe(1);
    for (const s of waiting) s.destroy();
    for (let i = 0; i < 200 && b.broker.connectionCounts.waiting > 0; i++) await sleep(10);
    expect(b.broker.connectionCounts.waiting).toBe(0);
    // the closed waiting sockets took no slot: the next connection after the one admitted leaves is served
    const next = await client(b.port);
    const answer = apiVersionsWorks(next);
    only.close();
    expect(await answer).toBe(true);
    expect(b.broker.connectionCounts).toMatchObject({ open: 1, waiting: 0 });
  });

  it('max.connections.per.ip: the connection beyond the limit from one address is closed at once (as Kafka), another address is admitted', async () => {
    const b = await broker({ config: { 'max.connections.per.ip': 2 } });
    const first = await Promise.all([socketTo(b.port, '127.0.0.2'), socketTo(b.port, '127.0.0.2')]);
    const third = await socketTo(b.port, '127.0.0.2');
    expect(await closedWithin(third, 2000)).toBe(true);
    for (const s of first) expect(s.destroyed).toBe(false);
    // 127.0.0.1 has its own allowance
    expect(await apiVersionsWorks(await client(b.port))).toBe(true);
    for (const s of first) s.destroy();
  });

  it('connections.max.idle.ms closes a silent connection, not one with requests or one waiting for a long poll', async () => {
    const b = await broker({ config: { 'connections.max.idle.ms': 1000, 'group.initial.rebalance.delay.ms': 0 } });
    await b.broker.topics.create({ name: 'idle', numPartitions: 1, replicationFactor: 1, configs: {} });
    const silent = await socketTo(b.port);
    const busy = await client(b.port);
    const polling = await client(b.port);
    // a fetch parked for 3 s (no traffic meanwhile) is the broker keeping the client waiting
    const poll = polling.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
      replicaId: -1,
      maxWaitMs: 3000,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'idle', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const started = performance.now();
    const silentClosed = closedWithin(silent, 5000);
    // requests every 100 ms: ten times within the idle limit, so a loaded machine's pauses do not make it idle
    while (performance.now() - started < 3200) {
      expect(await apiVersionsWorks(busy)).toBe(true);
      await sleep(100);
    }
    expect(await silentClosed).toBe(true);
    expect((await poll).errorCode).toBe(ErrorCode.NONE);
    expect(polling.isClosed).toBe(false);
  });

  it('gregor.request.read.timeout.ms closes a connection whose request does not arrive whole in time, even while bytes trickle in', async () => {
    const b = await broker({ config: { 'gregor.request.read.timeout.ms': 600 } });
    const slow = await socketTo(b.port);
    const frame = Buffer.alloc(200);
    frame.writeInt32BE(196, 0);
    let at = 0;
    const trickle = setInterval(() => slow.writable && slow.write(frame.subarray(at, ++at)), 50);
    const started = performance.now();
    const closed = await closedWithin(slow, 5000);
    clearInterval(trickle);
    expect(closed).toBe(true);
    // closed by the read timeout (600 ms), not by the idle timeout (10 minutes)
    expect(performance.now() - started).toBeLessThan(4000);
    // a request arriving at a normal pace is served
    expect(await apiVersionsWorks(await client(b.port))).toBe(true);
  });

  it('closes the connection on a zero-length request frame and keeps serving others', async () => {
    const b = await broker({});
    const s = await socketTo(b.port);
    s.write(Buffer.alloc(4));
    expect(await closedWithin(s, 2000)).toBe(true);
    expect(await apiVersionsWorks(await client(b.port))).toBe(true);
  });
});

describe('back-pressure', () => {
  it('queued.max.requests: a connection pipelining requests behind a slow one is not read further', async () => {
    const fs = new FaultyFs();
    const b = await broker({ storageFs: fs, config: { 'queued.max.requests': 2 } });
    await b.broker.topics.create({ name: 'queued', numPartitions: 1, replicationFactor: 1, configs: {} });
    const c = await client(b.port);
    const gate = fs.hold('fdatasync');
    let results;
    try {
      const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => batchOf(testRecords(1, `q${i}`))));
      const answers = batches.map((batch) => produceRaw(c, 'queued', 0, batch, { acks: -1 }));
      for (let i = 0; i < 100 && gate.waiting === 0; i++) await sleep(10);
      await sleep(100);
      const [conn] = [...b.broker.connections];
      // one in progress (waiting for its fsync), two queued, the rest not taken in
      expect(conn!.inFlight).toBe(3);
      gate.release();
      results = await Promise.all(answers);
    } finally {
      gate.release();
    }
    expect(results.map((r) => Number(r.baseOffset))).toEqual(results.map((_, i) => i));
  });

  it('queued.max.request.bytes: a read that finds the budget full mutes its connection, requests hold only what arrived, and all go on once bytes are freed', async () => {
    const fs = new FaultyFs();
    const budget = 1024 * 1024;
    const b = await broker({ storageFs: fs, config: { 'queued.max.request.bytes': budget } });
    await b.broker.topics.create({ name: 'budget', numPartitions: 1, replicationFactor: 1, configs: {} });
    const gate = fs.hold('fdatasync');
    // the budget is exceeded by at most one socket read (64 KiB) per connection, and by one request read on
    // past it when half-arrived requests on muted connections hold all of it
    const bound = budget + 400 * 1024 + 200 + 4 * 64 * 1024;
    let results;
    try {
      const producers = await Promise.all(Array.from({ length: 4 }, () => client(b.port)));
      const batches = await Promise.all(producers.map((_, i) => batchOf(testRecords(1, `b${i}`, 400 * 1024))));
      const sends = producers.map((c, i) => produceRaw(c, 'budget', 0, batches[i]!, { acks: -1 }));
      // 1.6 MB of requests do not fit in 1 MiB: some connections are muted until the first ones are handled
      for (let i = 0; i < 200 && (b.broker.requestMemory.waiting === 0 || gate.waiting === 0); i++) await sleep(10);
      await sleep(100);
      expect(b.broker.requestMemory.waiting).toBeGreaterThan(0);
      expect(b.broker.requestMemory.used).toBeLessThanOrEqual(bound);
      gate.release();
      results = await Promise.all(sends);
    } finally {
      gate.release();
    }
    expect(results.map((r) => r.errorCode)).toEqual([0, 0, 0, 0]);
    expect(b.broker.requestMemory.peak).toBeLessThanOrEqual(bound);
    expect(b.broker.requestMemory.used).toBe(0);
    expect(b.broker.requestMemory.waiting).toBe(0);
  });

  it('gregor.fetch.response.max.memory.bytes: down-converted fetches (v0-3, built in memory) share the budget, get less than they asked for when it is short, and all complete', async () => {
    const budget = 1024 * 1024;
    const b = await broker({ config: { 'gregor.fetch.response.max.memory.bytes': budget, 'gregor.cache.bytes': 0 } });
    await b.broker.topics.create({ name: 'big', numPartitions: 1, replicationFactor: 1, configs: {} });
    const p = await client(b.port);
    for (let i = 0; i < 8; i++) await produceRecords(p, 'big', 0, testRecords(1, `big${i}`, 300 * 1024));
    const consumers = await Promise.all(Array.from({ length: 10 }, () => client(b.port)));
    const readAll = async (c: RawClient): Promise<{ records: number; fetches: number }> => {
      let offset = 0;
      let fetches = 0;
      while (offset < 8) {
        fetches++;
        const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 3, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 50 * 1024 * 1024,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 50 * 1024 * 1024, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
        const records = await decodeRecords(res.responses[0]!.partitions[0]!.records as Buffer | null);
        offset = records[records.length - 1]!.offset + 1;
      }
      return { records: offset, fetches };
    };
    const results = await Promise.all(consumers.map(readAll));
    expect(results.every((r) => r.records === 8)).toBe(true);
    // with 2.4 MB to read and 1 MiB to share, some fetches got less than everything
    expect(results.some((r) => r.fetches > 1)).toBe(true);
    // at most the budget, plus the one batch a fetch returns whole when the budget left it less
    expect(b.broker.fetchMemory.peak).toBeLessThanOrEqual(budget + 300 * 1024 + 200);
    expect(b.broker.fetchMemory.used).toBe(0);
  });

  it('gregor.fetch.response.max.memory.bytes: a v4+ fetch of records in segment files holds none of it (they are streamed), so no fetch waits for it', async () => {
    const b = await broker({ config: { 'gregor.fetch.response.max.memory.bytes': 1024 * 1024, 'gregor.cache.bytes': 0 } });
    await b.broker.topics.create({ name: 'big', numPartitions: 1, replicationFactor: 1, configs: {} });
    const p = await client(b.port);
    for (let i = 0; i < 8; i++) await produceRecords(p, 'big', 0, testRecords(1, `big${i}`, 300 * 1024));
    const consumers = await Promise.all(Array.from({ length: 10 }, () => client(b.port)));
    const results = await Promise.all(
      consumers.map(async (c) => {
        const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 50 * 1024 * 1024,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 50 * 1024 * 1024, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
        return (await decodeRecords(res.responses[0]!.partitions[0]!.records as Buffer | null)).length;
      }),
    );
    // 2.4 MB each, ten at once, with a 1 MiB budget: everything in one answer
    expect(results).toEqual(Array.from({ length: 10 }, () => 8));
    // (a pass takes what is free for cache slices it might use, and gives back what it did not use)
    expect(b.broker.fetchMemory.peak).toBeLessThanOrEqual(1024 * 1024);
    expect(b.broker.fetchMemory.used).toBe(0);
    expect(b.broker.fetchMemory.waiting).toBe(0);
  });

  it('gregor.decompression.max.memory.bytes: compressed batches inflate within the budget, bombs included, and a large valid one still goes in', async () => {
    const MiB = 1024 * 1024;
    const b = await broker({ config: { 'gregor.decompression.max.memory.bytes': 8 * MiB, 'gregor.max.decompressed.bytes': 8 * MiB } });
    await b.broker.topics.create({ name: 'zip', numPartitions: 1, replicationFactor: 1, configs: {} });
    const [gzipBomb] = await decompressionBombs(16 * MiB);
    const bombers = await Promise.all(Array.from({ length: 6 }, () => client(b.port)));
    const codes = await Promise.all(bombers.map((c) => produceRaw(c, 'zip', 0, gzipBomb!.batch, { version: 9 }).then((r) => r.errorCode)));
    expect(codes).toEqual(codes.map(() => ErrorCode.MESSAGE_TOO_LARGE));
    // 6 MiB of records: past the first 4 MiB allowance, within the limit
    const big = await batchOf(testRecords(6, 'big', MiB - 100), { compression: Compression.gzip });
    expect((await produceRaw(await client(b.port), 'zip', 0, big, { version: 9 })).errorCode).toBe(ErrorCode.NONE);
    expect(b.broker.decompressionMemory.peak).toBeLessThanOrEqual(8 * MiB);
    expect(b.broker.decompressionMemory.used).toBe(0);
  });
});
