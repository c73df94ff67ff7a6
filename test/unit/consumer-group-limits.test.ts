import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { describeTopics, singleNodePartitionRacks } from '../../src/group/consumer/assignor.js';
import { throwIfConsumerGroupIsFull } from '../../src/group/consumer/group-limits.js';

describe('throwIfConsumerGroupIsFull', () => {
  const group = { members: new Map([['a', {}], ['b', {}]]) };
  it('refuses a member id the full group does not hold, and an empty one', () => {
    for (const id of ['c', '']) {
      let caught: unknown;
      try {
        throwIfConsumerGroupIsFull(group, id, 2);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(KafkaError);
      expect((caught as KafkaError).code).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
      expect((caught as KafkaError).message).toBe('The consumer group has reached its maximum capacity of 2 members.');
    }
  });
  it('takes a member of the group, and anyone below the limit', () => {
    expect(() => throwIfConsumerGroupIsFull(group, 'a', 2)).not.toThrow();
    expect(() => throwIfConsumerGroupIsFull(group, 'c', 3)).not.toThrow();
  });
});

describe('partition racks on a single node', () => {
  it('every partition has the broker rack, or none when broker.rack is not set', () => {
    const withRack = describeTopics(new Map([['t', { numPartitions: 3, partitionRacks: singleNodePartitionRacks('rack-a', 3) }]]));
    expect([0, 1, 2].map((p) => [...withRack.racksForPartition('t', p)])).toEqual([['rack-a'], ['rack-a'], ['rack-a']]);
    const without = describeTopics(new Map([['t', { numPartitions: 2, partitionRacks: singleNodePartitionRacks(null, 2) }]]));
    expect([...without.racksForPartition('t', 0)]).toEqual([]);
  });
});
