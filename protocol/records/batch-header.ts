/**
 * RecordBatch v2 header (notes/record-format.md): the 61 bytes in front of the
 * records, read and patched without touching the records. Every field has its
 * offset below (Kafka's DefaultRecordBatch names); code that reads or patches
 * one field in place uses them, never a number.
 *
 *   0  baseOffset            int64      27  baseTimestamp   int64
 *   8  batchLength           int32      35  maxTimestamp    int64
 *  12  partitionLeaderEpoch  int32      43  producerId      int64
 *  16  magic                 int8       51  producerEpoch   int16
 *  17  crc                   uint32     53  baseSequence    int32
 *  21  attributes            int16      57  recordsCount    int32
 *  23  lastOffsetDelta       int32      61  records...
 *
 * CRC-32C covers bytes 21 (attributes) to the end of the batch. baseOffset,
 * batchLength, partitionLeaderEpoch and magic are outside it, so baseOffset
 * and partitionLeaderEpoch are patched in place without a CRC update; a
 * LogAppendTime patch of maxTimestamp (inside the CRC) and of the
 * timestamp-type attribute bit needs the CRC recomputed.
 */
import { crc32c } from './checksums.js';
import { ProtocolError } from '../errors.js';

/** baseOffset + batchLength: the bytes in front of every batch or legacy message. */
export const LOG_OVERHEAD = 12;
export const RECORD_BATCH_OVERHEAD = 61;

export const BASE_OFFSET_OFFSET = 0;
/** Kafka's LENGTH_OFFSET: the size of the rest of the batch (and of a legacy message: the same 12-byte prefix). */
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_LOG_APPEND_TIME = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field (total size - 12). */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Total size (12 + batchLength) of the batch or legacy entry at `pos`, or -1 if fewer than 12 bytes remain. */
export function entrySizeAt(buf: Buffer, pos = 0): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
}

/**
 * Whether some entry of `records` (a v2 batch, or a legacy message or wrapper) names a compression codec,
 * read from the headers only; a malformed or truncated tail ends the walk (validation reports it).
 */
export function hasCompressedEntries(records: Buffer): boolean {
  for (let pos = 0; pos + MAGIC_OFFSET + 2 <= records.length; ) {
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    // v2: attributes after the CRC; magic 0/1: the byte after the magic
    const attributes = magic === 2 ? (pos + ATTRIBUTES_OFFSET + 2 <= records.length ? records.readInt16BE(pos + ATTRIBUTES_OFFSET) : 0) : records.readInt8(pos + MAGIC_OFFSET + 1);
    if ((attributes & ATTR_COMPRESSION_MASK) !== 0) return true;
    const size = records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (size <= 0) return false;
    pos += LOG_OVERHEAD + size;
  }
  return false;
}

/** Magic byte of the entry at `pos` (2 for record batches, 0/1 for legacy messages). */
export function magicAt(buf: Buffer, pos = 0): number {
  if (buf.length - pos <= MAGIC_OFFSET) throw new ProtocolError('entry too short for its magic byte');
  return buf.readInt8(pos + MAGIC_OFFSET);
}

/** Reads the v2 header at `pos`; throws ProtocolError if it is short, its length is impossible, or the magic is not 2. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  if (buf.length - pos < RECORD_BATCH_OVERHEAD) throw new ProtocolError('record batch shorter than its 61-byte header');
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) throw new ProtocolError(`record batch length ${batchLength} too small`);
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== 2) throw new ProtocolError(`record batch magic ${magic} is not 2`);
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET_OFFSET),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
  };
}

/** int64 as a number (offsets, timestamps and producer ids fit in 53 bits). */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}
/** Writes a number (within 53 bits) as a big-endian int64. */
export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 4294967296, pos + 4);
}

/** CRC-32C over attributes..end of the batch at `pos` whose total size is `size`. */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size)) >>> 0;
}

/** True when the stored CRC of the v2 batch at `pos` matches its bytes. */
export function verifyBatchCrc(buf: Buffer, pos = 0): boolean {
  const size = entrySizeAt(buf, pos);
  if (size < RECORD_BATCH_OVERHEAD || pos + size > buf.length) return false;
  return buf.readUInt32BE(pos + CRC_OFFSET) === computeBatchCrc(buf, pos, size);
}

/** Patches baseOffset (outside the CRC). */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, offset);
}

/** Patches partitionLeaderEpoch (outside the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/** Sets the LogAppendTime attribute bit and maxTimestamp, then recomputes the CRC (both are inside it). */
export function setLogAppendTime(buf: Buffer, pos: number, timestamp: number): void {
  const size = entrySizeAt(buf, pos);
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  buf.writeInt16BE(attributes | ATTR_LOG_APPEND_TIME, pos + ATTRIBUTES_OFFSET);
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + CRC_OFFSET);
}

/** Last offset of the batch: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(h: BatchHeader): number {
  return h.baseOffset + h.lastOffsetDelta;
}

export function compressionOf(attributes: number): number {
  return attributes & ATTR_COMPRESSION_MASK;
}
