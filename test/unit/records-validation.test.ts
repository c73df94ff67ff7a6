import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../protocol/index.js';
import {
  CRC_OFFSET,
  Compression,
  buildRecordBatch,
  buildTransactionMarkerBatch,
  checkRecords,
  computeBatchCrc,
  iterateRecords,
  readBatchHeader,
  setBaseOffset,
  validateProduceRecords,
  verifyBatchCrc,
  type ProduceValidationOptions,
} from '../../protocol/records/index.js';
import { kafkajsBatch } from './records-kafkajs.js';

const T0 = 1_700_000_000_000;

async function clientBatch(n: number, compression: number = Compression.none): Promise<Buffer> {
  const records = Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`value-${i}`.repeat(i % 3 + 1)),
    timestamp: T0 + i,
    headers: i % 2 === 0 ? { h: Buffer.from('1') } : ({} as Record<string, Buffer>),
  }));
  return kafkajsBatch(records, { compression });
}

/** Rewrites the CRC after a deliberate change, so that the change itself is what is validated. */
function fixCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), CRC_OFFSET);
  return batch;
}

async function rejected(records: Buffer, options?: ProduceValidationOptions): Promise<ProtocolError> {
  try {
    await validateProduceRecords(records, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('validation unexpectedly passed');
}

describe('produce validation accepts what clients send', () => {
  it('several batches in one buffer: positions and headers without copying, patchable in place', async () => {
    const a = await clientBatch(3);
    const b = await clientBatch(5, Compression.gzip);
    const c = await clientBatch(1, Compression.zstd);
    const records = Buffer.concat([a, b, c]);
    const batches = await validateProduceRecords(records);
    expect(batches.map((x) => [x.pos, x.size, x.header.recordCount])).toEqual([
      [0, a.length, 3],
      [a.length, b.length, 5],
      [a.length + b.length, c.length, 1],
    ]);
    let next = 100;
    for (const x of batches) {
      setBaseOffset(records, x.pos, next);
      next += x.header.lastOffsetDelta + 1;
      expect(verifyBatchCrc(records, x.pos)).toBe(true);
    }
    expect(readBatchHeader(records, batches[2]!.pos).baseOffset).toBe(108);
  });

  it('an empty buffer holds no batches', async () => {
    expect(await validateProduceRecords(Buffer.alloc(0))).toEqual([]);
  });

  it('broker-origin batches (control, non-zero base offset, gaps) pass with fromClient false', async () => {
    const marker = buildTransactionMarkerBatch({ commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 40 });
    const gaps = await buildRecordBatch([{ offsetDelta: 0 }, { offsetDelta: 5 }], { baseOffset: 7, timestamp: T0 });
    const batches = await validateProduceRecords(Buffer.concat([marker, gaps]), { fromClient: false });
    expect(batches).toHaveLength(2);
  });
});

describe('produce validation rejects bad batches with Kafka error codes', () => {
  it('a flipped byte anywhere inside the CRC range is CORRUPT_MESSAGE', async () => {
    const good = await clientBatch(4);
    for (let pos = 21; pos < good.length; pos += 3) {
      const bad = Buffer.from(good);
      bad[pos] = bad[pos]! ^ 0x01;
      const err = await rejected(bad);
      expect(err.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
      expect(err.message).toMatch(/crc/);
    }
    const badCrc = Buffer.from(good);
    badCrc[CRC_OFFSET] = badCrc[CRC_OFFSET]! ^ 0xff;
    expect((await rejected(badCrc)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('a batch truncated at any length is CORRUPT_MESSAGE', async () => {
    const good = await clientBatch(3, Compression.snappy);
    for (let n = 1; n < good.length; n++) {
      expect((await rejected(good.subarray(0, n))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
    const twoAndABit = Buffer.concat([good, good.subarray(0, 30)]);
    expect((await rejected(twoAndABit)).message).toMatch(/truncated/);
  });

  it('a length below the header, or an impossible magic, is CORRUPT_MESSAGE; magic 0/1 is INVALID_RECORD', async () => {
    const short = Buffer.from(await clientBatch(1));
    short.writeInt32BE(40, 8);
    expect((await rejected(short)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    for (const [magic, code] of [[3, ErrorCode.CORRUPT_MESSAGE], [-1, ErrorCode.CORRUPT_MESSAGE], [1, ErrorCode.INVALID_RECORD], [0, ErrorCode.INVALID_RECORD]] as const) {
      const bad = Buffer.from(await clientBatch(1));
      bad.writeInt8(magic, 16);
      expect((await rejected(bad)).errorCode).toBe(code);
    }
  });

  it('a batch above maxBatchBytes is MESSAGE_TOO_LARGE', async () => {
    const good = await clientBatch(10);
    expect((await rejected(good, { maxBatchBytes: good.length - 1 })).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(await validateProduceRecords(good, { maxBatchBytes: good.length })).toHaveLength(1);
  });

  it('a record count that disagrees with the records is INVALID_RECORD', async () => {
    for (const compression of [Compression.none, Compression.lz4]) {
      for (const count of [2, 4]) {
        const bad = Buffer.from(await clientBatch(3, compression));
        bad.writeInt32BE(count, 57);
        bad.writeInt32BE(count - 1, 23); // keep lastOffsetDelta consistent with the count
        const err = await rejected(fixCrc(bad));
        expect(err.errorCode).toBe(ErrorCode.INVALID_RECORD);
      }
    }
  });

  it('a zero or negative count, or lastOffsetDelta + 1 != count, is INVALID_RECORD', async () => {
    for (const [count, last] of [[0, -1], [-1, -2], [3, 5]]) {
      const bad = Buffer.from(await clientBatch(3));
      bad.writeInt32BE(count!, 57);
      bad.writeInt32BE(last!, 23);
      expect((await rejected(fixCrc(bad))).errorCode).toBe(ErrorCode.INVALID_RECORD);
    }
  });

  it('offset deltas other than 0..n-1 from a client are INVALID_RECORD', async () => {
    const bad = await buildRecordBatch([{ offsetDelta: 0 }, { offsetDelta: 2 }], { timestamp: T0 });
    bad.writeInt32BE(1, 23);
    const err = await rejected(fixCrc(bad));
    expect(err.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(err.message).toMatch(/offset delta 2; expected 1/);
  });

  it('client batches: control records, a non-zero base offset, a producer id without sequence are INVALID_RECORD', async () => {
    const marker = buildTransactionMarkerBatch({ commit: false, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 });
    expect((await rejected(marker)).message).toMatch(/control/);
    const moved = await clientBatch(2);
    setBaseOffset(moved, 0, 5);
    expect((await rejected(moved)).message).toMatch(/baseOffset/);
    const noSeq = await buildRecordBatch([{}], { producerId: 9, producerEpoch: 0, baseSequence: -1 });
    expect((await rejected(noSeq)).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  it('an unknown compression codec is UNSUPPORTED_COMPRESSION_TYPE', async () => {
    const bad = Buffer.from(await clientBatch(2));
    bad.writeInt16BE(6, 21);
    expect((await rejected(fixCrc(bad))).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });

  it('a compressed batch that inflates past maxDecompressedBytes is MESSAGE_TOO_LARGE', async () => {
    const bomb = Buffer.from(await clientBatch(1, Compression.gzip));
    const payload = gzipSync(Buffer.alloc(32 * 1024 * 1024));
    const batch = Buffer.concat([bomb.subarray(0, 61), payload]);
    batch.writeInt32BE(batch.length - 12, 8);
    const err = await rejected(fixCrc(batch), { maxDecompressedBytes: 1024 * 1024 });
    expect(err.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('undecodable compressed bytes under a valid CRC are CORRUPT_MESSAGE', async () => {
    for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) {
      const good = await clientBatch(2, codec);
      const batch = Buffer.concat([good.subarray(0, 61), Buffer.from('definitely not compressed data')]);
      batch.writeInt32BE(batch.length - 12, 8);
      expect((await rejected(fixCrc(batch))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  it('counts the records without key (a compacted topic refuses each of them, see src/produce/validate.ts)', async () => {
    const batch = await buildRecordBatch([{ key: Buffer.from('a') }, { key: null }, { key: null }], { timestamp: T0, baseOffset: 0 });
    expect((await validateProduceRecords(batch)).map((b) => b.nullKeys)).toEqual([2]);
    const compressed = await buildRecordBatch([{ key: null }, { key: Buffer.from('b') }], { timestamp: T0, baseOffset: 0, compression: Compression.gzip });
    expect((await validateProduceRecords(compressed)).map((b) => b.nullKeys)).toEqual([1]);
  });
});

describe('malformed records never crash', () => {
  /** xorshift32, seeded, so failures reproduce. */
  function rng(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 4294967296;
    };
  }

  it('random mutations of record bytes (CRC fixed up) give ProtocolError or a valid batch; walker and iterator agree', async () => {
    const good = await clientBatch(12);
    const random = rng(12345);
    const outcomes = { valid: 0, invalid: 0 };
    for (let round = 0; round < 3000; round++) {
      const bad = Buffer.from(good);
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) {
        const pos = 61 + Math.floor(random() * (bad.length - 61));
        bad[pos] = Math.floor(random() * 256);
      }
      fixCrc(bad);
      const header = readBatchHeader(bad);
      const area = bad.subarray(61);
      let walked = true;
      let iterated = true;
      try {
        checkRecords(header, area, false);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).errorCode).toBe(ErrorCode.INVALID_RECORD);
        walked = false;
      }
      try {
        expect([...iterateRecords(header, area)]).toHaveLength(12);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        iterated = false;
      }
      expect(iterated).toBe(walked);
      outcomes[walked ? 'valid' : 'invalid']++;
      try {
        await validateProduceRecords(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }
    // both branches were exercised
    expect(outcomes.valid).toBeGreaterThan(100);
    expect(outcomes.invalid).toBeGreaterThan(100);
  });

  it('random garbage buffers are ProtocolErrors', async () => {
    const random = rng(777);
    for (let round = 0; round < 500; round++) {
      const buf = Buffer.alloc(1 + Math.floor(random() * 200));
      for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(random() * 256);
      if (buf.length >= 12 && random() < 0.5) buf.writeInt32BE(buf.length - 12, 8);
      if (buf.length > 16 && random() < 0.5) buf[16] = 2;
      await expect(validateProduceRecords(buf)).rejects.toBeInstanceOf(ProtocolError);
    }
  });
});
