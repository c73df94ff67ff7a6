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

/*
 * Record parsing works on a buffer and a cursor (module state, set before and
 * read after each record, so interleaved iterators cannot disturb each other)
 * with every read bounded by the end of the current record: a field that
 * overruns its record is an error. Varints are decoded inline (1-byte fast
 * path), as this is the produce hot path.
 */
let cursor = 0;

/** Zig-zag varint of at most `maxBytes` bytes at `cursor`, below `end`; advances the cursor. */
function zigzag(buf: Buffer, end: number, maxBytes: number, field: string): number {
  let p = cursor;
  if (p >= end) throw invalidRecord(`truncated ${field}`);
  let b = buf[p++]!;
  if (b < 0x80) {
    cursor = p;
    return (b >>> 1) ^ -(b & 1);
  }
  let u = b & 0x7f;
  let mul = 128;
  for (let i = 1; ; i++) {
    if (i >= maxBytes) throw invalidRecord(`${field} varint longer than ${maxBytes} bytes`);
    if (p >= end) throw invalidRecord(`truncated ${field}`);
    b = buf[p++]!;
    u += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 128;
  }
  cursor = p;
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** Advances the cursor past `n` bytes, which must lie before `end`. */
function skip(n: number, end: number, field: string): void {
  if (n > end - cursor) throw invalidRecord(`${field} of ${n} bytes overruns its record`);
  cursor += n;
}

/** Skips the headers of record `index` at `cursor`, which must end the record at `end`. */
function skipHeaders(buf: Buffer, end: number, index: number): void {
  const headerCount = zigzag(buf, end, 5, 'header count');
  if (headerCount < 0 || headerCount * 2 > end - cursor) throw invalidRecord(`record ${index}: invalid header count ${headerCount}`);
  for (let j = 0; j < headerCount; j++) {
    const keySize = zigzag(buf, end, 5, 'header key length');
    if (keySize < 0) throw invalidRecord(`record ${index}: negative header key size ${keySize}`);
    skip(keySize, end, 'header key');
    const valueSize = zigzag(buf, end, 5, 'header value length');
    if (valueSize >= 0) skip(valueSize, end, 'header value');
  }
  if (cursor !== end) throw invalidRecord(`record ${index}: ${end - cursor} bytes after its last header`);
}

/** Reads the record length at `cursor` and returns the record's end (the cursor is then at its attributes). */
function recordEnd(buf: Buffer, end: number, index: number, count: number): number {
  const length = zigzag(buf, end, 5, 'record length');
  if (length < 1 || length > end - cursor) {
    throw invalidRecord(`record ${index} of ${count}: size ${length} but ${end - cursor} bytes remain`);
  }
  return cursor + length;
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
  const logAppendTime = (header.attributes & ATTR_LOG_APPEND_TIME) !== 0;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    cursor = pos;
    const record = readRecord(records, header, logAppendTime, i);
    pos = cursor;
    yield record;
  }
  if (pos !== records.length) {
    throw invalidRecord(`incorrect declared record count ${count}: ${records.length - pos} bytes remain after the last record`);
  }
}

function readRecord(buf: Buffer, h: BatchHeader, logAppendTime: boolean, index: number): BatchRecord {
  const end = recordEnd(buf, buf.length, index, h.recordCount);
  const attributes = buf.readInt8(cursor++);
  const timestampDelta = zigzag(buf, end, 10, 'timestamp delta');
  const offsetDelta = zigzag(buf, end, 5, 'offset delta');
  const keyLength = zigzag(buf, end, 5, 'key length');
  let key: Buffer | null = null;
  if (keyLength >= 0) {
    skip(keyLength, end, 'key');
    key = buf.subarray(cursor - keyLength, cursor);
  }
  const valueLength = zigzag(buf, end, 5, 'value length');
  let value: Buffer | null = null;
  if (valueLength >= 0) {
    skip(valueLength, end, 'value');
    value = buf.subarray(cursor - valueLength, cursor);
  }
  const headerCount = zigzag(buf, end, 5, 'header count');
  if (headerCount < 0 || headerCount * 2 > end - cursor) throw invalidRecord(`record ${index}: invalid header count ${headerCount}`);
  let headers = NO_HEADERS;
  if (headerCount > 0) {
    const list: RecordHeader[] = [];
    for (let j = 0; j < headerCount; j++) {
      const keySize = zigzag(buf, end, 5, 'header key length');
      if (keySize < 0) throw invalidRecord(`record ${index}: negative header key size ${keySize}`);
      skip(keySize, end, 'header key');
      const headerKey = buf.toString('utf8', cursor - keySize, cursor);
      const valueSize = zigzag(buf, end, 5, 'header value length');
      let headerValue: Buffer | null = null;
      if (valueSize >= 0) {
        skip(valueSize, end, 'header value');
        headerValue = buf.subarray(cursor - valueSize, cursor);
      }
      list.push({ key: headerKey, value: headerValue });
    }
    headers = list;
  }
  if (cursor !== end) throw invalidRecord(`record ${index}: ${end - cursor} bytes after its last header`);
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
}

export interface RecordsSummary {
  /** Smallest and largest record timestamp (baseTimestamp + delta); -1 when the batch is empty. */
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
  /** Records with a null key (a compacted topic refuses them, each with its own record error). */
  readonly nullKeys: number;
}

/**
 * Walks the records area of a batch without materialising records (keys,
 * values and headers are skipped by length): checks each record's structure,
 * that exactly `recordCount` records fill the area, and, with
 * `sequentialOffsets`, that offset deltas are 0, 1, 2, ...; counts the records
 * without key. Throws ProtocolError(INVALID_RECORD).
 */
export function checkRecords(header: BatchHeader, records: Buffer, sequentialOffsets: boolean): RecordsSummary {
  const count = header.recordCount;
  if (count < 0) throw invalidRecord(`invalid record count ${count}`);
  const buf = records;
  const length = buf.length;
  let minDelta = Number.POSITIVE_INFINITY;
  let maxDelta = Number.NEGATIVE_INFINITY;
  let nullKeys = 0;
  cursor = 0;
  for (let i = 0; i < count; i++) {
    const end = recordEnd(buf, length, i, count);
    cursor++; // attributes
    const timestampDelta = zigzag(buf, end, 10, 'timestamp delta');
    if (timestampDelta < minDelta) minDelta = timestampDelta;
    if (timestampDelta > maxDelta) maxDelta = timestampDelta;
    const offsetDelta = zigzag(buf, end, 5, 'offset delta');
    if (sequentialOffsets && offsetDelta !== i) throw invalidRecord(`record ${i} has offset delta ${offsetDelta}; expected ${i}`);
    const keyLength = zigzag(buf, end, 5, 'key length');
    if (keyLength >= 0) skip(keyLength, end, 'key');
    else nullKeys++;
    const valueLength = zigzag(buf, end, 5, 'value length');
    if (valueLength >= 0) skip(valueLength, end, 'value');
    skipHeaders(buf, end, i);
  }
  if (cursor !== length) {
    throw invalidRecord(`incorrect declared record count ${count}: ${length - cursor} bytes remain after the last record`);
  }
  if (count === 0) return { minTimestamp: -1, maxTimestamp: -1, nullKeys };
  return { minTimestamp: header.baseTimestamp + minDelta, maxTimestamp: header.baseTimestamp + maxDelta, nullKeys };
}

/** Where one record lies in a records area, and what the log cleaner needs of it. */
export interface RecordSpan {
  /** Bytes [start, end) of the records area: the whole record, its length prefix included. */
  start: number;
  end: number;
  offsetDelta: number;
  timestampDelta: number;
  /** The key's bytes, or keyLength -1 for a null key. */
  keyStart: number;
  keyLength: number;
  /** False for a null value (a tombstone). */
  hasValue: boolean;
}

/**
 * Walks the records of a batch without materialising them: `visit` gets one reused RecordSpan per record,
 * valid only during the call (the log cleaner decides from it which records to keep and copies the kept
 * records' bytes as they are). Checks the structure as iterateRecords does; throws
 * ProtocolError(INVALID_RECORD).
 */
export function forEachRecordSpan(header: BatchHeader, records: Buffer, visit: (span: RecordSpan) => void): void {
  const count = header.recordCount;
  if (count < 0) throw invalidRecord(`invalid record count ${count}`);
  const buf = records;
  const length = buf.length;
  const span: RecordSpan = { start: 0, end: 0, offsetDelta: 0, timestampDelta: 0, keyStart: 0, keyLength: -1, hasValue: false };
  let pos = 0;
  for (let i = 0; i < count; i++) {
    cursor = pos;
    const end = recordEnd(buf, length, i, count);
    cursor++; // attributes
    span.start = pos;
    span.end = end;
    span.timestampDelta = zigzag(buf, end, 10, 'timestamp delta');
    span.offsetDelta = zigzag(buf, end, 5, 'offset delta');
    const keyLength = zigzag(buf, end, 5, 'key length');
    span.keyLength = keyLength < 0 ? -1 : keyLength;
    span.keyStart = cursor;
    if (keyLength >= 0) skip(keyLength, end, 'key');
    const valueLength = zigzag(buf, end, 5, 'value length');
    span.hasValue = valueLength >= 0;
    if (valueLength >= 0) skip(valueLength, end, 'value');
    skipHeaders(buf, end, i);
    pos = end;
    visit(span);
  }
  if (pos !== length) {
    throw invalidRecord(`incorrect declared record count ${count}: ${length - pos} bytes remain after the last record`);
  }
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
