/**
 * The share groups' assignor (KIP-932; Kafka's SimpleAssignor "simple", as
 * Kafka 4.1+ builds it): every assignable partition of the subscribed topics
 * goes to at least one subscribed member, and when a group has more members
 * than partitions the partitions are shared, so that no member is idle.
 * Pure and deterministic, as every assignor (consumer/assignor.ts).
 *
 * The algorithm, for a set of members subscribed to the same topics (Kafka's
 * homogeneous case; M members, P partitions, in a fixed order):
 * 1. Each partition is to be held by `sharing` = ceil(M / P) members, so
 *    there are sharing × P slots; member i takes quota(i) of them, the slots
 *    spread as evenly as integers allow (quotas differ by at most one).
 * 2. Stickiness: each member keeps the partitions of its current target it
 *    is still subscribed to, while it stays within its quota and the
 *    partition within `sharing` holders.
 * 3. Balance: each partition short of holders is given, round robin, to the
 *    members below their quota that do not hold it yet (one that cannot be
 *    filled stays short: a small imbalance Kafka tolerates as well).
 *
 * Heterogeneous groups: the topics are split into blocks whose subscribers
 * are the same members, and each block is assigned as above on its own.
 * (Kafka's heterogeneous builder balances across blocks too; this one
 * balances within each block.)
 *
 * `assignable` says which partitions may be handed out: Kafka assigns only
 * share-partitions whose state is initialized (share-group-heartbeat.ts).
 */
import type { TopicPartitions } from '../consumer/consumer-group-member.js';

export const SIMPLE_ASSIGNOR_NAME = 'simple';

/** What the assignor knows of a member: its subscribed topic ids and its current target. */
export interface ShareMemberSpec {
  readonly subscribedTopicIds: ReadonlySet<string>;
  readonly assignment: TopicPartitions;
}

/** The partitions a topic has (-1: unknown), and which of them may be assigned. */
export interface ShareTopicDescriber {
  numPartitions(topicId: string): number;
  assignable(topicId: string, partition: number): boolean;
}

type Key = string;

function keyOf(topicId: string, partition: number): Key {
  return `${topicId}:${partition}`;
}

/** The target assignment of every member (an empty map for a member that gets nothing). */
export function simpleAssign(members: ReadonlyMap<string, ShareMemberSpec>, topics: ShareTopicDescriber): Map<string, TopicPartitions> {
  const result = new Map<string, Map<string, Set<number>>>();
  for (const memberId of members.keys()) result.set(memberId, new Map());
  // blocks: topics with the same subscribers
  const subscribersOf = new Map<string, string[]>();
  for (const [memberId, spec] of members) {
    for (const topicId of spec.subscribedTopicIds) {
      let list = subscribersOf.get(topicId);
      if (list === undefined) subscribersOf.set(topicId, (list = []));
      list.push(memberId);
    }
  }
  const blocks = new Map<string, { members: string[]; topics: string[] }>();
  for (const [topicId, subscribers] of subscribersOf) {
    subscribers.sort();
    const id = subscribers.join('\u0000');
    let block = blocks.get(id);
    if (block === undefined) blocks.set(id, (block = { members: subscribers, topics: [] }));
    block.topics.push(topicId);
  }
  for (const block of blocks.values()) {
    const partitions: Array<{ topicId: string; partition: number }> = [];
    for (const topicId of block.topics.sort()) {
      const n = topics.numPartitions(topicId);
      for (let p = 0; p < n; p++) if (topics.assignable(topicId, p)) partitions.push({ topicId, partition: p });
    }
    assignBlock(block.members, partitions, members, result);
  }
  return result;
}

function assignBlock(
  memberIds: readonly string[],
  partitions: ReadonlyArray<{ topicId: string; partition: number }>,
  specs: ReadonlyMap<string, ShareMemberSpec>,
  result: Map<string, Map<string, Set<number>>>,
): void {
  const M = memberIds.length;
  const P = partitions.length;
  if (M === 0 || P === 0) return;
  const sharing = Math.ceil(M / P);
  const slots = sharing * P;
  const quota = memberIds.map((_, i) => Math.ceil((slots * (i + 1)) / M) - Math.ceil((slots * i) / M));
  const inBlock = new Set(partitions.map((tp) => keyOf(tp.topicId, tp.partition)));
  const holders = new Map<Key, Set<number>>(partitions.map((tp) => [keyOf(tp.topicId, tp.partition), new Set<number>()]));
  const count = memberIds.map(() => 0);
  const give = (i: number, topicId: string, partition: number): void => {
    const target = result.get(memberIds[i]!)!;
    let set = target.get(topicId);
    if (set === undefined) target.set(topicId, (set = new Set()));
    set.add(partition);
    holders.get(keyOf(topicId, partition))!.add(i);
    count[i]! += 1;
  };
  // 2. stickiness
  memberIds.forEach((memberId, i) => {
    const current = specs.get(memberId)?.assignment ?? new Map<string, ReadonlySet<number>>();
    for (const topicId of [...current.keys()].sort()) {
      for (const partition of [...current.get(topicId)!].sort((a, b) => a - b)) {
        const key = keyOf(topicId, partition);
        if (!inBlock.has(key) || count[i]! >= quota[i]! || holders.get(key)!.size >= sharing) continue;
        give(i, topicId, partition);
      }
    }
  });
  // 3. balance, round robin over the members below quota
  let cursor = 0;
  for (const { topicId, partition } of partitions) {
    const held = holders.get(keyOf(topicId, partition))!;
    for (let tries = 0; held.size < sharing && tries < M; tries++) {
      const i = cursor;
      cursor = (cursor + 1) % M;
      if (count[i]! < quota[i]! && !held.has(i)) {
        give(i, topicId, partition);
        tries = -1;
      }
    }
  }
}
