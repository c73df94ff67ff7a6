/**
 * Builds v2 record batches the broker writes itself (internal topics,
 * transaction markers, converted legacy message sets, batches rewritten by the
 * log cleaner): two passes (sizes, then one allocation), CRC-32C over
 * attributes..end.
 */
import { Writer, varintSize, varlongSize } from '../primitives.js';
import {
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  Compression,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  computeBatchCrc,
  writeInt64,
} from './batch-header.js';
import type { RecordHeader } from './batch-records.js';
import { compress, type CompressOptions } from './compression.js';

export interface RecordInput {
  readonly key?: Buffer | null;
  readonly value?: Buffer | null;
  readonly headers?: readonly RecordHeader[];
  /** Record timestamp; defaults to the batch option `timestamp`. */
  readonly timestamp?: number;
  /** Offset relative to the batch's baseOffset; defaults to the record's index. Must increase. */
  readonly offsetDelta?: number;
}

export interface BatchOptions {
  readonly baseOffset?: number;
  /** Defaults to -1 (what producers send; the broker patches it on append). */
  readonly partitionLeaderEpoch?: number;
  /** Kafka codec id (Compression.*); default none. */
  readonly compression?: number;
  /** Timestamp of records that carry none; defaults to Date.now(). */
  readonly timestamp?: number;
  /** When set, the batch is LogAppendTime and this is its maxTimestamp. */
  readonly logAppendTime?: number;
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly transactional?: boolean;
  readonly control?: boolean;
  /** Passed to compress() (legacy lz4 header checksum). */
  readonly compressOptions?: CompressOptions;
  /**
   * Log cleaner (Kafka 3.x): the batch's tombstones may be removed after this time. Sets the delete-horizon
   * attribute and makes it the baseTimestamp; record timestamps are kept (their deltas become relative to it).
   */
  readonly deleteHorizonMs?: number;
  /**
   * Log cleaner: the batch keeps the lastOffsetDelta of the batch it was cleaned from (so the producer's last
   * sequence survives), at least the last record's offset delta. With it, `records` may be empty: a
   * header-only batch (uncompressed, baseTimestamp = maxTimestamp = `timestamp`), as Kafka keeps the last
   * batch of a producer after its records were removed.
   */
  readonly lastOffsetDelta?: number;
}

interface PlannedRecord {
  readonly offsetDelta: number;
  readonly timestampDelta: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  readonly headerKeySizes: readonly number[];
  readonly bodySize: number;
}

interface Plan {
  readonly records: readonly PlannedRecord[];
  readonly size: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly lastOffsetDelta: number;
}

function bytesSize(b: Buffer | null | undefined): number {
  return b == null ? 1 : varintSize(b.length) + b.length;
}

function plan(records: readonly RecordInput[], defaultTimestamp: number, options: BatchOptions = {}): Plan {
  if (records.length === 0) {
    if (options.lastOffsetDelta === undefined) throw new RangeError('a record batch needs at least one record');
    return { records: [], size: 0, baseTimestamp: defaultTimestamp, maxTimestamp: defaultTimestamp, lastOffsetDelta: options.lastOffsetDelta };
  }
  const baseTimestamp = options.deleteHorizonMs ?? records[0]!.timestamp ?? defaultTimestamp;
  let maxTimestamp = -1;
  let previousDelta = -1;
  let size = 0;
  const planned: PlannedRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const offsetDelta = r.offsetDelta ?? i;
    if (offsetDelta <= previousDelta) throw new RangeError(`record offset deltas must increase (${offsetDelta} after ${previousDelta})`);
    previousDelta = offsetDelta;
    const timestamp = r.timestamp ?? defaultTimestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const timestampDelta = timestamp - baseTimestamp;
    const headers = r.headers ?? [];
    const headerKeySizes: number[] = [];
    let bodySize = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + bytesSize(r.key) + bytesSize(r.value);
    bodySize += varintSize(headers.length);
    for (const h of headers) {
      const keySize = Buffer.byteLength(h.key);
      headerKeySizes.push(keySize);
      bodySize += varintSize(keySize) + keySize + bytesSize(h.value);
    }
    size += varintSize(bodySize) + bodySize;
    planned.push({ offsetDelta, timestampDelta, key: r.key ?? null, value: r.value ?? null, headers, headerKeySizes, bodySize });
  }
  const kept = options.lastOffsetDelta;
  if (kept !== undefined && kept < previousDelta) throw new RangeError(`lastOffsetDelta ${kept} is below the last record's offset delta ${previousDelta}`);
  return { records: planned, size, baseTimestamp, maxTimestamp, lastOffsetDelta: kept ?? previousDelta };
}

function writeBytes(w: Writer, b: Buffer | null): void {
  if (b === null) {
    w.varint(-1);
  } else {
    w.varint(b.length);
    w.raw(b);
  }
}

function writeRecords(w: Writer, records: readonly PlannedRecord[]): void {
  for (const r of records) {
    w.varint(r.bodySize);
    w.int8(0);
    w.varlong(r.timestampDelta);
    w.varint(r.offsetDelta);
    writeBytes(w, r.key);
    writeBytes(w, r.value);
    w.varint(r.headers.length);
    for (let j = 0; j < r.headers.length; j++) {
      const h = r.headers[j]!;
      const keySize = r.headerKeySizes[j]!;
      w.varint(keySize);
      w.utf8(h.key, keySize);
      writeBytes(w, h.value);
    }
  }
}

function attributesOf(options: BatchOptions, codec: number): number {
  return (
    (codec & 0x07) |
    (options.logAppendTime !== undefined ? ATTR_LOG_APPEND_TIME : 0) |
    (options.transactional === true ? ATTR_TRANSACTIONAL : 0) |
    (options.control === true ? ATTR_CONTROL : 0) |
    (options.deleteHorizonMs !== undefined ? ATTR_DELETE_HORIZON : 0)
  );
}

/** Writes the 61-byte header in front of `body` (records area, compressed or not) and the CRC. */
function assemble(p: Plan, options: BatchOptions, codec: number, body: Buffer | null): Buffer {
  const bodySize = body === null ? p.size : body.length;
  const total = RECORD_BATCH_OVERHEAD + bodySize;
  const buf = Buffer.allocUnsafe(total);
  writeInt64(buf, BASE_OFFSET_OFFSET, options.baseOffset ?? 0);
  buf.writeInt32BE(total - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(options.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(2, MAGIC_OFFSET);
  buf.writeInt16BE(attributesOf(options, codec), ATTRIBUTES_OFFSET);
  buf.writeInt32BE(p.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, p.baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, options.logAppendTime ?? p.maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, options.producerId ?? -1);
  buf.writeInt16BE(options.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(options.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(p.records.length, RECORDS_COUNT_OFFSET);
  if (body === null) {
    const w = new Writer(buf, RECORD_BATCH_OVERHEAD);
    writeRecords(w, p.records);
    if (w.pos !== total) throw new Error(`record batch size mismatch: planned ${total}, wrote ${w.pos}`);
  } else {
    body.copy(buf, RECORD_BATCH_OVERHEAD);
  }
  buf.writeUInt32BE(computeBatchCrc(buf, 0, total), CRC_OFFSET);
  return buf;
}

/** Builds an uncompressed v2 batch synchronously (the `compression` option is ignored). */
export function buildUncompressedBatch(records: readonly RecordInput[], options: BatchOptions = {}): Buffer {
  return assemble(plan(records, options.timestamp ?? Date.now(), options), options, Compression.none, null);
}

/** Builds a v2 batch, compressing the records area with `options.compression`. */
export async function buildRecordBatch(records: readonly RecordInput[], options: BatchOptions = {}): Promise<Buffer> {
  const p = plan(records, options.timestamp ?? Date.now(), options);
  // an empty batch is written uncompressed, as Kafka writes it
  const codec = p.records.length === 0 ? Compression.none : (options.compression ?? Compression.none);
  if (codec === Compression.none) return assemble(p, options, codec, null);
  const area = Buffer.allocUnsafe(p.size);
  const w = new Writer(area);
  writeRecords(w, p.records);
  const compressed = await compress(codec, area, options.compressOptions);
  return assemble(p, options, codec, compressed);
}
