/**
 * Reconciliation of one member of a consumer group (KIP-848): given the member
 * as it stands, its target assignment and what its heartbeat reports, the next
 * member (Kafka's CurrentAssignmentBuilder, modern/consumer/). The coordinator
 * calls reconcileMember on every heartbeat of a member that is not yet STABLE
 * at the assignment epoch, and writes a ConsumerGroupCurrentMemberAssignment
 * record when the result is a different value (it is the same object when
 * nothing changed).
 *
 * The rules, by the member's state:
 * 1. STABLE: if its epoch is the target's, nothing to do (unless its
 *    subscription changed: topics it no longer subscribes to are taken away at
 *    once, see 5). Otherwise compute the next assignment (4) from its epoch.
 * 2. UNREVOKED_PARTITIONS: while the heartbeat's owned partitions (or a
 *    heartbeat without them) still hold any partition pending revocation, the
 *    member stays as it is, at its epoch. Once they are gone, compute the next
 *    assignment (4) from min(epoch + 1, target epoch): Kafka 4.1's rule, so a
 *    member that revoked for a subscription change does not pass the target.
 * 3. UNRELEASED_PARTITIONS: compute the next assignment (4) again: partitions
 *    their previous owners have released since are now given.
 * 4. The next assignment, per topic of the target or of the assignment:
 *    - kept = assigned ∩ target (a topic the member does not subscribe to has
 *      an empty target);
 *    - to revoke = assigned − kept;
 *    - to assign = target − kept, less the partitions still owned by another
 *      member (currentPartitionEpoch ≠ -1, and not this member's own pending
 *      revocation): those are "unreleased".
 *    Then: if something is to be revoked and the member still owns some of it,
 *    it goes to UNREVOKED_PARTITIONS with assigned = kept and keeps its epoch:
 *    nothing new is given until it has let go. Otherwise it moves to the target
 *    epoch with assigned = kept + to assign, in UNRELEASED_PARTITIONS if some
 *    partitions of its target were unreleased, else STABLE.
 * 5. A subscription change in STABLE or UNREVOKED_PARTITIONS moves the
 *    partitions of unsubscribed topics to pending revocation (all of them when
 *    the member subscribes to nothing), UNREVOKED_PARTITIONS if the member still
 *    owns some, without waiting for a new target.
 * 6. UNKNOWN (a state written by a newer coordinator): FENCED_MEMBER_EPOCH
 *    unless the heartbeat says the member owns nothing; then the next
 *    assignment (4) at the target epoch.
 * 7. Assignment epochs (KIP-1251): a partition the member keeps, or is told
 *    to revoke, keeps the epoch it was assigned at; one it is given in 4 is
 *    assigned at the target epoch (also one of its own partitions pending
 *    revocation that its target gives back). So a member whose epoch moves on
 *    without a change of its partitions keeps their epochs, and an offset
 *    commit it sent at its previous epoch is still accepted
 *    (offset-commit-validation.ts).
 *
 * Because a partition only enters a member's assignment when no other member
 * holds it (4), and leaves only by revocation the member acknowledges (2), no
 * partition is ever assigned to two members at once; partition-epochs.ts
 * checks that on every member update.
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';
import {
  hasPartition,
  nextAssignmentEpochs,
  ownsAnyOf,
  withMemberEpoch,
  type ConsumerGroupMember,
  type TopicPartitions,
} from './consumer-group-member.js';
import { MemberState } from './member-state.js';

/** What a member is reconciled against. */
export interface ReconcileInput {
  /** The epoch of the group's target assignment (its assignment epoch). */
  readonly targetAssignmentEpoch: number;
  /** The member's part of the target assignment. */
  readonly targetAssignment: TopicPartitions;
  /** The epoch of the member owning a partition now, -1 when none does (partition-epochs.ts). */
  readonly currentPartitionEpoch: (topicId: string, partition: number) => number;
  /** The partitions the heartbeat says the member owns; null when the heartbeat did not carry them. */
  readonly ownedTopicPartitions: TopicPartitions | null;
  /** The topic ids the member subscribes to (names and regex resolved); undefined: every topic of its target. */
  readonly subscribedTopicIds?: ReadonlySet<string>;
  /** The member's subscription changed with this heartbeat (rule 5). */
  readonly subscriptionChanged?: boolean;
}

/** The member after this heartbeat's reconciliation: `member` itself when nothing changed. */
export function reconcileMember(member: ConsumerGroupMember, input: ReconcileInput): ConsumerGroupMember {
  switch (member.state) {
    case MemberState.STABLE:
      if (member.memberEpoch !== input.targetAssignmentEpoch) return computeNextAssignment(member, member.memberEpoch, input);
      return input.subscriptionChanged === true ? dropUnsubscribedTopics(member, input) : member;
    case MemberState.UNREVOKED_PARTITIONS:
      if (ownsAnyOf(input.ownedTopicPartitions, member.partitionsPendingRevocation)) {
        return input.subscriptionChanged === true ? dropUnsubscribedTopics(member, input) : member;
      }
      return computeNextAssignment(member, Math.min(member.memberEpoch + 1, input.targetAssignmentEpoch), input);
    case MemberState.UNRELEASED_PARTITIONS:
      return computeNextAssignment(member, member.memberEpoch, input);
    default:
      if (input.ownedTopicPartitions === null || input.ownedTopicPartitions.size > 0) {
        throw new KafkaError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          'The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.',
        );
      }
      return computeNextAssignment(member, input.targetAssignmentEpoch, input);
  }
}

function isSubscribed(input: ReconcileInput, topicId: string): boolean {
  return input.subscribedTopicIds === undefined || input.subscribedTopicIds.has(topicId);
}

/** Rule 5: take the partitions of topics the member no longer subscribes to, without a new target. */
function dropUnsubscribedTopics(member: ConsumerGroupMember, input: ReconcileInput): ConsumerGroupMember {
  let assigned: TopicPartitions;
  let pending: Map<string, ReadonlySet<number>>;
  if (input.subscribedTopicIds !== undefined && input.subscribedTopicIds.size === 0 && member.partitionsPendingRevocation.size === 0) {
    if (member.assignedPartitions.size === 0) return member;
    assigned = new Map();
    pending = new Map(member.assignedPartitions);
  } else {
    const kept = new Map<string, ReadonlySet<number>>();
    pending = new Map(member.partitionsPendingRevocation);
    let removed = false;
    for (const [topicId, partitions] of member.assignedPartitions) {
      if (isSubscribed(input, topicId)) {
        kept.set(topicId, partitions);
        continue;
      }
      removed = true;
      pending.set(topicId, new Set([...(pending.get(topicId) ?? []), ...partitions]));
    }
    if (!removed) return member;
    assigned = kept;
  }
  if (pending.size > 0 && ownsAnyOf(input.ownedTopicPartitions, pending)) {
    return {
      ...member,
      state: MemberState.UNREVOKED_PARTITIONS,
      assignedPartitions: assigned,
      partitionsPendingRevocation: pending,
      assignmentEpochs: nextAssignmentEpochs(member, [assigned, pending]),
    };
  }
  // The removed partitions were already given up: shrink the assignment and stay as is.
  return { ...member, assignedPartitions: assigned, assignmentEpochs: nextAssignmentEpochs(member, [assigned, member.partitionsPendingRevocation]) };
}

/** Rule 4. `memberEpoch` is the epoch the member keeps if it must revoke first. */
function computeNextAssignment(member: ConsumerGroupMember, memberEpoch: number, input: ReconcileInput): ConsumerGroupMember {
  const assigned = new Map<string, Set<number>>();
  const toRevoke = new Map<string, Set<number>>();
  const toAssign = new Map<string, Set<number>>();
  let hasUnreleased = false;

  const topicIds = new Set([...input.targetAssignment.keys(), ...member.assignedPartitions.keys()]);
  for (const topicId of topicIds) {
    const target = isSubscribed(input, topicId) ? (input.targetAssignment.get(topicId) ?? new Set<number>()) : new Set<number>();
    const current = member.assignedPartitions.get(topicId) ?? new Set<number>();

    const kept = new Set<number>();
    const revoke = new Set<number>();
    for (const p of current) (target.has(p) ? kept : revoke).add(p);

    const add = new Set<number>();
    for (const p of target) {
      if (kept.has(p)) continue;
      const ownedElsewhere = input.currentPartitionEpoch(topicId, p) !== -1 && !hasPartition(member.partitionsPendingRevocation, topicId, p);
      if (ownedElsewhere) hasUnreleased = true;
      else add.add(p);
    }

    if (kept.size > 0) assigned.set(topicId, kept);
    if (revoke.size > 0) toRevoke.set(topicId, revoke);
    if (add.size > 0) toAssign.set(topicId, add);
  }

  if (toRevoke.size > 0 && ownsAnyOf(input.ownedTopicPartitions, toRevoke)) {
    // Revoke first: the member stays at its epoch and gets nothing new until it has let go.
    return {
      ...member,
      ...withMemberEpoch(member, memberEpoch),
      state: MemberState.UNREVOKED_PARTITIONS,
      assignedPartitions: assigned,
      partitionsPendingRevocation: toRevoke,
      assignmentEpochs: nextAssignmentEpochs(member, [assigned, toRevoke]),
    };
  }
  // (before the new partitions join the kept ones: those are assigned at the target epoch)
  const assignmentEpochs = nextAssignmentEpochs(member, [assigned], { partitions: toAssign, epoch: input.targetAssignmentEpoch });
  for (const [topicId, partitions] of toAssign) {
    const set = assigned.get(topicId);
    if (set === undefined) assigned.set(topicId, partitions);
    else for (const p of partitions) set.add(p);
  }
  return {
    ...member,
    ...withMemberEpoch(member, input.targetAssignmentEpoch),
    state: hasUnreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
    assignedPartitions: assigned,
    partitionsPendingRevocation: new Map(),
    assignmentEpochs,
  };
}
