/**
 * Batch filtering (Kafka's MemoryRecords.filterTo): a v2 batch rewritten to keep some of its records, as the
 * log cleaner writes it. Wire format only; the cleaner (storage/cleaner.ts) decides what to keep.
 *
 * - keptRecordsBatch: the kept records' bytes copied as they are under the same header. Record offsets and
 *   timestamps are deltas from the batch's baseOffset and baseTimestamp, which stay, so every record keeps
 *   its offset and timestamp; so do lastOffsetDelta (the producer's last sequence survives), the producer
 *   fields, the attributes, the partition leader epoch and the codec (the records are recompressed). The
 *   size, the record count, a CreateTime maxTimestamp (the largest kept one) and the CRC follow.
 * - rebuildBatch: the batch built again from its kept records, for what a copy cannot do: setting the delete
 *   horizon (Kafka 3.x: the delete-horizon attribute, baseTimestamp = the horizon, record timestamps kept,
 *   their deltas rebased; on a transaction marker too, KIP-534), or keeping no record at all (a header-only batch that keeps the producer's epoch
 *   and sequence and the segment's end offset).
 */
import {
  ATTR_CONTROL,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  Compression,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  computeBatchCrc,
  compressionOf,
  writeInt64,
  type BatchHeader,
} from './batch-header.js';
import { buildRecordBatch } from './batch-builder.js';
import type { BatchRecord } from './batch-records.js';
import { compress } from './compression.js';

/**
 * The batch `batch` (header `h`) keeping only the records whose byte ranges [start, end) of its uncompressed
 * records area `area` are listed in `kept`, as triples start, end, offset, in order; `maxTimestampDelta` is
 * the largest timestampDelta among them (ignored for LogAppendTime batches, whose maxTimestamp stays).
 */
export async function keptRecordsBatch(batch: Buffer, h: BatchHeader, area: Buffer, kept: readonly number[], maxTimestampDelta: number): Promise<Buffer> {
  let size = 0;
  for (let i = 0; i < kept.length; i += 3) size += (kept[i + 1] as number) - (kept[i] as number);
  const records = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < kept.length; i += 3) at += area.copy(records, at, kept[i] as number, kept[i + 1] as number);
  const codec = compressionOf(h.attributes);
  const body = codec === Compression.none ? records : await compress(codec, records);
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + body.length);
  batch.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  body.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(kept.length / 3, RECORDS_COUNT_OFFSET);
  if ((h.attributes & ATTR_LOG_APPEND_TIME) === 0) writeInt64(out, MAX_TIMESTAMP_OFFSET, h.baseTimestamp + maxTimestampDelta);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), CRC_OFFSET);
  return out;
}

/**
 * A batch keeping only `retained` (possibly none: a header-only batch), with the original's base offset,
 * last offset delta, producer id, epoch and base sequence, flags, leader epoch and compression; with
 * `deleteHorizonMs` (and at least one record) it carries that delete horizon. A control batch stays one.
 */
export function rebuildBatch(h: BatchHeader, retained: readonly BatchRecord[], deleteHorizonMs: number | undefined): Promise<Buffer> {
  const logAppendTime = (h.attributes & ATTR_LOG_APPEND_TIME) !== 0 ? h.maxTimestamp : undefined;
  return buildRecordBatch(
    retained.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    {
      baseOffset: h.baseOffset,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      compression: compressionOf(h.attributes),
      timestamp: h.maxTimestamp,
      ...(logAppendTime !== undefined ? { logAppendTime } : {}),
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      transactional: (h.attributes & ATTR_TRANSACTIONAL) !== 0,
      control: (h.attributes & ATTR_CONTROL) !== 0,
      ...(deleteHorizonMs !== undefined && retained.length > 0 ? { deleteHorizonMs } : {}),
      lastOffsetDelta: h.lastOffsetDelta,
    },
  );
}
