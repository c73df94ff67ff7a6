/**
 * Down-conversion for Fetch v0-3 on a real broker, with raw Fetch frames (src/fetch/down-conversion.ts):
 * records before the fetch offset are dropped from uncompressed batches (Kafka's RecordsUtil.downConvert);
 * compressed batches are decompressed within gregor.decompression.max.memory.bytes (taking twice what they
 * may inflate to), one at a time, the first one waiting for its share and a later one ending the answer
 * when the budget cannot give it now; a batch that cannot be converted fails the partition only when it
 * comes first (Kafka's LazyDownConversionRecordsSend).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { Compression } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker, type StartBrokerOptions } from '../../src/index.js';
import { fetchAnswer, fetchOnce, type FetchedRecord } from '../helpers/fetch-records.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const MiB = 1024 * 1024;
const brokers: RunningBroker[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.close().catch(() => undefined);
});

async function broker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  const b = await startBroker({ port: 0, logLevel: 'silent', ...opts });
  brokers.push(b);
  return b;
}

async function client(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

async function produce(c: RawClient, topic: string, batch: Buffer): Promise<void> {
  const p = await produceRaw(c, topic, 0, batch, { version: 9 });
  expect(p.errorCode, p.errorMessage ?? '').toBe(ErrorCode.NONE);
}

const offsetsOf = (records: readonly FetchedRecord[]): number[] => records.map((r) => r.offset);
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('down-conversion for Fetch v0-3', () => {
  it('an uncompressed batch loses its records before the fetch offset; a compressed one comes whole', async () => {
    const b = await broker();
    await b.broker.topics.create({ name: 'mixed', numPartitions: 1, replicationFactor: 1, configs: {} });
    const c = await client(b.port);
    await produce(c, 'mixed', await batchOf(testRecords(10, 'plain')));
    await produce(c, 'mixed', await batchOf(testRecords(10, 'zip'), { compression: Compression.gzip }));
    for (const version of [0, 1, 2, 3]) {
      const plain = await fetchOnce(c, 'mixed', 0, 7, { version });
      expect(offsetsOf(plain)).toEqual([7, 8, 9, ...range(10, 10)]);
      expect(plain[0]).toMatchObject({ key: 'plain-7', magic: version <= 1 ? 0 : 1 });
      const zipped = await fetchOnce(c, 'mixed', 0, 15, { version });
      expect(offsetsOf(zipped)).toEqual(range(10, 10));
      // v4+ keeps the stored batches as they are
      expect(offsetsOf(await fetchOnce(c, 'mixed', 0, 7, { version: 4 }))).toEqual(range(0, 20));
    }
  });

  it('a batch that cannot be converted (zstd) ends the answer after the records before it, and fails the partition when it comes first', async () => {
    const b = await broker();
    await b.broker.topics.create({ name: 'codecs', numPartitions: 1, replicationFactor: 1, configs: {} });
    const c = await client(b.port);
    await produce(c, 'codecs', await batchOf(testRecords(3, 'a'), { compression: Compression.gzip }));
    await produce(c, 'codecs', await batchOf(testRecords(3, 'b'), { compression: Compression.zstd }));
    await produce(c, 'codecs', await batchOf(testRecords(3, 'c'), { compression: Compression.gzip }));
    for (const version of [0, 2, 3]) {
      const before = await fetchAnswer(c, 'codecs', 0, 0, { version });
      expect(before.errorCode).toBe(ErrorCode.NONE);
      expect(offsetsOf(before.records)).toEqual([0, 1, 2]);
      expect((await fetchAnswer(c, 'codecs', 0, 3, { version })).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
      expect(offsetsOf((await fetchAnswer(c, 'codecs', 0, 6, { version })).records)).toEqual([6, 7, 8]);
    }
  });

  it('gregor.decompression.max.memory.bytes: the first batch waits for its share; a later one the budget cannot give now is left to the next fetch', async () => {
    const b = await broker({ config: { 'gregor.decompression.max.memory.bytes': 32 * MiB, 'gregor.max.decompressed.bytes': 8 * MiB } });
    await b.broker.topics.create({ name: 'held', numPartitions: 1, replicationFactor: 1, configs: {} });
    const c = await client(b.port);
    // offsets 0-1: 2 MiB inflated (within the 4 MiB allowance); 2-7: 6 MiB (past it, within the 8 MiB limit)
    await produce(c, 'held', await batchOf(testRecords(2, 'small', MiB - 100), { compression: Compression.gzip }));
    await produce(c, 'held', await batchOf(testRecords(6, 'big', MiB - 100), { compression: Compression.gzip }));
    const budget = b.broker.decompressionMemory;
    // a conversion takes twice what a batch may inflate to: 8 MiB for the small batch (the 4 MiB allowance),
    // 16 MiB for the big one (the 8 MiB limit). Other decompressions holding 20 MiB: the first fits, not the second
    budget.force(20 * MiB);
    const first = await fetchOnce(c, 'held', 0, 0, { version: 2, maxBytes: 32 * MiB });
    expect(offsetsOf(first)).toEqual([0, 1]);
    // the next fetch starts at the big batch: it comes first, so it waits for the budget, which frees later
    const next = fetchOnce(c, 'held', 0, 2, { version: 2, maxBytes: 32 * MiB });
    setTimeout(() => budget.release(20 * MiB), 300);
    expect(offsetsOf(await next)).toEqual(range(2, 6));
    expect(budget.peak).toBeLessThanOrEqual(32 * MiB);
    expect(budget.used).toBe(0);
  });

  it('gregor.decompression.max.memory.bytes: many old readers of big compressed batches all read everything, within the budget', async () => {
    const b = await broker({ config: { 'gregor.decompression.max.memory.bytes': 32 * MiB, 'gregor.max.decompressed.bytes': 8 * MiB } });
    await b.broker.topics.create({ name: 'big', numPartitions: 1, replicationFactor: 1, configs: {} });
    const c = await client(b.port);
    // four batches of 6 MiB inflated, a few kilobytes each on disk
    for (let i = 0; i < 4; i++) await produce(c, 'big', await batchOf(testRecords(6, `b${i}`, MiB - 100), { compression: Compression.gzip }));
    const readAll = async (version: number): Promise<number[]> => {
      const reader = await client(b.port);
      const offsets: number[] = [];
      for (let next = 0; next < 24; ) {
        const records = await fetchOnce(reader, 'big', 0, next, { version, maxBytes: 64 * MiB });
        expect(records.length).toBeGreaterThan(0);
        offsets.push(...offsetsOf(records));
        next = records[records.length - 1]!.offset + 1;
      }
      return offsets;
    };
    const results = await Promise.all([0, 1, 2, 3, 0, 1, 2, 3].map(readAll));
    for (const offsets of results) expect(offsets).toEqual(range(0, 24));
    expect(b.broker.decompressionMemory.peak).toBeLessThanOrEqual(32 * MiB);
    expect(b.broker.decompressionMemory.used).toBe(0);
  });
});
