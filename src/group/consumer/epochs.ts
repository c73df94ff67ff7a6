/**
 * The epochs of a consumer group (KIP-848) and the checks a heartbeat's member
 * epoch passes, as Kafka's GroupMetadataManager applies them
 * (throwIfConsumerGroupMemberEpochIsInvalid and the leave paths of
 * consumerGroupHeartbeat).
 *
 * Three epochs:
 * 1. The group epoch: bumped when the group changes in a way that needs a new
 *    target assignment (a member joins, leaves or changes its subscription; the
 *    subscribed topics' metadata changes). A new group moves from 0 to 1 at its
 *    first heartbeat.
 * 2. The assignment epoch: the group epoch the current target assignment was
 *    computed at. When the group epoch is ahead of it, the next heartbeat
 *    recomputes the target (target-assignment-builder.ts).
 * 3. The member epoch: the assignment epoch the member has reconciled to
 *    (current-assignment-builder.ts). It is never ahead of the assignment epoch.
 *
 * What a ConsumerGroupHeartbeat's memberEpoch means:
 * - 0 (JOIN_GROUP_MEMBER_EPOCH): the member joins, or rejoins after being
 *   fenced, without partitions.
 * - -1 (LEAVE_GROUP_MEMBER_EPOCH): the member leaves; it is removed and the
 *   group epoch bumped. A static member sending -1 leaves for good too.
 * - -2 (LEAVE_GROUP_STATIC_MEMBER_EPOCH): a static member leaves for a while
 *   (a restart): it stays in the group at epoch -2 with its assignment, and the
 *   next member with its instance id takes its place (static-members.ts).
 * - > 0: must equal the member's epoch, except that the member's previous epoch
 *   is accepted when the partitions it owns are a subset of its assigned ones
 *   (the response that moved it on was lost); anything else ahead or behind is
 *   FENCED_MEMBER_EPOCH: the member must drop its partitions and rejoin at 0.
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';
import { isSubset, type ConsumerGroupMember, type TopicPartitions } from './consumer-group-member.js';

export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** What a heartbeat with this member epoch asks for. */
export type HeartbeatKind = 'join' | 'leave' | 'static-leave' | 'heartbeat';

/**
 * What a heartbeat asks for, from its member epoch and instance id. -2 without
 * an instance id, or an epoch below -2, is INVALID_REQUEST (Kafka's request
 * validation); -1 with an instance id is a static member leaving for good.
 */
export function heartbeatKind(memberEpoch: number, instanceId: string | null): HeartbeatKind {
  if (memberEpoch === JOIN_GROUP_MEMBER_EPOCH) return 'join';
  if (memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) return 'leave';
  if (memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    if (instanceId === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, "InstanceId can't be null.");
    return 'static-leave';
  }
  if (memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'MemberEpoch is invalid.');
  return 'heartbeat';
}

/**
 * Throws FENCED_MEMBER_EPOCH unless `receivedEpoch` is the member's epoch, or
 * its previous epoch with owned partitions (null: not sent) that are a subset
 * of its assigned partitions.
 */
export function checkMemberEpoch(member: ConsumerGroupMember, receivedEpoch: number, owned: TopicPartitions | null): void {
  if (receivedEpoch > member.memberEpoch) {
    throw new KafkaError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a greater member epoch (${receivedEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
  if (receivedEpoch < member.memberEpoch && (receivedEpoch !== member.previousMemberEpoch || !isSubset(owned, member.assignedPartitions))) {
    throw new KafkaError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a smaller member epoch (${receivedEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
}

/** UNKNOWN_MEMBER_ID for a heartbeat (epoch ≠ 0) or leave of a member id the group does not have. */
export function unknownMember(groupId: string, memberId: string): KafkaError {
  return new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${groupId}.`);
}
