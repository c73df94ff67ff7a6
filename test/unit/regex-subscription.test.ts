import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { newConsumerGroupMember, type ConsumerGroupMember } from '../../src/group/consumer/consumer-group-member.js';
import { dropUnsubscribed, updateRegularExpressions, type RegexGroup, type TopicNames } from '../../src/group/consumer/regex-subscription.js';
import { ConsumerGroup } from '../../src/group/consumer-group.js';

function topics(names: string[], namesVersion: number): TopicNames {
  return { names: () => names, namesVersion };
}

function member(id: string, regex: string, names: string[] = []): ConsumerGroupMember {
  return newConsumerGroupMember(id, { subscribedTopicRegex: regex, subscribedTopicNames: new Set(names) });
}

describe('regular-expression subscriptions of a consumer group', () => {
  it('a new expression is resolved against every name; the member subscribes to its names and what it resolved to', () => {
    const group = new ConsumerGroup('g');
    const m = member('m1', 'orders-.*', ['audit']);
    const update = updateRegularExpressions(group, member('m1', ''), m, [], topics(['orders-eu', 'orders-us', 'payments', 'audit', '__consumer_offsets'], 1), 1000);
    expect(update.regexChanged).toBe(true);
    expect(update.topicsChanged).toBe(true);
    expect([...update.resolved.keys()]).toEqual(['orders-.*']);
    group.putMember(m);
    expect([...group.memberTopicNames(m)].sort()).toEqual(['audit', 'orders-eu', 'orders-us']);
    expect(group.resolvedRegularExpressions.get('orders-.*')).toEqual({ topics: new Set(['orders-eu', 'orders-us']), version: 1, timestamp: 1000 });
  });

  it('nothing is resolved again until a topic name comes or goes; then every expression of the group is', () => {
    const group: RegexGroup = new ConsumerGroup('g');
    const a = member('a', 'x.*');
    const b = member('b', 'y.*');
    updateRegularExpressions(group, member('a', ''), a, [], topics(['x1', 'y1'], 1), 1);
    const second = updateRegularExpressions(group, member('b', ''), b, [a], topics(['x1', 'y1'], 1), 2);
    // only the new expression had no resolution, but all are resolved in one pass (as Kafka's refresh)
    expect([...second.resolved.keys()].sort()).toEqual(['x.*', 'y.*']);
    expect(second.topicsChanged).toBe(true);
    const quiet = updateRegularExpressions(group, b, b, [a], topics(['x1', 'y1'], 1), 3);
    expect(quiet.resolved.size).toBe(0);
    expect(quiet.topicsChanged).toBe(false);
    const created = updateRegularExpressions(group, b, b, [a], topics(['x1', 'y1', 'x2'], 2), 4);
    expect(created.topicsChanged).toBe(true);
    expect([...group.resolvedRegularExpressions.get('x.*')!.topics].sort()).toEqual(['x1', 'x2']);
    // a name that comes and matches nothing resolves again without a change
    const unrelated = updateRegularExpressions(group, b, b, [a], topics(['x1', 'y1', 'x2', 'z'], 3), 5);
    expect(unrelated.resolved.size).toBe(2);
    expect(unrelated.topicsChanged).toBe(false);
  });

  it('the last member to leave an expression drops its resolution; one still subscribed keeps it', () => {
    const group = new ConsumerGroup('g');
    const a = member('a', 'x.*');
    const b = member('b', 'x.*');
    updateRegularExpressions(group, member('a', ''), a, [], topics(['x1'], 1), 1);
    group.putMember(a);
    updateRegularExpressions(group, member('b', ''), b, [a], topics(['x1'], 1), 1);
    group.putMember(b);
    const aByNames = member('a', '', ['x1']);
    const changed = updateRegularExpressions(group, a, aByNames, [b], topics(['x1'], 1), 2);
    expect(changed.removed).toEqual([]);
    group.putMember(aByNames);
    group.removeMember('b');
    expect(dropUnsubscribed(group)).toEqual(['x.*']);
    expect(group.resolvedRegularExpressions.size).toBe(0);
  });

  it('an expression RE2 refuses throws INVALID_REGULAR_EXPRESSION before the group changes', () => {
    const group = new ConsumerGroup('g');
    const a = member('a', 'x.*');
    updateRegularExpressions(group, member('a', ''), a, [], topics(['x1'], 1), 1);
    let thrown: unknown;
    try {
      updateRegularExpressions(group, a, member('a', 'x(?=1)'), [], topics(['x1'], 2), 2);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KafkaError);
    expect((thrown as KafkaError).code).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect((thrown as KafkaError).message).toBe('SubscribedTopicRegex `x(?=1)` is not a valid regular expression: invalid or unsupported Perl syntax.');
    expect([...group.resolvedRegularExpressions.keys()]).toEqual(['x.*']);
    expect(group.regexNamesVersion).toBe(1);
  });
});
