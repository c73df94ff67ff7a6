import { describe, expect, test } from 'vitest';
import { PartitionAssignorError, type GroupSpec } from '../../src/group/consumer/assignor.js';
import { BUILTIN_ASSIGNORS, builtinAssignor, DEFAULT_CONSUMER_GROUP_ASSIGNORS } from '../../src/group/consumer/assignors.js';
import { assignRange } from '../../src/group/consumer/range-assignor.js';
import { expectValid, group, member, plain, topicsOf } from './assignor-helpers.js';

function run(spec: GroupSpec, topics: ReturnType<typeof topicsOf>) {
  const result = assignRange(spec, topics);
  expectValid(spec, topics, result);
  return result;
}

describe('range assignor', () => {
  test('a member subscribed to nothing gets an empty assignment', () => {
    expect(plain(run(group({ m1: member([]) }), topicsOf({ tA: 3 })))).toEqual({ m1: {} });
  });

  test('a subscription to a topic the metadata does not know is an error', () => {
    expect(() => assignRange(group({ m1: member(['tX']) }), topicsOf({ tA: 3 }))).toThrow(PartitionAssignorError);
  });

  test('members with the same subscription get the same partition numbers of every topic (co-partitioning)', () => {
    const spec = group({ m1: member(['tA', 'tB']), m2: member(['tA', 'tB']) });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1], tB: [0, 1] },
      m2: { tA: [2], tB: [2] },
    });
  });

  test('with different subscriptions each topic is split in ranges among its own subscribers', () => {
    const spec = group({ mA: member(['tA', 'tC']), mB: member(['tA', 'tB']), mC: member(['tB', 'tC']) });
    expect(spec.subscriptionType).toBe('HETEROGENEOUS');
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3, tC: 2 })))).toEqual({
      mA: { tA: [0, 1], tC: [0] },
      mB: { tA: [2], tB: [0, 1] },
      mC: { tB: [2], tC: [1] },
    });
  });

  test('with more members than partitions the last members get nothing', () => {
    const spec = group({ m1: member(['tA']), m2: member(['tA']), m3: member(['tA']) });
    expect(plain(run(spec, topicsOf({ tA: 2 })))).toEqual({ m1: { tA: [0] }, m2: { tA: [1] }, m3: {} });
  });

  test('members are ordered by member id, not by the order they joined in', () => {
    const spec = group({ m2: member(['tA']), m1: member(['tA']) });
    expect(plain(run(spec, topicsOf({ tA: 3 })))).toEqual({ m1: { tA: [0, 1] }, m2: { tA: [2] } });
  });

  test('static members keep their ranges through a rolling bounce that changes their member ids', () => {
    const topics = topicsOf({ tA: 3, tB: 3 });
    const before = run(group({
      x1: member(['tA', 'tB'], { instance: 'i2' }),
      x2: member(['tA', 'tB'], { instance: 'i1' }),
    }), topics);
    expect(plain(before)).toEqual({ x2: { tA: [0, 1], tB: [0, 1] }, x1: { tA: [2], tB: [2] } });
    const after = run(group({
      a0: member(['tA', 'tB'], { instance: 'i2' }),
      z9: member(['tA', 'tB'], { instance: 'i1' }),
    }), topics);
    expect(plain(after)).toEqual({ z9: { tA: [0, 1], tB: [0, 1] }, a0: { tA: [2], tB: [2] } });
  });

  test('static members come before dynamic ones', () => {
    const spec = group({ a: member(['tA']), b: member(['tA'], { instance: 'zz' }) });
    expect(plain(run(spec, topicsOf({ tA: 3 })))).toEqual({ b: { tA: [0, 1] }, a: { tA: [2] } });
  });

  test('a member joining recomputes the ranges: the assignment is not sticky, as in Kafka 3.9 and later', () => {
    const topics = topicsOf({ tA: 4 });
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0, 1] } }),
      m2: member(['tA'], { owned: { tA: [2, 3] } }),
      m0: member(['tA']),
    });
    expect(plain(run(spec, topics))).toEqual({ m0: { tA: [0, 1] }, m1: { tA: [2] }, m2: { tA: [3] } });
    const withoutHistory = group({ m1: member(['tA']), m2: member(['tA']), m0: member(['tA']) });
    expect(plain(run(withoutHistory, topics))).toEqual(plain(run(spec, topics)));
  });

  test('a member leaving gives its range to the others', () => {
    const spec = group({ m1: member(['tA', 'tB'], { owned: { tA: [0], tB: [0] } }), m3: member(['tA', 'tB'], { owned: { tA: [2], tB: [2] } }) });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1], tB: [0, 1] },
      m3: { tA: [2], tB: [2] },
    });
  });

  test('added partitions extend the ranges', () => {
    const spec = group({
      m1: member(['tA', 'tB'], { owned: { tA: [0, 1], tB: [0, 1] } }),
      m2: member(['tA', 'tB'], { owned: { tA: [2], tB: [2] } }),
    });
    expect(plain(run(spec, topicsOf({ tA: 4, tB: 3 })))).toEqual({
      m1: { tA: [0, 1], tB: [0, 1] },
      m2: { tA: [2, 3], tB: [2] },
    });
  });

  test('a topic dropped from some subscriptions is split among the members that still want it', () => {
    const spec = group({
      m1: member(['tA'], { owned: { tA: [0, 1], tB: [0, 1] } }),
      m2: member(['tA', 'tB'], { owned: { tA: [2], tB: [2] } }),
      m3: member(['tB']),
    });
    expect(plain(run(spec, topicsOf({ tA: 3, tB: 3 })))).toEqual({
      m1: { tA: [0, 1] },
      m2: { tA: [2], tB: [0, 1] },
      m3: { tB: [2] },
    });
  });

  test('a member without a subscription next to one with a subscription gets nothing', () => {
    const spec = group({ m1: member(['tA']), m2: member([]) });
    expect(plain(run(spec, topicsOf({ tA: 2, tC: 5 })))).toEqual({ m1: { tA: [0, 1] }, m2: {} });
  });

  test('rack ids of members and partitions are accepted and do not change the assignment', () => {
    const racks = { tA: [['r1'], ['r2'], ['r3']] };
    const rackSpec = group({ m1: member(['tA'], { rack: 'r2' }), m2: member(['tA'], { rack: 'r1' }) });
    const plainSpec = group({ m1: member(['tA']), m2: member(['tA']) });
    expect(plain(run(rackSpec, topicsOf({ tA: 3 }, racks)))).toEqual(plain(run(plainSpec, topicsOf({ tA: 3 }))));
  });

  test('an empty group gets an empty assignment', () => {
    expect(assignRange(group({}), topicsOf({ tA: 3 })).members.size).toBe(0);
  });
});

describe('group.consumer.assignors', () => {
  test('the default is uniform then range, as Kafka 4.x', () => {
    expect(DEFAULT_CONSUMER_GROUP_ASSIGNORS).toEqual(['uniform', 'range']);
    expect(BUILTIN_ASSIGNORS.map((a) => a.name)).toEqual(['uniform', 'range']);
  });

  test('a built-in assignor is found by its name or by Kafka class name; anything else is unknown', () => {
    expect(builtinAssignor('uniform')?.name).toBe('uniform');
    expect(builtinAssignor(' range ')?.name).toBe('range');
    expect(builtinAssignor('org.apache.kafka.coordinator.group.assignor.UniformAssignor')?.name).toBe('uniform');
    expect(builtinAssignor('org.apache.kafka.coordinator.group.assignor.RangeAssignor')?.name).toBe('range');
    expect(builtinAssignor('sticky')).toBeUndefined();
    expect(builtinAssignor('com.example.MyAssignor')).toBeUndefined();
  });
});
