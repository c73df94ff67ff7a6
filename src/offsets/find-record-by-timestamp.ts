/**
 * The record-level look-up storage uses for ListOffsets by timestamp (and
 * -3, max timestamp): within the one batch the time index led to, the first
 * record whose timestamp is at or after the target and whose offset is at
 * least the log start offset, as Kafka's segment search does. Timestamps of
 * LogAppendTime batches are the batch's append time.
 */
import { readBatchRecords } from '../../protocol/records/index.js';
import type { RecordTimestampLookup } from '../../storage/index.js';

export function recordTimestampLookup(maxDecompressedBytes: number): RecordTimestampLookup {
  return async (batch, timestamp, minOffset) => {
    const { records } = await readBatchRecords(batch, maxDecompressedBytes);
    for (const r of records) {
      if (r.timestamp >= timestamp && r.offset >= minOffset) return { offset: r.offset, timestamp: r.timestamp };
    }
    return null;
  };
}
