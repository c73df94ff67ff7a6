import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/index.js';
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
