/**
 * What the share-fetch side (ShareFetch, ShareAcknowledge) asks the group
 * coordinator about a share group's members (KIP-932): whether a member id
 * belongs to the group, which share-partitions it is assigned, and when a
 * member goes, so that the records it acquired are released at once rather
 * than when their acquisition locks expire; and when an administrator reset
 * the state of share-partitions (AlterShareGroupOffsets,
 * DeleteShareGroupOffsets, DeleteGroups), so that the share-partitions it
 * holds in memory are dropped and loaded again from the share coordinator
 * (Kafka fences them).
 *
 * The group coordinator implements it (group/share-group-heartbeat.ts holds
 * the members): answers are of the moment, read from memory; a group whose
 * partition of `__consumer_offsets` is not served (loading, shut down) has
 * no members here. A share-partition may be assigned to several members at
 * once: the assignment says where a member may fetch, not that it is alone.
 */

/** Topic id → partitions. */
export type SharePartitions = ReadonlyMap<string, ReadonlySet<number>>;

/** Why a member left: it sent epoch -1, or its session expired. */
export type MemberLeftReason = 'left' | 'session timeout';

export type MemberLeftListener = (groupId: string, memberId: string, reason: MemberLeftReason) => void;

/** The share coordinator reset (initialized again, or deleted) the state of these share-partitions of the group. */
export type StateResetListener = (groupId: string, topicId: string, partitions: readonly number[]) => void;

export interface ShareMembership {
  /** Whether `memberId` is a member of the share group `groupId` now. */
  isMember(groupId: string, memberId: string): boolean;
  /** The share-partitions the member is assigned now; undefined when it is not a member. */
  assignedPartitions(groupId: string, memberId: string): SharePartitions | undefined;
  /** Calls `listener` whenever a member leaves or its session expires; returns the function that stops it. */
  onMemberLeft(listener: MemberLeftListener): () => void;
  /** Calls `listener` whenever the state of share-partitions is reset; returns the function that stops it. */
  onStateReset(listener: StateResetListener): () => void;
}
