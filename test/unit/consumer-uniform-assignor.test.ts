import { describe, expect, test } from 'vitest';
import { PartitionAssignorError, type GroupSpec } from '../../src/group/consumer/assignor.js';
import { assignUniform } from '../../src/group/consumer/uniform-assignor.js';
import { expectValid, group, member, owners, plain, topicsOf } from './assignor-helpers.js';

function run(spec: GroupSpec, topics: ReturnType<typeof topicsOf>) {
  const result = assignUniform(spec, topics);
  expectValid(spec, topics, result);
  return result;
}

describe('uniform assignor, members with the same subscription', () => {
  test('a member subscribed to nothing gets an empty assignment', () => {
    const spec = group({ m1: member([]) });
    expect(spec.subscriptionType).toBe('HOMOGENEOUS');
    expect(plain(run(spec, topicsOf({ tA: 3 })))).toEqual({ m1: {} });
  });

  test('a subscription to a topic the metadata does not know is an error', () => {
    expect(() => assignUniform(group({ m1: member(['tX']) }), topicsOf({ tA: 3 }))).toThrow(PartitionAssignorError);
  });

  test('the first assignment splits the partitions of two topics evenly', () => {
    const spec = group({ m1: member(['tA', 'tB']), m2: member(['tA', 'tB']) });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1, 2] },
      m2: { tB: [0, 1, 2] },
    });
  });

  test('the partitions of one topic are balanced within one partition', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tA']), m3: member(['tA']) });
    expect(plain(run(spec, topicsOf({ tA: 7 })))).toEqual({
      m1: { tA: [0, 1, 2] },
      m2: { tA: [3, 4] },
      m3: { tA: [5, 6] },
    });
  });

  test('with more members than partitions some members get nothing', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tA']), m3: member(['tA']) });
    expect(plain(run(spec, topicsOf({ tA: 2 })))).toEqual({ m1: { tA: [0] }, m2: { tA: [1] }, m3: {} });
  });

  test('an unbalanced current assignment is balanced by moving only the excess', () => {
    const spec = group({
      m1: member(['tA', 'tB'], { owned: { tA: [0, 1, 2], tB: [0] } }),
      m2: member(['tA', 'tB'], { owned: { tB: [1] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1, 2] },
      m2: { tB: [0, 1, 2] },
    });
  });

  test('added partitions go to the members below quota and nothing else moves', () => {
    const spec = group({
      m1: member(['tA', 'tB'], { owned: { tA: [0, 1], tB: [0] } }),
      m2: member(['tA', 'tB'], { owned: { tA: [2], tB: [1, 2] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 4, tB: 4 })))).toEqual({
      m1: { tA: [0, 1, 3], tB: [0] },
      m2: { tA: [2], tB: [1, 2, 3] },
    });
  });

  test('a member joining gets one partition from each member that has too many', () => {
    const topics = topicsOf({ tA: 3, tB: 3 });
    const first = run(group({ m1: member(['tA', 'tB']), m2: member(['tA', 'tB']) }), topics);
    const spec = group({
      m1: member(['tA', 'tB'], { owned: plain(first)['m1'] }),
      m2: member(['tA', 'tB'], { owned: plain(first)['m2'] }),
      m3: member(['tA', 'tB']),
    });
    expect(plain(run(spec, topics))).toEqual({
      m1: { tA: [0, 1] },
      m2: { tB: [0, 1] },
      m3: { tA: [2], tB: [2] },
    });
  });

  test('the partitions of a member that left go to the others, who keep theirs', () => {
    const spec = group({
      m1: member(['tA', 'tB'], { owned: { tA: [0, 1] } }),
      m3: member(['tA', 'tB'], { owned: { tB: [1, 2] } }),
    });
    // m2 held tA-2 and tB-0.
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1, 2] },
      m3: { tB: [0, 1, 2] },
    });
  });

  test('partitions of a topic no longer subscribed are revoked', () => {
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0, 1], tB: [0] } }),
      m2: member(['tA'], { owned: { tA: [2], tB: [1, 2] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({ m1: { tA: [0, 1] }, m2: { tA: [2] } });
  });

  test('a topic nobody subscribes to is not assigned, even to a member that held it', () => {
    const spec = group({ m1: member(['tA'], { owned: { tC: [0, 1] } }), m2: member(['tA']) });
    expect(plain(run(spec, topicsOf({ tA: 2, tC: 4 })))).toEqual({ m1: { tA: [0] }, m2: { tA: [1] } });
  });

  test('the extra partitions stay with members that hold them: one partition moves to a new fifth member', () => {
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0] } }),
      m2: member(['tA'], { owned: { tA: [1, 2] } }),
      m3: member(['tA'], { owned: { tA: [3, 4] } }),
      m4: member(['tA'], { owned: { tA: [5] } }),
      m5: member(['tA']),
    });
    expect(plain(run(spec, topicsOf({ tA: 6 })))).toEqual({
      m1: { tA: [0] },
      m2: { tA: [1, 2] },
      m3: { tA: [3] },
      m4: { tA: [5] },
      m5: { tA: [4] },
    });
  });

  test('rack ids of members and partitions are accepted and do not change the assignment', () => {
    const racks = { tA: [['r1'], ['r2'], ['r3']], tB: [['r1', 'r2'], ['r2', 'r3'], ['r3', 'r1']] };
    const plainSpec = group({ m1: member(['tA', 'tB']), m2: member(['tA', 'tB']), m3: member(['tA', 'tB']) });
    const rackSpec = group({
      m1: member(['tA', 'tB'], { rack: 'r1' }),
      m2: member(['tA', 'tB'], { rack: 'r2' }),
      m3: member(['tA', 'tB'], { rack: 'r3' }),
    });
    expect(plain(run(rackSpec, topicsOf({ tA: 3, tB: 3 }, racks)))).toEqual(plain(run(plainSpec, topicsOf({ tA: 3, tB: 3 }))));
  });

  test('an empty group gets an empty assignment', () => {
    expect(assignUniform(group({}), topicsOf({ tA: 3 })).members.size).toBe(0);
  });
});

describe('uniform assignor, members with different subscriptions', () => {
  test('members subscribed to nothing get empty assignments', () => {
    const spec: GroupSpec = {
      members: new Map([['m1', member([])], ['m2', member([])]]),
      subscriptionType: 'HETEROGENEOUS',
    };
    expect(plain(run(spec, topicsOf({ tA: 3 })))).toEqual({ m1: {}, m2: {} });
  });

  test('a subscription to a topic the metadata does not know is an error', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tX']) });
    expect(spec.subscriptionType).toBe('HETEROGENEOUS');
    expect(() => assignUniform(spec, topicsOf({ tA: 3 }))).toThrow(PartitionAssignorError);
  });

  test('the first assignment gives each member its share of what it subscribes to', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tA', 'tB']) });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1, 2] },
      m2: { tB: [0, 1, 2] },
    });
  });

  test('with more members than partitions some members get nothing', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tA', 'tB']), m3: member(['tB']) });
    expect(plain(run(spec, topicsOf({ tA: 1, tB: 1 })))).toEqual({ m1: { tA: [0] }, m2: { tB: [0] }, m3: {} });
  });

  test('an unbalanced current assignment is balanced by moving the fewest partitions', () => {
    const spec = group({
      m1: member(['tA', 'tB'], { owned: { tA: [0, 1], tB: [0, 1, 2] } }),
      m2: member(['tA', 'tB', 'tC'], { owned: { tC: [0, 1] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 2, tB: 3, tC: 2 })))).toEqual({
      m1: { tA: [0, 1], tB: [0, 1] },
      m2: { tB: [2], tC: [0, 1] },
    });
  });

  test('added partitions go to the least loaded subscribers and nothing else moves', () => {
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0, 1] } }),
      m2: member(['tA', 'tB'], { owned: { tA: [2], tB: [0, 1, 2] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 5, tB: 3 })))).toEqual({
      m1: { tA: [0, 1, 3, 4] },
      m2: { tA: [2], tB: [0, 1, 2] },
    });
  });

  test('a member joining takes partitions only from the members that have too many', () => {
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0, 1, 2, 3] } }),
      m2: member(['tB'], { owned: { tB: [0, 1, 2, 3] } }),
      m3: member(['tA', 'tB']),
    });
    expect(plain(run(spec, topicsOf({ tA: 4, tB: 4 })))).toEqual({
      m1: { tA: [0, 1] },
      m2: { tB: [0, 1, 2] },
      m3: { tA: [2, 3], tB: [3] },
    });
  });

  test('the partitions of a member that left go to the subscribers of their topics', () => {
    // m2 ([tA, tB, tC]) held tA-1 and tB-1, and left.
    const spec = group({
      m1: member(['tA', 'tB'], { owned: { tA: [0], tB: [0] } }),
      m3: member(['tC'], { owned: { tC: [0, 1] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 2, tB: 2, tC: 2 })))).toEqual({
      m1: { tA: [0, 1], tB: [0, 1] },
      m3: { tC: [0, 1] },
    });
  });

  test('partitions of a topic a member no longer subscribes to are revoked and the rest rebalanced', () => {
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0], tB: [0, 1] } }),
      m2: member(['tA', 'tB'], { owned: { tA: [1, 2], tB: [2] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1, 2] },
      m2: { tB: [0, 1, 2] },
    });
  });

  test('when the partitions run out, members are left with nothing', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tA']), m3: member(['tB']) });
    expect(plain(run(spec, topicsOf({ tA: 1, tB: 0 })))).toEqual({ m1: { tA: [0] }, m2: {}, m3: {} });
  });

  test('a member without a subscription next to one with a subscription gets nothing', () => {
    const spec = group({ m1: member(['tA', 'tB']), m2: member([]) });
    expect(spec.subscriptionType).toBe('HETEROGENEOUS');
    expect(plain(run(spec, topicsOf({ tA: 2, tB: 2 })))).toEqual({ m1: { tA: [0, 1], tB: [0, 1] }, m2: {} });
  });

  test('a topic nobody subscribes to is not assigned, even to a member that held it', () => {
    const spec = group({ m1: member(['tA'], { owned: { tC: [0, 1] } }), m2: member(['tA', 'tB']) });
    const result = run(spec, topicsOf({ tA: 2, tB: 2, tC: 4 }));
    expect([...owners(result).keys()].filter((k) => k.startsWith('tC'))).toEqual([]);
  });

  test('rack ids of members and partitions are accepted and do not change the assignment', () => {
    const racks = { tA: [['r1'], ['r2'], ['r3']], tB: [['r1', 'r2'], ['r2', 'r3'], ['r3', 'r1']] };
    const plainSpec = group({ m1: member(['tA']), m2: member(['tA', 'tB']), m3: member(['tB']) });
    const rackSpec = group({
      m1: member(['tA'], { rack: 'r1' }),
      m2: member(['tA', 'tB'], { rack: 'r2' }),
      m3: member(['tB'], { rack: 'r3' }),
    });
    expect(plain(run(rackSpec, topicsOf({ tA: 3, tB: 3 }, racks)))).toEqual(plain(run(plainSpec, topicsOf({ tA: 3, tB: 3 }))));
  });
});
