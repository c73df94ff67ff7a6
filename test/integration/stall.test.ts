/**
 * No client stalls the others (README: Durability and limits): the two attacks of a client that holds
 * shared memory without doing anything, each against a broker in its own process with the default limits,
 * while another client must be answered within a generous bound and the broker's memory stays bounded.
 *
 * - Requests: size prefixes that announce socket.request.max.bytes and then a few bytes hold only those few
 *   bytes of queued.max.request.bytes; they used to reserve all they announced, and everything else queued
 *   behind them until gregor.request.read.timeout.ms closed them (60 s).
 * - Fetch responses: huge fetches whose responses are never read hold only a bounded window each (record
 *   data is streamed from the segment files as the socket drains); they used to hold
 *   gregor.fetch.response.max.memory.bytes until they disconnected, and a 1 MiB fetch waited all that time.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponseFrame, encodeRequestFrame, ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { ensureBuilt, killAll, spawnEmbedded, type BrokerProcess } from '../helpers/broker-process.js';
import { decodeRecords, fetchRequestBody } from '../helpers/fetch-records.js';
import { produceRecords, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const MIB = 1024 * 1024;
const dirs: string[] = [];
const sockets: net.Socket[] = [];
const clients: RawClient[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(() => ensureBuilt(), 300_000);
const inProcess: RunningBroker[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) c.close();
  killAll();
  for (const b of inProcess.splice(0)) await b.close().catch(() => undefined);
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function embedded(config: Record<string, string | number> = {}): Promise<BrokerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gregor-stall-'));
  dirs.push(dataDir);
  return spawnEmbedded({ dataDir, config: { 'auto.create.topics.enable': false, ...config } });
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', () => undefined);
    sockets.push(s);
  });
}

interface Stats {
  requestUsed: number;
  requestPeak: number;
  fetchUsed: number;
  fetchPeak: number;
}

async function stats(b: BrokerProcess): Promise<Stats> {
  return JSON.parse((await b.command('stats', 'stats ')).slice('stats '.length)) as Stats;
}

/** Resolves with the promise's value, or rejects when it takes longer than `ms` (a stall). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

type FetchBody = MessageInput<typeof schemas.fetchRequest>;

/** A Fetch from offset 0 of `partitions` of `topic`. */
function fetchBody(topic: string, partitions: number[], maxBytes: number): FetchBody {
  return fetchRequestBody(topic, partitions.map((partition) => ({ partition, fetchOffset: 0 })), maxBytes);
}

/** Metadata, Produce and a 1 MiB Fetch on `c`, each answered within `ms`. */
async function normalClientWorks(c: RawClient, topic: string, ms: number): Promise<void> {
  const metadata = await within(ms, 'Metadata', c.request(schemas.metadataRequest, schemas.metadataResponse, 9, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }));
  expect(metadata.topics.map((t) => t.name)).toContain(topic);
  await within(ms, 'Produce', produceRecords(c, topic, 0, testRecords(1, 'normal')));
  const fetched = await within(ms, 'Fetch', c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody(topic, [0], MIB)));
  const p = fetched.responses[0]!.partitions[0]!;
  expect(p.errorCode).toBe(ErrorCode.NONE);
  expect((await decodeRecords(p.records as Buffer | null)).length).toBeGreaterThan(0);
}

describe('no client stalls the others', () => {
  it('size prefixes announcing socket.request.max.bytes followed by a few bytes hold only those bytes: other clients are answered at once', async () => {
    const b = await embedded();
    const setup = await client(b.port);
    const created = await setup.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, { topics: [{ name: 'small', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    await produceRecords(setup, 'small', 0, testRecords(3, 'before'));
    const baseline = b.memory()!.rss;
    // three requests of 100 MB announced, 6 bytes of each sent (an api key, a version, half a correlation id)
    for (let i = 0; i < 3; i++) {
      const s = await rawSocket(b.port);
      const prefix = Buffer.alloc(10);
      prefix.writeInt32BE(100 * MIB, 0);
      prefix.writeInt16BE(ApiKeyMetadata, 4);
      s.write(prefix);
    }
    await sleep(500);
    // a connection opened before the attack and one opened after it are both served
    await normalClientWorks(setup, 'small', 5000);
    await normalClientWorks(await client(b.port), 'small', 5000);
    const s = await stats(b);
    expect(s.requestPeak).toBeLessThan(MIB);
    expect(b.memory()!.rss - baseline).toBeLessThan(64 * MIB);
  }, 60_000);
});

const ApiKeyMetadata = 3;

/** Produces `count` batches of exactly 1 MiB (a 1048503-byte value) to each partition, with acks=1. */
async function produceMiBBatches(c: RawClient, topic: string, partitions: number, count: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < count; i++) {
      const batch = buildUncompressedBatch([{ key: Buffer.from(`${i % 10}`), value: Buffer.alloc(1_048_503, i) }], { timestamp: Date.now() });
      expect(batch.length).toBe(MIB);
      const res = await c.request(schemas.produceRequest, schemas.produceResponse, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: p, records: batch }] }] });
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
    }
  }
}

/** Files under `dir` that this process holds open although they have been removed (Linux /proc). */
function openDeletedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir) && target.endsWith(' (deleted)')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Sends a Fetch on a raw socket that is never read. */
function neverRead(s: net.Socket, body: FetchBody): void {
  s.pause();
  for (const chunk of encodeRequestFrame(schemas.fetchRequest, 12, 1, 'never-reads', body)) s.write(chunk);
}

describe('fetch responses are streamed from the segment files', () => {
  it('five fetches of 2^31-1 bytes on 16 partitions whose responses are never read: a 1 MiB fetch is answered at once, and memory stays bounded', async () => {
    const b = await embedded();
    const setup = await client(b.port);
    const created = await setup.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, { topics: [{ name: 'wide', numPartitions: 16, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    // 64 MiB: each fetch may take fetch.max.bytes (55 MiB), five of them more than the 256 MiB budget
    await produceMiBBatches(setup, 'wide', 16, 4);
    const baseline = b.memory()!.rss;
    const all = Array.from({ length: 16 }, (_, i) => i);
    for (let i = 0; i < 5; i++) neverRead(await rawSocket(b.port), fetchBody('wide', all, 0x7fffffff));
    await sleep(1000);
    const c = await client(b.port);
    for (let round = 0; round < 3; round++) {
      const res = await within(5000, '1 MiB Fetch', c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody('wide', [round], MIB)));
      const p = res.responses[0]!.partitions[0]!;
      expect(p.errorCode).toBe(ErrorCode.NONE);
      expect((await decodeRecords(p.records as Buffer | null)).length).toBe(1);
    }
    await normalClientWorks(c, 'wide', 5000);
    const s = await stats(b);
    expect(s.fetchUsed).toBeLessThanOrEqual(256 * MIB);
    // the unread responses hold a window each, or slices of the batch cache (its memory, not a copy)
    expect(b.memory()!.rss - baseline).toBeLessThan(96 * MIB);
  }, 120_000);

  it('a response streamed in many pieces to a slow reader is the bytes of the log, and survives the deletion of its segments mid-stream', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-stall-'));
    dirs.push(dataDir);
    const b = await startBroker({ port: 0, dataDir, logLevel: 'silent', config: { 'gregor.fetch.stream.window.bytes': 16 * 1024, 'gregor.cache.bytes': 0 } });
    inProcess.push(b);
    await b.broker.topics.create({ name: 'stream', numPartitions: 1, replicationFactor: 1, configs: { 'segment.bytes': String(4 * MIB), 'file.delete.delay.ms': '0' } });
    const producer = await client(b.port);
    await produceMiBBatches(producer, 'stream', 1, 24);
    const log = b.broker.topics.partition('stream', 0)!.log;
    expect(log.segmentCount).toBeGreaterThan(4);
    // what the buffered read path returns, and the segment files themselves, in order
    const buffered = Buffer.concat((await log.read(0, 64 * MIB)).chunks);
    const dir = join(dataDir, 'stream-0');
    const logFiles = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(Buffer.concat(logFiles.map((f) => readFileSync(join(dir, f)))).equals(buffered)).toBe(true);

    const s = await rawSocket(b.port);
    s.pause();
    for (const chunk of encodeRequestFrame(schemas.fetchRequest, 12, 7, 'slow', fetchBody('stream', [0], 64 * MIB))) s.write(chunk);
    const received: Buffer[] = [];
    let bytes = 0;
    const whole = (): boolean => bytes >= 4 && bytes >= 4 + (received[0]!.length >= 4 ? received[0]! : Buffer.concat(received)).readInt32BE(0);
    /** Reads what has arrived, up to about `limit` bytes in all; waits for more when nothing has. */
    const readSome = async (limit: number): Promise<void> => {
      let got = false;
      for (let chunk = bytes < limit ? (s.read() as Buffer | null) : null; chunk !== null; chunk = bytes < limit ? (s.read() as Buffer | null) : null) {
        received.push(chunk);
        bytes += chunk.length;
        got = true;
      }
      if (!got && !whole()) await new Promise<void>((r) => s.once('readable', () => r()));
    };
    // the first MiB, slowly; then the log's old segments are deleted while most of the response is unsent
    while (bytes < MIB) await readSome(MIB);
    const start = await log.deleteRecordsBefore(20);
    expect(start).toBe(20);
    await sleep(100);
    const left = readdirSync(dir).filter((f) => f.endsWith('.log') || f.endsWith('.deleted'));
    expect(left.some((f) => f.startsWith(logFiles[0]!))).toBe(false);
    // the response still being streamed holds deleted segment files open, and reads the rest from them
    expect(openDeletedFiles(dir).length).toBeGreaterThan(0);
    while (!whole()) {
      await within(10_000, 'the rest of the streamed response', readSome(bytes + 256 * 1024));
      await sleep(2);
    }
    const frame = Buffer.concat(received);
    const size = frame.readInt32BE(0);
    expect(frame.length).toBe(4 + size);
    const res = decodeResponseFrame(schemas.fetchResponse, 12, frame.subarray(4)).body;
    expect(res.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((res.responses[0]!.partitions[0]!.records as Buffer).equals(buffered)).toBe(true);
    expect(existsSync(join(dir, logFiles[0]!))).toBe(false);
    expect(openDeletedFiles(dir)).toEqual([]);
    // the connection goes on, and the pinned files are let go once written
    const c = await client(b.port);
    const after = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchRequestBody('stream', [{ partition: 0, fetchOffset: 20 }], MIB));
    expect((await decodeRecords(after.responses[0]!.partitions[0]!.records as Buffer | null))[0]!.offset).toBe(20);
  }, 120_000);
});
