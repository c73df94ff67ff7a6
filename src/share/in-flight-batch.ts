/**
 * InFlightBatch: a range of offsets fetched together, as Kafka's InFlightBatch. While every offset
 * of the range shares one state, one InFlightState (batchState) holds it; the first operation that
 * touches part of the range only (a subset acquire or acknowledgement, per-offset acknowledge types,
 * the start offset moving inside it) splits it into one InFlightState per offset (offsetState), which
 * it keeps until the batch leaves the cache. Exactly one of batchState and offsetState is set.
 */
import { RecordState } from './record-state.js';
import { EMPTY_MEMBER_ID, type InFlightState, copyInFlightState, newInFlightState } from './in-flight-state.js';

export interface InFlightBatch {
  readonly firstOffset: number;
  readonly lastOffset: number;
  batchState: InFlightState | null;
  /** One state per offset, index = offset - firstOffset. */
  offsetState: InFlightState[] | null;
}

export function newInFlightBatch(firstOffset: number, lastOffset: number, state: InFlightState): InFlightBatch {
  return { firstOffset, lastOffset, batchState: state, offsetState: null };
}

export function batchLength(batch: InFlightBatch): number {
  return batch.lastOffset - batch.firstOffset + 1;
}

/** Splits the batch state into per-offset states (a no-op once split); each offset keeps the lock and any transition in progress. */
export function maybeInitializeOffsetState(batch: InFlightBatch): InFlightState[] {
  if (batch.offsetState !== null) return batch.offsetState;
  const state = batch.batchState;
  if (state === null) throw new Error('in-flight batch without state');
  const offsets: InFlightState[] = [];
  for (let i = 0; i < batchLength(batch); i++) offsets.push(copyInFlightState(state));
  batch.offsetState = offsets;
  batch.batchState = null;
  return offsets;
}

/**
 * The record_limit split of a newly acquired batch: offsets up to `lastAcquired` are acquired by
 * `memberId` with the lock, the rest stay AVAILABLE (never delivered: delivery count 0).
 */
export function newPartiallyAcquiredBatch(
  firstOffset: number,
  lastOffset: number,
  lastAcquired: number,
  memberId: string,
  lockExpiresAtMs: number,
): InFlightBatch {
  const offsets: InFlightState[] = [];
  for (let o = firstOffset; o <= lastOffset; o++) {
    offsets.push(
      o <= lastAcquired
        ? newInFlightState(RecordState.ACQUIRED, 1, memberId, lockExpiresAtMs)
        : newInFlightState(RecordState.AVAILABLE, 0, EMPTY_MEMBER_ID),
    );
  }
  return { firstOffset, lastOffset, batchState: null, offsetState: offsets };
}

/** The state of one offset of the batch. */
export function stateAt(batch: InFlightBatch, offset: number): InFlightState {
  const s = batch.offsetState === null ? batch.batchState : batch.offsetState[offset - batch.firstOffset];
  if (s === null || s === undefined) throw new Error(`offset ${offset} outside in-flight batch ${batch.firstOffset}-${batch.lastOffset}`);
  return s;
}
