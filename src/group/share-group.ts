/**
 * A share group (KIP-932, Kafka's modern/share/ShareGroup): its epochs,
 * members, target assignment, and which share-partitions have their state
 * initialized at the share coordinator. It lives in its shard beside the
 * classic and consumer groups (share-group-heartbeat.ts keeps them and runs
 * the protocol); this module holds the state.
 *
 * Rules it keeps:
 * - `groupEpoch` ≥ `assignmentEpoch` ≥ every member's epoch, as a consumer
 *   group's (consumer/epochs.ts); a member joining, leaving or changing its
 *   subscription, the subscribed topics' metadata changing, or share-partitions
 *   becoming initialized bumps the group epoch.
 * - A share-partition may be assigned to several members: nothing here
 *   tracks owners (no revocation, no partition epochs).
 * - A removed member's target entry goes with it.
 * - State partitions: a share-partition is `initializing` from the moment the
 *   coordinator asks the share coordinator to initialize its state (a
 *   heartbeat, or AlterShareGroupOffsets) until it answers, then
 *   `initialized`; only initialized ones are assigned. A topic whose state
 *   DeleteShareGroupOffsets deletes is `deleting` until the share coordinator
 *   answers: neither assigned nor initialized again meanwhile. All three
 *   survive in the ShareGroupStatePartitionMetadata record.
 *
 * Its records in `__consumer_offsets` and their replay: share-group-log.ts.
 */
import type { TopicPartitions } from './consumer/consumer-group-member.js';
import type { ShareGroupMember } from './share/share-group-member.js';

/** Kafka's ShareGroup.ShareGroupState, as ListGroups and ShareGroupDescribe name it. */
export type ShareGroupState = 'Empty' | 'Stable' | 'Dead';

/** Share-partitions of one topic with state at the share coordinator (or on their way to it). */
export interface StateTopic {
  readonly topicName: string;
  readonly partitions: Set<number>;
  /** When the topic's first partition was added (ms). */
  readonly createTimestamp: number;
}

export class ShareGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** The hash of the subscribed topics' names, ids and partition counts when the group epoch last moved. */
  metadataHash = 0n;
  readonly members = new Map<string, ShareGroupMember>();
  /** Member id → its part of the target assignment at `assignmentEpoch`. */
  target = new Map<string, TopicPartitions>();
  /** Topic id → share-partitions whose state is being initialized. */
  readonly initializing = new Map<string, StateTopic>();
  /** Topic id → share-partitions whose state is initialized. */
  readonly initialized = new Map<string, StateTopic>();
  /** Topic id → name of the topics whose state is being deleted. */
  readonly deleting = new Map<string, string>();

  constructor(readonly groupId: string) {}

  get state(): ShareGroupState {
    return this.members.size === 0 ? 'Empty' : 'Stable';
  }

  putMember(member: ShareGroupMember): void {
    this.members.set(member.memberId, member);
  }

  /** Removes the member and its target; the caller bumps the group epoch. */
  removeMember(memberId: string): void {
    this.members.delete(memberId);
    this.target.delete(memberId);
  }

  /** The topic names some member subscribes to. */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) names.add(t);
    return names;
  }

  isInitialized(topicId: string, partition: number): boolean {
    return this.initialized.get(topicId)?.partitions.has(partition) ?? false;
  }

  isInitializing(topicId: string, partition: number): boolean {
    return this.initializing.get(topicId)?.partitions.has(partition) ?? false;
  }
}

/** Adds partitions to a state map (topic id → StateTopic). */
export function addStatePartitions(into: Map<string, StateTopic>, topicId: string, topicName: string, partitions: Iterable<number>, now: number): void {
  let topic = into.get(topicId);
  if (topic === undefined) into.set(topicId, (topic = { topicName, partitions: new Set(), createTimestamp: now }));
  for (const p of partitions) topic.partitions.add(p);
}

/** Removes partitions from a state map, and topics left without any. */
export function removeStatePartitions(from: Map<string, StateTopic>, topicId: string, partitions: Iterable<number>): void {
  const topic = from.get(topicId);
  if (topic === undefined) return;
  for (const p of partitions) topic.partitions.delete(p);
  if (topic.partitions.size === 0) from.delete(topicId);
}
