/**
 * What the transaction coordinator counts for the metrics (src/metrics/broker-metrics.ts reads it when
 * scraped; nothing here depends on metrics being enabled: a few additions per transaction). Kafka keeps
 * the like as JMX metrics (transaction-coordinator-metrics: the load time of `__transaction_state`
 * partitions; TransactionMarkerChannelManager: the markers' queues); these are Gregor's own cut of them.
 *
 * - A transaction is counted once, when its CompleteCommit/CompleteAbort record is written (all its
 *   markers are written by then), with the reason it was aborted: the client's EndTxn (`client`), the
 *   coordinator's timeout (`timeout`), a re-initialization of its transactional id that fenced it
 *   (`fenced`), or a PrepareAbort found at load and completed after a restart (`resumed`: the log does
 *   not record why it was aborted).
 * - Markers count per partition written (an answer NONE), by result.
 * - The load time is that of the replay of `__transaction_state` at start (every partition, one after
 *   the other), as it stands while the load runs; 0 when there was nothing to load.
 */
import type { TransactionResult } from './transaction-marker-writer.js';

/** Why a transaction ended in an abort. */
export type AbortReason = 'client' | 'timeout' | 'fenced' | 'resumed';

export const ABORT_REASONS: readonly AbortReason[] = ['client', 'timeout', 'fenced', 'resumed'];

export class TransactionStats {
  committed = 0;
  readonly aborted: Record<AbortReason, number> = { client: 0, timeout: 0, fenced: 0, resumed: 0 };
  readonly markersWritten: Record<TransactionResult, number> = { commit: 0, abort: 0 };
  private loadStarted: number | undefined;
  private loadEnded: number | undefined;

  completed(result: TransactionResult, reason: AbortReason): void {
    if (result === 'commit') this.committed++;
    else this.aborted[reason]++;
  }

  loadStarting(now = performance.now()): void {
    this.loadStarted = now;
    this.loadEnded = undefined;
  }

  loadDone(now = performance.now()): void {
    this.loadEnded = now;
  }

  /** Seconds the load took (so far, while it runs); 0 before it starts. */
  loadSeconds(now = performance.now()): number {
    if (this.loadStarted === undefined) return 0;
    return ((this.loadEnded ?? now) - this.loadStarted) / 1000;
  }
}
