/**
 * What a share-partition hands the share coordinator to persist (Kafka's PersisterStateBatch and the
 * partition part of WriteShareGroupState): ranges of offsets with their new delivery state and
 * delivery count, and the share-partition start offset. The coordinator merges the batches over the
 * state it holds (later batches win); offsets below the start offset are dropped.
 *
 * DeliveryState is one of AVAILABLE (0), ACKNOWLEDGED (2), ARCHIVED (4): a released or expired record
 * is written AVAILABLE, an acknowledged one ACKNOWLEDGED, a rejected, gap or over-limit one ARCHIVED.
 */
import type { RecordState } from './record-state.js';

export interface PersisterStateBatch {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly deliveryState: RecordState;
  readonly deliveryCount: number;
}

/** The persisted state of one share-partition, as ReadShareGroupState returns it. */
export interface PersistedShareState {
  /** The share-partition start offset, or -1 when it was never initialized (then share.auto.offset.reset decides). */
  readonly startOffset: number;
  readonly stateEpoch: number;
  readonly stateBatches: readonly PersisterStateBatch[];
}

/** One WriteShareGroupState partition entry. */
export interface ShareStateWrite {
  readonly stateEpoch: number;
  readonly startOffset: number;
  /** Offsets ≥ startOffset whose delivery is complete (ACKNOWLEDGED or ARCHIVED); WriteShareGroupState v1's DeliveryCompleteCount. */
  readonly deliveryCompleteCount: number;
  readonly stateBatches: readonly PersisterStateBatch[];
}
