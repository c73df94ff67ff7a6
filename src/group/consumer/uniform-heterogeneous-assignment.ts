/**
 * The uniform assignor's path for a group whose members subscribe to
 * different topics. Follows Kafka's UniformHeterogeneousAssignmentBuilder
 * (the 4.x rework): balance first, then stickiness, with balance as good as
 * overlapping subscriptions allow.
 *
 * The algorithm (members are numbered in the spec's order):
 * 1. Keep: every member keeps its current partitions of topics it still
 *    subscribes to (and that still exist); a partition claimed by two
 *    members is kept by the first. Nothing is revoked for balance yet.
 * 2. Topic order: partitions per subscriber descending, then subscriber
 *    count ascending, then topic id: the topics hardest to balance first.
 * 3. Hand out: in topic order, each partition nobody holds goes to the
 *    least loaded subscriber of its topic (total partitions across all
 *    topics; ties to the lower member number).
 * 4. Balance: in topic order, for each topic with two or more subscribers,
 *    move the topic's highest-numbered partition from the most loaded
 *    member holding any of it (ties to the higher member number) to the
 *    least loaded subscriber, until those two differ by at most one. Repeat
 *    the pass over the topics until one moves nothing, at most 16 passes.
 *    Each move lowers the sum of squared loads, so the passes end; when all
 *    subscribers of a topic have the same subscriptions the result is
 *    balanced, with overlapping different subscriptions it is close (Kafka's
 *    example: 9/10/11 for members 1-2 on one topic and 2-3 on another).
 *
 * Differences from Kafka: step 3 breaks ties between equally loaded members
 * by member number, where Kafka's range walk prefers members that were less
 * loaded when the topic started; both give each topic's partitions to the
 * least loaded subscribers. A current partition beyond the topic's count is
 * dropped instead of failing. Ties Kafka breaks by Uuid order break by topic
 * id string order.
 */
import type { GroupAssignment, GroupSpec, SubscribedTopicDescriber, TopicId } from './assignor.js';
import { addPartition, emptyAssignment, partitionCounts } from './assignor.js';

/** Kafka's bound on the balancing passes. */
const MAX_BALANCE_PASSES = 16;

interface TopicState {
  readonly topicId: TopicId;
  readonly numPartitions: number;
  /** Subscribing member numbers, ascending. */
  readonly subscribers: number[];
  /** The member number holding each partition, -1 for none. */
  readonly owners: Int32Array;
}

export function assignUniformHeterogeneous(groupSpec: GroupSpec, topics: SubscribedTopicDescriber): GroupAssignment {
  const result = emptyAssignment(groupSpec);
  const members = [...groupSpec.members.values()];
  const targets = [...result.members.values()];

  const subscribers = new Map<TopicId, number[]>();
  members.forEach((member, m) => {
    for (const topicId of member.subscribedTopicIds) {
      const list = subscribers.get(topicId);
      if (list === undefined) subscribers.set(topicId, [m]);
      else list.push(m);
    }
  });
  const counts = partitionCounts(subscribers.keys(), topics);
  const states = new Map<TopicId, TopicState>();
  for (const [topicId, numPartitions] of counts) {
    states.set(topicId, {
      topicId,
      numPartitions,
      subscribers: subscribers.get(topicId) ?? [],
      owners: new Int32Array(numPartitions).fill(-1),
    });
  }
  const load = new Int32Array(members.length);

  // 1. Keep what is still subscribed.
  members.forEach((member, m) => {
    for (const [topicId, partitions] of member.assignment) {
      if (!member.subscribedTopicIds.has(topicId)) continue;
      const state = states.get(topicId);
      if (state === undefined) continue;
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= state.numPartitions) continue;
        if (state.owners[partition] !== -1) continue;
        state.owners[partition] = m;
        load[m]!++;
      }
    }
  });

  // 2. Topic order.
  const ordered = [...states.values()].sort((a, b) => {
    const perSubscriber = b.numPartitions * a.subscribers.length - a.numPartitions * b.subscribers.length;
    if (perSubscriber !== 0) return perSubscriber;
    if (a.subscribers.length !== b.subscribers.length) return a.subscribers.length - b.subscribers.length;
    return a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : 0;
  });

  // 3. Hand out the partitions nobody holds.
  for (const state of ordered) {
    for (let partition = 0; partition < state.numPartitions; partition++) {
      if (state.owners[partition] !== -1) continue;
      const m = leastLoaded(state.subscribers, load);
      state.owners[partition] = m;
      load[m]!++;
    }
  }

  // 4. Balance.
  const balanceable = ordered.filter((state) => state.subscribers.length >= 2);
  for (let pass = 0; pass < MAX_BALANCE_PASSES; pass++) {
    let moved = 0;
    for (const state of balanceable) moved += balanceTopic(state, load);
    if (moved === 0) break;
  }

  for (const state of [...states.values()].sort((a, b) => (a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : 0))) {
    for (let partition = 0; partition < state.numPartitions; partition++) {
      const target = targets[state.owners[partition]!];
      if (target !== undefined) addPartition(target, state.topicId, partition);
    }
  }
  return result;
}

/** The member with the fewest partitions among `candidates` (ascending numbers), the lower number on a tie. */
function leastLoaded(candidates: readonly number[], load: Int32Array): number {
  let best = candidates[0]!;
  for (const m of candidates) if (load[m]! < load[best]!) best = m;
  return best;
}

/** Moves a topic's partitions from its most loaded holders to its least loaded subscribers; returns the moves. */
function balanceTopic(state: TopicState, load: Int32Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (const m of state.subscribers) {
    min = Math.min(min, load[m]!);
    max = Math.max(max, load[m]!);
  }
  if (max - min <= 1) return 0;

  // Each holder's partitions of this topic, ascending: a move takes the last.
  const held = new Map<number, number[]>();
  for (let partition = 0; partition < state.numPartitions; partition++) {
    const m = state.owners[partition]!;
    const list = held.get(m);
    if (list === undefined) held.set(m, [partition]);
    else list.push(partition);
  }

  let moves = 0;
  for (;;) {
    let giver = -1;
    for (const m of state.subscribers) {
      if ((held.get(m)?.length ?? 0) > 0 && (giver === -1 || load[m]! >= load[giver]!)) giver = m;
    }
    if (giver === -1) break;
    const taker = leastLoaded(state.subscribers, load);
    if (load[giver]! - load[taker]! <= 1) break;
    const partition = held.get(giver)!.pop()!;
    state.owners[partition] = taker;
    load[giver]!--;
    load[taker]!++;
    moves++;
  }
  return moves;
}
