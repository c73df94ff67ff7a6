/**
 * Compression codecs of record batches and legacy message sets, by Kafka id:
 * 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (notes/record-format.md).
 *
 * `decompress` is bounded: output beyond `maxBytes` is rejected with a
 * ProtocolError (MESSAGE_TOO_LARGE) before it is materialised — gzip through
 * zlib's maxOutputLength, snappy through each block's declared length, lz4
 * through per-block output capacities, zstd through a frame-header bound.
 * Corrupt input gives ProtocolError (CORRUPT_MESSAGE); an unknown codec id
 * gives ProtocolError (UNSUPPORTED_COMPRESSION_TYPE).
 */
import { gunzip, gunzipSync, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { Compression } from './batch-header.js';
import { decodeLz4Frames, encodeLz4Frame } from './lz4-frame.js';
import { decodeSnappy, encodeXerialSnappy } from './snappy-xerial.js';
import { decodeZstd, encodeZstd } from './zstd-frame.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Default bound of one decompressed batch or wrapper message (64 MiB); callers pass their configured limit. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export const COMPRESSION_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface CompressOptions {
  /** lz4 only: write the frame header checksum the way Kafka does for magic-0 message sets. */
  readonly legacyLz4HeaderChecksum?: boolean;
}

function unknownCodec(codec: number): ProtocolError {
  return new ProtocolError(`unknown compression codec ${codec}`, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
}

/** Compresses `data` with the codec of Kafka id `codec` (none returns `data` itself). */
export async function compress(codec: number, data: Buffer, options: CompressOptions = {}): Promise<Buffer> {
  switch (codec) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return gzipAsync(data);
    case Compression.snappy:
      return encodeXerialSnappy(data);
    case Compression.lz4:
      return encodeLz4Frame(data, options.legacyLz4HeaderChecksum === true);
    case Compression.zstd:
      return encodeZstd(data);
    default:
      throw unknownCodec(codec);
  }
}

/**
 * Decompresses `data` (codec by Kafka id); never returns more than `maxBytes`
 * bytes: larger output is rejected with ProtocolError(MESSAGE_TOO_LARGE).
 */
export async function decompress(codec: number, data: Buffer, maxBytes: number): Promise<Buffer> {
  switch (codec) {
    case Compression.none:
      if (data.length > maxBytes) throw tooLarge(maxBytes);
      return data;
    case Compression.gzip:
      return gunzipBounded(data, maxBytes);
    case Compression.snappy:
      return decodeSnappy(data, maxBytes);
    case Compression.lz4:
      return decodeLz4Frames(data, maxBytes);
    case Compression.zstd:
      return decodeZstd(data, maxBytes);
    default:
      throw unknownCodec(codec);
  }
}

/** Inputs below this are inflated synchronously: a thread-pool round trip costs more than the work. */
const GZIP_SYNC_BELOW = 32 * 1024;

async function gunzipBounded(data: Buffer, maxBytes: number): Promise<Buffer> {
  const maxOutputLength = Math.max(1, maxBytes);
  let out: Buffer;
  try {
    out =
      data.length < GZIP_SYNC_BELOW
        ? gunzipSync(data, { maxOutputLength })
        : await gunzipAsync(data, { maxOutputLength, chunkSize: Math.min(1024 * 1024, Math.max(64 * 1024, data.length * 4)) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw new ProtocolError(`gzip: ${(err as Error).message}`, ErrorCode.CORRUPT_MESSAGE);
  }
  if (out.length > maxBytes) throw tooLarge(maxBytes);
  return out;
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError(`data inflates past the ${maxBytes}-byte limit`, ErrorCode.MESSAGE_TOO_LARGE);
}
