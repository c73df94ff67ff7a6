import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ATTR_CONTROL,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  COMPRESSION_NAMES,
  Compression,
  ControlRecordType,
  buildRecordBatch,
  buildTransactionMarkerBatch,
  buildUncompressedBatch,
  compressionOf,
  incrementSequence,
  iterateRecords,
  readBatchHeader,
  readBatchRecords,
  readControlRecord,
  readTransactionMarker,
  isControlBatchAt,
  recordsArea,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateProduceRecords,
  verifyBatchCrc,
  type BatchRecord,
  type RecordInput,
} from '../../protocol/records/index.js';
import { kafkajsBatch, kafkajsDecodeBatch, type KafkajsRecordInput } from './records-kafkajs.js';

const CODECS = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];
const T0 = 1_700_000_000_000;

const fixtureDir = new URL('../fixtures/records/', import.meta.url);
interface Manifest {
  messages: { key: string | null; value: string }[];
  files: { file: string; magic: number; headers: { key: string; value: string }[] }[];
}
const manifest = JSON.parse(readFileSync(new URL('manifest.json', fixtureDir), 'utf8')) as Manifest;

function sampleInputs(n: number): KafkajsRecordInput[] {
  const out: KafkajsRecordInput[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: i % 7 === 3 ? null : Buffer.from(`key-${i}`),
      value: i % 11 === 5 ? null : Buffer.from(`value ${i} `.repeat((i % 4) + 1)),
      // out of order on purpose: deltas may be negative, maxTimestamp is the max
      timestamp: T0 + ((i * 37) % 50) - 10,
      headers: i % 3 === 0 ? { 'h-ü': Buffer.from(`hv${i}`), trace: Buffer.from('x') } : {},
    });
  }
  return out;
}

async function allRecords(batch: Buffer): Promise<BatchRecord[]> {
  const { records } = await readBatchRecords(batch);
  return [...records];
}

describe('batches encoded by kafkajs 2.2.4', () => {
  for (const codec of CODECS) {
    it(`${COMPRESSION_NAMES[codec]}: CRC valid, header read, records iterate to what was encoded`, async () => {
      const inputs = sampleInputs(60);
      const batch = await kafkajsBatch(inputs, { compression: codec, producerId: 42, producerEpoch: 3, firstSequence: 100 });
      expect(verifyBatchCrc(batch)).toBe(true);
      const [validated] = await validateProduceRecords(batch);
      expect(validated!.pos).toBe(0);
      expect(validated!.size).toBe(batch.length);
      const h = validated!.header;
      expect(compressionOf(h.attributes)).toBe(codec);
      expect(h).toMatchObject({ magic: 2, recordCount: 60, lastOffsetDelta: 59, producerId: 42, producerEpoch: 3, baseSequence: 100 });
      expect(h.baseTimestamp).toBe(inputs[0]!.timestamp);
      expect(h.maxTimestamp).toBe(Math.max(...inputs.map((r) => r.timestamp)));
      expect(validated!.minTimestamp).toBe(Math.min(...inputs.map((r) => r.timestamp)));
      expect(validated!.maxTimestamp).toBe(h.maxTimestamp);

      const records = await allRecords(batch);
      expect(records).toHaveLength(60);
      records.forEach((r, i) => {
        const input = inputs[i]!;
        expect(r.offset).toBe(i);
        expect(r.offsetDelta).toBe(i);
        expect(r.sequence).toBe(100 + i);
        expect(r.timestamp).toBe(input.timestamp);
        expect(r.key).toEqual(input.key);
        expect(r.value).toEqual(input.value);
        expect(r.headers).toEqual(Object.entries(input.headers ?? {}).map(([key, value]) => ({ key, value })));
      });
    });
  }

  it('uncompressed records are slices of the batch buffer, not copies', async () => {
    const batch = await kafkajsBatch(sampleInputs(5));
    const records = await allRecords(batch);
    const value = records[0]!.value!;
    expect(value.buffer).toBe(batch.buffer);
    expect(value.byteOffset).toBeGreaterThanOrEqual(batch.byteOffset + 61);
    expect(value.byteOffset + value.length).toBeLessThanOrEqual(batch.byteOffset + batch.length);
    expect((await recordsArea(batch)).buffer).toBe(batch.buffer);
  });

  it('iteration is lazy: the first records are returned before a corrupt later record is reached', async () => {
    const batch = await kafkajsBatch(sampleInputs(10));
    const header = readBatchHeader(batch);
    const area = (await recordsArea(batch)).subarray(0, -3); // the last record is cut short
    const it = iterateRecords(header, area);
    expect(it.next().value?.key?.toString()).toBe('key-0');
    expect(it.next().value?.offset).toBe(1);
    expect(() => [...it]).toThrow(/record 9 of 10: size/);
  });
});

describe('batches captured from librdkafka (kcat)', () => {
  for (const f of manifest.files.filter((x) => x.magic === 2)) {
    it(`${f.file}: CRC valid, one batch, records match the input lines`, async () => {
      const buf = readFileSync(new URL(f.file, fixtureDir));
      const batches = await validateProduceRecords(buf);
      expect(batches).toHaveLength(1);
      const records = await allRecords(buf);
      expect(records.map((r) => ({ key: r.key?.toString() ?? null, value: r.value?.toString() ?? null }))).toEqual(manifest.messages);
      for (const r of records) {
        expect(r.headers.map((h) => ({ key: h.key, value: h.value?.toString() ?? null }))).toEqual(f.headers);
        expect(r.timestamp).toBeGreaterThanOrEqual(batches[0]!.header.baseTimestamp);
        expect(r.timestamp).toBeLessThanOrEqual(batches[0]!.header.maxTimestamp);
      }
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    });
  }
});

describe('batches built by the broker', () => {
  const inputs: RecordInput[] = [
    { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: T0 + 5, headers: [{ key: 'k', value: Buffer.from('v') }, { key: 'nul', value: null }] },
    { key: null, value: Buffer.from('2'), timestamp: T0 },
    { key: Buffer.from('c'), value: null, timestamp: T0 + 9 },
  ];

  for (const codec of CODECS) {
    it(`${COMPRESSION_NAMES[codec]}: kafkajs's decoder reads the same records, and our CRC checks out`, async () => {
      const batch = await buildRecordBatch(inputs, {
        baseOffset: 1000,
        partitionLeaderEpoch: 7,
        compression: codec,
        producerId: 5,
        producerEpoch: 1,
        baseSequence: 10,
        transactional: true,
      });
      expect(verifyBatchCrc(batch)).toBe(true);
      const h = readBatchHeader(batch);
      expect(h).toMatchObject({
        baseOffset: 1000,
        batchLength: batch.length - 12,
        partitionLeaderEpoch: 7,
        magic: 2,
        attributes: codec | ATTR_TRANSACTIONAL,
        lastOffsetDelta: 2,
        baseTimestamp: T0 + 5,
        maxTimestamp: T0 + 9,
        producerId: 5,
        producerEpoch: 1,
        baseSequence: 10,
        recordCount: 3,
      });
      const kjs = await kafkajsDecodeBatch(batch);
      expect(kjs.inTransaction).toBe(true);
      expect(kjs.records.map((r) => [r.offset, r.timestamp, r.key, r.value])).toEqual([
        ['1000', String(T0 + 5), Buffer.from('a'), Buffer.from('1')],
        ['1001', String(T0), null, Buffer.from('2')],
        ['1002', String(T0 + 9), Buffer.from('c'), null],
      ]);
      expect(kjs.records[0]!.headers).toEqual({ k: Buffer.from('v'), nul: null });
      const ours = await allRecords(batch);
      expect(ours.map((r) => r.headers)).toEqual([inputs[0]!.headers, [], []]);
    });
  }

  it('explicit offset deltas leave gaps (as compaction does) and the iterator reports absolute offsets', async () => {
    const batch = await buildRecordBatch(
      [{ value: Buffer.from('x'), offsetDelta: 0 }, { value: Buffer.from('y'), offsetDelta: 4 }, { value: Buffer.from('z'), offsetDelta: 9 }],
      { baseOffset: 50, timestamp: T0 },
    );
    expect(readBatchHeader(batch).lastOffsetDelta).toBe(9);
    expect((await allRecords(batch)).map((r) => r.offset)).toEqual([50, 54, 59]);
    expect(() => buildUncompressedBatch([{ offsetDelta: 3 }, { offsetDelta: 3 }])).toThrow(RangeError);
    expect(() => buildUncompressedBatch([])).toThrow(RangeError);
  });

  it('a LogAppendTime batch reports the append time for every record', async () => {
    const batch = await buildRecordBatch(inputs, { logAppendTime: T0 + 1000, compression: Compression.gzip });
    const h = readBatchHeader(batch);
    expect(h.attributes & ATTR_LOG_APPEND_TIME).toBe(ATTR_LOG_APPEND_TIME);
    expect(h.maxTimestamp).toBe(T0 + 1000);
    expect((await allRecords(batch)).map((r) => r.timestamp)).toEqual([T0 + 1000, T0 + 1000, T0 + 1000]);
    expect((await kafkajsDecodeBatch(batch)).records.map((r) => r.timestamp)).toEqual(Array(3).fill(String(T0 + 1000)));
  });

  it('in-place patches: baseOffset and leader epoch keep the CRC, LogAppendTime recomputes it', async () => {
    const batch = await buildRecordBatch(inputs, {});
    setBaseOffset(batch, 0, 2 ** 40 + 3);
    setPartitionLeaderEpoch(batch, 0, 12);
    expect(verifyBatchCrc(batch)).toBe(true);
    setLogAppendTime(batch, 0, T0 + 77);
    expect(verifyBatchCrc(batch)).toBe(true);
    const records = await allRecords(batch);
    expect(records.map((r) => r.offset)).toEqual([2 ** 40 + 3, 2 ** 40 + 4, 2 ** 40 + 5]);
    expect(records.every((r) => r.timestamp === T0 + 77)).toBe(true);
  });

  it('sequence numbers wrap past 2147483647 to 0', async () => {
    expect(incrementSequence(2147483646, 1)).toBe(2147483647);
    expect(incrementSequence(2147483647, 1)).toBe(0);
    expect(incrementSequence(2147483640, 10)).toBe(2);
    const batch = await buildRecordBatch([{}, {}, {}], { producerId: 1, producerEpoch: 0, baseSequence: 2147483646, timestamp: T0 });
    expect((await allRecords(batch)).map((r) => r.sequence)).toEqual([2147483646, 2147483647, 0]);
  });

  it('transaction markers are one-record control batches that parse back to their type and coordinator epoch', async () => {
    for (const commit of [true, false]) {
      const batch = buildTransactionMarkerBatch({ commit, producerId: 99, producerEpoch: 4, coordinatorEpoch: 17, baseOffset: 300, timestamp: T0 });
      expect(verifyBatchCrc(batch)).toBe(true);
      const h = readBatchHeader(batch);
      expect(h).toMatchObject({ baseOffset: 300, producerId: 99, producerEpoch: 4, baseSequence: -1, recordCount: 1, lastOffsetDelta: 0 });
      expect(h.attributes).toBe(ATTR_TRANSACTIONAL | ATTR_CONTROL);
      const [record] = await allRecords(batch);
      expect(record!.key!.toString('hex')).toBe(commit ? '00000001' : '00000000');
      expect(readControlRecord(record!.key, record!.value)).toEqual({
        version: 0,
        type: commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
        coordinatorEpoch: 17,
      });
      const kjs = await kafkajsDecodeBatch(batch);
      expect(kjs.isControlBatch).toBe(true);
      expect(kjs.inTransaction).toBe(true);
    }
    expect(readControlRecord(Buffer.from([0, 0, 0, 2]), null)).toEqual({ version: 0, type: 2, coordinatorEpoch: null });
    expect(() => readControlRecord(Buffer.from([0, 0]), null)).toThrow(/key/);
  });

  it('readTransactionMarker recognises COMMIT/ABORT control batches from their bytes and nothing else', async () => {
    const commit = buildTransactionMarkerBatch({ commit: true, producerId: 12, producerEpoch: 3, coordinatorEpoch: 7, baseOffset: 55, timestamp: T0 });
    const abort = buildTransactionMarkerBatch({ commit: false, producerId: 13, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 56, timestamp: T0 });
    const data = await buildRecordBatch([{ value: Buffer.from('x') }], { producerId: 12, producerEpoch: 3, baseSequence: 0, transactional: true, timestamp: T0 });
    const both = Buffer.concat([data, abort]);
    expect(isControlBatchAt(both, 0)).toBe(false);
    expect(isControlBatchAt(both, data.length)).toBe(true);
    expect(readTransactionMarker(commit)).toEqual({ commit: true, producerId: 12, producerEpoch: 3, coordinatorEpoch: 7, offset: 55, timestamp: T0 });
    expect(readTransactionMarker(both, data.length)).toEqual({ commit: false, producerId: 13, producerEpoch: 0, coordinatorEpoch: 0, offset: 56, timestamp: T0 });
    expect(readTransactionMarker(both, 0)).toBeNull();
    // a control batch of another type (LEADER_CHANGE) carries no outcome
    const leaderChange = buildUncompressedBatch([{ key: Buffer.from([0, 0, 0, 2]), value: Buffer.alloc(8) }], { producerId: -1, control: true, timestamp: T0 });
    expect(readTransactionMarker(leaderChange)).toBeNull();
    // a marker record in a non-transactional control batch is malformed
    const bare = buildUncompressedBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 1]) }], { producerId: 5, producerEpoch: 0, control: true, timestamp: T0 });
    expect(() => readTransactionMarker(bare)).toThrow(/not transactional/);
  });
});
