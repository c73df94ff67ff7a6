/**
 * The conversions between classic and consumer groups (group-migration.ts)
 * and the consumer protocol's bytes they read and write (consumer-protocol.ts):
 * a classic group becomes a consumer group of STABLE classic members at its
 * generation with their classic assignments; a consumer group of classic
 * members becomes a Stable classic group at its epoch whose assignments are
 * the target; the policy and the members decide whether either may happen.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/index.js';
import { MemberState } from '../../src/group/consumer/member-state.js';
import { newConsumerGroupMember } from '../../src/group/consumer/consumer-group-member.js';
import { ConsumerGroup } from '../../src/group/consumer-group.js';
import { decodeAssignment, decodeSubscription, encodeAssignment } from '../../src/group/consumer-protocol.js';
import { Group } from '../../src/group/group.js';
import { classicGroupFromConsumer, consumerGroupFromClassic, consumerGroupRecords, consumerGroupTombstones, mayDowngrade, upgradeError } from '../../src/group/group-migration.js';
import type { TopicLookup } from '../../src/group/consumer-group-heartbeat.js';
import { ErrorCode } from '../../protocol/index.js';

const TOPICS = new Map([
  ['t', { topicId: 'id-t', numPartitions: 4 }],
  ['u', { topicId: 'id-u', numPartitions: 2 }],
]);
const lookup: TopicLookup = { get: (name: string) => TOPICS.get(name), names: () => TOPICS.keys(), namesVersion: 0 };

/** A subscription at `version` (1+: owned partitions; 3: a rack). */
function subscription(topics: string[], version = 0, owned: Array<[string, number[]]> = []): Buffer {
  const parts: Buffer[] = [];
  const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeInt16BE(n); parts.push(b); };
  const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); parts.push(b); };
  const str = (s: string) => { i16(Buffer.byteLength(s)); parts.push(Buffer.from(s)); };
  i16(version);
  i32(topics.length);
  topics.forEach(str);
  i32(-1);
  if (version >= 1) {
    i32(owned.length);
    for (const [t, ps] of owned) { str(t); i32(ps.length); ps.forEach(i32); }
  }
  if (version >= 2) i32(5);
  if (version >= 3) str('rack-a');
  return Buffer.concat(parts);
}

function classicGroup(): Group {
  const g = new Group('g', 'Stable', 0);
  g.generationId = 7;
  g.protocolType = 'consumer';
  g.add({ memberId: 'a', groupInstanceId: null, clientId: 'ca', clientHost: '/h', rebalanceTimeoutMs: 3000, sessionTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription(['t'], 3) }], assignment: encodeAssignment([{ topic: 't', partitions: [0, 1] }], 3) }, undefined);
  g.add({ memberId: 'b', groupInstanceId: 'ib', clientId: 'cb', clientHost: '/h', rebalanceTimeoutMs: 4000, sessionTimeoutMs: 12_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription(['t', 'u']) }], assignment: encodeAssignment([{ topic: 't', partitions: [2, 3] }, { topic: 'u', partitions: [0, 1] }], 0) }, undefined);
  g.protocolName = 'range';
  return g;
}

describe('consumer protocol bytes', () => {
  it('reads every subscription version, leniently where a client writes a version it does not fill', () => {
    expect(decodeSubscription(subscription(['t'], 3, [['t', [1, 2]]]))).toEqual({ version: 3, topics: ['t'], userData: null, ownedPartitions: [{ topic: 't', partitions: [1, 2] }], generationId: 5, rackId: 'rack-a' });
    const v0 = subscription(['t', 'u']);
    expect(decodeSubscription(v0)).toMatchObject({ version: 0, topics: ['t', 'u'], ownedPartitions: [], generationId: -1, rackId: null });
    const claimsV1 = Buffer.from(v0);
    claimsV1.writeInt16BE(1, 0);
    expect(decodeSubscription(claimsV1)).toMatchObject({ version: 1, ownedPartitions: [] });
    expect(() => decodeSubscription(Buffer.alloc(1))).toThrow(ProtocolError);
    expect(() => decodeSubscription(v0.subarray(0, 8))).toThrow(ProtocolError);
  });

  it('writes an assignment at the asked version (capped at 3) and reads it back; empty bytes are no assignment', () => {
    const bytes = encodeAssignment([{ topic: 't', partitions: [0, 3] }], 7);
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeAssignment(bytes)).toEqual({ version: 3, partitions: [{ topic: 't', partitions: [0, 3] }], userData: null });
    expect(decodeAssignment(Buffer.alloc(0)).partitions).toEqual([]);
  });
});

describe('upgrade: a classic group to a consumer group', () => {
  it('its members become STABLE classic members at the generation, assigned (and targeted) their classic assignment', () => {
    const group = consumerGroupFromClassic(classicGroup(), lookup);
    expect(group).toMatchObject({ groupId: 'g', groupEpoch: 7, assignmentEpoch: 7 });
    const a = group.members.get('a')!;
    expect(a).toMatchObject({ memberEpoch: 7, previousMemberEpoch: 7, state: MemberState.STABLE, rackId: 'rack-a', rebalanceTimeoutMs: 3000, clientId: 'ca' });
    expect(a.classicMemberMetadata).toEqual({ sessionTimeoutMs: 10_000, supportedProtocols: [{ name: 'range', metadata: subscription(['t'], 3) }] });
    expect([...a.assignedPartitions]).toEqual([['id-t', new Set([0, 1])]]);
    const b = group.members.get('b')!;
    expect(b.instanceId).toBe('ib');
    expect([...b.subscribedTopicNames]).toEqual(['t', 'u']);
    expect(group.target.get('b')).toEqual(b.assignedPartitions);
    expect(group.staticMembers.get('ib')).toBe('b');
    expect(group.state).toBe('Stable');
    // its records: members' metadata, epoch, targets, target epoch, current assignments
    expect(consumerGroupRecords(group, 0).map((r) => r.type)).toEqual([
      'consumer-group-member-metadata',
      'consumer-group-member-metadata',
      'consumer-group-metadata',
      'consumer-group-target-assignment-member',
      'consumer-group-target-assignment-member',
      'consumer-group-target-assignment-metadata',
      'consumer-group-current-member-assignment',
      'consumer-group-current-member-assignment',
    ]);
  });

  it('refuses with Kafka errors: policy, protocol type, malformed bytes, a partition assigned twice', () => {
    const g = classicGroup();
    expect(upgradeError(g, 'bidirectional')).toBeUndefined();
    expect(upgradeError(g, 'upgrade')).toBeUndefined();
    expect(upgradeError(g, 'downgrade')).toMatchObject({ code: ErrorCode.GROUP_ID_NOT_FOUND, message: 'Cannot upgrade classic group g to consumer group because online upgrade is disabled.' });
    expect(upgradeError(g, 'disabled')?.code).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    g.protocolType = 'connect';
    expect(upgradeError(g, 'bidirectional')?.message).toBe('Cannot upgrade classic group g to consumer group because the group does not use the consumer embedded protocol.');

    const bad = classicGroup();
    bad.members.get('a')!.assignment = Buffer.from([0, 0, 0]);
    expect(() => consumerGroupFromClassic(bad, lookup)).toThrow(ProtocolError);
    const twice = classicGroup();
    twice.members.get('a')!.assignment = encodeAssignment([{ topic: 't', partitions: [2] }], 0);
    expect(() => consumerGroupFromClassic(twice, lookup)).toThrow();
  });
});

describe('downgrade: a consumer group of classic members to a classic group', () => {
  function mixed(): ConsumerGroup {
    const group = consumerGroupFromClassic(classicGroup(), lookup);
    group.groupEpoch = 9;
    group.assignmentEpoch = 9;
    group.putMember(newConsumerGroupMember('c', { memberEpoch: 9, subscribedTopicNames: new Set(['t']) }));
    group.target.set('a', new Map([['id-t', new Set([0])]]));
    return group;
  }

  it('only when the members left would all be classic, at least one, within group.max.size, and the policy allows it', () => {
    const group = mixed();
    expect(mayDowngrade(group, new Set(['c']), 'bidirectional', 10)).toBe(true);
    expect(mayDowngrade(group, new Set(['c']), 'downgrade', 10)).toBe(true);
    expect(mayDowngrade(group, new Set(['c']), 'upgrade', 10)).toBe(false);
    expect(mayDowngrade(group, new Set(['c']), 'bidirectional', 1)).toBe(false);
    expect(mayDowngrade(group, new Set(['a']), 'bidirectional', 10)).toBe(false);
    expect(mayDowngrade(group, new Set(['a', 'b', 'c']), 'bidirectional', 10)).toBe(false);
  });

  it('a Stable classic group at the group epoch, the members voted protocol, each assignment the target at the subscription version; tombstones in Kafka order', () => {
    const group = mixed();
    const names = new Map([['id-t', 't'], ['id-u', 'u']]);
    const { group: classic, assignment } = classicGroupFromConsumer(group, new Set(['c']), names, 0);
    expect(classic).toMatchObject({ state: 'Stable', generationId: 9, protocolType: 'consumer', protocolName: 'range', leaderId: 'a' });
    expect([...classic.members.keys()]).toEqual(['a', 'b']);
    expect(classic.members.get('b')).toMatchObject({ sessionTimeoutMs: 12_000, rebalanceTimeoutMs: 4000, groupInstanceId: 'ib' });
    expect(decodeAssignment(assignment.get('a')!)).toEqual({ version: 3, partitions: [{ topic: 't', partitions: [0] }], userData: null });
    expect(decodeAssignment(assignment.get('b')!)).toEqual({ version: 0, partitions: [{ topic: 't', partitions: [2, 3] }, { topic: 'u', partitions: [0, 1] }], userData: null });
    expect(classic.members.get('a')!.assignment).toEqual(assignment.get('a'));
    expect([...classic.subscribedTopics!].sort()).toEqual(['t', 'u']);

    const tombstones = consumerGroupTombstones(group);
    expect(tombstones.every((r) => r.value === null)).toBe(true);
    expect(tombstones.map((r) => r.type)).toEqual([
      ...Array(3).fill('consumer-group-current-member-assignment'),
      ...Array(3).fill('consumer-group-target-assignment-member'),
      'consumer-group-target-assignment-metadata',
      ...Array(3).fill('consumer-group-member-metadata'),
      'consumer-group-metadata',
    ]);
  });
});
