/**
 * Helpers for the consumer group assignor tests: groups and topics written
 * as small literals, assignments turned back into sorted literals to compare,
 * and the checks every assignment must pass (each subscribed partition
 * assigned exactly once, only to a subscriber of its topic).
 */
import { expect } from 'vitest';
import {
  describeTopics,
  groupSpecOf,
  type GroupAssignment,
  type GroupSpec,
  type MemberSpec,
  type SubscribedTopicDescriber,
  type TopicDescription,
} from '../../src/group/consumer/assignor.js';

/** Partitions by topic id, as a literal. */
export type Plain = Record<string, number[]>;

export interface MemberOptions {
  readonly owned?: Plain;
  readonly rack?: string;
  readonly instance?: string;
}

export function member(topics: readonly string[], options: MemberOptions = {}): MemberSpec {
  return {
    rackId: options.rack ?? null,
    instanceId: options.instance ?? null,
    subscribedTopicIds: new Set(topics),
    assignment: new Map(Object.entries(options.owned ?? {}).map(([t, ps]) => [t, new Set(ps)])),
  };
}

/** A spec whose subscription type is computed from the members (as the coordinator does). */
export function group(members: Record<string, MemberSpec>): GroupSpec {
  return groupSpecOf(new Map(Object.entries(members)));
}

/** Topics by id with their partition counts; racks, when given, are per partition. */
export function topicsOf(counts: Record<string, number>, racks: Record<string, string[][]> = {}): SubscribedTopicDescriber {
  const described = new Map<string, TopicDescription>();
  for (const [t, n] of Object.entries(counts)) {
    const r = racks[t];
    described.set(t, r === undefined ? { numPartitions: n } : { numPartitions: n, partitionRacks: r.map((rs) => new Set(rs)) });
  }
  return describeTopics(described);
}

/** The assignment as sorted literals: member → topic → partitions ascending; topics with nothing left out. */
export function plain(assignment: GroupAssignment): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const [memberId, topics] of assignment.members) {
    const p: Plain = {};
    for (const t of [...topics.keys()].sort()) {
      const parts = [...(topics.get(t) ?? [])].sort((a, b) => a - b);
      if (parts.length > 0) p[t] = parts;
    }
    out[memberId] = p;
  }
  return out;
}

export function sizeOf(p: Plain | undefined): number {
  let n = 0;
  for (const parts of Object.values(p ?? {})) n += parts.length;
  return n;
}

/** The member → assignment map of a result, as the `owned` of the next round's members. */
export function ownedAfter(assignment: GroupAssignment, memberId: string): Plain {
  return plain(assignment)[memberId] ?? {};
}

/** Owner of every assigned partition, "topic:partition" → member id. */
export function owners(assignment: GroupAssignment): Map<string, string> {
  const out = new Map<string, string>();
  for (const [memberId, topics] of assignment.members) {
    for (const [t, parts] of topics) for (const p of parts) out.set(`${t}:${p}`, memberId);
  }
  return out;
}

/**
 * The rules every assignment keeps: every member of the spec has an entry;
 * every partition of a subscribed topic is assigned exactly once, to a
 * subscriber; nothing else is assigned.
 */
export function expectValid(spec: GroupSpec, topics: SubscribedTopicDescriber, assignment: GroupAssignment): void {
  expect([...assignment.members.keys()].sort()).toEqual([...spec.members.keys()].sort());
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const [memberId, assigned] of assignment.members) {
    const subscribed = spec.members.get(memberId)?.subscribedTopicIds ?? new Set<string>();
    for (const [t, parts] of assigned) {
      if (!subscribed.has(t)) problems.push(`${memberId} got ${t} without subscribing`);
      for (const p of parts) {
        if (p < 0 || p >= topics.numPartitions(t)) problems.push(`${memberId} got ${t}:${p} which does not exist`);
        const other = seen.get(`${t}:${p}`);
        if (other !== undefined) problems.push(`${t}:${p} assigned to ${other} and ${memberId}`);
        seen.set(`${t}:${p}`, memberId);
      }
    }
  }
  const subscribedTopics = new Set<string>();
  for (const m of spec.members.values()) for (const t of m.subscribedTopicIds) subscribedTopics.add(t);
  for (const t of subscribedTopics) {
    for (let p = 0; p < topics.numPartitions(t); p++) if (!seen.has(`${t}:${p}`)) problems.push(`${t}:${p} unassigned`);
  }
  expect(problems).toEqual([]);
}

/** Largest minus smallest member size. */
export function imbalance(assignment: GroupAssignment): number {
  const sizes = Object.values(plain(assignment)).map(sizeOf);
  return sizes.length === 0 ? 0 : Math.max(...sizes) - Math.min(...sizes);
}

/** xorshift32: the same sequence for the same seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** A deep copy of a spec's members as literals, to prove an assignor changed nothing. */
export function snapshot(spec: GroupSpec): unknown {
  return [...spec.members].map(([id, m]) => ({
    id,
    rack: m.rackId,
    instance: m.instanceId,
    topics: [...m.subscribedTopicIds],
    owned: [...m.assignment].map(([t, ps]) => [t, [...ps]]),
  }));
}
