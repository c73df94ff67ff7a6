/**
 * Snappy as Kafka clients send it: either the xerial snappy-java stream framing
 * (Java, kafkajs-snappy: 8-byte magic 0x82 'SNAPPY' 0x00, int32 version,
 * int32 compatible version, then blocks of int32 length + raw snappy) or one
 * plain raw snappy block (librdkafka). Every raw block starts with its
 * uncompressed length (uvarint), which is checked against the remaining
 * budget before the block is decoded, so inflating past `maxBytes` is
 * rejected without allocating. Writes use the xerial framing (32 KiB blocks,
 * snappy-java's default), which every client reads.
 */
import { createRequire } from 'node:module';
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';

// The native codec is loaded on first use: loading it costs tens of milliseconds of broker startup.
let snappyModule: typeof import('snappy') | undefined;
const snappyCodec = (): typeof import('snappy') => (snappyModule ??= createRequire(import.meta.url)('snappy') as typeof import('snappy'));

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_BLOCK_SIZE = 32 * 1024;

function corrupt(message: string): ProtocolError {
  return new ProtocolError(`snappy: ${message}`, ErrorCode.CORRUPT_MESSAGE);
}

/** True when `input` starts with the xerial snappy-java stream header. */
export function isXerialSnappy(input: Buffer): boolean {
  return input.length >= XERIAL_HEADER_SIZE && input.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

/** Uncompressed length declared at the start of a raw snappy block. */
function rawLength(block: Buffer): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  throw corrupt('invalid length preamble');
}

function decodeRaw(block: Buffer, budget: number, maxBytes: number): Buffer {
  if (rawLength(block) > budget) {
    throw new ProtocolError(`snappy: data inflates past the ${maxBytes}-byte limit`, ErrorCode.MESSAGE_TOO_LARGE);
  }
  try {
    return snappyCodec().uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw corrupt((err as Error).message);
  }
}

/** Decompresses xerial-framed or raw snappy; throws ProtocolError if corrupt or larger than `maxBytes`. */
export function decodeSnappy(input: Buffer, maxBytes: number): Buffer {
  if (!isXerialSnappy(input)) return decodeRaw(input, maxBytes, maxBytes);
  const out: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < input.length) {
    if (input.length - pos < 4) throw corrupt('truncated xerial block length');
    const size = input.readInt32BE(pos);
    pos += 4;
    if (size < 0 || pos + size > input.length) throw corrupt(`xerial block of ${size} bytes overruns the input`);
    const block = decodeRaw(input.subarray(pos, pos + size), maxBytes - total, maxBytes);
    pos += size;
    out.push(block);
    total += block.length;
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out, total);
}

/** Compresses with the xerial framing (version 1, compatible version 1, 32 KiB blocks). */
export function encodeXerialSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  let total = XERIAL_HEADER_SIZE;
  for (let pos = 0; pos < data.length || pos === 0; pos += XERIAL_BLOCK_SIZE) {
    const block = snappyCodec().compressSync(data.subarray(pos, Math.min(data.length, pos + XERIAL_BLOCK_SIZE)));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    total += 4 + block.length;
    if (data.length === 0) break;
  }
  return Buffer.concat(parts, total);
}
