/**
 * Legacy message sets, magic 0 and 1 (notes/record-format.md): entries of
 * offset int64, size int32, then a message: crc uint32 (CRC-32 IEEE over
 * magic..end), magic int8, attributes int8, timestamp int64 (magic 1 only),
 * key bytes, value bytes. A compressed entry is a wrapper whose value is a
 * compressed message set of inner messages: magic 0 inner messages carry
 * absolute offsets; magic 1 inner messages carry relative offsets and the
 * wrapper's offset is that of the last inner message. A magic-1 LogAppendTime
 * wrapper's timestamp applies to every inner message.
 *
 * Errors (Kafka's codes): bad sizes, truncation or a CRC mismatch give
 * CORRUPT_MESSAGE; nested compression, an inner magic different from the
 * wrapper's, or a magic-2 entry among legacy ones give INVALID_RECORD; zstd,
 * which needs magic 2, gives UNSUPPORTED_COMPRESSION_TYPE.
 */
import { crc32 } from './checksums.js';
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { Reader } from '../primitives.js';
import { BATCH_LENGTH_OFFSET, Compression, LOG_OVERHEAD, MAGIC_OFFSET, readInt64, writeInt64 } from './batch-header.js';

/** A legacy entry's fields after the offset and size it shares with v2 batches (magic is at MAGIC_OFFSET in both). */
const LEGACY_CRC_OFFSET = 12;
const LEGACY_ATTRIBUTES_OFFSET = 17;
/** The timestamp (magic 1), or the key (magic 0). */
const LEGACY_BODY_OFFSET = 18;
import { invalidRecord } from './batch-records.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, compress, decompress } from './compression.js';

/** Smallest message (crc + magic + attributes + null key + null value), magic 0 / magic 1. */
export const LEGACY_MESSAGE_MIN_SIZE = [14, 22] as const;
const LEGACY_ATTR_LOG_APPEND_TIME = 0x08;

export interface LegacyMessage {
  /** Absolute offset (for magic-1 inner messages computed from the wrapper's offset). */
  readonly offset: number;
  readonly magic: 0 | 1;
  /** Message timestamp; -1 for magic 0. For a LogAppendTime wrapper, the wrapper's timestamp. */
  readonly timestamp: number;
  /** 0 CreateTime, 1 LogAppendTime (magic 1 only). */
  readonly timestampType: 0 | 1;
  /** Codec of the wrapper the message came from; 0 when it was not compressed. */
  readonly compression: number;
  /** Index of the top-level entry (plain message or wrapper) the message came from. */
  readonly entryIndex: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

function corrupt(message: string): ProtocolError {
  return new ProtocolError(message, ErrorCode.CORRUPT_MESSAGE);
}

interface RawMessage {
  readonly offset: number;
  readonly magic: 0 | 1;
  readonly attributes: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** Parses the legacy entries of `buf` (no decompression); throws ProtocolError on bad framing or CRC. */
function parseEntries(buf: Buffer, inner: boolean): RawMessage[] {
  const out: RawMessage[] = [];
  let pos = 0;
  const where = inner ? 'inner message' : 'message';
  while (pos < buf.length) {
    const left = buf.length - pos;
    if (left < LOG_OVERHEAD) throw corrupt(`${left} trailing bytes after the last ${where}`);
    const size = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (size < LEGACY_MESSAGE_MIN_SIZE[0]) throw corrupt(`${where} size ${size} is below the minimum message overhead`);
    if (size > left - LOG_OVERHEAD) throw corrupt(`truncated ${where}: ${size} bytes declared, ${left - LOG_OVERHEAD} present`);
    const end = pos + LOG_OVERHEAD + size;
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    if (magic === 2) throw invalidRecord(`a magic 2 record batch cannot be mixed into a legacy message set`);
    if (magic !== 0 && magic !== 1) throw corrupt(`invalid magic ${magic} in ${where}`);
    if (size < LEGACY_MESSAGE_MIN_SIZE[magic]) throw corrupt(`${where} size ${size} is below the magic ${magic} minimum`);
    const stored = buf.readUInt32BE(pos + LEGACY_CRC_OFFSET);
    const computed = crc32(buf.subarray(pos + MAGIC_OFFSET, end)) >>> 0;
    if (stored !== computed) throw corrupt(`${where} at offset ${readInt64(buf, pos)} is corrupt (stored crc ${stored}, computed ${computed})`);
    const attributes = buf[pos + LEGACY_ATTRIBUTES_OFFSET]!;
    const r = new Reader(buf, pos + LEGACY_BODY_OFFSET, end);
    let key: Buffer | null;
    let value: Buffer | null;
    let timestamp = -1;
    try {
      if (magic === 1) timestamp = readInt64(buf, r.need(8));
      key = r.bytes(true);
      value = r.bytes(true);
    } catch (err) {
      throw corrupt(`${where}: ${(err as Error).message}`);
    }
    if (r.remaining !== 0) throw corrupt(`${where}: ${r.remaining} bytes after its value`);
    out.push({ offset: readInt64(buf, pos), magic, attributes, timestamp, key, value });
    pos = end;
  }
  return out;
}

/**
 * Decodes a legacy message set, decompressing wrappers (each bounded by
 * `maxBytes`), into messages with absolute offsets. Every top-level entry
 * must have the same magic (INVALID_RECORD otherwise).
 */
export async function readMessageSet(buf: Buffer, maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<LegacyMessage[]> {
  const entries = parseEntries(buf, false);
  const out: LegacyMessage[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.magic !== entries[0]!.magic) throw invalidRecord(`message magic ${e.magic} differs from the first message's magic ${entries[0]!.magic}`);
    const compression = e.attributes & 0x07;
    const timestampType = e.magic === 1 && (e.attributes & LEGACY_ATTR_LOG_APPEND_TIME) !== 0 ? 1 : 0;
    if (compression === Compression.none) {
      out.push({ offset: e.offset, magic: e.magic, timestamp: e.timestamp, timestampType, compression, entryIndex: i, key: e.key, value: e.value });
      continue;
    }
    if (compression === Compression.zstd) {
      throw new ProtocolError('zstd compression requires magic 2 record batches', ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    }
    if (e.value === null) throw corrupt(`compressed wrapper message at offset ${e.offset} has a null value`);
    const inner = parseEntries(await decompress(compression, e.value, maxBytes), true);
    if (inner.length === 0) throw invalidRecord(`compressed wrapper message at offset ${e.offset} holds no messages`);
    const lastInner = inner[inner.length - 1]!.offset;
    const absoluteBase = e.magic === 1 ? e.offset - lastInner : -1;
    for (const m of inner) {
      if (m.magic !== e.magic) throw invalidRecord(`inner message magic ${m.magic} does not match its wrapper's magic ${e.magic}`);
      if ((m.attributes & 0x07) !== 0) throw invalidRecord('compressed wrapper message holds a compressed inner message');
      out.push({
        offset: absoluteBase >= 0 ? absoluteBase + m.offset : m.offset,
        magic: e.magic,
        timestamp: timestampType === 1 ? e.timestamp : m.timestamp,
        timestampType,
        compression,
        entryIndex: i,
        key: m.key,
        value: m.value,
      });
    }
  }
  return out;
}

export interface LegacyMessageInput {
  readonly offset: number;
  /** Ignored for magic 0; defaults to -1. */
  readonly timestamp?: number;
  readonly key?: Buffer | null;
  readonly value?: Buffer | null;
}

export interface MessageSetOptions {
  readonly magic: 0 | 1;
  /** Kafka codec id (gzip, snappy, lz4); the messages go into one wrapper. Default none. */
  readonly compression?: number;
  /** Magic 1: LogAppendTime with this timestamp for every message (and the wrapper). */
  readonly logAppendTime?: number;
}

function messageSize(magic: 0 | 1, key: Buffer | null | undefined, value: Buffer | null | undefined): number {
  return LEGACY_MESSAGE_MIN_SIZE[magic] + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
}

/** Writes one entry (offset, size, message) at `pos`; returns the position after it. */
function writeEntry(
  buf: Buffer,
  pos: number,
  offset: number,
  magic: 0 | 1,
  attributes: number,
  timestamp: number,
  key: Buffer | null | undefined,
  value: Buffer | null | undefined,
): number {
  const size = messageSize(magic, key, value);
  writeInt64(buf, pos, offset);
  buf.writeInt32BE(size, pos + BATCH_LENGTH_OFFSET);
  buf[pos + MAGIC_OFFSET] = magic;
  buf[pos + LEGACY_ATTRIBUTES_OFFSET] = attributes;
  let p = pos + LEGACY_BODY_OFFSET;
  if (magic === 1) {
    writeInt64(buf, p, timestamp);
    p += 8;
  }
  for (const b of [key, value]) {
    if (b == null) {
      p = buf.writeInt32BE(-1, p);
    } else {
      p = buf.writeInt32BE(b.length, p);
      p += b.copy(buf, p);
    }
  }
  buf.writeUInt32BE(crc32(buf.subarray(pos + MAGIC_OFFSET, p)) >>> 0, pos + LEGACY_CRC_OFFSET);
  return p;
}

function writeMessages(messages: readonly LegacyMessageInput[], magic: 0 | 1, attributes: number, offsetBase: number, logAppendTime: number | undefined): Buffer {
  let total = 0;
  for (const m of messages) total += LOG_OVERHEAD + messageSize(magic, m.key, m.value);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const m of messages) {
    const timestamp = magic === 0 ? -1 : (logAppendTime ?? m.timestamp ?? -1);
    pos = writeEntry(buf, pos, m.offset - offsetBase, magic, attributes, timestamp, m.key, m.value);
  }
  return buf;
}

/**
 * Encodes messages as a legacy message set: one entry per message, or with a
 * codec, one wrapper holding them (magic 1: relative inner offsets, wrapper at
 * the last offset, timestamp the max or the LogAppendTime; magic 0 lz4: Kafka's
 * legacy frame header checksum).
 */
export async function encodeMessageSet(messages: readonly LegacyMessageInput[], options: MessageSetOptions): Promise<Buffer> {
  const { magic } = options;
  const codec = options.compression ?? Compression.none;
  const logAppendTime = magic === 1 ? options.logAppendTime : undefined;
  const timestampBit = logAppendTime !== undefined ? LEGACY_ATTR_LOG_APPEND_TIME : 0;
  if (codec === Compression.none) return writeMessages(messages, magic, timestampBit, 0, logAppendTime);
  if (codec === Compression.zstd || codec > 4 || codec < 0) {
    throw new ProtocolError(`compression codec ${codec} is not available for magic ${magic}`, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  }
  if (messages.length === 0) return Buffer.alloc(0);
  const first = messages[0]!.offset;
  const last = messages[messages.length - 1]!.offset;
  const inner = writeMessages(messages, magic, timestampBit, magic === 1 ? first : 0, logAppendTime);
  const value = await compress(codec, inner, { legacyLz4HeaderChecksum: magic === 0 });
  let timestamp = -1;
  if (magic === 1) {
    if (logAppendTime !== undefined) timestamp = logAppendTime;
    else for (const m of messages) timestamp = Math.max(timestamp, m.timestamp ?? -1);
  }
  const buf = Buffer.allocUnsafe(LOG_OVERHEAD + messageSize(magic, null, value));
  writeEntry(buf, 0, last, magic, codec | timestampBit, timestamp, null, value);
  return buf;
}
