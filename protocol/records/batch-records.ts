/**
 * Records inside a v2 batch (notes/record-format.md, "Record"): a lazy,
 * synchronous iterator over the (uncompressed) records area, and the helpers
 * that produce that area from a batch, decompressing when the batch is
 * compressed. Keys, values and header values are slices of the records area
 * (of the batch itself when it is uncompressed): nothing is copied.
 *
 * Errors follow Kafka: a record whose structure does not add up, a count that
 * does not match the records, or bytes left over after the last record give
 * ProtocolError with INVALID_RECORD; a short or corrupt batch CORRUPT_MESSAGE.
 */
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { Reader } from '../primitives.js';
import {
  ATTR_LOG_APPEND_TIME,
  RECORD_BATCH_OVERHEAD,
  compressionOf,
  entrySizeAt,
  readBatchHeader,
  type BatchHeader,
} from './batch-header.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from './compression.js';

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface BatchRecord {
  /** Absolute offset: baseOffset + offsetDelta. */
  readonly offset: number;
  readonly offsetDelta: number;
  /** baseTimestamp + timestampDelta, or the batch maxTimestamp for LogAppendTime batches. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  /** baseSequence + offsetDelta (wrapping past 2^31-1 to 0), or -1 when the batch has no sequence. */
  readonly sequence: number;
  /** The record's attributes byte (unused by Kafka, always 0 in practice). */
  readonly attributes: number;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

export function invalidRecord(message: string): ProtocolError {
  return new ProtocolError(message, ErrorCode.INVALID_RECORD);
}

/** Sequence number `increment` past `base`, wrapping past 2147483647 to 0 as Kafka does. */
export function incrementSequence(base: number, increment: number): number {
  if (base > 2147483647 - increment) return increment - (2147483647 - base) - 1;
  return base + increment;
}

/**
 * Lazily iterates the records of a batch given its header and its uncompressed
 * records area (see recordsArea). Throws ProtocolError(INVALID_RECORD) when a
 * record is malformed, when fewer records than the header's count are present,
 * or when bytes remain after the last one.
 */
export function* iterateRecords(header: BatchHeader, records: Buffer): Generator<BatchRecord, void, undefined> {
  const count = header.recordCount;
  if (count < 0) throw invalidRecord(`invalid record count ${count}`);
  const r = new Reader(records);
  const logAppendTime = (header.attributes & ATTR_LOG_APPEND_TIME) !== 0;
  for (let i = 0; i < count; i++) {
    yield readRecord(r, header, logAppendTime, i);
  }
  if (r.remaining !== 0) {
    throw invalidRecord(`incorrect declared record count ${count}: ${r.remaining} bytes remain after the last record`);
  }
}

function readRecord(r: Reader, h: BatchHeader, logAppendTime: boolean, index: number): BatchRecord {
  try {
    const length = r.varint();
    if (length < 0 || length > r.remaining) {
      throw invalidRecord(`record ${index} of ${h.recordCount}: size ${length} but ${r.remaining} bytes remain`);
    }
    const end = r.pos + length;
    const attributes = r.int8();
    const timestampDelta = r.varlongNumber();
    const offsetDelta = r.varint();
    const keyLength = r.varint();
    const key = keyLength < 0 ? null : r.slice(keyLength);
    const valueLength = r.varint();
    const value = valueLength < 0 ? null : r.slice(valueLength);
    const headerCount = r.varint();
    if (headerCount < 0) throw invalidRecord(`record ${index}: invalid header count ${headerCount}`);
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      if (headerCount * 2 > end - r.pos) throw invalidRecord(`record ${index}: ${headerCount} headers overrun the record`);
      const list: RecordHeader[] = [];
      for (let j = 0; j < headerCount; j++) {
        const keySize = r.varint();
        if (keySize < 0) throw invalidRecord(`record ${index}: negative header key size ${keySize}`);
        const headerKey = r.utf8(keySize);
        const valueSize = r.varint();
        list.push({ key: headerKey, value: valueSize < 0 ? null : r.slice(valueSize) });
      }
      headers = list;
    }
    if (r.pos !== end) {
      throw invalidRecord(`record ${index}: declared size ${length} but its fields take ${r.pos - end + length} bytes`);
    }
    return {
      offset: h.baseOffset + offsetDelta,
      offsetDelta,
      timestamp: logAppendTime ? h.maxTimestamp : h.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      sequence: h.baseSequence < 0 ? -1 : incrementSequence(h.baseSequence, offsetDelta),
      attributes,
    };
  } catch (err) {
    if (err instanceof ProtocolError && err.errorCode !== ErrorCode.INVALID_RECORD) {
      throw invalidRecord(`record ${index}: ${err.message}`);
    }
    throw err;
  }
}

export interface RecordsSummary {
  /** Smallest and largest record timestamp (baseTimestamp + delta); -1 when the batch is empty. */
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
}

/**
 * Walks the records area of a batch without materialising records (keys,
 * values and headers are skipped by length): checks each record's structure,
 * that exactly `recordCount` records fill the area, and, with
 * `sequentialOffsets`, that offset deltas are 0, 1, 2, ...; with
 * `requireKeys`, that no key is null (compacted topics). Throws
 * ProtocolError(INVALID_RECORD).
 */
export function checkRecords(
  header: BatchHeader,
  records: Buffer,
  sequentialOffsets: boolean,
  requireKeys: boolean,
): RecordsSummary {
  const count = header.recordCount;
  if (count < 0) throw invalidRecord(`invalid record count ${count}`);
  const r = new Reader(records);
  let minDelta = Number.POSITIVE_INFINITY;
  let maxDelta = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    let length: number;
    let end: number;
    try {
      length = r.varint();
      if (length < 0 || length > r.remaining) {
        throw invalidRecord(`record ${i} of ${count}: size ${length} but ${r.remaining} bytes remain`);
      }
      end = r.pos + length;
      r.need(1); // attributes
      const timestampDelta = r.varlongNumber();
      if (timestampDelta < minDelta) minDelta = timestampDelta;
      if (timestampDelta > maxDelta) maxDelta = timestampDelta;
      const offsetDelta = r.varint();
      if (sequentialOffsets && offsetDelta !== i) {
        throw invalidRecord(`record ${i} has offset delta ${offsetDelta}; expected ${i}`);
      }
      const keyLength = r.varint();
      if (keyLength >= 0) r.need(keyLength);
      else if (requireKeys) throw invalidRecord(`record ${i}: compacted topic cannot accept a record without key`);
      const valueLength = r.varint();
      if (valueLength >= 0) r.need(valueLength);
      const headerCount = r.varint();
      if (headerCount < 0 || headerCount * 2 > end - r.pos) throw invalidRecord(`record ${i}: invalid header count ${headerCount}`);
      for (let j = 0; j < headerCount; j++) {
        const keySize = r.varint();
        if (keySize < 0) throw invalidRecord(`record ${i}: negative header key size ${keySize}`);
        r.need(keySize);
        const valueSize = r.varint();
        if (valueSize >= 0) r.need(valueSize);
      }
    } catch (err) {
      if (err instanceof ProtocolError && err.errorCode !== ErrorCode.INVALID_RECORD) {
        throw invalidRecord(`record ${i}: ${err.message}`);
      }
      throw err;
    }
    if (r.pos !== end) throw invalidRecord(`record ${i}: declared size ${length} but its fields take ${r.pos - end + length} bytes`);
  }
  if (r.remaining !== 0) {
    throw invalidRecord(`incorrect declared record count ${count}: ${r.remaining} bytes remain after the last record`);
  }
  if (count === 0) return { minTimestamp: -1, maxTimestamp: -1 };
  return { minTimestamp: header.baseTimestamp + minDelta, maxTimestamp: header.baseTimestamp + maxDelta };
}

/** The batch at the start of `batch` (which may extend past it), checked for length; throws ProtocolError if truncated. */
export function batchSlice(buf: Buffer, pos = 0): Buffer {
  const size = entrySizeAt(buf, pos);
  if (size < RECORD_BATCH_OVERHEAD) throw new ProtocolError(`record batch size ${size} is below the 61-byte header`);
  if (pos + size > buf.length) {
    throw new ProtocolError(`truncated record batch: ${size} bytes declared, ${buf.length - pos} present`);
  }
  return buf.subarray(pos, pos + size);
}

/**
 * The uncompressed records area of a batch: a slice of `batch` when it is not
 * compressed, else the decompressed bytes (at most `maxBytes`, default 64 MiB).
 */
export async function recordsArea(
  batch: Buffer,
  header: BatchHeader = readBatchHeader(batch),
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<Buffer> {
  const body = batchSlice(batch).subarray(RECORD_BATCH_OVERHEAD);
  const codec = compressionOf(header.attributes);
  if (codec === 0) return body;
  return decompress(codec, body, maxBytes);
}

/**
 * Reads the header of the batch at the start of `batch`, decompresses its
 * records if needed, and returns a lazy iterator over them.
 */
export async function readBatchRecords(
  batch: Buffer,
  maxBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Promise<{ header: BatchHeader; records: Generator<BatchRecord, void, undefined> }> {
  const header = readBatchHeader(batch);
  const area = await recordsArea(batch, header, maxBytes);
  return { header, records: iterateRecords(header, area) };
}
