/**
 * The transactions a cleaning meets (Kafka's CleanedTransactionMetadata), used by cleaner.ts:
 *
 * - AbortedTransactions, per group of segments: which data batches belong to aborted transactions (their
 *   records are removed, and never enter the offset map), from the .txnindex entries overlapping the group.
 * - TransactionMarkers, over the whole cleaning: whether a COMMIT or ABORT marker's transaction still has a
 *   batch in the log. Kafka keeps this per group, so a marker could go while its transaction's batches
 *   stay in an earlier group; here it spans the groups, so no transaction's batches are ever left without
 *   their marker (a replay of the producer state would leave such a transaction open and the LSO stuck).
 */
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, type BatchHeader } from '../protocol/records/batch-header.js';
import { readTransactionMarker } from '../protocol/records/control-record.js';
import type { PartitionLog } from './partition-log.js';
import type { LogSegment } from './segment.js';
import type { AbortedTxn } from './transaction-index.js';

/**
 * Which batches of a group of segments belong to aborted transactions (Kafka's CleanedTransactionMetadata),
 * read in offset order: the .txnindex entries overlapping the group, taken up by first offset as the
 * batches reach it, each one ending at its ABORT marker.
 */
export class AbortedTransactions {
  /** Entries not yet reached, by first offset. */
  private readonly pending: AbortedTxn[];
  /** Producer id → its aborted transaction the batches are inside. */
  private readonly ongoing = new Map<number, AbortedTxn>();

  constructor(log: PartitionLog, group: readonly LogSegment[]) {
    const first = group[0] as LogSegment;
    const last = group[group.length - 1] as LogSegment;
    const next = log.segmentList[log.segmentList.indexOf(last) + 1];
    const entries = log.collectAbortedTransactions(first.baseOffset, next?.baseOffset ?? last.nextOffset);
    this.pending = entries.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  private reach(offset: number): void {
    while (this.pending.length > 0 && (this.pending[0] as AbortedTxn).firstOffset <= offset) {
      const t = this.pending.shift() as AbortedTxn;
      if (!this.ongoing.has(t.producerId)) this.ongoing.set(t.producerId, t);
    }
  }

  /** A data batch of a transaction that was aborted. */
  isAborted(h: BatchHeader): boolean {
    const last = h.baseOffset + h.lastOffsetDelta;
    this.reach(last);
    if ((h.attributes & ATTR_TRANSACTIONAL) === 0) return false;
    const t = this.ongoing.get(h.producerId);
    return t !== undefined && h.baseOffset >= t.firstOffset && last < t.lastOffset;
  }

  /** A control batch: the ABORT marker of an aborted transaction ends it. */
  onControlBatch(h: BatchHeader): void {
    this.reach(h.baseOffset + h.lastOffsetDelta);
    const t = this.ongoing.get(h.producerId);
    if (t !== undefined && t.lastOffset === h.baseOffset) this.ongoing.delete(h.producerId);
  }
}

/**
 * Whether a transaction marker may go (Kafka's CleanedTransactionMetadata.onControlBatchRead, kept over the
 * whole cleaning rather than one group): only when no data batch of its transaction is kept, in any group,
 * so that neither a COMMIT nor an ABORT marker leaves a transaction's batches in the log without their end
 * (replaying them would open a transaction nothing closes). Batches are seen in offset order; a producer's
 * transactional batches since its last marker are its transaction's.
 */
export class TransactionMarkers {
  /** Producers with a kept data batch in their current transaction. */
  private readonly withData = new Set<number>();

  /** A batch goes into the cleaned segment (as it is, filtered or emptied). */
  onBatchKept(h: BatchHeader): void {
    if ((h.attributes & (ATTR_TRANSACTIONAL | ATTR_CONTROL)) === ATTR_TRANSACTIONAL) this.withData.add(h.producerId);
  }

  /**
   * A control batch is read: true when it may be discarded (once its delete horizon has passed): a COMMIT
   * or ABORT marker whose transaction kept no batch, or an empty control batch (Kafka's cleaner leaves those);
   * other control records (LEADER_CHANGE, …) and unreadable ones stay.
   */
  onControlBatch(batch: Buffer, h: BatchHeader): boolean {
    if (h.recordCount === 0) return true;
    let marker;
    try {
      marker = readTransactionMarker(batch, 0);
    } catch {
      return false;
    }
    if (marker === null) return false;
    return !this.withData.delete(h.producerId);
  }
}
