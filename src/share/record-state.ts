/**
 * The delivery state of a record in a share-partition (KIP-932), with Kafka's ids: they are what the
 * share coordinator persists (WriteShareGroupState's DeliveryState) and what ReadShareGroupState returns.
 *
 *   AVAILABLE ──acquire──▶ ACQUIRED ──ACCEPT──▶ ACKNOWLEDGED      (terminal)
 *       ▲                     │ ──REJECT/GAP──▶ ARCHIVED          (terminal)
 *       └──RELEASE / lock expiry / member leaves─┘
 *
 * A release (explicit or by lock expiry) of a record that has reached the delivery count limit archives
 * it instead (InFlightState's tryUpdateState). ARCHIVING (3, KIP-1191, dead-letter queues) is a later
 * addition that Gregor does not produce; a persisted ARCHIVING batch is read as ARCHIVED.
 *
 * Acknowledge types are the AcknowledgementBatch AcknowledgeTypes of ShareFetch / ShareAcknowledge:
 * 0 marks a gap (an offset with no record for the client, such as a control record or an offset removed
 * by compaction) and archives it, as REJECT does; RENEW (4, v2, KIP-1222) extends the acquisition lock.
 */

export const RecordState = {
  AVAILABLE: 0,
  ACQUIRED: 1,
  ACKNOWLEDGED: 2,
  ARCHIVING: 3,
  ARCHIVED: 4,
} as const;
export type RecordState = (typeof RecordState)[keyof typeof RecordState];

const STATE_NAMES = ['AVAILABLE', 'ACQUIRED', 'ACKNOWLEDGED', 'ARCHIVING', 'ARCHIVED'] as const;

export function recordStateName(state: RecordState): string {
  return STATE_NAMES[state] ?? String(state);
}

/** The state a persisted DeliveryState id stands for; throws on an unknown id (as Kafka's RecordState.forId). */
export function recordStateForId(id: number): RecordState {
  switch (id) {
    case 0:
      return RecordState.AVAILABLE;
    case 1:
      return RecordState.ACQUIRED;
    case 2:
      return RecordState.ACKNOWLEDGED;
    case 3:
    case 4:
      return RecordState.ARCHIVED;
    default:
      throw new Error(`Unknown record state id: ${id}`);
  }
}

/** ACKNOWLEDGED and ARCHIVED are terminal: the record is never delivered again. */
export function isStateTerminal(state: RecordState): boolean {
  return state === RecordState.ACKNOWLEDGED || state === RecordState.ARCHIVED;
}

export const AcknowledgeType = {
  GAP: 0,
  ACCEPT: 1,
  RELEASE: 2,
  REJECT: 3,
  RENEW: 4,
} as const;
export type AcknowledgeType = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];

export function isAcknowledgeType(value: number): value is AcknowledgeType {
  return Number.isInteger(value) && value >= 0 && value <= 4;
}

/** The state an acknowledgement moves an acquired record to (RENEW changes no state). */
export function recordStateForAcknowledgeType(type: Exclude<AcknowledgeType, 4>): RecordState {
  switch (type) {
    case AcknowledgeType.ACCEPT:
      return RecordState.ACKNOWLEDGED;
    case AcknowledgeType.RELEASE:
      return RecordState.AVAILABLE;
    default:
      return RecordState.ARCHIVED;
  }
}
