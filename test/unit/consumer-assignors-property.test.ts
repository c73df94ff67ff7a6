/**
 * Property tests of the server-side assignors over seeded random groups:
 * random topics (some with no partitions, some nobody subscribes to), random
 * members (some with no subscription), random current assignments (some of
 * topics no longer subscribed, some beyond a topic's partitions, some left
 * over from departed members). Each seed is its own case, so a failure names
 * the seed that reproduces it.
 */
import { describe, expect, test } from 'vitest';
import type { GroupAssignment, GroupSpec, MemberSpec, SubscribedTopicDescriber } from '../../src/group/consumer/assignor.js';
import { assignRange } from '../../src/group/consumer/range-assignor.js';
import { assignUniform } from '../../src/group/consumer/uniform-assignor.js';
import { expectValid, group, imbalance, member, plain, rng, sizeOf, snapshot, topicsOf, type Plain } from './assignor-helpers.js';

interface RandomGroup {
  readonly spec: GroupSpec;
  readonly topics: SubscribedTopicDescriber;
  readonly counts: Record<string, number>;
}

function randomGroup(seed: number, homogeneous: boolean): RandomGroup {
  const random = rng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const topicCount = 1 + int(5);
  const counts: Record<string, number> = {};
  for (let t = 0; t < topicCount; t++) counts[`t${t}`] = int(13);
  const topicIds = Object.keys(counts);
  const memberCount = 1 + int(8);
  const shared = topicIds.filter(() => random() < 0.7);
  const members: Record<string, MemberSpec> = {};
  for (let m = 0; m < memberCount; m++) {
    const subscribed = homogeneous ? shared : topicIds.filter(() => random() < 0.5);
    // A current assignment: random partitions of any topic, some out of range, none claimed twice.
    const owned: Plain = {};
    for (const t of topicIds) {
      for (let p = 0; p < (counts[t] ?? 0) + 2; p++) {
        if (random() < 0.15) (owned[t] ??= []).push(p);
      }
    }
    members[`m${int(1000)}-${m}`] = member(subscribed, { owned, rack: random() < 0.5 ? `r${int(3)}` : undefined });
  }
  dedupeOwned(members);
  return { spec: group(members), topics: topicsOf(counts), counts };
}

/** Keeps the first claim of each partition, as the coordinator's target assignment never has two owners. */
function dedupeOwned(members: Record<string, MemberSpec>): void {
  const seen = new Set<string>();
  for (const m of Object.values(members)) {
    for (const [t, parts] of m.assignment) {
      for (const p of [...parts]) {
        if (seen.has(`${t}:${p}`)) (parts as Set<number>).delete(p);
        seen.add(`${t}:${p}`);
      }
    }
  }
}

/** The group once the assignment took effect: the same members, each holding what it was assigned. */
function settled(spec: GroupSpec, result: GroupAssignment): GroupSpec {
  const current = plain(result);
  const members: Record<string, MemberSpec> = {};
  for (const [id, m] of spec.members) members[id] = member([...m.subscribedTopicIds], { owned: current[id] ?? {} });
  return group(members);
}

/**
 * The settled group with one more member, subscribed like the first, and the
 * members in a shuffled order (the coordinator's member order is not the
 * order they joined in).
 */
function afterJoin(spec: GroupSpec, result: GroupAssignment, seed: number): GroupSpec {
  const random = rng(seed ^ 0x5bd1e995);
  const entries = [...settled(spec, result).members];
  const first = spec.members.values().next().value;
  entries.push(['joiner', member([...(first?.subscribedTopicIds ?? [])])]);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return group(Object.fromEntries(entries));
}

/** Per-partition owners of a member's assignment, as "t:p" keys. */
function keys(p: Plain | undefined): Set<string> {
  const out = new Set<string>();
  for (const [t, parts] of Object.entries(p ?? {})) for (const x of parts) out.add(`${t}:${x}`);
  return out;
}

/** For each topic with two or more subscribers: its most loaded holder has at most one more than its least loaded subscriber. */
function expectTopicsBalanced(spec: GroupSpec, result: GroupAssignment): void {
  const sizes = new Map(Object.entries(plain(result)).map(([id, p]) => [id, sizeOf(p)]));
  const problems: string[] = [];
  const topicIds = new Set<string>();
  for (const m of spec.members.values()) for (const t of m.subscribedTopicIds) topicIds.add(t);
  for (const t of topicIds) {
    const subscribers = [...spec.members].filter(([, m]) => m.subscribedTopicIds.has(t)).map(([id]) => id);
    if (subscribers.length < 2) continue;
    const holders = subscribers.filter((id) => (result.members.get(id)?.get(t)?.size ?? 0) > 0);
    if (holders.length === 0) continue;
    const most = Math.max(...holders.map((id) => sizes.get(id) ?? 0));
    const least = Math.min(...subscribers.map((id) => sizes.get(id) ?? 0));
    if (most - least > 1) problems.push(`${t}: holder with ${most}, subscriber with ${least}`);
  }
  expect(problems).toEqual([]);
}

const SEEDS = Array.from({ length: 150 }, (_, i) => 1 + i * 7919);

describe('uniform assignor over random groups with one subscription', () => {
  test.each(SEEDS)('seed %i: valid, balanced within one partition, pure, stable once in effect, and sticky when a member joins', (seed) => {
    const { spec, topics, counts } = randomGroup(seed, true);
    expect(spec.subscriptionType).toBe('HOMOGENEOUS');
    const before = snapshot(spec);
    const result = assignUniform(spec, topics);
    expect(snapshot(spec)).toEqual(before);
    expectValid(spec, topics, result);
    expect(imbalance(result)).toBeLessThanOrEqual(1);
    expect(plain(assignUniform(spec, topics))).toEqual(plain(result));
    expect(plain(assignUniform(settled(spec, result), topics))).toEqual(plain(result));

    // Every member keeps what balance allows of its subscribed current partitions.
    const subscribed = spec.members.values().next().value?.subscribedTopicIds ?? new Set<string>();
    let total = 0;
    for (const t of subscribed) total += counts[t] ?? 0;
    const minQuota = Math.floor(total / spec.members.size);
    for (const [id, m] of spec.members) {
      const valid = [...m.assignment].filter(([t]) => subscribed.has(t))
        .flatMap(([t, ps]) => [...ps].filter((p) => p < (counts[t] ?? 0)).map((p) => `${t}:${p}`));
      const kept = valid.filter((k) => keys(plain(result)[id]).has(k));
      expect(kept.length).toBeGreaterThanOrEqual(Math.min(valid.length, minQuota));
    }

    // One member joins: the others only give partitions up, the fewest that balance needs.
    const joined = afterJoin(spec, result, seed);
    const next = assignUniform(joined, topics);
    expectValid(joined, topics, next);
    expect(imbalance(next)).toBeLessThanOrEqual(1);
    const q = Math.floor(total / joined.members.size);
    const extra = total % joined.members.size;
    let optimalKept = 0;
    let above = 0;
    for (const [id] of spec.members) {
      const old = keys(plain(result)[id]);
      const now = keys(plain(next)[id]);
      for (const k of now) expect(old.has(k)).toBe(true);
      optimalKept += Math.min(old.size, q);
      if (old.size > q) above++;
    }
    optimalKept += Math.min(extra, above);
    let kept = 0;
    for (const [id] of spec.members) kept += keys(plain(next)[id]).size;
    expect(kept).toBe(optimalKept);
  });
});

describe('uniform assignor over random groups with different subscriptions', () => {
  test.each(SEEDS)('seed %i: valid, each topic balanced among its subscribers, pure, stable once in effect, and still so when a member joins', (seed) => {
    const { spec, topics } = randomGroup(seed, false);
    const before = snapshot(spec);
    const result = assignUniform(spec, topics);
    expect(snapshot(spec)).toEqual(before);
    expectValid(spec, topics, result);
    expectTopicsBalanced(spec, result);
    expect(plain(assignUniform(spec, topics))).toEqual(plain(result));

    // Once in effect, the assignment is kept as it is: nothing moves when nothing changed.
    expect(plain(assignUniform(settled(spec, result), topics))).toEqual(plain(result));

    const joined = afterJoin(spec, result, seed);
    const next = assignUniform(joined, topics);
    expectValid(joined, topics, next);
    expectTopicsBalanced(joined, next);
  });
});

describe('range assignor over random groups', () => {
  test.each(SEEDS)('seed %i: valid, contiguous ranges split evenly among each topic\'s subscribers, independent of the current assignment', (seed) => {
    for (const homogeneous of [true, false]) {
      const { spec, topics, counts } = randomGroup(seed, homogeneous);
      const before = snapshot(spec);
      const result = assignRange(spec, topics);
      expect(snapshot(spec)).toEqual(before);
      expectValid(spec, topics, result);
      for (const [t, n] of Object.entries(counts)) {
        const subscribers = [...spec.members].filter(([, m]) => m.subscribedTopicIds.has(t)).map(([id]) => id);
        if (subscribers.length === 0) continue;
        const sizes: number[] = [];
        for (const id of subscribers) {
          const parts = [...(result.members.get(id)?.get(t) ?? [])].sort((a, b) => a - b);
          sizes.push(parts.length);
          if (parts.length > 0) expect((parts.at(-1) ?? 0) - (parts[0] ?? 0) + 1).toBe(parts.length);
        }
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      }
      const fresh = group(Object.fromEntries([...spec.members].map(([id, m]) => [id, member([...m.subscribedTopicIds])])));
      expect(plain(assignRange(fresh, topics))).toEqual(plain(result));
    }
  });
});
