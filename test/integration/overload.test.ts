/**
 * Overload, with the broker in its own process (startBroker over storage's FaultyFs in a child, so its RSS
 * is its own and the disk can be made slow by holding fdatasync):
 * - producers pushing acks=all requests faster than the disk can sync them: the broker stops reading their
 *   sockets once queued.max.request.bytes of requests wait, so its memory stays bounded; once the disk
 *   catches up every request is answered, and every acknowledged record reads back;
 * - consumers fetching large batches all at once, not reading their sockets promptly: fetch responses stay
 *   within gregor.fetch.response.max.memory.bytes, and every consumer still gets everything.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponseFrame, encodeRequestFrame, ErrorCode, schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/index.js';
import { ensureBuilt, killAll, spawnEmbedded, type BrokerProcess } from '../helpers/broker-process.js';
import { decodeRecords, fetchAll } from '../helpers/fetch-records.js';
import { RawClient } from '../helpers/raw-client.js';

const MIB = 1024 * 1024;
const dirs: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(() => ensureBuilt(), 300_000);
afterEach(() => killAll());
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function embedded(config: Record<string, string | number>): Promise<BrokerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gregor-overload-'));
  dirs.push(dataDir);
  return spawnEmbedded({ dataDir, config: { 'auto.create.topics.enable': false, ...config } });
}

async function createTopic(port: number, name: string, partitions: number): Promise<void> {
  const c = await RawClient.connect(port);
  const res = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  c.close();
  expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE);
}

interface Stats {
  requestPeak: number;
  requestUsed: number;
  fetchPeak: number;
  fetchUsed: number;
}

async function stats(b: BrokerProcess): Promise<Stats> {
  return JSON.parse((await b.command('stats', 'stats ')).slice('stats '.length)) as Stats;
}

/** Peak RSS of the broker over a period, sampled every 20 ms. */
function sampleRss(b: BrokerProcess): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, b.memory()?.rss ?? 0);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, b.memory()?.rss ?? 0);
    },
  };
}

/**
 * A producer connection writing the same Produce request (acks=all) back to back for as long as the socket
 * takes it, and reading the answers: one per request, in order.
 */
class FloodingProducer {
  sent = 0;
  readonly answers: Array<{ errorCode: number; baseOffset: number }> = [];
  private received = Buffer.alloc(0);
  private flooding = true;
  readonly done: Promise<void>;
  private socket: net.Socket;

  constructor(port: number, frame: Buffer) {
    this.socket = net.connect({ port, host: '127.0.0.1' });
    this.socket.setNoDelay(true);
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.done = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.socket.on('connect', () => {
      const pump = (): void => {
        while (this.flooding) {
          this.sent++;
          if (!this.socket.write(frame)) {
            this.socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  }

  stop(): void {
    this.flooding = false;
  }

  /** Resolves once every request sent has its answer. */
  async answered(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (this.answers.length < this.sent && performance.now() < until) await sleep(20);
    return this.answers.length === this.sent;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    while (this.received.length >= 4 && this.received.length >= 4 + this.received.readInt32BE(0)) {
      const size = this.received.readInt32BE(0);
      const p = decodeResponseFrame(schemas.produceResponse, 9, this.received.subarray(4, 4 + size)).body.responses[0]!.partitionResponses[0]!;
      this.answers.push({ errorCode: p.errorCode, baseOffset: Number(p.baseOffset) });
      this.received = this.received.subarray(4 + size);
    }
  }
}

describe('overload', () => {
  it('keeps memory bounded while producers push acks=all requests faster than the disk syncs them, and loses nothing acknowledged', async () => {
    const budget = 16 * MIB;
    const b = await embedded({ 'queued.max.request.bytes': budget, 'gregor.cache.bytes': 4 * MIB });
    await createTopic(b.port, 'flood', 4);
    const connections = 16;
    const frames = Array.from({ length: connections }, (_, c) => {
      const records = Array.from({ length: 8 }, (_, i) => ({ key: Buffer.from(`c${c}-${i}`), value: Buffer.alloc(32 * 1024, c) }));
      const batch = buildUncompressedBatch(records, { timestamp: 1_700_000_000_000 });
      return Buffer.concat(
        encodeRequestFrame(schemas.produceRequest, 9, c, 'flood', { transactionalId: null, acks: -1, timeoutMs: 60_000, topicData: [{ name: 'flood', partitionData: [{ index: c % 4, records: batch }] }] }),
      );
    });
    const baseline = b.memory()!.rss;
    await b.command('hold fdatasync', 'held');
    const rss = sampleRss(b);
    const producers = frames.map((f) => new FloodingProducer(b.port, f));
    // the disk syncs nothing for 1.5 s, then a little every 300 ms
    await sleep(1500);
    for (let i = 0; i < 4; i++) {
      await b.command('release', 'released');
      await sleep(20);
      await b.command('hold fdatasync', 'held');
      await sleep(300);
    }
    for (const p of producers) p.stop();
    const during = await stats(b);
    await b.command('release', 'released');
    const allAnswered = await Promise.all(producers.map((p) => p.answered(60_000)));
    const peakRss = rss.stop();
    for (const p of producers) p.close();
    const after = await stats(b);

    const sentBytes = producers.reduce((n, p) => n + p.sent * frames[0]!.length, 0);
    console.log(
      `overload report (produce): ${JSON.stringify({
        connections,
        requestBytes: frames[0]!.length,
        requestsSent: producers.reduce((n, p) => n + p.sent, 0),
        sentMiB: Math.round(sentBytes / MIB),
        requestBudgetMiB: budget / MIB,
        requestBudgetPeakMiB: Number((after.requestPeak / MIB).toFixed(1)),
        baselineRssMiB: Math.round(baseline / MIB),
        peakRssMiB: Math.round(peakRss / MIB),
      })}`,
    );
    expect(allAnswered.every(Boolean)).toBe(true);
    expect(producers.every((p) => p.answers.every((a) => a.errorCode === ErrorCode.NONE))).toBe(true);
    // the clients pushed more than the broker held
    expect(sentBytes).toBeGreaterThan(budget * 2);
    // request bytes are counted as they arrive: a read that finds the budget full is counted, then its
    // connection is muted, so the budget is exceeded by at most one socket read (64 KiB) per connection, and
    // by the rest of one request when half-arrived requests on muted connections hold all of it
    expect(during.requestPeak).toBeLessThanOrEqual(budget + connections * 64 * 1024 + frames[0]!.length);
    expect(after.requestUsed).toBe(0);
    expect(peakRss - baseline).toBeLessThan(160 * MIB);

    // every acknowledged request's records are where its answer said
    const client = await RawClient.connect(b.port);
    const keyAt = new Map<string, string>();
    for (let partition = 0; partition < 4; partition++) {
      for (const r of await fetchAll(client, 'flood', partition, 0, { maxBytes: 8 * MIB })) keyAt.set(`${partition}:${r.offset}`, r.key!);
    }
    client.close();
    const misplaced: string[] = [];
    producers.forEach((p, c) => {
      for (const a of p.answers) {
        for (let i = 0; i < 8; i++) if (keyAt.get(`${c % 4}:${a.baseOffset + i}`) !== `c${c}-${i}`) misplaced.push(`c${c}-${i} at ${a.baseOffset + i}`);
      }
    });
    expect(misplaced.slice(0, 5)).toEqual([]);
  }, 120_000);

  it('keeps fetch responses within their memory budget when many consumers fetch large batches at once', async () => {
    const budget = 16 * MIB;
    const b = await embedded({ 'gregor.fetch.response.max.memory.bytes': budget, 'gregor.cache.bytes': 0 });
    await createTopic(b.port, 'wide', 1);
    const producer = await RawClient.connect(b.port);
    const batches = 16;
    for (let i = 0; i < batches; i++) {
      // just under message.max.bytes
      const batch = buildUncompressedBatch([{ key: Buffer.from(`b${i}`), value: Buffer.alloc(1_000_000, i) }], { timestamp: 1_700_000_000_000 });
      const res = await producer.request(schemas.produceRequest, schemas.produceResponse, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: 'wide', partitionData: [{ index: 0, records: batch }] }] });
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
    }
    producer.close();
    const baseline = b.memory()!.rss;
    const rss = sampleRss(b);
    const consumers = 16;
    /** Fetches everything from offset 0, each time leaving the answer unread in the socket for a while. */
    const consume = async (): Promise<{ fetches: number; records: number }> => {
      const socket = net.connect({ port: b.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      await new Promise<void>((r) => socket.on('connect', () => r()));
      let offset = 0;
      let fetches = 0;
      let received = Buffer.alloc(0);
      while (offset < batches) {
        fetches++;
        socket.pause();
        for (const chunk of encodeRequestFrame(schemas.fetchRequest, 12, fetches, 'wide', {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 64 * MIB,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 'wide', partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 64 * MIB, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
          forgottenTopicsData: [],
          rackId: '',
        })) {
          socket.write(chunk);
        }
        await sleep(50);
        socket.resume();
        const frame = await new Promise<Buffer>((resolve) => {
          const onData = (chunk: Buffer): void => {
            received = Buffer.concat([received, chunk]);
            if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
              socket.off('data', onData);
              const size = received.readInt32BE(0);
              resolve(received.subarray(4, 4 + size));
              received = received.subarray(4 + size);
            }
          };
          socket.on('data', onData);
          onData(Buffer.alloc(0));
        });
        const p = decodeResponseFrame(schemas.fetchResponse, 12, frame).body.responses[0]!.partitions[0]!;
        const records = await decodeRecords(p.records as Buffer | null);
        offset = records[records.length - 1]!.offset + 1;
      }
      socket.destroy();
      return { fetches, records: offset };
    };
    const results = await Promise.all(Array.from({ length: consumers }, consume));
    const peakRss = rss.stop();
    const s = await stats(b);
    console.log(
      `overload report (fetch): ${JSON.stringify({
        consumers,
        logMB: batches,
        fetchBudgetMiB: budget / MIB,
        fetchBudgetPeakMiB: Number((s.fetchPeak / MIB).toFixed(1)),
        fetches: results.reduce((n, r) => n + r.fetches, 0),
        baselineRssMiB: Math.round(baseline / MIB),
        peakRssMiB: Math.round(peakRss / MIB),
      })}`,
    );
    expect(results.every((r) => r.records === batches)).toBe(true);
    // at most the budget, plus the one batch a fetch returns whole when the budget left it less
    expect(s.fetchPeak).toBeLessThanOrEqual(budget + MIB + 1024);
    expect(s.fetchUsed).toBe(0);
    // without the budget the 16 answers of 16 MB would be held at once (about 250 MiB)
    expect(peakRss - baseline).toBeLessThan(200 * MIB);
  }, 120_000);
});
