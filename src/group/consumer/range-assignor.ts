/**
 * The `range` server-side assignor. Follows Kafka's RangeAssignor of the
 * group coordinator as rewritten in 3.9 (KAFKA-16944) and kept in 4.x: for
 * each topic, its subscribers in a fixed order each take a contiguous range
 * of partitions, floor(P / S) each and one more for the first P % S. When
 * every member subscribes to the same topics and the topics have the same
 * partition count, a member gets the same partition numbers of every topic
 * (co-partitioning, for joins): M0 [t1p0 t1p1 t2p0 t2p1], M1 [t1p2 t2p2].
 *
 * The order: static members (with a group.instance.id) first, by instance
 * id, then the others by member id (UTF-16 code unit order, as Java's
 * String.compareTo). The assignment is recomputed from that order every time:
 * it is not sticky, which Kafka gave up in 3.9 because stickiness and
 * co-partitioning could not both be kept (the 3.5-3.8 assignor was sticky).
 * Static members keep their ranges across restarts because their order does
 * not depend on their member ids.
 *
 * Differences from Kafka: none in the result. Kafka takes the topics of a
 * HOMOGENEOUS group from its first member; this module counts each topic's
 * subscribers the same way for both subscription types, which is the same
 * result when the type is right. Racks are accepted and not used, as by
 * Kafka.
 */
import type { GroupAssignment, GroupSpec, MemberSpec, PartitionAssignor, SubscribedTopicDescriber, TopicId } from './assignor.js';
import { emptyAssignment, partitionCounts } from './assignor.js';

export const RANGE_ASSIGNOR_NAME = 'range';

interface TopicRanges {
  readonly numPartitions: number;
  readonly minQuota: number;
  /** Subscribers still to get one more than minQuota. */
  extra: number;
  /** The first partition of the next range. */
  next: number;
}

export function assignRange(groupSpec: GroupSpec, topics: SubscribedTopicDescriber): GroupAssignment {
  if (groupSpec.members.size === 0) return { members: new Map() };
  const result = emptyAssignment(groupSpec);

  const subscriberCounts = new Map<TopicId, number>();
  for (const member of groupSpec.members.values()) {
    for (const topicId of member.subscribedTopicIds) subscriberCounts.set(topicId, (subscriberCounts.get(topicId) ?? 0) + 1);
  }
  const counts = partitionCounts(subscriberCounts.keys(), topics);
  const ranges = new Map<TopicId, TopicRanges>();
  for (const [topicId, numPartitions] of counts) {
    const subscribers = subscriberCounts.get(topicId) ?? 1;
    ranges.set(topicId, {
      numPartitions,
      minQuota: Math.floor(numPartitions / subscribers),
      extra: numPartitions % subscribers,
      next: 0,
    });
  }

  for (const [memberId, member] of sortedMembers(groupSpec)) {
    const target = result.members.get(memberId);
    if (target === undefined) continue;
    for (const topicId of member.subscribedTopicIds) {
      const topic = ranges.get(topicId);
      if (topic === undefined) continue;
      let quota = topic.minQuota;
      if (topic.extra > 0) {
        quota++;
        topic.extra--;
      }
      const start = topic.next;
      const end = Math.min(start + quota, topic.numPartitions);
      topic.next = end;
      if (start >= end) continue;
      const partitions = new Set<number>();
      for (let p = start; p < end; p++) partitions.add(p);
      target.set(topicId, partitions);
    }
  }
  return result;
}

/** Static members by instance id, then dynamic members by member id. */
function sortedMembers(groupSpec: GroupSpec): [string, MemberSpec][] {
  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...groupSpec.members].sort(([idA, a], [idB, b]) => {
    if (a.instanceId !== null && b.instanceId !== null) return compare(a.instanceId, b.instanceId);
    if (a.instanceId !== null) return -1;
    if (b.instanceId !== null) return 1;
    return compare(idA, idB);
  });
}

export const rangeAssignor: PartitionAssignor = { name: RANGE_ASSIGNOR_NAME, assign: assignRange };
