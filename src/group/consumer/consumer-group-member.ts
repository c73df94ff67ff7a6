/**
 * A member of a consumer group that speaks the consumer protocol (KIP-848),
 * as Kafka's ConsumerGroupMember (modern/consumer/) keeps it: an immutable
 * value, replaced by a new one on every change, and everything in it is what
 * the ConsumerGroupMemberMetadata and ConsumerGroupCurrentMemberAssignment
 * records store, so a member is rebuilt from the log alone.
 *
 * Epochs: `memberEpoch` is the epoch of the target assignment the member has
 * reconciled to (0 while it joins, -2 while a static member is away: see
 * epochs.ts); `previousMemberEpoch` is the epoch it had before the last change
 * of epoch, the one a heartbeat may still carry when the response that moved
 * it on was lost.
 *
 * Partitions: `assignedPartitions` are the partitions the member may own now;
 * `partitionsPendingRevocation` are those it was told to give up and has not
 * yet reported as given up. A partition is in at most one of the two, and in
 * either for at most one member of a group (partition-epochs.ts keeps that).
 *
 * Assignment epochs (KIP-1251, Kafka 4.3): `assignmentEpochs` holds, for
 * each partition in either set, the epoch at which it was assigned to the
 * member. Reconciliation keeps the epoch of a partition the member keeps (or
 * is told to revoke) and gives a newly assigned one the epoch the member
 * moves to (current-assignment-builder.ts); a static member that leaves for
 * a while has its partitions at 0 (static-members.ts). An offset commit at
 * an older member epoch is accepted for a partition assigned at that epoch
 * or before (offset-commit-validation.ts). A partition without an entry
 * counts as assigned at the member's epoch: the strict check, never a false
 * acceptance.
 *
 * A member that speaks the classic protocol (JoinGroup, SyncGroup,
 * Heartbeat: a classic consumer in a consumer group, see
 * ../classic-members.ts) has `classicMemberMetadata`: its session timeout and
 * the protocols of its JoinGroup; a consumer-protocol member has null.
 *
 * A TopicPartitions value maps a topic id to its partition ids; it is the one
 * assignment shape of this directory (Kafka's Map<Uuid, Set<Integer>>).
 */
import { MemberState } from './member-state.js';

/** Topic id → partition ids. Never holds an empty set. */
export type TopicPartitions = ReadonlyMap<string, ReadonlySet<number>>;

export const EMPTY_TOPIC_PARTITIONS: TopicPartitions = new Map();

/** Topic id → partition id → the epoch at which the partition was assigned to the member (KIP-1251). */
export type AssignmentEpochs = ReadonlyMap<string, ReadonlyMap<number, number>>;

const EMPTY_ASSIGNMENT_EPOCHS: AssignmentEpochs = new Map();

/** What a classic member said in its JoinGroup (Kafka's ConsumerGroupMemberMetadataValue.ClassicMemberMetadata). */
export interface ClassicMemberMetadata {
  readonly sessionTimeoutMs: number;
  /** The JoinGroup's protocols (assignor names with their subscription bytes), in the member's order. */
  readonly supportedProtocols: ReadonlyArray<{ readonly name: string; readonly metadata: Buffer }>;
}

export interface ConsumerGroupMember {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  /** group.instance.id of a static member; null for a dynamic one. */
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: ReadonlySet<string>;
  /** '' when the member subscribes by names only. */
  readonly subscribedTopicRegex: string;
  readonly serverAssignorName: string | null;
  readonly assignedPartitions: TopicPartitions;
  readonly partitionsPendingRevocation: TopicPartitions;
  /** The epoch each partition of the two sets above was assigned at (see above: assignmentEpochOf reads it). */
  readonly assignmentEpochs: AssignmentEpochs;
  /** Set for a member that speaks the classic protocol. */
  readonly classicMemberMetadata: ClassicMemberMetadata | null;
}

/** A member as it is before its first heartbeat is applied (Kafka's ConsumerGroupMember.Builder defaults). */
export function newConsumerGroupMember(memberId: string, fields: Partial<Omit<ConsumerGroupMember, 'memberId'>> = {}): ConsumerGroupMember {
  return {
    memberId,
    memberEpoch: 0,
    previousMemberEpoch: -1,
    state: MemberState.STABLE,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: new Set(),
    subscribedTopicRegex: '',
    serverAssignorName: null,
    assignedPartitions: EMPTY_TOPIC_PARTITIONS,
    partitionsPendingRevocation: EMPTY_TOPIC_PARTITIONS,
    assignmentEpochs: EMPTY_ASSIGNMENT_EPOCHS,
    classicMemberMetadata: null,
    ...fields,
  };
}

/** The member moved to `epoch`, its current epoch becoming its previous one (Kafka's Builder.updateMemberEpoch). */
export function withMemberEpoch(member: ConsumerGroupMember, epoch: number): Pick<ConsumerGroupMember, 'memberEpoch' | 'previousMemberEpoch'> {
  return { memberEpoch: epoch, previousMemberEpoch: member.memberEpoch };
}

/** Whether the member speaks the classic protocol (Kafka's ConsumerGroupMember.useClassicProtocol). */
export function usesClassicProtocol(member: ConsumerGroupMember): boolean {
  return member.classicMemberMetadata !== null;
}

/** Whether the member is STABLE at the given target assignment epoch: nothing left to reconcile. */
export function isReconciledTo(member: ConsumerGroupMember, targetAssignmentEpoch: number): boolean {
  return member.state === MemberState.STABLE && member.memberEpoch === targetAssignmentEpoch;
}

/**
 * Whether two values of a member hold the same ConsumerGroupCurrentMemberAssignment record (epochs, state,
 * partitions and their assignment epochs): when a reconciliation's result does not, the coordinator writes a
 * new record.
 */
export function sameCurrentAssignment(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    a.state === b.state &&
    topicPartitionsEqual(a.assignedPartitions, b.assignedPartitions) &&
    topicPartitionsEqual(a.partitionsPendingRevocation, b.partitionsPendingRevocation) &&
    sameAssignmentEpochs(a, b, a.assignedPartitions) &&
    sameAssignmentEpochs(a, b, a.partitionsPendingRevocation)
  );
}

function sameAssignmentEpochs(a: ConsumerGroupMember, b: ConsumerGroupMember, partitions: TopicPartitions): boolean {
  for (const [topicId, ids] of partitions) for (const p of ids) if (assignmentEpochOf(a, topicId, p) !== assignmentEpochOf(b, topicId, p)) return false;
  return true;
}

/**
 * The epoch at which the member was assigned the partition (Kafka's getAssignmentEpoch, then
 * getPendingRevocationEpoch): undefined when it holds the partition neither assigned nor pending revocation;
 * its member epoch when no epoch is known for it.
 */
export function assignmentEpochOf(member: ConsumerGroupMember, topicId: string, partition: number): number | undefined {
  if (!hasPartition(member.assignedPartitions, topicId, partition) && !hasPartition(member.partitionsPendingRevocation, topicId, partition)) return undefined;
  return member.assignmentEpochs.get(topicId)?.get(partition) ?? member.memberEpoch;
}

/**
 * Assignment epochs for a member's next value: each partition of `kept` (partitions `member` holds) at the
 * epoch it was assigned at, each of `added.partitions` at `added.epoch`.
 */
export function nextAssignmentEpochs(member: ConsumerGroupMember, kept: readonly TopicPartitions[], added?: { readonly partitions: TopicPartitions; readonly epoch: number }): AssignmentEpochs {
  const epochs = new Map<string, Map<number, number>>();
  const put = (topicId: string, partition: number, epoch: number): void => {
    let topic = epochs.get(topicId);
    if (topic === undefined) epochs.set(topicId, (topic = new Map()));
    topic.set(partition, epoch);
  };
  for (const tp of kept) for (const [topicId, ids] of tp) for (const p of ids) put(topicId, p, assignmentEpochOf(member, topicId, p) ?? member.memberEpoch);
  if (added !== undefined) for (const [topicId, ids] of added.partitions) for (const p of ids) put(topicId, p, added.epoch);
  return epochs;
}

/** Builds a TopicPartitions from [topicId, partitions] pairs, dropping empty topics. */
export function topicPartitions(entries: Iterable<readonly [string, Iterable<number>]>): TopicPartitions {
  const result = new Map<string, Set<number>>();
  for (const [topicId, partitions] of entries) {
    const set = result.get(topicId) ?? new Set<number>();
    for (const p of partitions) set.add(p);
    if (set.size > 0) result.set(topicId, set);
  }
  return result;
}

export function topicPartitionsEqual(a: TopicPartitions, b: TopicPartitions): boolean {
  if (a.size !== b.size) return false;
  for (const [topicId, pa] of a) {
    const pb = b.get(topicId);
    if (pb === undefined || pb.size !== pa.size) return false;
    for (const p of pa) if (!pb.has(p)) return false;
  }
  return true;
}

/** Whether `topicId`/`partition` is in `tp`. */
export function hasPartition(tp: TopicPartitions, topicId: string, partition: number): boolean {
  return tp.get(topicId)?.has(partition) === true;
}

/** Whether every partition of `owned` is in `of` (Kafka's GroupMetadataManager.isSubset; null owns nothing known: false). */
export function isSubset(owned: TopicPartitions | null, of: TopicPartitions): boolean {
  if (owned === null) return false;
  for (const [topicId, partitions] of owned) {
    const target = of.get(topicId);
    for (const p of partitions) if (target === undefined || !target.has(p)) return false;
  }
  return true;
}

/** Whether `owned` holds any partition of `tp` (null: the member did not say, so it may: true). */
export function ownsAnyOf(owned: TopicPartitions | null, tp: TopicPartitions): boolean {
  if (owned === null) return true;
  for (const [topicId, partitions] of owned) {
    const pending = tp.get(topicId);
    if (pending === undefined) continue;
    for (const p of partitions) if (pending.has(p)) return true;
  }
  return false;
}
