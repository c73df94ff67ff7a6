/**
 * InFlightState: the state, delivery count and owner of one record or of a whole in-flight batch, as
 * Kafka's InFlightState keeps it.
 *
 * Rules it keeps:
 * - Transitions are AVAILABLE → ACQUIRED and ACQUIRED → AVAILABLE / ACKNOWLEDGED / ARCHIVED; nothing
 *   leaves a terminal state, and a transition to the current state is refused.
 * - A move to AVAILABLE when the delivery count has reached the limit archives instead.
 * - The delivery count grows when a record is acquired and never otherwise (archiving keeps it).
 * - An acknowledgement or release is a *state transition* that waits for the share coordinator to
 *   persist it (startStateTransition): the previous state is kept, the record can be neither acquired
 *   nor acknowledged meanwhile, and completeStateTransition commits or rolls back. A rollback of a
 *   record whose acquisition lock expired meanwhile makes it AVAILABLE (or ARCHIVED at the limit).
 * - `archive` (log start offset movement, aborted transactions) is final even across a rollback.
 *
 * The acquisition lock is a deadline (lockExpiresAtMs) rather than a timer task: the share-partition's
 * caller asks for the next deadline and calls expireAcquisitionLocks when it passes.
 */
import { RecordState } from './record-state.js';

/** The member id of a record no member holds. */
export const EMPTY_MEMBER_ID = '';
/** lockExpiresAtMs when there is no acquisition lock. */
export const NO_LOCK = -1;

/** How a state update changes the delivery count (Kafka's DeliveryCountOps). */
export type DeliveryCountOps = 'increase' | 'decrease' | 'noop';

interface RollbackState {
  readonly state: RecordState;
  readonly deliveryCount: number;
  readonly memberId: string;
  readonly maxDeliveryCount: number;
}

export interface InFlightState {
  state: RecordState;
  deliveryCount: number;
  memberId: string;
  lockExpiresAtMs: number;
  rollback: RollbackState | null;
  /** Archived for good (log start offset moved past it, aborted transaction): a rollback keeps it archived. */
  terminal: boolean;
}

export function newInFlightState(
  state: RecordState,
  deliveryCount: number,
  memberId: string,
  lockExpiresAtMs: number = NO_LOCK,
): InFlightState {
  return { state, deliveryCount, memberId, lockExpiresAtMs, rollback: null, terminal: false };
}

export function copyInFlightState(s: InFlightState): InFlightState {
  return { ...s };
}

export function hasOngoingStateTransition(s: InFlightState): boolean {
  return s.rollback !== null;
}

function validTransition(from: RecordState, to: RecordState): boolean {
  if (from === to) return false;
  if (from === RecordState.ACKNOWLEDGED || from === RecordState.ARCHIVED) return false;
  if (from === RecordState.AVAILABLE && to !== RecordState.ACQUIRED) return false;
  return true;
}

/**
 * Moves `s` to `newState` when the transition is allowed and no transition is in progress; returns
 * false (and changes nothing) otherwise.
 */
export function tryUpdateState(
  s: InFlightState,
  newState: RecordState,
  ops: DeliveryCountOps,
  maxDeliveryCount: number,
  newMemberId: string,
): boolean {
  if (s.rollback !== null) return false;
  let target = newState;
  if (target === RecordState.AVAILABLE && ops !== 'decrease' && s.deliveryCount >= maxDeliveryCount) {
    target = RecordState.ARCHIVED;
  }
  if (!validTransition(s.state, target)) return false;
  s.state = target;
  if (target !== RecordState.ARCHIVED) {
    s.deliveryCount += ops === 'increase' ? 1 : ops === 'decrease' ? -1 : 0;
  }
  s.memberId = newMemberId;
  return true;
}

/** tryUpdateState that keeps the previous state until completeStateTransition. */
export function startStateTransition(
  s: InFlightState,
  newState: RecordState,
  ops: DeliveryCountOps,
  maxDeliveryCount: number,
  newMemberId: string,
): boolean {
  const previous: RollbackState = { state: s.state, deliveryCount: s.deliveryCount, memberId: s.memberId, maxDeliveryCount };
  if (!tryUpdateState(s, newState, ops, maxDeliveryCount, newMemberId)) return false;
  s.rollback = previous;
  return true;
}

/**
 * Ends a transition begun by startStateTransition: a commit (or a record archived for good meanwhile)
 * drops the lock and the saved state; a rollback restores the saved state, unless the acquisition lock
 * has expired by `nowMs`, in which case the record is released as an expiry would.
 */
export function completeStateTransition(s: InFlightState, commit: boolean, nowMs: number): void {
  const previous = s.rollback;
  if (previous === null) return;
  s.rollback = null;
  if (commit || s.terminal) {
    s.lockExpiresAtMs = NO_LOCK;
    return;
  }
  if (s.lockExpiresAtMs !== NO_LOCK && s.lockExpiresAtMs <= nowMs) {
    s.state = previous.deliveryCount >= previous.maxDeliveryCount ? RecordState.ARCHIVED : RecordState.AVAILABLE;
    s.memberId = EMPTY_MEMBER_ID;
    s.lockExpiresAtMs = NO_LOCK;
  } else {
    s.state = previous.state;
    s.memberId = previous.memberId;
  }
}

/** Archives for good: the state is ARCHIVED whatever happens to a transition in progress. */
export function archiveState(s: InFlightState): void {
  s.terminal = true;
  s.state = RecordState.ARCHIVED;
  s.memberId = EMPTY_MEMBER_ID;
  s.lockExpiresAtMs = NO_LOCK;
}
