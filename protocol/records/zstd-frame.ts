/**
 * Zstandard frames (RFC 8878), walked without decoding to bound their output.
 *
 * The zstd binding decompresses in one call with no output limit, so before
 * calling it we walk the frame and block headers: a raw or RLE block produces
 * exactly its Block_Size, a compressed block at most Block_Maximum_Size
 * (min(window size, 128 KiB)). The sum is a hard upper bound of the output;
 * a frame whose bound (or declared content size) exceeds `maxBytes` is
 * rejected before anything is inflated. The bound is exact up to the unused
 * part of compressed blocks, which for real streams (full 128 KiB blocks, as
 * librdkafka and Java write them) is at most one block per frame.
 */
import { createRequire } from 'node:module';
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';

// The native codec is loaded on first use: loading it costs tens of milliseconds of broker startup.
let zstdModule: typeof import('@mongodb-js/zstd') | undefined;
const zstdCodec = (): typeof import('@mongodb-js/zstd') => (zstdModule ??= createRequire(import.meta.url)('@mongodb-js/zstd') as typeof import('@mongodb-js/zstd'));

const FRAME_MAGIC = 0xfd2fb528;
const MAX_BLOCK = 128 * 1024;

function corrupt(message: string): ProtocolError {
  return new ProtocolError(`zstd: ${message}`, ErrorCode.CORRUPT_MESSAGE);
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError(`zstd: data may inflate past the ${maxBytes}-byte limit`, ErrorCode.MESSAGE_TOO_LARGE);
}

/**
 * Upper bound of the decompressed size of the zstd frames in `input`; throws
 * ProtocolError for a malformed frame layout or a declared content size above `maxBytes`.
 */
export function zstdOutputBound(input: Buffer, maxBytes: number): number {
  let pos = 0;
  let bound = 0;
  const end = input.length;
  if (end === 0) throw corrupt('empty input');
  while (pos < end) {
    if (end - pos < 5) throw corrupt('truncated frame header');
    const magic = input.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (end - pos < 8) throw corrupt('truncated skippable frame');
      const size = input.readUInt32LE(pos + 4);
      if (end - pos - 8 < size) throw corrupt('truncated skippable frame');
      pos += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`);
    const fhd = input[pos + 4]!;
    pos += 5;
    if ((fhd & 0x08) !== 0) throw corrupt('reserved frame header bit set');
    const fcsFlag = fhd >>> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const hasChecksum = (fhd & 0x04) !== 0;
    const dictIdSize = [0, 1, 2, 4][fhd & 0x03]!;
    const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    let windowSize = 0;
    if (!singleSegment) {
      if (end - pos < 1) throw corrupt('truncated frame header');
      const wd = input[pos++]!;
      const windowLog = 10 + (wd >>> 3);
      const windowBase = 2 ** windowLog;
      windowSize = windowBase + (windowBase / 8) * (wd & 0x07);
    }
    if (end - pos < dictIdSize + fcsSize) throw corrupt('truncated frame header');
    pos += dictIdSize;
    let contentSize = -1;
    if (fcsSize === 1) contentSize = input[pos]!;
    else if (fcsSize === 2) contentSize = input.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) contentSize = input.readUInt32LE(pos);
    else if (fcsSize === 8) contentSize = input.readUInt32LE(pos + 4) * 4294967296 + input.readUInt32LE(pos);
    pos += fcsSize;
    if (contentSize > maxBytes) throw tooLarge(maxBytes);
    if (singleSegment) windowSize = contentSize;
    const blockMax = Math.min(windowSize, MAX_BLOCK);
    for (;;) {
      if (end - pos < 3) throw corrupt('truncated block header');
      const header = input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16);
      pos += 3;
      const last = (header & 1) !== 0;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt('reserved block type');
      const stored = type === 1 ? 1 : size;
      if (end - pos < stored) throw corrupt('truncated block');
      pos += stored;
      bound += type === 2 ? blockMax : size;
      if (last) break;
    }
    if (hasChecksum) {
      if (end - pos < 4) throw corrupt('truncated content checksum');
      pos += 4;
    }
  }
  return bound;
}

/** Decompresses zstd frames; throws ProtocolError if malformed or possibly larger than `maxBytes`. */
export async function decodeZstd(input: Buffer, maxBytes: number): Promise<Buffer> {
  if (zstdOutputBound(input, maxBytes) > maxBytes) throw tooLarge(maxBytes);
  let out: Buffer;
  try {
    out = await zstdCodec().decompress(input);
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  if (out.length > maxBytes) throw tooLarge(maxBytes);
  return out;
}

/** Compresses into one zstd frame (level 3, Kafka's default). */
export function encodeZstd(data: Buffer, level = 3): Promise<Buffer> {
  return zstdCodec().compress(data, level);
}
