/**
 * Where a member of a consumer group (KIP-848) stands in its reconciliation
 * (Kafka's MemberState, group-coordinator's modern/MemberState). The value is
 * the byte the ConsumerGroupCurrentMemberAssignment record stores; a byte this
 * version does not know reads as UNKNOWN (a newer coordinator wrote it), and a
 * member in UNKNOWN is fenced at its next heartbeat unless it owns nothing
 * (current-assignment-builder.ts).
 *
 * - STABLE: the member's assignment is its target assignment at its epoch.
 * - UNREVOKED_PARTITIONS: the member must give up partitions (its
 *   partitionsPendingRevocation) before it may move to a newer epoch; it stays
 *   at its epoch until a heartbeat's owned partitions no longer hold them.
 * - UNRELEASED_PARTITIONS: the member is at the newest epoch but waits for
 *   partitions of its target that another member still owns.
 */

export const MemberState = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
  UNKNOWN: 127,
} as const;

export type MemberState = (typeof MemberState)[keyof typeof MemberState];

const NAMES: ReadonlyMap<number, string> = new Map(Object.entries(MemberState).map(([name, value]) => [value, name]));

/** The state a stored byte stands for: UNKNOWN for a value this version does not define. */
export function memberStateFromValue(value: number): MemberState {
  switch (value) {
    case MemberState.STABLE:
    case MemberState.UNREVOKED_PARTITIONS:
    case MemberState.UNRELEASED_PARTITIONS:
      return value;
    default:
      return MemberState.UNKNOWN;
  }
}

/** Kafka's name of a state, for logs and describe output ("STABLE", "UNREVOKED_PARTITIONS", ...). */
export function memberStateName(state: MemberState): string {
  return NAMES.get(state) ?? 'UNKNOWN';
}
