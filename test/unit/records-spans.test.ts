import { expect, test } from 'vitest';
import { buildRecordBatch, Compression, forEachRecordSpan, iterateRecords, readBatchHeader, recordsArea } from '../../protocol/records/index.js';
import { rng } from './cleaner-helpers.js';

test('record spans tile the records area and agree with iterateRecords on offsets, timestamps, keys and null values', async () => {
  const random = rng(3);
  for (let n = 0; n < 200; n++) {
    const count = 1 + Math.floor(random() * 30);
    const records = Array.from({ length: count }, (_, i) => ({
      key: random() < 0.2 ? null : Buffer.from(`key-${Math.floor(random() * 1000)}`),
      value: random() < 0.2 ? null : Buffer.alloc(Math.floor(random() * 300), i),
      headers: random() < 0.3 ? [{ key: `h${i}`, value: random() < 0.5 ? null : Buffer.from('v') }] : [],
      timestamp: 1_700_000_000_000 + Math.floor(random() * 100_000) - 50_000,
      offsetDelta: i * 2,
    }));
    const batch = await buildRecordBatch(records, { compression: n % 2 === 0 ? Compression.none : Compression.lz4, baseOffset: 1000 });
    const header = readBatchHeader(batch);
    const area = await recordsArea(batch, header);
    const expected = [...iterateRecords(header, area)];
    let at = 0;
    let i = 0;
    forEachRecordSpan(header, area, (s) => {
      const r = expected[i++]!;
      expect(s.start).toBe(at);
      at = s.end;
      expect(header.baseOffset + s.offsetDelta).toBe(r.offset);
      expect(header.baseTimestamp + s.timestampDelta).toBe(r.timestamp);
      expect(s.keyLength < 0 ? null : area.subarray(s.keyStart, s.keyStart + s.keyLength)).toEqual(r.key);
      expect(s.hasValue).toBe(r.value !== null);
    });
    expect(i).toBe(count);
    expect(at).toBe(area.length);
  }
});

test('a record span walk rejects a records area that does not hold the declared records', async () => {
  const batch = await buildRecordBatch([{ key: Buffer.from('a'), value: Buffer.from('b') }]);
  const header = readBatchHeader(batch);
  const area = await recordsArea(batch, header);
  expect(() => forEachRecordSpan({ ...header, recordCount: 2 }, area, () => {})).toThrow(/record/);
  expect(() => forEachRecordSpan(header, Buffer.concat([area, Buffer.from([0])]), () => {})).toThrow(/remain/);
  expect(() => forEachRecordSpan(header, area.subarray(0, area.length - 1), () => {})).toThrow();
});
