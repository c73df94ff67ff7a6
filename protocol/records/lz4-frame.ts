/**
 * LZ4 frame format, as Kafka uses it (KafkaLZ4BlockInputStream/OutputStream,
 * librdkafka's LZ4F): magic 0x184D2204, a frame descriptor (FLG, BD, optional
 * content size, HC checksum byte), then blocks of int32-LE size (high bit set =
 * stored uncompressed) ending with a zero size, optional content checksum.
 *
 * Decoding walks the frame itself and decompresses block by block with
 * lz4-napi's native block decoder, giving each block an output capacity of
 * min(block maximum size, bytes left under `maxBytes`), so a frame cannot
 * inflate past the limit. Like Kafka, only independent blocks are accepted
 * (Kafka's reader rejects "dependent block streams", so no client sends them).
 * The HC byte is not checked: Kafka's magic-0 writer computed it wrongly (over
 * the magic number too), and the batch CRC already covers every byte.
 *
 * Encoding uses lz4-napi's frame encoder (version 1, independent blocks, no
 * checksums, the format Java and librdkafka read); `legacyHeaderChecksum`
 * rewrites HC the way Kafka does for magic-0 message sets.
 */
import { createRequire } from 'node:module';
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { xxhash32 } from './xxhash32.js';

// The native codec is loaded on first use: loading it costs tens of milliseconds of broker startup.
let lz4Module: typeof import('lz4-napi') | undefined;
const lz4Codec = (): typeof import('lz4-napi') => (lz4Module ??= createRequire(import.meta.url)('lz4-napi') as typeof import('lz4-napi'));

const FRAME_MAGIC = 0x184d2204;
const FLG_VERSION_MASK = 0xc0;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
const UNCOMPRESSED_BLOCK = 0x80000000;

function corrupt(message: string): ProtocolError {
  return new ProtocolError(`lz4: ${message}`, ErrorCode.CORRUPT_MESSAGE);
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError(`lz4: data inflates past the ${maxBytes}-byte limit`, ErrorCode.MESSAGE_TOO_LARGE);
}

/** Decompresses one or more concatenated LZ4 frames; throws ProtocolError if corrupt or larger than `maxBytes`. */
export function decodeLz4Frames(input: Buffer, maxBytes: number): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  let pos = 0;
  const end = input.length;
  if (end === 0) throw corrupt('empty input');
  while (pos < end) {
    if (end - pos < 7) throw corrupt('truncated frame header');
    const magic = input.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // skippable frame
      if (end - pos < 8) throw corrupt('truncated skippable frame');
      const size = input.readUInt32LE(pos + 4);
      if (pos + 8 + size > end) throw corrupt('truncated skippable frame');
      pos += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`);
    const flg = input[pos + 4]!;
    const bd = input[pos + 5]!;
    if ((flg & FLG_VERSION_MASK) !== 0x40) throw corrupt(`unsupported frame version ${flg >>> 6}`);
    if ((flg & FLG_RESERVED) !== 0 || (bd & 0x8f) !== 0) throw corrupt('reserved descriptor bits set');
    if ((flg & FLG_BLOCK_INDEPENDENT) === 0) throw corrupt('dependent block streams are unsupported');
    if ((flg & FLG_DICT_ID) !== 0) throw corrupt('preset dictionaries are unsupported');
    const blockMaxId = (bd >>> 4) & 0x07;
    if (blockMaxId < 4) throw corrupt(`invalid block maximum size id ${blockMaxId}`);
    const blockMax = 1 << (8 + 2 * blockMaxId);
    pos += 6;
    if ((flg & FLG_CONTENT_SIZE) !== 0) {
      if (end - pos < 9) throw corrupt('truncated frame header');
      const high = input.readUInt32LE(pos + 4);
      const contentSize = high * 4294967296 + input.readUInt32LE(pos);
      if (total + contentSize > maxBytes) throw tooLarge(maxBytes);
      pos += 8;
    }
    pos += 1; // HC
    const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0;
    for (;;) {
      if (end - pos < 4) throw corrupt('truncated block header');
      const word = input.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw corrupt(`block of ${size} bytes exceeds the ${blockMax}-byte maximum`);
      if (end - pos < size + blockChecksum) throw corrupt('truncated block');
      const block = input.subarray(pos, pos + size);
      pos += size + blockChecksum;
      if ((word & UNCOMPRESSED_BLOCK) !== 0) {
        if (total + size > maxBytes) throw tooLarge(maxBytes);
        out.push(block);
        total += size;
        continue;
      }
      // An LZ4 block inflates at most 255x; capacity is also capped by the remaining budget.
      const budget = maxBytes - total;
      const capacity = Math.min(blockMax, budget, size * 255 + 16);
      const prefixed = Buffer.allocUnsafe(4 + size);
      prefixed.writeUInt32LE(capacity, 0);
      block.copy(prefixed, 4);
      let decoded: Buffer;
      try {
        decoded = lz4Codec().uncompressSync(prefixed);
      } catch (err) {
        if (capacity === budget && /too small/i.test(String(err))) throw tooLarge(maxBytes);
        throw corrupt(`invalid block: ${(err as Error).message}`);
      }
      out.push(decoded);
      total += decoded.length;
    }
    if ((flg & FLG_CONTENT_CHECKSUM) !== 0) {
      if (end - pos < 4) throw corrupt('truncated content checksum');
      pos += 4;
    }
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out, total);
}

/**
 * Compresses `data` into one LZ4 frame (independent blocks). With
 * `legacyHeaderChecksum`, HC is computed over the magic number too, as Kafka
 * writes it for magic-0 message sets.
 */
export async function encodeLz4Frame(data: Buffer, legacyHeaderChecksum = false): Promise<Buffer> {
  const frame = await lz4Codec().compressFrame(data);
  const flg = frame[4]!;
  if (frame.readUInt32LE(0) !== FRAME_MAGIC || (flg & FLG_BLOCK_INDEPENDENT) === 0) {
    throw new Error('lz4-napi produced an unexpected frame layout');
  }
  if (legacyHeaderChecksum) {
    const hcPos = 6 + ((flg & FLG_CONTENT_SIZE) !== 0 ? 8 : 0) + ((flg & FLG_DICT_ID) !== 0 ? 4 : 0);
    frame[hcPos] = (xxhash32(frame, 0, hcPos) >>> 8) & 0xff;
  }
  return frame;
}

/** The correct HC byte of the frame descriptor starting at byte 4 of `frame` (for tests and diagnostics). */
export function lz4HeaderChecksum(frame: Buffer, legacy = false): number {
  const flg = frame[4]!;
  const hcPos = 6 + ((flg & FLG_CONTENT_SIZE) !== 0 ? 8 : 0) + ((flg & FLG_DICT_ID) !== 0 ? 4 : 0);
  return (xxhash32(frame, legacy ? 0 : 4, hcPos) >>> 8) & 0xff;
}
