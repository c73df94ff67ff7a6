/**
 * A member of a share group (KIP-932), as Kafka's ShareGroupMember keeps it:
 * an immutable value replaced on every change, holding what the
 * ShareGroupMemberMetadata and ShareGroupCurrentMemberAssignment records
 * store, so a member is rebuilt from the log alone.
 *
 * Unlike a consumer group's member there is no revocation: a share-partition
 * may be held by several members at once, so a member moves straight to its
 * target assignment at the target's epoch (its state stays STABLE), and its
 * previous epoch is accepted once (a lost response).
 */
import type { TopicPartitions } from '../consumer/consumer-group-member.js';
import { MemberState } from '../consumer/member-state.js';

export interface ShareGroupMember {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: ReadonlySet<string>;
  readonly assignedPartitions: TopicPartitions;
}

/** A member before its first heartbeat is applied. */
export function newShareGroupMember(memberId: string, fields: Partial<Omit<ShareGroupMember, 'memberId'>> = {}): ShareGroupMember {
  return {
    memberId,
    memberEpoch: 0,
    previousMemberEpoch: -1,
    state: MemberState.STABLE,
    rackId: null,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: new Set(),
    assignedPartitions: new Map(),
    ...fields,
  };
}

/** The member moved to `target` at `epoch` (Kafka's ShareGroupAssignmentBuilder); the same value when it is there already. */
export function reconcileShareMember(member: ShareGroupMember, epoch: number, target: TopicPartitions): ShareGroupMember {
  if (member.memberEpoch === epoch && member.state === MemberState.STABLE) return member;
  return { ...member, previousMemberEpoch: member.memberEpoch, memberEpoch: epoch, state: MemberState.STABLE, assignedPartitions: target };
}
