/**
 * Static membership in a consumer group (KIP-848 with group.instance.id), as
 * Kafka's GroupMetadataManager handles it for the consumer protocol
 * (getOrMaybeSubscribeStaticConsumerGroupMember, consumerGroupLeave,
 * consumerGroupStaticMemberGroupLeave):
 *
 * 1. A static member that restarts leaves with epoch -2: it stays in the group
 *    at epoch -2 with its assigned partitions (its pending revocations are
 *    dropped), so nobody else gets them and the group epoch does not move.
 *    Their assignment epochs (KIP-1251) become 0, as Kafka 4.3 writes them:
 *    the member that takes its place holds them since before any epoch it
 *    will commit at (a record of Kafka before 4.3, at -2 without them, reads
 *    the same: consumer-group-log.ts).
 * 2. A member that joins (epoch 0) with an instance id the group knows takes
 *    the old member's place only if that one left with -2; otherwise
 *    UNRELEASED_INSTANCE_ID — also when it joins under the old member's own
 *    member id (a member that was fenced and rejoins at 0 without leaving), as
 *    Kafka 4.x checks only the old member's epoch. The new member is the old
 *    one under the new member id (the same one, or another), at epoch 0 and
 *    previous epoch 0, with the old assignment, so it gets its partitions back
 *    without a rebalance; the old member's records get tombstones and the
 *    target assignment builder gives the new one the old member's target
 *    (target-assignment-builder.ts).
 * 3. A heartbeat (epoch > 0) or a leave with an instance id: UNKNOWN_MEMBER_ID
 *    if no member has that instance id, FENCED_INSTANCE_ID if another member id
 *    has it; then the usual epoch check (epochs.ts).
 * 4. Leaving with -1 (or a session that expires) removes the member for good,
 *    as for a dynamic member.
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';
import { nextAssignmentEpochs, type ConsumerGroupMember } from './consumer-group-member.js';
import { LEAVE_GROUP_STATIC_MEMBER_EPOCH } from './epochs.js';

/** Rule 2: the member that replaces `existing` under `newMemberId`; UNRELEASED_INSTANCE_ID unless it left with -2. */
export function replaceStaticMember(_groupId: string, existing: ConsumerGroupMember, newMemberId: string): ConsumerGroupMember {
  if (existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    throw new KafkaError(
      ErrorCode.UNRELEASED_INSTANCE_ID,
      `Static member ${newMemberId} with instance id ${existing.instanceId ?? ''} cannot join the group because the instance id is owned by ${existing.memberId} member.`,
    );
  }
  return { ...existing, memberId: newMemberId, memberEpoch: 0, previousMemberEpoch: 0 };
}

/** Rule 3: the static member a heartbeat or leave with this instance id is from. */
export function staticMemberOf(
  existing: ConsumerGroupMember | undefined,
  memberId: string,
  instanceId: string,
): ConsumerGroupMember {
  if (existing === undefined) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${instanceId} is unknown.`);
  if (existing.memberId !== memberId) {
    throw new KafkaError(
      ErrorCode.FENCED_INSTANCE_ID,
      `Static member ${memberId} with instance id ${instanceId} was fenced by member ${existing.memberId}.`,
    );
  }
  return existing;
}

/** Rule 1: the member after a leave with epoch -2. */
export function staticMemberTemporaryLeave(member: ConsumerGroupMember): ConsumerGroupMember {
  return {
    ...member,
    memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
    partitionsPendingRevocation: new Map(),
    assignmentEpochs: nextAssignmentEpochs(member, [], { partitions: member.assignedPartitions, epoch: 0 }),
  };
}
