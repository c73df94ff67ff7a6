/**
 * The share groups' simple assignor (KIP-932): every assignable partition of
 * a subscribed topic goes to at least one subscribed member; with more
 * members than partitions the partitions are shared so no member is idle;
 * member loads differ by at most one; current targets are kept where balance
 * allows; only assignable (initialized) partitions are handed out.
 */
import { describe, expect, it } from 'vitest';
import type { TopicPartitions } from '../../src/group/consumer/consumer-group-member.js';
import { simpleAssign, type ShareMemberSpec, type ShareTopicDescriber } from '../../src/group/share/simple-assignor.js';

function describer(partitions: Record<string, number>, assignable: (t: string, p: number) => boolean = () => true): ShareTopicDescriber {
  return { numPartitions: (t) => partitions[t] ?? -1, assignable };
}

function spec(topics: string[], assignment: TopicPartitions = new Map()): ShareMemberSpec {
  return { subscribedTopicIds: new Set(topics), assignment };
}

function count(tp: TopicPartitions | undefined): number {
  let n = 0;
  for (const ps of tp?.values() ?? []) n += ps.size;
  return n;
}

/** partition key → number of members holding it */
function holders(result: Map<string, TopicPartitions>): Map<string, number> {
  const out = new Map<string, number>();
  for (const tp of result.values()) for (const [t, ps] of tp) for (const p of ps) out.set(`${t}-${p}`, (out.get(`${t}-${p}`) ?? 0) + 1);
  return out;
}

describe('simple assignor', () => {
  it('fewer members than partitions: each partition to exactly one member, loads within one', () => {
    const members = new Map([
      ['a', spec(['T'])],
      ['b', spec(['T'])],
      ['c', spec(['T'])],
    ]);
    const result = simpleAssign(members, describer({ T: 7 }));
    const h = holders(result);
    expect(h.size).toBe(7);
    expect([...h.values()].every((n) => n === 1)).toBe(true);
    const loads = [...result.values()].map(count).sort();
    expect(loads).toEqual([2, 2, 3]);
  });

  it('more members than partitions: partitions are shared and every member gets one', () => {
    const members = new Map(['a', 'b', 'c', 'd', 'e'].map((m) => [m, spec(['T'])] as const));
    const result = simpleAssign(members, describer({ T: 2 }));
    for (const tp of result.values()) expect(count(tp)).toBeGreaterThanOrEqual(1);
    const h = holders(result);
    expect(h.size).toBe(2);
    // 5 members over 2 partitions: each partition held by 3 or fewer, together 6 slots at most
    for (const n of h.values()) expect(n).toBeGreaterThanOrEqual(2);
  });

  it('one partition, three members: all three share it', () => {
    const members = new Map(['a', 'b', 'c'].map((m) => [m, spec(['T'])] as const));
    const result = simpleAssign(members, describer({ T: 1 }));
    for (const tp of result.values()) expect([...(tp.get('T') ?? [])]).toEqual([0]);
  });

  it('keeps current targets when they are balanced, and moves only what a new member needs', () => {
    const first = simpleAssign(new Map([['a', spec(['T'])], ['b', spec(['T'])]]), describer({ T: 6 }));
    const again = simpleAssign(new Map([['a', spec(['T'], first.get('a'))], ['b', spec(['T'], first.get('b'))]]), describer({ T: 6 }));
    expect(again).toEqual(first);
    const withC = simpleAssign(
      new Map([['a', spec(['T'], first.get('a'))], ['b', spec(['T'], first.get('b'))], ['c', spec(['T'])]]),
      describer({ T: 6 }),
    );
    expect([...withC.values()].map(count)).toEqual([2, 2, 2]);
    // a and b each keep two of their three partitions
    for (const m of ['a', 'b']) {
      const kept = [...(withC.get(m)!.get('T') ?? [])].filter((p) => first.get(m)!.get('T')!.has(p));
      expect(kept.length).toBe(2);
    }
  });

  it('only subscribed members get a topic (heterogeneous subscriptions)', () => {
    const members = new Map([
      ['a', spec(['T', 'U'])],
      ['b', spec(['T'])],
      ['c', spec(['U'])],
    ]);
    const result = simpleAssign(members, describer({ T: 2, U: 3 }));
    expect(result.get('b')!.has('U')).toBe(false);
    expect(result.get('c')!.has('T')).toBe(false);
    const h = holders(result);
    for (const key of ['T-0', 'T-1', 'U-0', 'U-1', 'U-2']) expect(h.get(key)).toBeGreaterThanOrEqual(1);
  });

  it('hands out only assignable partitions, and nothing to a member subscribed to nothing', () => {
    const members = new Map([
      ['a', spec(['T'])],
      ['b', spec([])],
    ]);
    const result = simpleAssign(members, describer({ T: 4 }, (_t, p) => p % 2 === 0));
    expect([...(result.get('a')!.get('T') ?? [])].sort()).toEqual([0, 2]);
    expect(count(result.get('b'))).toBe(0);
  });

  it('drops current targets of topics no longer subscribed', () => {
    const members = new Map([['a', spec(['U'], new Map([['T', new Set([0, 1])]]))]]);
    const result = simpleAssign(members, describer({ T: 2, U: 1 }));
    expect(result.get('a')).toEqual(new Map([['U', new Set([0])]]));
  });

  it('is deterministic whatever the member map order', () => {
    const ids = ['m3', 'm1', 'm2', 'm0'];
    const a = simpleAssign(new Map(ids.map((m) => [m, spec(['T', 'U'])] as const)), describer({ T: 3, U: 2 }));
    const b = simpleAssign(new Map([...ids].reverse().map((m) => [m, spec(['T', 'U'])] as const)), describer({ T: 3, U: 2 }));
    for (const m of ids) expect(a.get(m)).toEqual(b.get(m));
  });
});
