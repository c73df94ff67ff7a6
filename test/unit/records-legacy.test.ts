import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { crc32 } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../protocol/index.js';
import {
  ATTR_LOG_APPEND_TIME,
  COMPRESSION_NAMES,
  Compression,
  batchesToMessageSet,
  buildRecordBatch,
  buildTransactionMarkerBatch,
  compressionOf,
  encodeMessageSet,
  messageSetToBatches,
  readBatchHeader,
  readBatchRecords,
  readMessageSet,
  validateProduceRecords,
  type BatchRecord,
  type LegacyMessage,
} from '../../protocol/records/index.js';
import { lz4HeaderChecksum } from '../../protocol/records/lz4-frame.js';
import { kafkajsDecodeMessageSet, kafkajsMessageSet } from './records-kafkajs.js';

const T0 = 1_700_000_000_000;
const LEGACY_CODECS = [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4];

const fixtureDir = new URL('../fixtures/records/', import.meta.url);
interface Manifest {
  messages: { key: string | null; value: string }[];
  files: { file: string; magic: number }[];
}
const manifest = JSON.parse(readFileSync(new URL('manifest.json', fixtureDir), 'utf8')) as Manifest;

/** One legacy message entry, written here from the format description (independent of message-set.ts). */
function legacyEntry(offset: number, magic: 0 | 1, attributes: number, timestamp: number, key: Buffer | null, value: Buffer | null): Buffer {
  const body = Buffer.alloc(2 + (magic === 1 ? 8 : 0) + 8 + (key?.length ?? 0) + (value?.length ?? 0));
  let p = body.writeInt8(magic, 0);
  p = body.writeInt8(attributes, p);
  if (magic === 1) p = body.writeBigInt64BE(BigInt(timestamp), p);
  for (const b of [key, value]) {
    p = body.writeInt32BE(b === null ? -1 : b.length, p);
    if (b !== null) p += b.copy(body, p);
  }
  const head = Buffer.alloc(16);
  head.writeBigInt64BE(BigInt(offset), 0);
  head.writeInt32BE(body.length + 4, 8);
  head.writeUInt32BE(crc32(body) >>> 0, 12);
  return Buffer.concat([head, body]);
}

async function rejected(p: Promise<unknown>): Promise<ProtocolError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

async function batchRecords(batch: Buffer): Promise<BatchRecord[]> {
  return [...(await readBatchRecords(batch)).records];
}

function fields(m: LegacyMessage | BatchRecord): unknown {
  return { offset: m.offset, timestamp: m.timestamp, key: m.key?.toString('hex') ?? null, value: m.value?.toString('hex') ?? null };
}

describe('legacy message sets captured from librdkafka (kcat)', () => {
  for (const f of manifest.files.filter((x) => x.magic < 2)) {
    it(`${f.file}: CRCs valid, every message with its key and value, offsets 0..40`, async () => {
      const buf = readFileSync(new URL(f.file, fixtureDir));
      const messages = await readMessageSet(buf);
      expect(messages.map((m) => ({ key: m.key?.toString() ?? null, value: m.value?.toString() ?? null }))).toEqual(manifest.messages);
      expect(messages.map((m) => m.offset)).toEqual(manifest.messages.map((_, i) => i));
      expect(messages.every((m) => m.magic === f.magic)).toBe(true);
      if (f.magic === 0) expect(messages.every((m) => m.timestamp === -1)).toBe(true);
      else expect(messages.every((m) => m.timestamp > T0 && m.timestampType === 0)).toBe(true);

      // Produce v0-2: converted to one v2 batch that passes client validation, fields preserved
      const batches = await messageSetToBatches(buf, { assignOffsets: true });
      expect(batches).toHaveLength(1);
      await validateProduceRecords(batches[0]!);
      expect(compressionOf(readBatchHeader(batches[0]!).attributes)).toBe(messages[0]!.compression);
      expect((await batchRecords(batches[0]!)).map(fields)).toEqual(messages.map(fields));
    });
  }

  it('librdkafka writes the lz4 header checksum the legacy way for magic 0 and correctly for magic 1', () => {
    for (const [file, legacy] of [['kcat-v0-lz4.bin', true], ['kcat-v1-lz4.bin', false]] as const) {
      const buf = readFileSync(new URL(file, fixtureDir));
      const valueAt = 12 + 4 + 2 + (file.includes('v1') ? 8 : 0) + 4 + 4; // wrapper: null key, then value length
      const frame = buf.subarray(valueAt);
      expect(frame.readUInt32LE(0)).toBe(0x184d2204);
      expect(frame[6]).toBe(lz4HeaderChecksum(frame, legacy));
      expect(frame[6]).not.toBe(lz4HeaderChecksum(frame, !legacy));
    }
  });
});

describe('legacy message sets encoded by kafkajs 2.2.4 (Produce v0-2)', () => {
  const inputs = [
    { key: Buffer.from('k0'), value: Buffer.from('v0'), timestamp: T0 + 3 },
    { key: null, value: Buffer.from('v1'), timestamp: T0 + 1 },
    { key: Buffer.from('k2'), value: null, timestamp: T0 + 8 },
  ];
  for (const magic of [0, 1] as const) {
    for (const codec of LEGACY_CODECS) {
      it(`magic ${magic} ${COMPRESSION_NAMES[codec]}: decoded, and converted to a valid v2 batch with the same fields`, async () => {
        const buf = await kafkajsMessageSet(magic, inputs, codec);
        const messages = await readMessageSet(buf);
        expect(messages.map((m) => [m.key, m.value, m.timestamp, m.compression])).toEqual(
          inputs.map((i) => [i.key, i.value, magic === 1 ? i.timestamp : -1, codec]),
        );
        const [batch, ...rest] = await messageSetToBatches(buf, { assignOffsets: true });
        expect(rest).toHaveLength(0);
        await validateProduceRecords(batch!);
        const records = await batchRecords(batch!);
        expect(records.map((r) => [r.offset, r.key, r.value, r.timestamp])).toEqual(
          inputs.map((i, n) => [n, i.key, i.value, magic === 1 ? i.timestamp : -1]),
        );
      });
    }
  }

  it('uncompressed kafkajs offsets are all -1, so without assignOffsets each message keeps its offset in its own batch', async () => {
    const buf = await kafkajsMessageSet(1, inputs);
    expect((await readMessageSet(buf)).map((m) => m.offset)).toEqual([-1, -1, -1]);
    const batches = await messageSetToBatches(buf);
    expect(batches.map((b) => readBatchHeader(b).baseOffset)).toEqual([-1, -1, -1]);
  });
});

describe('legacy message sets we encode', () => {
  const messages = [
    { offset: 1000, timestamp: T0 + 2, key: Buffer.from('a'), value: Buffer.from('x'.repeat(300)) },
    { offset: 1001, timestamp: T0, key: null, value: Buffer.from('y') },
    { offset: 1004, timestamp: T0 + 9, key: Buffer.from('c'), value: null },
  ];
  for (const magic of [0, 1] as const) {
    for (const codec of LEGACY_CODECS) {
      it(`magic ${magic} ${COMPRESSION_NAMES[codec]}: kafkajs's decoder reads the same offsets, keys and values`, async () => {
        const buf = await encodeMessageSet(messages, { magic, compression: codec });
        const kjs = await kafkajsDecodeMessageSet(buf);
        expect(kjs.map((m) => [m.offset, m.key, m.value, m.magicByte])).toEqual(messages.map((m) => [String(m.offset), m.key, m.value, magic]));
        if (magic === 1) expect(kjs.map((m) => m.timestamp)).toEqual(messages.map((m) => String(m.timestamp)));
        const ours = await readMessageSet(buf);
        expect(ours.map(fields)).toEqual(messages.map((m) => fields({ ...m, timestamp: magic === 1 ? m.timestamp : -1 } as LegacyMessage)));
      });
    }
  }

  it('lz4 wrappers carry Kafka\'s legacy header checksum for magic 0 and the correct one for magic 1', async () => {
    for (const magic of [0, 1] as const) {
      const buf = await encodeMessageSet(messages, { magic, compression: Compression.lz4 });
      const frame = buf.subarray(12 + 4 + 2 + (magic === 1 ? 8 : 0) + 4 + 4);
      expect(frame[6]).toBe(lz4HeaderChecksum(frame, magic === 0));
      expect(frame[6]).not.toBe(lz4HeaderChecksum(frame, magic !== 0));
    }
  });

  it('a magic-1 wrapper sits at the last offset with relative inner offsets and the max timestamp', async () => {
    const buf = await encodeMessageSet(messages, { magic: 1, compression: Compression.gzip });
    expect(buf.readBigInt64BE(0)).toBe(1004n);
    expect(buf.readBigInt64BE(18)).toBe(BigInt(T0 + 9));
    expect(buf[17]).toBe(Compression.gzip);
  });

  it('a magic-1 LogAppendTime wrapper gives its timestamp to every inner message', async () => {
    const buf = await encodeMessageSet(messages, { magic: 1, compression: Compression.snappy, logAppendTime: T0 + 500 });
    expect(buf[17]).toBe(Compression.snappy | 0x08);
    const ours = await readMessageSet(buf);
    expect(ours.map((m) => [m.timestamp, m.timestampType])).toEqual(Array(3).fill([T0 + 500, 1]));
    const [batch] = await messageSetToBatches(buf);
    const h = readBatchHeader(batch!);
    expect(h.attributes & ATTR_LOG_APPEND_TIME).toBe(ATTR_LOG_APPEND_TIME);
    expect(h.maxTimestamp).toBe(T0 + 500);
  });
});

describe('v2 <-> v0/v1 conversion preserves every field', () => {
  const records = [
    { key: Buffer.from('k1'), value: Buffer.from('one'), timestamp: T0 + 10, offsetDelta: 0, headers: [{ key: 'dropped', value: Buffer.from('h') }] },
    { key: null, value: Buffer.from('two'), timestamp: T0 + 2, offsetDelta: 1 },
    { key: Buffer.from('k3'), value: null, timestamp: T0 + 30, offsetDelta: 5 }, // a gap, as after compaction
  ];

  for (const codec of LEGACY_CODECS) {
    for (const magic of [0, 1] as const) {
      it(`${COMPRESSION_NAMES[codec]} v2 -> magic ${magic} -> v2 keeps offsets, keys, values, ${magic === 1 ? 'timestamps' : 'no timestamps'} and the codec`, async () => {
        const a = await buildRecordBatch(records, { baseOffset: 500, compression: codec });
        const b = await buildRecordBatch([{ key: Buffer.from('k4'), value: Buffer.from('four'), timestamp: T0 + 40 }], { baseOffset: 506, compression: codec });
        const set = await batchesToMessageSet([a, b], magic);
        const legacy = await readMessageSet(set);
        const expected = [...(await batchRecords(a)), ...(await batchRecords(b))].map((r) => ({ ...r, timestamp: magic === 1 ? r.timestamp : -1 }));
        expect(legacy.map(fields)).toEqual(expected.map(fields));
        expect(legacy.every((m) => m.magic === magic && m.compression === codec)).toBe(true);

        const back = await messageSetToBatches(set);
        expect(back).toHaveLength(codec === Compression.none ? 1 : 2);
        const again = (await Promise.all(back.map(batchRecords))).flat();
        expect(again.map(fields)).toEqual(expected.map(fields));
        for (const batch of back) expect(compressionOf(readBatchHeader(batch).attributes)).toBe(codec);
      });
    }
  }

  it('a LogAppendTime v2 batch becomes LogAppendTime magic-1 messages with the batch time', async () => {
    const batch = await buildRecordBatch(records, { baseOffset: 10, logAppendTime: T0 + 999 });
    const legacy = await readMessageSet(await batchesToMessageSet(batch, 1));
    expect(legacy.map((m) => [m.offset, m.timestamp, m.timestampType])).toEqual([[10, T0 + 999, 1], [11, T0 + 999, 1], [15, T0 + 999, 1]]);
  });

  it('down-conversion skips control batches and a truncated batch at the end of a chunk', async () => {
    const data = await buildRecordBatch([{ value: Buffer.from('d') }], { baseOffset: 0, timestamp: T0 });
    const marker = buildTransactionMarkerBatch({ commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 1 });
    const next = await buildRecordBatch([{ value: Buffer.from('e') }], { baseOffset: 2, timestamp: T0 });
    const chunk = Buffer.concat([data, marker, next.subarray(0, next.length - 5)]);
    const legacy = await readMessageSet(await batchesToMessageSet([chunk], 1));
    expect(legacy.map((m) => [m.offset, m.value?.toString()])).toEqual([[0, 'd']]);
  });

  it('legacy entries already readable by the fetcher pass through; magic 1 is converted for magic-0 readers', async () => {
    const v1 = await encodeMessageSet([{ offset: 3, timestamp: T0, key: null, value: Buffer.from('p') }], { magic: 1 });
    expect((await batchesToMessageSet([v1], 1)).equals(v1)).toBe(true);
    const v0 = await batchesToMessageSet([v1], 0);
    expect((await readMessageSet(v0)).map((m) => [m.magic, m.offset, m.timestamp])).toEqual([[0, 3, -1]]);
  });

  it('zstd batches cannot be down-converted: UNSUPPORTED_COMPRESSION_TYPE', async () => {
    const batch = await buildRecordBatch(records, { compression: Compression.zstd });
    expect((await rejected(batchesToMessageSet(batch, 1))).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });
});

describe('bad legacy message sets are rejected with Kafka error codes', () => {
  const good = legacyEntry(0, 1, 0, T0, Buffer.from('k'), Buffer.from('v'));

  it('a flipped byte is CORRUPT_MESSAGE (CRC-32)', async () => {
    for (let pos = 16; pos < good.length; pos++) {
      const bad = Buffer.from(good);
      bad[pos] = bad[pos]! ^ 0x10;
      expect((await rejected(readMessageSet(bad))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  it('truncation at any length is CORRUPT_MESSAGE', async () => {
    for (let n = 1; n < good.length; n++) {
      expect((await rejected(readMessageSet(good.subarray(0, n)))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  it('sizes below the message overhead or lengths that overrun the message are CORRUPT_MESSAGE', async () => {
    const tiny = Buffer.from(good);
    tiny.writeInt32BE(10, 8);
    expect((await rejected(readMessageSet(tiny))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    const overrun = legacyEntry(0, 0, 0, -1, Buffer.from('key'), null);
    overrun.writeInt32BE(50, 18); // key length past the end, CRC fixed below
    overrun.writeUInt32BE(crc32(overrun.subarray(16)) >>> 0, 12);
    expect((await rejected(readMessageSet(overrun))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('nested compression, an inner magic unlike the wrapper, or mixed magics are INVALID_RECORD', async () => {
    const innerWrapper = legacyEntry(0, 1, Compression.gzip, T0, null, gzipSync(good));
    const nested = legacyEntry(0, 1, Compression.gzip, T0, null, gzipSync(innerWrapper));
    expect((await rejected(readMessageSet(nested))).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const v0inside = legacyEntry(0, 1, Compression.gzip, T0, null, gzipSync(legacyEntry(0, 0, 0, -1, null, Buffer.from('x'))));
    expect((await rejected(readMessageSet(v0inside))).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const mixed = Buffer.concat([good, legacyEntry(1, 0, 0, -1, null, Buffer.from('x'))]);
    expect((await rejected(readMessageSet(mixed))).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const withV2 = Buffer.concat([good, await buildRecordBatch([{}], { timestamp: T0 })]);
    expect((await rejected(readMessageSet(withV2))).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  it('a zstd wrapper is UNSUPPORTED_COMPRESSION_TYPE; a null wrapper value is CORRUPT_MESSAGE', async () => {
    expect((await rejected(readMessageSet(legacyEntry(0, 1, Compression.zstd, T0, null, Buffer.from('x'))))).errorCode).toBe(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    );
    expect((await rejected(readMessageSet(legacyEntry(0, 1, Compression.gzip, T0, null, null)))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('a wrapper that inflates past the bound is MESSAGE_TOO_LARGE', async () => {
    const bomb = legacyEntry(0, 0, Compression.gzip, -1, null, gzipSync(Buffer.alloc(16 * 1024 * 1024)));
    expect((await rejected(readMessageSet(bomb, 1024 * 1024))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect((await rejected(messageSetToBatches(bomb, { maxDecompressedBytes: 1024 * 1024 }))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });
});
