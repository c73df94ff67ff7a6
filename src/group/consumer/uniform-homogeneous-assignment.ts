/**
 * The uniform assignor's path for a group whose members all subscribe to the
 * same topics. Follows Kafka's UniformHomogeneousAssignmentBuilder: balance
 * first (member sizes differ by at most one partition), then stickiness
 * (keep as much of each member's current assignment as balance allows).
 *
 * The algorithm:
 * 1. The topics are the first member's subscription (the same for all); a
 *    topic the describer does not know is an error. P partitions over M
 *    members: everyone gets at least floor(P / M), and P % M members get one
 *    more.
 * 2. Each member's keepable partitions: its current partitions of the
 *    subscribed topics that still exist. A partition claimed by two members
 *    (an inconsistent input) is kept by the first.
 * 3. Quotas: floor(P / M) each; the P % M extra slots go first to members
 *    that can keep more than floor(P / M), in member order, then to the rest
 *    in member order.
 * 4. Each member keeps its keepable partitions up to its quota (in the order
 *    of its current assignment); the excess goes back to the pool, after the
 *    partitions nobody held.
 * 5. Members below quota are filled from the pool in member order, each
 *    taking a consecutive run.
 *
 * Differences from Kafka: Kafka hands the extra slots of step 3 to the first
 * P % M members in iteration order, whatever they hold, so a member holding
 * floor(P / M) + 1 can lose a partition that another member then gets;
 * preferring members that hold more keeps the most partitions in place and
 * is as balanced. Kafka keeps a partition beyond a topic's current count (a
 * topic re-created with fewer partitions under the same id cannot happen in
 * Kafka); here such partitions are dropped. Topics are walked in topic id
 * order (Kafka: hash order).
 */
import type { GroupAssignment, GroupSpec, SubscribedTopicDescriber, TopicId } from './assignor.js';
import { addPartition, emptyAssignment, PartitionAssignorError, partitionCounts } from './assignor.js';

interface TopicPartition {
  readonly topicId: TopicId;
  readonly partition: number;
}

/** One member's bookkeeping: its new assignment, what it can keep, its quota. */
interface MemberSlot {
  readonly target: Map<TopicId, Set<number>>;
  readonly keepable: TopicPartition[];
  quota: number;
}

export function assignUniformHomogeneous(groupSpec: GroupSpec, topics: SubscribedTopicDescriber): GroupAssignment {
  const result = emptyAssignment(groupSpec);
  const first = groupSpec.members.values().next();
  if (first.done === true || first.value.subscribedTopicIds.size === 0) return result;

  // 1. Topics and quotas.
  const topicIds = [...first.value.subscribedTopicIds].sort();
  const counts = partitionCounts(topicIds, topics);
  let total = 0;
  for (const n of counts.values()) total += n;
  const minQuota = Math.floor(total / groupSpec.members.size);
  let extraSlots = total % groupSpec.members.size;

  // 2. What each member can keep.
  const claimed = new Map<TopicId, Uint8Array>();
  for (const [topicId, n] of counts) claimed.set(topicId, new Uint8Array(n));
  const slots: MemberSlot[] = [];
  for (const [memberId, member] of groupSpec.members) {
    const keepable: TopicPartition[] = [];
    for (const [topicId, partitions] of member.assignment) {
      const flags = claimed.get(topicId);
      if (flags === undefined) continue;
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= flags.length || flags[partition] === 1) continue;
        flags[partition] = 1;
        keepable.push({ topicId, partition });
      }
    }
    slots.push({ target: result.members.get(memberId) ?? new Map(), keepable, quota: minQuota });
  }

  // 3. Extra slots first to members that hold more than the minimum, then in member order.
  for (const slot of slots) {
    if (extraSlots === 0) break;
    if (slot.keepable.length > minQuota) {
      slot.quota++;
      extraSlots--;
    }
  }
  for (const slot of slots) {
    if (extraSlots === 0) break;
    if (slot.quota === minQuota) {
      slot.quota++;
      extraSlots--;
    }
  }

  // 4. Keep up to quota; the excess joins the pool after the partitions nobody held.
  const pool: TopicPartition[] = [];
  for (const [topicId, flags] of claimed) {
    for (let partition = 0; partition < flags.length; partition++) {
      if (flags[partition] === 0) pool.push({ topicId, partition });
    }
  }
  for (const slot of slots) {
    slot.keepable.forEach((tp, k) => {
      if (k < slot.quota) addPartition(slot.target, tp.topicId, tp.partition);
      else pool.push(tp);
    });
  }

  // 5. Fill members below quota from the pool, each taking a consecutive run.
  let next = 0;
  for (const slot of slots) {
    for (let k = slot.quota - slot.keepable.length; k > 0 && next < pool.length; k--) {
      const tp = pool[next++] as TopicPartition;
      addPartition(slot.target, tp.topicId, tp.partition);
    }
  }
  if (next < pool.length) throw new PartitionAssignorError('Partitions were left unassigned');
  return result;
}
