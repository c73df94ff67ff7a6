/**
 * Conversion between legacy message sets (magic 0/1) and v2 record batches,
 * as Kafka 3.9 does it: Produce v0-2 carry magic 0/1 and are stored as v2;
 * Fetch v0-3 readers understand only magic 0 (v0-1) or 0/1 (v2-3), so stored
 * v2 batches are down-converted for them. Keys, values, timestamps (magic 1),
 * timestamp types and offsets are preserved; v2 headers have no legacy
 * equivalent and are dropped (as Kafka does); control batches are skipped.
 */
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import {
  ATTR_CONTROL,
  ATTR_LOG_APPEND_TIME,
  BATCH_LENGTH_OFFSET,
  Compression,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  compressionOf,
  readBatchHeader,
  verifyBatchCrc,
} from './batch-header.js';
import { iterateRecords, recordsArea } from './batch-records.js';
import { buildRecordBatch, type RecordInput } from './batch-builder.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
import { encodeMessageSet, readMessageSet, type LegacyMessage, type LegacyMessageInput } from './message-set.js';

export interface MessageSetToBatchesOptions {
  /** Bound of each decompressed wrapper; default 64 MiB. */
  readonly maxDecompressedBytes?: number;
  /**
   * Produce: number the records 0, 1, 2, ... across the batches (the broker
   * assigns real offsets on append), as Kafka ignores client offsets.
   * Default false: keep each message's offset.
   */
  readonly assignOffsets?: boolean;
}

/** True when `b` must start a new v2 batch after `a`. */
function startsNewBatch(a: LegacyMessage, b: LegacyMessage, assignOffsets: boolean): boolean {
  if (a.compression !== 0 || b.compression !== 0) return a.entryIndex !== b.entryIndex;
  if (a.timestampType !== b.timestampType) return true;
  if (a.timestampType === 1 && a.timestamp !== b.timestamp) return true;
  return !assignOffsets && b.offset <= a.offset;
}

/**
 * Converts a legacy message set into v2 batches: one batch per compressed
 * wrapper (same codec) and one per run of uncompressed messages (split where
 * the timestamp type changes or offsets stop increasing). LogAppendTime
 * messages become LogAppendTime batches with the message timestamp as
 * maxTimestamp. Validates CRCs and structure like readMessageSet.
 */
export async function messageSetToBatches(buf: Buffer, options: MessageSetToBatchesOptions = {}): Promise<Buffer[]> {
  const messages = await readMessageSet(buf, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  const assignOffsets = options.assignOffsets === true;
  const batches: Buffer[] = [];
  let nextOffset = 0;
  let start = 0;
  for (let i = 1; i <= messages.length; i++) {
    if (i < messages.length && !startsNewBatch(messages[i - 1]!, messages[i]!, assignOffsets)) continue;
    const group = messages.slice(start, i);
    start = i;
    const first = group[0]!;
    const baseOffset = assignOffsets ? nextOffset : first.offset;
    const records: RecordInput[] = group.map((m, j) => ({
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      offsetDelta: assignOffsets ? j : m.offset - baseOffset,
    }));
    nextOffset += group.length;
    batches.push(
      await buildRecordBatch(records, {
        baseOffset,
        compression: first.compression,
        ...(first.timestampType === 1 ? { logAppendTime: first.timestamp } : {}),
      }),
    );
  }
  return batches;
}

export interface BatchesToMessageSetOptions {
  /** Bound of each decompressed batch; default 64 MiB. */
  readonly maxDecompressedBytes?: number;
  /**
   * The fetch offset: records before it are dropped from the uncompressed entries that are converted, as
   * Kafka's RecordsUtil.downConvert does (magic 0/1 have no batches, and some readers take every message
   * they get as one at or after their fetch offset). Compressed batches are converted whole. Default: keep
   * every record.
   */
  readonly firstOffset?: number;
}

/**
 * The whole entries (v2 batches, or legacy messages and wrappers) of stored chunks as read from the log, in
 * order, as slices; a truncated entry at the end of a chunk ends that chunk (a fetch may end in a partial
 * batch).
 */
export function* storedEntries(chunks: Buffer | readonly Buffer[]): Generator<Buffer> {
  for (const chunk of Buffer.isBuffer(chunks) ? [chunks] : chunks) {
    let pos = 0;
    while (chunk.length - pos >= LOG_OVERHEAD) {
      const size = LOG_OVERHEAD + chunk.readInt32BE(pos + BATCH_LENGTH_OFFSET);
      if (size <= MAGIC_OFFSET) throw new ProtocolError(`entry size ${size} is too small for a message or batch`);
      if (pos + size > chunk.length) break;
      yield chunk.subarray(pos, pos + size);
      pos += size;
    }
  }
}

/**
 * Down-converts stored entries (v2 batches, possibly spread over several
 * chunks, as read from the log) into a message set of `magic` 0 or 1 for an
 * old Fetch reader, entry by entry (downConvertEntry); a truncated entry at
 * the end of a chunk is dropped.
 */
export async function batchesToMessageSet(
  chunks: Buffer | readonly Buffer[],
  magic: 0 | 1,
  options: BatchesToMessageSetOptions = {},
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const entry of storedEntries(chunks)) {
    const converted = await downConvertEntry(entry, magic, options);
    if (converted.length > 0) parts.push(converted);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * One stored entry as messages of `magic` 0 or 1 (empty when nothing of it is
 * for the reader). A compressed batch becomes one wrapper with the same codec
 * (zstd: UNSUPPORTED_COMPRESSION_TYPE, as Kafka answers old fetchers); an
 * uncompressed one loses its records before `firstOffset`; control batches
 * become nothing; legacy entries of a magic the reader understands are passed
 * through, others are converted. Decompression is bounded by
 * `maxDecompressedBytes` (MESSAGE_TOO_LARGE past it).
 */
export async function downConvertEntry(entry: Buffer, magic: 0 | 1, options: BatchesToMessageSetOptions = {}): Promise<Buffer> {
  return convertEntry(entry, magic, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES, options.firstOffset ?? Number.NEGATIVE_INFINITY);
}

const NOTHING = Buffer.alloc(0);

async function convertEntry(entry: Buffer, magic: 0 | 1, maxBytes: number, firstOffset: number): Promise<Buffer> {
  const entryMagic = entry.readInt8(MAGIC_OFFSET);
  if (entryMagic === 0 || entryMagic === 1) {
    if (entryMagic <= magic) return entry;
    let messages = await readMessageSet(entry, maxBytes);
    const first = messages[0];
    if (first === undefined) return NOTHING;
    if (first.compression === Compression.none) messages = messages.filter((m) => m.offset >= firstOffset);
    if (messages.length === 0) return NOTHING;
    return encodeMessageSet(messages, { magic, compression: first.compression });
  }
  if (entryMagic !== 2) throw new ProtocolError(`invalid magic ${entryMagic}`);
  if (!verifyBatchCrc(entry)) throw new ProtocolError('record batch is corrupt (crc mismatch)');
  const header = readBatchHeader(entry);
  if ((header.attributes & ATTR_CONTROL) !== 0 || header.recordCount === 0) return NOTHING;
  const codec = compressionOf(header.attributes);
  if (codec === Compression.zstd) {
    throw new ProtocolError('zstd-compressed batches cannot be down-converted for magic 0/1 readers', ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  }
  if (codec === Compression.none && header.baseOffset + header.lastOffsetDelta < firstOffset) return NOTHING;
  const messages: LegacyMessageInput[] = [];
  for (const r of iterateRecords(header, await recordsArea(entry, header, maxBytes))) {
    if (codec === Compression.none && r.offset < firstOffset) continue;
    messages.push({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value });
  }
  if (messages.length === 0) return NOTHING;
  const logAppendTime = (header.attributes & ATTR_LOG_APPEND_TIME) !== 0 ? header.maxTimestamp : undefined;
  return encodeMessageSet(messages, { magic, compression: codec, ...(logAppendTime !== undefined ? { logAppendTime } : {}) });
}
