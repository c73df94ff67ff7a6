/**
 * Turns one partition's Produce `records` into the bytes to append, with
 * Kafka's validation (LogValidator) on top of protocol/records:
 * - Produce v0-2 legacy message sets (magic 0/1) become v2 batches;
 * - v3+ must carry exactly one magic-2 batch (INVALID_RECORD), zstd only from
 *   v7 (UNSUPPORTED_COMPRESSION_TYPE);
 * - framing, CRC, size against max.message.bytes, record structure, keys on
 *   compacted topics (validateProduceRecords: CORRUPT_MESSAGE,
 *   MESSAGE_TOO_LARGE, INVALID_RECORD);
 * - timestamps (CreateTime topics): each record within
 *   message.timestamp.before/after.max.ms of now, and no LogAppendTime batch
 *   from a producer (INVALID_TIMESTAMP with per-record errors);
 * - compression.type other than 'producer': batches in another codec are
 *   rebuilt in the topic's codec (and checked against max.message.bytes
 *   again);
 * - a CreateTime batch whose maxTimestamp disagrees with its records is
 *   repaired in place (CRC recomputed), as Kafka does;
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
  const batches = await validateProduceRecords(buffer, {
    maxBatchBytes: config.messageMaxBytes,
    maxDecompressedBytes: opts.maxDecompressedBytes,
    requireKeys: config.cleanupPolicy.split(',').includes('compact'),
  });
  if (config.timestampType === 'CreateTime') {
    for (const b of batches) await checkTimestamps(buffer, b, opts);
  }
  const target = TARGET_CODEC[config.compressionType];
  let prepared: PreparedBatch[];
  if (target !== undefined && batches.some((b) => compressionOf(b.header.attributes) !== target)) {
    ({ buffer, batches: prepared } = await recompress(buffer, batches, target, opts));
    zeroCopy = false;
  } else {
    const repair = config.timestampType === 'CreateTime';
    prepared = [];
    for (const b of batches) {
      let maxTimestamp = b.header.maxTimestamp;
      if (repair && maxTimestamp !== b.maxTimestamp) {
        repairMaxTimestamp(buffer, b);
        maxTimestamp = b.maxTimestamp;
      }
      prepared.push(preparedBatch(b.pos, b.size, b.header, maxTimestamp));
    }
  }
  if (buffer.length > config.log.segmentBytes) {
    throw new ProduceValidationError(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `${buffer.length} bytes of records exceed the segment size of ${config.log.segmentBytes}`,
    );
  }
  return { buffer, batches: prepared, zeroCopy };
}

function preparedBatch(position: number, size: number, h: BatchHeader, maxTimestamp: number): PreparedBatch {
  return {
    position,
    size,
    lastOffsetDelta: h.lastOffsetDelta,
    maxTimestamp,
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

/** Kafka's CreateTime checks: no producer-set LogAppendTime; timestamps within before/after.max.ms of now. */
async function checkTimestamps(buffer: Buffer, b: ValidatedBatch, opts: ValidateOptions): Promise<void> {
  const { timestampBeforeMaxMs: before, timestampAfterMaxMs: after } = opts.config;
  const logAppendTime = (b.header.attributes & ATTR_LOG_APPEND_TIME) !== 0;
  const lowest = opts.now - before;
  const highest = opts.now + after;
  if (!logAppendTime && (b.header.recordCount === 0 || (b.minTimestamp >= lowest && b.maxTimestamp <= highest))) return;
  const errors: RecordError[] = [];
  const { records } = await readBatchRecords(buffer.subarray(b.pos, b.pos + b.size), opts.maxDecompressedBytes);
  let index = 0;
  for (const r of records) {
    if (logAppendTime) {
      errors.push({ batchIndex: index, message: 'Invalid timestamp type in message: producers must not set the timestamp type to LogAppendTime' });
    } else if (r.timestamp !== -1 && (r.timestamp < lowest || r.timestamp > highest)) {
      errors.push({
        batchIndex: index,
        message: `Timestamp ${r.timestamp} of message with offset ${r.offset} is out of range. The timestamp should be within [${lowest}, ${highest}]`,
      });
    }
    index++;
  }
  if (errors.length > 0) {
    throw new ProduceValidationError(ErrorCode.INVALID_TIMESTAMP, 'One or more records have been rejected due to invalid timestamp', errors);
  }
}

/**
 * Rebuilds every batch whose codec is not `target` (compression.type of the topic); a rebuilt batch's
 * header is read from the new bytes.
 */
async function recompress(
  buffer: Buffer,
  batches: readonly ValidatedBatch[],
  target: number,
  opts: ValidateOptions,
): Promise<{ buffer: Buffer; batches: PreparedBatch[] }> {
  const out: Buffer[] = [];
  const prepared: PreparedBatch[] = [];
  let position = 0;
  for (const b of batches) {
    const slice = buffer.subarray(b.pos, b.pos + b.size);
    if (compressionOf(b.header.attributes) === target) {
      out.push(slice);
      prepared.push(preparedBatch(position, b.size, b.header, b.header.maxTimestamp));
      position += b.size;
      continue;
    }
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
    out.push(rebuilt);
    const h = readBatchHeader(rebuilt);
    prepared.push(preparedBatch(position, rebuilt.length, h, h.maxTimestamp));
    position += rebuilt.length;
  }
  return { buffer: out.length === 1 ? out[0]! : Buffer.concat(out), batches: prepared };
}

/** Sets a batch's maxTimestamp to its records' largest timestamp and recomputes the CRC. */
function repairMaxTimestamp(buffer: Buffer, b: ValidatedBatch): void {
  writeInt64(buffer, b.pos + 35, b.maxTimestamp);
  buffer.writeUInt32BE(computeBatchCrc(buffer, b.pos, b.size), b.pos + CRC_OFFSET);
}
