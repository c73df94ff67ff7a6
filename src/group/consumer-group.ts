/**
 * A consumer group that speaks the consumer protocol (KIP-848, Kafka's
 * modern/consumer/ConsumerGroup): its epochs, members, target assignment and
 * which member owns which partition. It lives in its shard next to the
 * classic groups (consumer-group-heartbeat.ts keeps them and runs the
 * protocol); this module only holds the state and keeps its invariants.
 *
 * Rules it keeps:
 * - `groupEpoch` ≥ `assignmentEpoch` ≥ every member's epoch. A member joining,
 *   leaving or changing its subscription, or the subscribed topics' metadata
 *   changing, bumps the group epoch; the next heartbeat recomputes the target.
 * - `partitionEpochs` (partition-epochs.ts) holds, for every partition a
 *   member has assigned or pending revocation, the owner's epoch: every member
 *   change goes through putMember / removeMember, which update it and throw
 *   if a partition would have two owners.
 * - A removed member's target entry goes with it, so the next target
 *   computation hands its partitions out again.
 * - `resolvedRegularExpressions` holds what each expression a member
 *   subscribes to resolved to (consumer/regex-subscription.ts keeps it); a
 *   member's subscribed topics are its names and its expression's topics.
 *
 * Its records in `__consumer_offsets` and its replay: consumer-group-log.ts.
 */
import type { ConsumerGroupMember, TopicPartitions } from './consumer/consumer-group-member.js';
import { MemberState } from './consumer/member-state.js';
import { currentPartitionEpoch, updateMemberPartitionEpochs, type PartitionEpochs } from './consumer/partition-epochs.js';
import { memberSubscribedTopicNames, type ResolvedRegularExpression } from './consumer/regex-subscription.js';

/** Kafka's ConsumerGroup.ConsumerGroupState, as DescribeGroups and ListGroups name it. */
export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';

export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** Instance id → member id of the static members. */
  readonly staticMembers = new Map<string, string>();
  /** Member id → its part of the target assignment at `assignmentEpoch`. */
  target = new Map<string, TopicPartitions>();
  readonly partitionEpochs: PartitionEpochs = new Map();
  /** The hash of the subscribed topics' names, ids and partition counts when the group epoch last moved (a change bumps it). */
  metadataHash = 0n;
  /** Regular expression → the topics it resolved to (a ConsumerGroupRegularExpression record each). */
  readonly resolvedRegularExpressions = new Map<string, ResolvedRegularExpression>();
  /** The broker's topic names version the expressions were last resolved at here; -1: not yet since loading. */
  regexNamesVersion = -1;

  constructor(readonly groupId: string) {}

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) if (m.memberEpoch !== this.assignmentEpoch || m.state !== MemberState.STABLE) return 'Reconciling';
    return 'Stable';
  }

  /** The epoch of the member owning the partition now, -1 when none does. */
  partitionEpoch(topicId: string, partition: number): number {
    return currentPartitionEpoch(this.partitionEpochs, topicId, partition);
  }

  putMember(member: ConsumerGroupMember): void {
    updateMemberPartitionEpochs(this.partitionEpochs, this.members.get(member.memberId) ?? null, member);
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
  }

  /** Removes the member, its partitions and its target; the caller bumps the group epoch. */
  removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (member === undefined) return;
    updateMemberPartitionEpochs(this.partitionEpochs, member, null);
    this.members.delete(memberId);
    this.target.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) this.staticMembers.delete(member.instanceId);
  }

  /** The topic names some member subscribes to, by name or by regular expression. */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const m of this.members.values()) for (const t of this.memberTopicNames(m)) names.add(t);
    return names;
  }

  /** The topic names the member subscribes to: its names and the topics its regular expression resolved to. */
  memberTopicNames(member: ConsumerGroupMember): ReadonlySet<string> {
    return memberSubscribedTopicNames(member, this.resolvedRegularExpressions);
  }
}
