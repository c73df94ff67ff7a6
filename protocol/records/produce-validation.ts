/**
 * Validation of a Produce request's `records` (one or more v2 batches), as
 * Kafka's LogValidator does it before an append, without copying record
 * bytes: the returned positions point into the caller's buffer, so the broker
 * patches baseOffset / partitionLeaderEpoch in place and appends the slices.
 *
 * Per batch, in order (Kafka's error codes):
 * - length at least the 61-byte header, and present in full: CORRUPT_MESSAGE;
 * - not larger than `maxBatchBytes`: MESSAGE_TOO_LARGE;
 * - magic 2 (0/1 are legacy message sets, see conversion.ts): INVALID_RECORD;
 *   any other magic: CORRUPT_MESSAGE;
 * - CRC-32C matches: CORRUPT_MESSAGE;
 * - a known compression codec: UNSUPPORTED_COMPRESSION_TYPE;
 * - from clients: baseOffset 0, recordCount > 0, lastOffsetDelta + 1 ==
 *   recordCount, not a control batch, a producer id implies a sequence:
 *   INVALID_RECORD;
 * - the records (decompressed, bounded by `maxDecompressedBytes`) are
 *   well-formed, exactly recordCount of them, offset deltas 0..n-1 (from
 *   clients): INVALID_RECORD.
 * Trailing bytes too short for a batch are CORRUPT_MESSAGE. Each of these
 * refuses the batch as a whole. What the topic refuses record by record (a
 * null key on a compacted topic, a timestamp out of range) is the caller's
 * to judge (src/produce/validate.ts, with one record error per record): the
 * result says how many keys are null and the records' timestamp range.
 * Produce v3+ callers additionally require exactly one batch (INVALID_RECORD
 * otherwise) and zstd only from v7 (UNSUPPORTED_COMPRESSION_TYPE).
 */
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import {
  ATTR_CONTROL,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  compressionOf,
  readBatchHeader,
  verifyBatchCrc,
  type BatchHeader,
} from './batch-header.js';
import { checkRecords, invalidRecord } from './batch-records.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from './compression.js';

export interface ProduceValidationOptions {
  /** Largest batch accepted (Kafka's max.message.bytes); default unlimited. */
  readonly maxBatchBytes?: number;
  /** Bound of one decompressed records area; default 64 MiB. */
  readonly maxDecompressedBytes?: number;
  /** Client batches get Kafka's client-origin checks (default true); false for the broker's own appends. */
  readonly fromClient?: boolean;
}

export interface ValidatedBatch {
  /** Position of the batch in the validated buffer. */
  readonly pos: number;
  /** Total size in bytes (12 + batchLength). */
  readonly size: number;
  readonly header: BatchHeader;
  /** Smallest / largest record timestamp computed from the records (CreateTime checks, maxTimestamp repair). */
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
  /** Records without a key. */
  readonly nullKeys: number;
}

function corrupt(message: string): ProtocolError {
  return new ProtocolError(message, ErrorCode.CORRUPT_MESSAGE);
}

/** Checks framing, magic, CRC and header of the batch at `pos`; returns its size and header. */
function checkBatchFrame(buf: Buffer, pos: number, options: ProduceValidationOptions): { size: number; header: BatchHeader } {
  const left = buf.length - pos;
  if (left < LOG_OVERHEAD) throw corrupt(`${left} trailing bytes after the last record batch`);
  const batchLength = buf.readInt32BE(pos + 8);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
    throw corrupt(`record batch length ${batchLength} is below the minimum of ${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}`);
  }
  const size = LOG_OVERHEAD + batchLength;
  if (options.maxBatchBytes !== undefined && size > options.maxBatchBytes) {
    throw new ProtocolError(
      `record batch of ${size} bytes exceeds the maximum of ${options.maxBatchBytes}`,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
  }
  if (size > left) throw corrupt(`truncated record batch: ${size} bytes declared, ${left} present`);
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic === 0 || magic === 1) throw invalidRecord(`record batch magic ${magic}: only magic 2 batches are accepted here`);
  if (magic !== 2) throw corrupt(`invalid magic ${magic}`);
  if (!verifyBatchCrc(buf, pos)) {
    throw corrupt(`record batch at byte ${pos} is corrupt (stored crc ${buf.readUInt32BE(pos + 17)} does not match)`);
  }
  const header = readBatchHeader(buf, pos);
  if (compressionOf(header.attributes) > 4) {
    throw new ProtocolError(`unknown compression codec ${compressionOf(header.attributes)}`, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  }
  if (options.fromClient !== false) {
    if (header.baseOffset !== 0) throw invalidRecord(`the baseOffset of a produced record batch must be 0, not ${header.baseOffset}`);
    if (header.recordCount <= 0) throw invalidRecord(`invalid reported record count ${header.recordCount}`);
    if (header.lastOffsetDelta + 1 !== header.recordCount) {
      throw invalidRecord(`inconsistent offset range [0, ${header.lastOffsetDelta}] and record count ${header.recordCount}`);
    }
    if ((header.attributes & ATTR_CONTROL) !== 0) throw invalidRecord('clients are not allowed to write control records');
    if (header.producerId >= 0 && header.baseSequence < 0) {
      throw invalidRecord(`invalid sequence number ${header.baseSequence} in a batch with producer id ${header.producerId}`);
    }
  }
  return { size, header };
}

/**
 * Validates every batch of a Produce `records` buffer (see the module
 * comment) and returns where each one is and its header. Rejections are
 * ProtocolErrors carrying Kafka's error code.
 */
export async function validateProduceRecords(records: Buffer, options: ProduceValidationOptions = {}): Promise<ValidatedBatch[]> {
  const out: ValidatedBatch[] = [];
  const fromClient = options.fromClient !== false;
  const maxBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  let pos = 0;
  while (pos < records.length) {
    const { size, header } = checkBatchFrame(records, pos, options);
    const body = records.subarray(pos + RECORD_BATCH_OVERHEAD, pos + size);
    const codec = compressionOf(header.attributes);
    const area = codec === 0 ? body : await decompress(codec, body, maxBytes);
    const summary = checkRecords(header, area, fromClient);
    out.push({ pos, size, header, minTimestamp: summary.minTimestamp, maxTimestamp: summary.maxTimestamp, nullKeys: summary.nullKeys });
    pos += size;
  }
  return out;
}
