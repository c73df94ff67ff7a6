/**
 * Which offset commits a consumer group (KIP-848) takes, as Kafka 4.3's
 * ConsumerGroup.validateOffsetCommit decides for OffsetCommit and
 * TxnOffsetCommit, with the assignment epochs of KIP-1251 (the epoch at which
 * each partition was assigned to the member: consumer-group-member.ts).
 *
 * The rules, in order:
 * 1. A commit at a negative epoch to a group without members is taken (an
 *    admin, or a consumer outside group management); so is a TxnOffsetCommit
 *    without a member (generation -1, member id "", no instance id: older
 *    producers send none).
 * 2. The member id must be a member's: UNKNOWN_MEMBER_ID otherwise.
 * 3. A member that speaks the classic protocol commits with its generation,
 *    which must be its epoch: ILLEGAL_GENERATION otherwise, as in a classic
 *    group (Kafka 4.3 keeps this strict check for classic members).
 * 4. A consumer-protocol member at its epoch may commit anything (Kafka does
 *    not look at the partitions then); an epoch ahead of its own is
 *    STALE_MEMBER_EPOCH.
 * 5. An older epoch (the member's epoch moved on while the commit was on its
 *    way): each partition of the commit must be one the member holds,
 *    assigned or pending revocation, assigned at that epoch or before
 *    (assignmentEpoch ≤ epoch ≤ member epoch); any other partition makes the
 *    whole commit STALE_MEMBER_EPOCH (Kafka throws from its per-partition
 *    validator, failing the request). A commit at an epoch from before the
 *    member had the partition is a zombie's: the partition may have had
 *    another owner meanwhile.
 * TxnOffsetCommit has no STALE_MEMBER_EPOCH: it gets ILLEGAL_GENERATION in
 * its place (Kafka's OffsetMetadataManager rewrites it).
 *
 * The offsets stay with the group's offsets holder (group-offsets.ts), as any
 * consumer group's; this module only decides.
 */
import { ErrorCode } from '../../../protocol/index.js';
import { assignmentEpochOf, usesClassicProtocol, type ConsumerGroupMember } from './consumer-group-member.js';

/** An offset commit to a consumer group, as far as its checks go. */
export interface ConsumerOffsetCommit {
  readonly memberId: string;
  /** OffsetCommit's generationIdOrMemberEpoch, TxnOffsetCommit's generationId. */
  readonly memberEpoch: number;
  readonly groupInstanceId: string | null;
  /** TxnOffsetCommit rather than OffsetCommit. */
  readonly transactional: boolean;
  /** The partitions committed, by topic name. */
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

/** A topic's id by name; undefined for a topic the broker does not have. */
export type TopicIdOf = (topic: string) => string | undefined;

/** The error of the whole commit (rules above), or undefined when the group takes it. */
export function validateConsumerOffsetCommit(
  members: ReadonlyMap<string, ConsumerGroupMember>,
  commit: ConsumerOffsetCommit,
  topicIdOf: TopicIdOf,
): number | undefined {
  const { memberId, memberEpoch } = commit;
  if (memberEpoch < 0 && members.size === 0) return undefined;
  if (commit.transactional && memberEpoch === -1 && memberId === '' && commit.groupInstanceId === null) return undefined;
  const member = members.get(memberId);
  if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (usesClassicProtocol(member)) return memberEpoch === member.memberEpoch ? undefined : ErrorCode.ILLEGAL_GENERATION;
  const stale = commit.transactional ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
  if (memberEpoch === member.memberEpoch) return undefined;
  if (memberEpoch > member.memberEpoch) return stale;
  for (const { topic, partition } of commit.partitions) {
    if (!committedAtAssignmentEpoch(member, memberEpoch, topicIdOf(topic), partition)) return stale;
  }
  return undefined;
}

/** Rule 5 for one partition (Kafka's CommitPartitionValidator of a consumer group). */
export function committedAtAssignmentEpoch(member: ConsumerGroupMember, receivedEpoch: number, topicId: string | undefined, partition: number): boolean {
  const assignmentEpoch = topicId === undefined ? undefined : assignmentEpochOf(member, topicId, partition);
  return assignmentEpoch !== undefined && assignmentEpoch <= receivedEpoch && receivedEpoch <= member.memberEpoch;
}
