/**
 * Read-committed share fetches (share.isolation.level=read_committed): the data batches of aborted
 * transactions are acquired with the rest and archived at once, so they are never delivered and the
 * start offset can move past them (Kafka's SharePartition.fetchAbortedTransactionRecordBatches).
 *
 * A walk in offset order, as a read-committed consumer does it: an aborted transaction becomes active
 * for its producer when the walk reaches its first offset; a transactional data batch of an active
 * producer is aborted; the producer's abort marker ends it. Control batches themselves are not
 * aborted: like every offset without a record for the client they are delivered inside the acquired
 * ranges and the client acknowledges them as gaps (AcknowledgeType GAP), which archives them.
 */
import type { AbortedTransaction, FetchedBatch } from './fetched-batch.js';

export interface OffsetRange {
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** The data batches of `batches` (in offset order) that belong to aborted transactions. */
export function abortedTransactionBatches(
  batches: readonly FetchedBatch[],
  abortedTransactions: readonly AbortedTransaction[],
): OffsetRange[] {
  const pending = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  let next = 0;
  const abortedProducers = new Set<number>();
  const out: OffsetRange[] = [];
  for (const batch of batches) {
    const producerId = batch.producerId ?? -1;
    if (producerId < 0) continue;
    while (next < pending.length && (pending[next] as AbortedTransaction).firstOffset <= batch.lastOffset) {
      abortedProducers.add((pending[next] as AbortedTransaction).producerId);
      next++;
    }
    if (batch.control === 'abort') {
      abortedProducers.delete(producerId);
    } else if (batch.control === undefined && batch.isTransactional === true && abortedProducers.has(producerId)) {
      out.push({ firstOffset: batch.baseOffset, lastOffset: batch.lastOffset });
    }
  }
  return out;
}

/** `ranges` without the offsets of `remove` (both in offset order); each piece keeps its extra fields. */
export function subtractRanges<T extends OffsetRange>(
  ranges: readonly T[],
  remove: readonly OffsetRange[],
  piece: (from: T, firstOffset: number, lastOffset: number) => T,
): T[] {
  const out: T[] = [];
  for (const r of ranges) {
    let first = r.firstOffset;
    for (const cut of remove) {
      if (cut.lastOffset < first || cut.firstOffset > r.lastOffset) continue;
      if (cut.firstOffset > first) out.push(piece(r, first, cut.firstOffset - 1));
      first = Math.max(first, cut.lastOffset + 1);
      if (first > r.lastOffset) break;
    }
    if (first <= r.lastOffset) out.push(first === r.firstOffset ? r : piece(r, first, r.lastOffset));
  }
  return out;
}
