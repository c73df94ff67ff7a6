/**
 * The batches of an append: the v2 batches lying back to back in the appended buffer, where each lies and
 * what its header says. PartitionLog.append either takes them from the caller (AppendOptions.batches: the
 * produce path has parsed and validated the headers already), after a cheap check that they tile the
 * buffer, or reads the headers itself (the offsets topic, tests). Either way a buffer that does not hold
 * whole batches back to back is refused with a RangeError before anything is written.
 */
import { RECORD_BATCH_OVERHEAD, entrySizeAt, readBatchHeader } from '../protocol/records/batch-header.js';
import type { BatchInfo } from './segment.js';

/** One batch of an append, as the caller parsed it (contract with the produce path). */
export interface AppendBatch {
  /** Where the batch starts in the appended buffer, and its whole size (12 + batchLength). */
  readonly position: number;
  readonly size: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly recordCount: number;
}

/** Where each batch lies (baseOffset and leaderEpoch as found: append assigns them), and their record count. */
export interface AppendBatches {
  infos: BatchInfo[];
  records: number;
}

/** The caller's batches, checked to tile `buf` exactly: consecutive from 0, each at least a header, no negative lastOffsetDelta. */
export function checkedAppendBatches(buf: Buffer, batches: readonly AppendBatch[]): AppendBatches {
  if (buf.length === 0) throw new RangeError('append of an empty buffer');
  const infos: BatchInfo[] = [];
  let records = 0;
  let pos = 0;
  for (const b of batches) {
    if (b.position !== pos || !(b.size >= RECORD_BATCH_OVERHEAD) || pos + b.size > buf.length) {
      throw new RangeError(`malformed record batch at byte ${pos}: the batch given is at ${b.position}, size ${b.size}, ${buf.length - pos} bytes left`);
    }
    if (!(b.lastOffsetDelta >= 0)) throw new RangeError(`record batch at byte ${pos} has a negative lastOffsetDelta`);
    infos.push({ position: pos, size: b.size, baseOffset: 0, lastOffset: b.lastOffsetDelta, maxTimestamp: b.maxTimestamp, leaderEpoch: -1 });
    records += b.recordCount;
    pos += b.size;
  }
  if (pos !== buf.length) throw new RangeError(`the batches given cover ${pos} of the ${buf.length} bytes appended`);
  return { infos, records };
}

/** Splits a buffer into the v2 batches lying back to back in it; throws RangeError if it does not tile. */
export function parseAppendBatches(buf: Buffer): AppendBatches {
  if (buf.length === 0) throw new RangeError('append of an empty buffer');
  const infos: BatchInfo[] = [];
  let records = 0;
  let pos = 0;
  while (pos < buf.length) {
    const size = entrySizeAt(buf, pos);
    if (size < RECORD_BATCH_OVERHEAD || pos + size > buf.length) throw new RangeError(`malformed record batch at byte ${pos}: size ${size}, ${buf.length - pos} bytes left`);
    let h;
    try {
      h = readBatchHeader(buf, pos);
    } catch (err) {
      throw new RangeError(`malformed record batch at byte ${pos}: ${(err as Error).message}`);
    }
    if (h.lastOffsetDelta < 0) throw new RangeError(`record batch at byte ${pos} has a negative lastOffsetDelta`);
    infos.push({ position: pos, size, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch });
    records += h.recordCount;
    pos += size;
  }
  return { infos, records };
}
