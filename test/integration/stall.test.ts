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
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequestFrame, ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/index.js';
import { ensureBuilt, killAll, spawnEmbedded, type BrokerProcess } from '../helpers/broker-process.js';
import { decodeRecords } from '../helpers/fetch-records.js';
import { produceRecords, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const MIB = 1024 * 1024;
const dirs: string[] = [];
const sockets: net.Socket[] = [];
const clients: RawClient[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(() => ensureBuilt(), 300_000);
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) c.close();
  killAll();
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

function fetchBody(topic: string, partitions: number[], maxBytes: number): FetchBody {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: partitions.map((partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: maxBytes, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })) }],
    forgottenTopicsData: [],
    rackId: '',
  };
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
