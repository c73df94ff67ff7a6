/**
 * Turns one partition's Produce `records` into the bytes to append, with
 * Kafka's validation (LogValidator) on top of protocol/records:
 * - Produce v0-2 legacy message sets (magic 0/1) become v2 batches;
 * - v3+ must carry exactly one magic-2 batch (INVALID_RECORD), zstd only from
 *   v7 (UNSUPPORTED_COMPRESSION_TYPE);
 * - framing, CRC, size against max.message.bytes, record structure
 *   (validateProduceRecords: CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
 *   INVALID_RECORD, for the batch as a whole);
 * - each record, as Kafka's LogValidator.validateRecord (checkRecordsOf):
 *   a key on compacted topics (INVALID_RECORD), else its timestamp: on
 *   CreateTime topics within message.timestamp.before/after.max.ms of now,
 *   and no LogAppendTime batch from a producer without a timestamp or on a
 *   LogAppendTime topic (INVALID_TIMESTAMP). Every refused record of the batch
 *   gets a record error with its index in the batch and Kafka's message, and
 *   the partition Kafka's summary (processRecordErrors): INVALID_TIMESTAMP if
 *   any timestamp was refused, else INVALID_RECORD. A client (Produce v8+)
 *   fails those records with their error and the others of the batch as
 *   "part of a batch with invalid records";
 * - compression.type other than 'producer': batches in another codec are
 *   rebuilt in the topic's codec (and checked against max.message.bytes
 *   again);
 * - on CreateTime topics a batch whose maxTimestamp disagrees with its
 *   records is repaired in place (CRC recomputed), and a batch a producer
 *   marked LogAppendTime (accepted by its maxTimestamp) becomes CreateTime,
 *   as Kafka's setMaxTimestamp does;
 * - the whole append must fit in a segment (RECORD_LIST_TOO_LARGE).
 * Unless a batch is converted or recompressed, the result is the request's
 * own buffer: record bytes are not copied on their way to storage.
 *
 * Each batch's header is read once, here (by validateProduceRecords); the
 * result carries what the later steps of the produce pipeline need of it as
 * PreparedBatch: where the batch lies and its producer fields for the
 * producer-state check, its offset delta, timestamp and record count for the
 * log append.
 */
import { ErrorCode, KafkaError, ProtocolError } from '../../protocol/index.js';
import {
  ATTRIBUTES_OFFSET,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  Compression,
  CRC_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  buildRecordBatch,
  computeBatchCrc,
  compressionOf,
  entrySizeAt,
  messageSetToBatches,
  readBatchHeader,
  readBatchRecords,
  validateProduceRecords,
  writeInt64,
  type BatchHeader,
  type ValidatedBatch,
} from '../../protocol/records/index.js';
import type { AppendBatch } from '../../storage/index.js';
import type { TopicConfigView } from '../config/topic-configs.js';

export interface RecordError {
  /** Index of the record in its batch. */
  readonly batchIndex: number;
  readonly message: string | null;
}

/** A rejected partition: a KafkaError (Kafka's error code and a message) with per-record errors (Produce v8+). */
export class ProduceValidationError extends KafkaError {
  override readonly name: string = 'ProduceValidationError';
  constructor(
    code: number,
    message: string,
    readonly recordErrors: readonly RecordError[] = [],
  ) {
    super(code, message);
  }
}

export interface ValidateOptions {
  /** Produce request version. */
  readonly version: number;
  /** The partition as Kafka's messages name it (TopicPartition: `<topic>-<partition>`). */
  readonly topicPartition: string;
  readonly config: TopicConfigView;
  /** Bound of one decompressed records area or legacy wrapper. */
  readonly maxDecompressedBytes: number;
  /** The broker's clock, for timestamp checks. */
  readonly now: number;
}

/**
 * One batch of a prepared append, as validation read its header: where it lies in the buffer and what the
 * log append needs (AppendBatch), plus the fields the producer-state check needs.
 */
export interface PreparedBatch extends AppendBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly attributes: number;
}

export interface PreparedAppend {
  /** Batches to append, back to back. */
  readonly buffer: Buffer;
  /** The batches of `buffer`, in order. */
  readonly batches: readonly PreparedBatch[];
  /** True when the request's bytes are appended as they came (no conversion or recompression). */
  readonly zeroCopy: boolean;
}

const TARGET_CODEC: Readonly<Record<string, number | undefined>> = {
  uncompressed: Compression.none,
  gzip: Compression.gzip,
  snappy: Compression.snappy,
  lz4: Compression.lz4,
  zstd: Compression.zstd,
};

/** Validates (and if needed converts) one partition's records; throws ProduceValidationError or ProtocolError. */
export async function prepareAppend(records: Buffer, opts: ValidateOptions): Promise<PreparedAppend> {
  const { version, config } = opts;
  let buffer = records;
  let zeroCopy = true;
  if (version >= 3) {
    checkSingleV2Batch(records, version);
  } else if (records.length > MAGIC_OFFSET && records.readInt8(MAGIC_OFFSET) < 2) {
    checkLegacyEntrySizes(records, config.messageMaxBytes);
    const converted = await messageSetToBatches(records, { assignOffsets: true, maxDecompressedBytes: opts.maxDecompressedBytes });
    buffer = converted.length === 1 ? converted[0]! : Buffer.concat(converted);
    zeroCopy = false;
  }
  const batches = await validateProduceRecords(buffer, { maxBatchBytes: config.messageMaxBytes, maxDecompressedBytes: opts.maxDecompressedBytes });
  for (const b of batches) await checkRecordsOf(buffer, b, opts);
  const target = TARGET_CODEC[config.compressionType];
  const rebuild = (b: ValidatedBatch): boolean => target !== undefined && compressionOf(b.header.attributes) !== target;
  const repair = config.timestampType === 'CreateTime';
  const prepared: PreparedBatch[] = [];
  if (!batches.some(rebuild)) {
    for (const b of batches) prepared.push(preparedBatch(b.pos, b.size, repair ? repairTimestamp(buffer, b) : b.header));
  } else {
    // batches in another codec are rebuilt in the topic's (their headers read from the new bytes), the others kept
    const out: Buffer[] = [];
    let position = 0;
    for (const b of batches) {
      let bytes = buffer.subarray(b.pos, b.pos + b.size);
      let header: BatchHeader;
      if (rebuild(b)) {
        bytes = await recompress(bytes, target!, opts);
        header = readBatchHeader(bytes);
      } else {
        header = repair ? repairTimestamp(buffer, b) : b.header;
      }
      out.push(bytes);
      prepared.push(preparedBatch(position, bytes.length, header));
      position += bytes.length;
    }
    buffer = out.length === 1 ? out[0]! : Buffer.concat(out);
    zeroCopy = false;
  }
  if (buffer.length > config.log.segmentBytes) {
    throw new ProduceValidationError(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `${buffer.length} bytes of records exceed the segment size of ${config.log.segmentBytes}`,
    );
  }
  return { buffer, batches: prepared, zeroCopy };
}

function preparedBatch(position: number, size: number, h: BatchHeader): PreparedBatch {
  return {
    position,
    size,
    lastOffsetDelta: h.lastOffsetDelta,
    maxTimestamp: h.maxTimestamp,
    recordCount: h.recordCount,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    attributes: h.attributes,
  };
}

/** Produce v3+ (Kafka's ProduceRequest.validateRecords): exactly one magic-2 batch; zstd needs v7. */
function checkSingleV2Batch(records: Buffer, version: number): void {
  if (records.length < LOG_OVERHEAD) {
    throw new ProduceValidationError(ErrorCode.INVALID_RECORD, `Produce requests with version ${version} must have at least one record batch per partition`);
  }
  if (records.length <= MAGIC_OFFSET) return; // too short for a header: validation reports CORRUPT_MESSAGE
  const magic = records.readInt8(MAGIC_OFFSET);
  if (magic !== 2) {
    throw new ProduceValidationError(ErrorCode.INVALID_RECORD, `Produce requests with version ${version} are only allowed to contain record batches with magic version 2`);
  }
  if (version < 7 && records.length >= ATTRIBUTES_OFFSET + 2 && compressionOf(records.readInt16BE(ATTRIBUTES_OFFSET)) === Compression.zstd) {
    throw new ProduceValidationError(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `Produce requests with version ${version} are not allowed to use ZStandard compression`,
    );
  }
  const size = entrySizeAt(records, 0);
  if (size >= LOG_OVERHEAD && size < records.length) {
    throw new ProduceValidationError(ErrorCode.INVALID_RECORD, `Produce requests with version ${version} are only allowed to contain exactly one record batch per partition`);
  }
}

/** Each top-level legacy entry (message or compressed wrapper) must fit max.message.bytes. */
function checkLegacyEntrySizes(records: Buffer, maxBytes: number): void {
  let pos = 0;
  while (pos < records.length) {
    const size = entrySizeAt(records, pos);
    if (size < 0) return; // trailing bytes: the message set reader reports them
    if (size > maxBytes) {
      throw new ProduceValidationError(ErrorCode.MESSAGE_TOO_LARGE, `message of ${size} bytes exceeds the maximum of ${maxBytes}`);
    }
    pos += size;
  }
}

/**
 * Kafka's checks of each record of a batch (LogValidator.validateRecord, validateKey, validateTimestamp), and
 * its answer when some fail (processRecordErrors): one record error per refused record, in batch order, and a
 * ProduceValidationError for the partition. What validation counted decides the common case (keys there,
 * timestamps within range) without reading the records again.
 */
async function checkRecordsOf(buffer: Buffer, b: ValidatedBatch, opts: ValidateOptions): Promise<void> {
  const { config, now } = opts;
  const h = b.header;
  if (h.recordCount === 0) return;
  const compacted = config.cleanupPolicy.split(',').includes('compact');
  const createTime = config.timestampType === 'CreateTime';
  const markedLogAppendTime = (h.attributes & ATTR_LOG_APPEND_TIME) !== 0;
  const outOfRange = (ts: number): boolean => now - ts > config.timestampBeforeMaxMs || ts - now > config.timestampAfterMaxMs;
  const keysPass = !compacted || b.nullKeys === 0;
  // a LogAppendTime batch's records all have its maxTimestamp (Kafka's record.timestamp())
  const timestampsPass = !createTime
    ? !markedLogAppendTime
    : markedLogAppendTime
      ? h.maxTimestamp !== -1 && !outOfRange(h.maxTimestamp)
      : !outOfRange(b.minTimestamp) && !outOfRange(b.maxTimestamp);
  if (keysPass && timestampsPass) return;
  const errors: RecordError[] = [];
  let timestampRefused = false;
  const { records } = await readBatchRecords(buffer.subarray(b.pos, b.pos + b.size), opts.maxDecompressedBytes);
  let index = 0;
  for (const r of records) {
    let message: string | undefined;
    if (compacted && r.key === null) {
      message = `Compacted topic cannot accept message without key in topic partition ${opts.topicPartition}`;
    } else if (createTime && r.timestamp !== -1) {
      if (outOfRange(r.timestamp)) {
        message =
          `Timestamp ${r.timestamp} of message with offset ${r.offset} is out of range. ` +
          `The timestamp should be within [${javaLongSum(now, -config.timestampBeforeMaxMs)}, ${javaLongSum(now, config.timestampAfterMaxMs)}]`;
        timestampRefused = true;
      }
    } else if (markedLogAppendTime) {
      message =
        `Invalid timestamp type in message DefaultRecord(offset=${r.offset}, timestamp=${r.timestamp}, key=${r.key?.length ?? 0} bytes, ` +
        `value=${r.value?.length ?? 0} bytes). Producer should not set timestamp type to LogAppendTime.`;
      timestampRefused = true;
    }
    if (message !== undefined) errors.push({ batchIndex: index, message });
    index++;
  }
  if (errors.length === 0) return;
  if (timestampRefused) {
    throw new ProduceValidationError(ErrorCode.INVALID_TIMESTAMP, 'One or more records have been rejected due to invalid timestamp', errors);
  }
  const shown = errors.slice(0, 3).map((e) => `RecordError(batchIndex=${e.batchIndex}, message=${e.message === null ? 'null' : `'${e.message}'`})`);
  throw new ProduceValidationError(
    ErrorCode.INVALID_RECORD,
    `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown.join(', ')}]`,
    errors,
  );
}

const LONG_MAX = (1n << 63n) - 1n;

/**
 * a + b as Java's long arithmetic gives it (Kafka's message shows the range bounds so, overflow included). A
 * config long at Number.MAX_SAFE_INTEGER is one clamped from a larger value: Long.MAX_VALUE, the default.
 */
function javaLongSum(a: number, b: number): string {
  const long = (n: number): bigint =>
    n >= Number.MAX_SAFE_INTEGER ? LONG_MAX : n <= -Number.MAX_SAFE_INTEGER ? -LONG_MAX : BigInt(Math.trunc(n));
  return BigInt.asIntN(64, long(a) + long(b)).toString();
}

/** Rebuilds a batch in the topic's codec (compression.type), from its records. */
async function recompress(slice: Buffer, target: number, opts: ValidateOptions): Promise<Buffer> {
  const { header, records } = await readBatchRecords(slice, opts.maxDecompressedBytes);
  const rebuilt = await buildRecordBatch(
    [...records].map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    {
      baseOffset: 0,
      compression: target,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      transactional: (header.attributes & ATTR_TRANSACTIONAL) !== 0,
    },
  );
  if (rebuilt.length > opts.config.messageMaxBytes) {
    throw new ProtocolError(
      `record batch of ${rebuilt.length} bytes after recompression exceeds the maximum of ${opts.config.messageMaxBytes}`,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
  }
  return rebuilt;
}

/**
 * A CreateTime topic's batch as Kafka stores it (setMaxTimestamp): maxTimestamp the records' largest
 * timestamp, and a batch a producer marked LogAppendTime made CreateTime (its records all had its
 * maxTimestamp). Patched in place, CRC recomputed; returns the header as it is now.
 */
function repairTimestamp(buffer: Buffer, b: ValidatedBatch): BatchHeader {
  const h = b.header;
  const markedLogAppendTime = (h.attributes & ATTR_LOG_APPEND_TIME) !== 0;
  const maxTimestamp = markedLogAppendTime ? h.maxTimestamp : b.maxTimestamp;
  if (!markedLogAppendTime && maxTimestamp === h.maxTimestamp) return h;
  const attributes = h.attributes & ~ATTR_LOG_APPEND_TIME;
  buffer.writeInt16BE(attributes, b.pos + ATTRIBUTES_OFFSET);
  writeInt64(buffer, b.pos + MAX_TIMESTAMP_OFFSET, maxTimestamp);
  buffer.writeUInt32BE(computeBatchCrc(buffer, b.pos, b.size), b.pos + CRC_OFFSET);
  return { ...h, attributes, maxTimestamp };
}
