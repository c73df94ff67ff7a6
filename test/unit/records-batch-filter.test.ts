import { describe, expect, it } from 'vitest';
import {
  ATTR_DELETE_HORIZON,
  ATTR_LOG_APPEND_TIME,
  Compression,
  buildRecordBatch,
  compressionOf,
  forEachRecordSpan,
  iterateRecords,
  keptRecordsBatch,
  readBatchHeader,
  readBatchRecords,
  rebuildBatch,
  recordsArea,
  verifyBatchCrc,
  type BatchHeader,
  type BatchRecord,
} from '../../protocol/records/index.js';

const T0 = 1_700_000_000_000;
const CODECS = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];

/** Six records with keys k0..k5, timestamps T0 + 10 * i, the record at index 4 a tombstone. */
function producerBatch(compression: number, extra: { logAppendTime?: number } = {}): Promise<Buffer> {
  const records = Array.from({ length: 6 }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: i === 4 ? null : Buffer.from(`value-${i}`),
    timestamp: T0 + 10 * i,
    headers: i === 1 ? [{ key: 'h', value: Buffer.from('hv') }] : [],
  }));
  return buildRecordBatch(records, {
    baseOffset: 1000,
    partitionLeaderEpoch: 7,
    compression,
    producerId: 42,
    producerEpoch: 3,
    baseSequence: 100,
    ...extra,
  });
}

async function records(batch: Buffer): Promise<BatchRecord[]> {
  const { records: it } = await readBatchRecords(batch);
  return [...it];
}

/** The kept triples (start, end, offset) and the largest kept timestamp delta, as the cleaner passes them. */
async function spansOf(batch: Buffer, keep: (offsetDelta: number) => boolean): Promise<{ h: BatchHeader; area: Buffer; kept: number[]; maxDelta: number }> {
  const h = readBatchHeader(batch);
  const area = await recordsArea(batch, h);
  const kept: number[] = [];
  let maxDelta = Number.NEGATIVE_INFINITY;
  forEachRecordSpan(h, area, (r) => {
    if (!keep(r.offsetDelta)) return;
    kept.push(r.start, r.end, h.baseOffset + r.offsetDelta);
    maxDelta = Math.max(maxDelta, r.timestampDelta);
  });
  return { h, area, kept, maxDelta };
}

describe('batch filter (the log cleaner rewriting a batch)', () => {
  for (const codec of CODECS) {
    it(`keptRecordsBatch keeps the chosen records with their offsets, timestamps and header fields (codec ${codec})`, async () => {
      const batch = await producerBatch(codec);
      const before = await records(batch);
      const { h, area, kept, maxDelta } = await spansOf(batch, (d) => d === 1 || d === 2);
      const out = await keptRecordsBatch(batch, h, area, kept, maxDelta);
      expect(verifyBatchCrc(out)).toBe(true);
      const oh = readBatchHeader(out);
      expect(oh.batchLength).toBe(out.length - 12);
      expect(oh.recordCount).toBe(2);
      expect(oh.maxTimestamp).toBe(T0 + 20);
      // everything else is the original header's
      for (const field of ['baseOffset', 'partitionLeaderEpoch', 'attributes', 'lastOffsetDelta', 'baseTimestamp', 'producerId', 'producerEpoch', 'baseSequence'] as const) {
        expect(oh[field], field).toBe(h[field]);
      }
      expect(compressionOf(oh.attributes)).toBe(codec);
      const after = await records(out);
      expect(after.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers])).toEqual(
        [before[1]!, before[2]!].map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers]),
      );
    });
  }

  it('keptRecordsBatch leaves the maxTimestamp of a LogAppendTime batch as it is', async () => {
    const appendTime = T0 + 5000;
    const batch = await producerBatch(Compression.none, { logAppendTime: appendTime });
    const { h, area, kept, maxDelta } = await spansOf(batch, (d) => d === 0);
    const out = await keptRecordsBatch(batch, h, area, kept, maxDelta);
    const oh = readBatchHeader(out);
    expect(oh.attributes & ATTR_LOG_APPEND_TIME).not.toBe(0);
    expect(oh.maxTimestamp).toBe(appendTime);
    expect((await records(out)).map((r) => [r.offset, r.timestamp])).toEqual([[1000, appendTime]]);
  });

  it('rebuildBatch with a delete horizon sets the attribute and the base timestamp, keeping record timestamps', async () => {
    const batch = await producerBatch(Compression.lz4);
    const h = readBatchHeader(batch);
    const kept = (await records(batch)).filter((r) => r.offsetDelta >= 3);
    const horizon = T0 + 86_400_000;
    const out = await rebuildBatch(h, kept, horizon);
    expect(verifyBatchCrc(out)).toBe(true);
    const oh = readBatchHeader(out);
    expect(oh.attributes & ATTR_DELETE_HORIZON).not.toBe(0);
    expect(oh.baseTimestamp).toBe(horizon);
    expect(oh.maxTimestamp).toBe(T0 + 50);
    expect(compressionOf(oh.attributes)).toBe(Compression.lz4);
    for (const field of ['baseOffset', 'partitionLeaderEpoch', 'lastOffsetDelta', 'producerId', 'producerEpoch', 'baseSequence'] as const) {
      expect(oh[field], field).toBe(h[field]);
    }
    const after = [...iterateRecords(oh, await recordsArea(out, oh))];
    expect(after.map((r) => [r.offset, r.timestamp, r.value?.toString() ?? null])).toEqual([
      [1003, T0 + 30, 'value-3'],
      [1004, T0 + 40, null],
      [1005, T0 + 50, 'value-5'],
    ]);
  });

  it('rebuildBatch with no record left is a header-only batch that keeps the producer fields and the last offset delta', async () => {
    const batch = await producerBatch(Compression.zstd);
    const h = readBatchHeader(batch);
    const out = await rebuildBatch(h, [], T0 + 1);
    expect(out.length).toBe(61);
    expect(verifyBatchCrc(out)).toBe(true);
    const oh = readBatchHeader(out);
    expect(oh.recordCount).toBe(0);
    expect(oh.attributes & ATTR_DELETE_HORIZON).toBe(0);
    expect([oh.baseOffset, oh.lastOffsetDelta, oh.producerId, oh.producerEpoch, oh.baseSequence, oh.partitionLeaderEpoch]).toEqual([1000, 5, 42, 3, 100, 7]);
  });
});
