import { gzipSync } from 'node:zlib';
import { compressFrameSync, compressSync as lz4BlockCompress, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyRaw, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../protocol/index.js';
import { COMPRESSION_NAMES, Compression, compress, decompress } from '../../protocol/records/index.js';
import { decodeLz4Frames, lz4HeaderChecksum } from '../../protocol/records/lz4-frame.js';
import { isXerialSnappy } from '../../protocol/records/snappy-xerial.js';
import { zstdOutputBound } from '../../protocol/records/zstd-frame.js';
import { xxhash32 } from '../../protocol/records/xxhash32.js';

const MiB = 1024 * 1024;
const CODECS = [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];

/** Mixed text and pseudo-random bytes, so that blocks neither vanish nor stay incompressible. */
function sample(size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf[i] = i % 64 < 40 ? 97 + ((i >> 6) % 26) : x >>> 24;
  }
  return buf;
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<ProtocolError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

/** Independent xerial framing, written from the snappy-java stream format description. */
function xerialFrame(blocks: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const parts: Buffer[] = [header];
  for (const b of blocks) {
    const c = snappyRaw(b);
    const len = Buffer.alloc(4);
    len.writeInt32BE(c.length);
    parts.push(len, c);
  }
  return Buffer.concat(parts);
}

describe('compression round trips', () => {
  for (const codec of CODECS) {
    for (const size of [0, 1, 100, 70_000, 300_000]) {
      it(`${COMPRESSION_NAMES[codec]} restores ${size} bytes exactly`, async () => {
        const data = sample(size, size + codec);
        const packed = await compress(codec, data);
        const unpacked = await decompress(codec, packed, 10 * MiB);
        expect(unpacked.equals(data)).toBe(true);
      });
    }
  }

  it('none is the identity and still enforces the bound', async () => {
    const data = sample(50);
    expect(await compress(Compression.none, data)).toBe(data);
    expect(await decompress(Compression.none, data, 50)).toBe(data);
    expect((await rejection(decompress(Compression.none, data, 49))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('an unknown codec id is UNSUPPORTED_COMPRESSION_TYPE', async () => {
    expect((await rejection(compress(5, sample(10)))).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect((await rejection(decompress(7, sample(10), MiB))).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });
});

describe('codec formats match what other implementations read and write', () => {
  it('gzip output is a standard gzip stream and standard gzip streams decode', async () => {
    const data = sample(5000);
    expect((await compress(Compression.gzip, data)).subarray(0, 2).toString('hex')).toBe('1f8b');
    expect((await decompress(Compression.gzip, gzipSync(data), MiB)).equals(data)).toBe(true);
  });

  it('snappy output uses the xerial framing with 32 KiB blocks', async () => {
    const data = sample(100_000);
    const packed = await compress(Compression.snappy, data);
    expect(isXerialSnappy(packed)).toBe(true);
    expect(packed.readInt32BE(8)).toBe(1);
    expect(packed.readInt32BE(12)).toBe(1);
    // walk the blocks independently: each is raw snappy of at most 32 KiB
    const blocks: Buffer[] = [];
    for (let pos = 16; pos < packed.length; ) {
      const n = packed.readInt32BE(pos);
      blocks.push(snappyUncompress(packed.subarray(pos + 4, pos + 4 + n), { asBuffer: true }) as Buffer);
      pos += 4 + n;
    }
    expect(blocks.map((b) => b.length)).toEqual([32768, 32768, 32768, 1696]);
    expect(Buffer.concat(blocks).equals(data)).toBe(true);
  });

  it('snappy decodes raw blocks (librdkafka) and multi-block xerial streams (Java, kafkajs-snappy)', async () => {
    const data = sample(80_000);
    expect((await decompress(Compression.snappy, snappyRaw(data), MiB)).equals(data)).toBe(true);
    const framed = xerialFrame([data.subarray(0, 30_000), data.subarray(30_000, 60_000), data.subarray(60_000)]);
    expect((await decompress(Compression.snappy, framed, MiB)).equals(data)).toBe(true);
  });

  it('lz4 output is a version-1 frame with independent blocks and a correct header checksum', async () => {
    const data = sample(200_000);
    const frame = await compress(Compression.lz4, data);
    expect(frame.readUInt32LE(0)).toBe(0x184d2204);
    expect(frame[4]! & 0xc0).toBe(0x40);
    expect(frame[4]! & 0x20).toBe(0x20);
    expect(frame[6]).toBe(lz4HeaderChecksum(frame));
    expect(decompressFrameSync(frame).equals(data)).toBe(true);
  });

  it('lz4 with the legacy option writes Kafka magic-0 header checksum (over the magic too), and both decode', async () => {
    const data = sample(1000);
    const legacy = await compress(Compression.lz4, data, { legacyLz4HeaderChecksum: true });
    expect(legacy[6]).toBe(lz4HeaderChecksum(legacy, true));
    expect(legacy[6]).not.toBe(lz4HeaderChecksum(legacy));
    expect((await decompress(Compression.lz4, legacy, MiB)).equals(data)).toBe(true);
  });

  it('lz4 decodes frames written by another encoder, with content size, block checksums and stored blocks', async () => {
    const data = sample(150_000);
    const other = compressFrameSync(data, { blockChecksums: true, contentChecksum: true });
    expect((await decompress(Compression.lz4, other, MiB)).equals(data)).toBe(true);
    // hand-made frame: content size flag, one compressed block and one stored (uncompressed) block
    const a = data.subarray(0, 1000);
    const b = data.subarray(1000, 1100);
    const blockA = lz4BlockCompress(a).subarray(4);
    const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    header.writeUInt32LE(1100, 6);
    header[14] = lz4HeaderChecksum(header);
    const sizeA = Buffer.alloc(4);
    sizeA.writeUInt32LE(blockA.length);
    const sizeB = Buffer.alloc(4);
    sizeB.writeUInt32LE((b.length | 0x80000000) >>> 0);
    const frame = Buffer.concat([header, sizeA, blockA, sizeB, b, Buffer.alloc(4)]);
    expect(decompressFrameSync(frame).equals(data.subarray(0, 1100))).toBe(true);
    expect(decodeLz4Frames(frame, MiB).equals(data.subarray(0, 1100))).toBe(true);
  });

  it('lz4 rejects dependent-block frames, as Kafka does', async () => {
    const frame = Buffer.from(await compress(Compression.lz4, sample(100)));
    frame[4] = frame[4]! & ~0x20;
    const err = await rejection(decompress(Compression.lz4, frame, MiB));
    expect(err.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(err.message).toMatch(/dependent block/);
  });

  it('zstd output is a standard frame and frames from the reference binding decode', async () => {
    const data = sample(400_000);
    const ours = await compress(Compression.zstd, data);
    expect(ours.readUInt32LE(0)).toBe(0xfd2fb528);
    expect((await zstdDecompress(ours)).equals(data)).toBe(true);
    expect((await decompress(Compression.zstd, await zstdCompress(data, 19), MiB)).equals(data)).toBe(true);
  });

  it('zstd output bound is at least the real size and close to it for real streams', async () => {
    for (const size of [10, 5000, 131_072, 1_000_000]) {
      const data = sample(size, size);
      const bound = zstdOutputBound(await zstdCompress(data, 3), 100 * MiB);
      expect(bound).toBeGreaterThanOrEqual(size);
      expect(bound).toBeLessThanOrEqual(size + 128 * 1024);
    }
  });

  it('xxhash32 matches the reference vectors', () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });
});

describe('decompression is bounded', () => {
  const zeros = Buffer.alloc(64 * MiB);

  for (const codec of CODECS) {
    it(`${COMPRESSION_NAMES[codec]}: a small input that inflates past the limit is rejected with MESSAGE_TOO_LARGE`, async () => {
      const bomb = await compress(codec, zeros);
      expect(bomb.length).toBeLessThan(4 * MiB);
      const err = await rejection(decompress(codec, bomb, MiB));
      expect(err.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    });

    it(`${COMPRESSION_NAMES[codec]}: output exactly at the limit is accepted`, async () => {
      const data = sample(300_000);
      const out = await decompress(codec, await compress(codec, data), 300_000 + (codec === Compression.zstd ? 128 * 1024 : 0));
      expect(out.length).toBe(300_000);
    });
  }

  it('snappy: a raw block declaring a huge length is rejected before decoding', async () => {
    const lie = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    expect((await rejection(decompress(Compression.snappy, lie, MiB))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('lz4: a frame whose declared content size exceeds the limit is rejected', async () => {
    const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect((await rejection(decompress(Compression.lz4, header, MiB))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('zstd: RLE blocks count at their full size', async () => {
    // frame: magic, FHD 0 (no content size), window descriptor, then 100 RLE blocks of 128 KiB of 'x'
    const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])];
    for (let i = 0; i < 100; i++) {
      const header = ((128 * 1024) << 3) | (1 << 1) | (i === 99 ? 1 : 0);
      parts.push(Buffer.from([header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, 0x78]));
    }
    const frame = Buffer.concat(parts);
    expect(zstdOutputBound(frame, 100 * MiB)).toBe(100 * 128 * 1024);
    expect((await decompress(Compression.zstd, frame, 100 * 128 * 1024)).length).toBe(100 * 128 * 1024);
    expect((await rejection(decompress(Compression.zstd, frame, MiB))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });
});

describe('corrupt compressed data is a ProtocolError, never a crash', () => {
  for (const codec of CODECS) {
    it(`${COMPRESSION_NAMES[codec]}: garbage, truncation and flipped bytes are rejected with CORRUPT_MESSAGE`, async () => {
      const good = await compress(codec, sample(20_000));
      const cases: Buffer[] = [Buffer.alloc(0), Buffer.from('not compressed at all'), good.subarray(0, good.length >> 1)];
      for (let i = 0; i < 40; i++) {
        const bad = Buffer.from(good);
        const at = (i * 7919) % bad.length;
        bad[at] = bad[at]! ^ 0x5a;
        cases.push(bad);
      }
      for (const input of cases) {
        try {
          const out = await decompress(codec, input, MiB);
          // a flipped byte inside a literal may still decode; it must stay within the bound
          expect(out.length).toBeLessThanOrEqual(MiB);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
          expect([ErrorCode.CORRUPT_MESSAGE, ErrorCode.MESSAGE_TOO_LARGE]).toContain((err as ProtocolError).errorCode);
        }
      }
      for (const input of cases.slice(0, 3)) {
        expect((await rejection(decompress(codec, input, MiB))).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
      }
    });
  }
});
