/**
 * Assignment epochs of consumer groups (KIP-1251, Kafka 4.3): the offset commit
 * check of a consumer group (assignmentEpoch ≤ commit epoch ≤ member epoch,
 * the cases of Kafka's ConsumerGroupTest and StreamsGroupTest), the epochs
 * reconciliation gives the partitions a member keeps, gets and revokes, a
 * static member's epochs across a restart, and their records in
 * `__consumer_offsets` (written, read back, and read from a record of a Kafka
 * before 4.3 that has none).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import {
  assignmentEpochOf,
  newConsumerGroupMember,
  sameCurrentAssignment,
  topicPartitions,
  type ConsumerGroupMember,
  type TopicPartitions,
} from '../../src/group/consumer/consumer-group-member.js';
import { reconcileMember, type ReconcileInput } from '../../src/group/consumer/current-assignment-builder.js';
import { MemberState } from '../../src/group/consumer/member-state.js';
import { validateConsumerOffsetCommit, type ConsumerOffsetCommit } from '../../src/group/consumer/offset-commit-validation.js';
import { replaceStaticMember, staticMemberTemporaryLeave } from '../../src/group/consumer/static-members.js';
import { currentAssignmentRecord, replayConsumerGroups } from '../../src/group/consumer-group-log.js';
import { parseConsumerGroupRecord, serializeConsumerGroupRecord, type ConsumerGroupRecord } from '../../src/group/consumer-group-records.js';

const FOO = 'Zm9vLXRvcGljLWlkLTAwMA';
const BAR = 'YmFyLXRvcGljLWlkLTAwMA';
const topicIds: Record<string, string> = { foo: FOO, bar: BAR };
const topicIdOf = (name: string): string | undefined => topicIds[name];

function tp(entries: Record<string, number[]>): TopicPartitions {
  return topicPartitions(Object.entries(entries));
}

/** Topic id → partition → assignment epoch. */
function epochsMap(entries: Record<string, Record<number, number>>): Map<string, Map<number, number>> {
  return new Map(Object.entries(entries).map(([topicId, ps]) => [topicId, new Map(Object.entries(ps).map(([p, e]) => [Number(p), e]))]));
}

/** Every partition the member holds with its assignment epoch, as `topicId-partition@epoch`. */
function epochsOf(m: ConsumerGroupMember): string[] {
  const out: string[] = [];
  for (const set of [m.assignedPartitions, m.partitionsPendingRevocation]) {
    for (const [topicId, ps] of set) for (const p of ps) out.push(`${topicId === FOO ? 'foo' : 'bar'}-${p}@${assignmentEpochOf(m, topicId, p)}`);
  }
  return out.sort();
}

function commitOf(memberEpoch: number, partitions: Array<[string, number]>, fields: Partial<ConsumerOffsetCommit> = {}): ConsumerOffsetCommit {
  return { memberId: 'member-id', memberEpoch, groupInstanceId: null, transactional: false, partitions: partitions.map(([topic, partition]) => ({ topic, partition })), ...fields };
}

function validate(members: ConsumerGroupMember[], commit: ConsumerOffsetCommit): number | undefined {
  return validateConsumerOffsetCommit(new Map(members.map((m) => [m.memberId, m])), commit, topicIdOf);
}

/**
 * Kafka's test member: epoch 10, foo-0 assigned at 5, foo-1 at 8, foo-2 at 10, bar-0 pending revocation
 * (assigned at 3), bar-1 pending revocation (assigned at 9).
 */
const member = newConsumerGroupMember('member-id', {
  memberEpoch: 10,
  previousMemberEpoch: 9,
  state: MemberState.UNREVOKED_PARTITIONS,
  assignedPartitions: tp({ [FOO]: [0, 1, 2] }),
  partitionsPendingRevocation: tp({ [BAR]: [0, 1] }),
  assignmentEpochs: epochsMap({ [FOO]: { 0: 5, 1: 8, 2: 10 }, [BAR]: { 0: 3, 1: 9 } }),
});

describe('offset commit to a consumer group: assignmentEpoch ≤ epoch ≤ member epoch (KIP-1251)', () => {
  it('at the member epoch any partition is taken, a held one or not (Kafka does not look at them then)', () => {
    expect(validate([member], commitOf(10, [['foo', 0], ['foo', 2], ['bar', 5]]))).toBeUndefined();
  });

  it('an epoch ahead of the member epoch is STALE_MEMBER_EPOCH', () => {
    expect(validate([member], commitOf(11, [['foo', 0]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('an older epoch is taken for a partition assigned at that epoch or before', () => {
    expect(validate([member], commitOf(8, [['foo', 0], ['foo', 1]]))).toBeUndefined();
    expect(validate([member], commitOf(5, [['foo', 0]]))).toBeUndefined();
  });

  it('an older epoch than the partition was assigned at is a zombie commit: STALE_MEMBER_EPOCH', () => {
    expect(validate([member], commitOf(7, [['foo', 1]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(validate([member], commitOf(9, [['foo', 2]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('a partition pending revocation is checked at the epoch it was assigned at', () => {
    expect(validate([member], commitOf(6, [['bar', 0]]))).toBeUndefined();
    expect(validate([member], commitOf(8, [['bar', 1]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(validate([member], commitOf(9, [['bar', 1], ['bar', 0], ['foo', 1]]))).toBeUndefined();
  });

  it('a partition the member does not hold, or of a topic the broker does not have, is STALE_MEMBER_EPOCH at an older epoch', () => {
    expect(validate([member], commitOf(9, [['foo', 3]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(validate([member], commitOf(9, [['bar', 2]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(validate([member], commitOf(9, [['gone', 0]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('one partition that fails fails the whole commit', () => {
    expect(validate([member], commitOf(8, [['foo', 0], ['foo', 1], ['foo', 2]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('an unknown member is UNKNOWN_MEMBER_ID; a negative epoch without a member is taken only by a group without members', () => {
    expect(validate([member], commitOf(10, [['foo', 0]], { memberId: 'stranger' }))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(validate([member], commitOf(-1, [['foo', 0]], { memberId: '' }))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(validate([], commitOf(-1, [['foo', 0]], { memberId: '' }))).toBeUndefined();
  });

  it('a member with no known epochs (a record of a Kafka before 4.3) is checked strictly against its epoch', () => {
    const legacy = newConsumerGroupMember('member-id', { memberEpoch: 10, assignedPartitions: tp({ [FOO]: [0] }) });
    expect(assignmentEpochOf(legacy, FOO, 0)).toBe(10);
    expect(validate([legacy], commitOf(9, [['foo', 0]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(validate([legacy], commitOf(10, [['foo', 0]]))).toBeUndefined();
  });

  it('a classic member keeps the strict check: any other generation is ILLEGAL_GENERATION, assigned partitions or not', () => {
    const classic = { ...member, classicMemberMetadata: { sessionTimeoutMs: 10_000, supportedProtocols: [] } };
    expect(validate([classic], commitOf(10, [['foo', 0]]))).toBeUndefined();
    expect(validate([classic], commitOf(8, [['foo', 0]]))).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(validate([classic], commitOf(11, [['foo', 0]]))).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('TxnOffsetCommit: the same checks, with ILLEGAL_GENERATION for STALE_MEMBER_EPOCH; without member fields it is taken', () => {
    const txn = { transactional: true };
    expect(validate([member], commitOf(8, [['foo', 0]], txn))).toBeUndefined();
    expect(validate([member], commitOf(7, [['foo', 1]], txn))).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(validate([member], commitOf(11, [['foo', 0]], txn))).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(validate([member], commitOf(10, [['foo', 0]], { ...txn, memberId: 'stranger' }))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(validate([member], commitOf(-1, [['foo', 0]], { ...txn, memberId: '' }))).toBeUndefined();
    // an instance id is member information: the member must be named then
    expect(validate([member], commitOf(-1, [['foo', 0]], { ...txn, memberId: '', groupInstanceId: 'inst' }))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('assignment epochs through reconciliation', () => {
  const free = (): number => -1;
  function input(partial: Partial<ReconcileInput> & Pick<ReconcileInput, 'targetAssignmentEpoch' | 'targetAssignment'>): ReconcileInput {
    return { currentPartitionEpoch: free, ownedTopicPartitions: null, ...partial };
  }

  it('a new member gets its partitions at the target epoch', () => {
    const next = reconcileMember(newConsumerGroupMember('m'), input({ targetAssignmentEpoch: 3, targetAssignment: tp({ [FOO]: [0, 1] }), ownedTopicPartitions: new Map() }));
    expect(epochsOf(next)).toEqual(['foo-0@3', 'foo-1@3']);
  });

  it('a member whose epoch moves on without a change of partitions keeps their epochs: its commit at the previous epoch is taken', () => {
    const at3 = reconcileMember(newConsumerGroupMember('member-id'), input({ targetAssignmentEpoch: 3, targetAssignment: tp({ [FOO]: [0, 1] }) }));
    const at4 = reconcileMember(at3, input({ targetAssignmentEpoch: 4, targetAssignment: tp({ [FOO]: [0, 1] }) }));
    expect(at4.memberEpoch).toBe(4);
    expect(epochsOf(at4)).toEqual(['foo-0@3', 'foo-1@3']);
    expect(validate([at4], commitOf(3, [['foo', 0], ['foo', 1]]))).toBeUndefined();
  });

  it('kept partitions keep their epochs; a new one is assigned at the new epoch, and a commit for it at the previous epoch is refused', () => {
    const m = newConsumerGroupMember('member-id', { memberEpoch: 4, previousMemberEpoch: 3, assignedPartitions: tp({ [FOO]: [0] }), assignmentEpochs: epochsMap({ [FOO]: { 0: 2 } }) });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [FOO]: [0], [BAR]: [0] }) }));
    expect(next.memberEpoch).toBe(6);
    expect(epochsOf(next)).toEqual(['bar-0@6', 'foo-0@2']);
    expect(validate([next], commitOf(4, [['foo', 0]]))).toBeUndefined();
    expect(validate([next], commitOf(4, [['bar', 0]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('partitions to revoke keep their epochs while pending, and leave with the revocation', () => {
    const m = newConsumerGroupMember('member-id', { memberEpoch: 4, assignedPartitions: tp({ [FOO]: [0, 1] }), assignmentEpochs: epochsMap({ [FOO]: { 0: 2, 1: 4 } }) });
    const revoking = reconcileMember(m, input({ targetAssignmentEpoch: 5, targetAssignment: tp({ [FOO]: [0] }), ownedTopicPartitions: tp({ [FOO]: [0, 1] }) }));
    expect(revoking.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(epochsOf(revoking)).toEqual(['foo-0@2', 'foo-1@4']);
    // the member commits what it gives up, at its epoch or an older one since the partition's
    expect(validate([revoking], commitOf(4, [['foo', 1]]))).toBeUndefined();
    const revoked = reconcileMember(revoking, input({ targetAssignmentEpoch: 5, targetAssignment: tp({ [FOO]: [0] }), ownedTopicPartitions: tp({ [FOO]: [0] }) }));
    expect(revoked.memberEpoch).toBe(5);
    expect(epochsOf(revoked)).toEqual(['foo-0@2']);
    expect(validate([revoked], commitOf(4, [['foo', 1]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it("its own partition pending revocation that the target gives back is assigned again at the new epoch", () => {
    const m = newConsumerGroupMember('member-id', {
      memberEpoch: 4,
      state: MemberState.UNREVOKED_PARTITIONS,
      assignedPartitions: tp({ [FOO]: [0] }),
      partitionsPendingRevocation: tp({ [FOO]: [1] }),
      assignmentEpochs: epochsMap({ [FOO]: { 0: 2, 1: 3 } }),
    });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 5, targetAssignment: tp({ [FOO]: [0, 1] }), ownedTopicPartitions: tp({ [FOO]: [0] }) }));
    expect(next.state).toBe(MemberState.STABLE);
    expect(epochsOf(next)).toEqual(['foo-0@2', 'foo-1@5']);
  });

  it('a subscription change moves the partitions of a dropped topic to pending revocation with their epochs', () => {
    const m = newConsumerGroupMember('member-id', { memberEpoch: 4, assignedPartitions: tp({ [FOO]: [0], [BAR]: [0] }), assignmentEpochs: epochsMap({ [FOO]: { 0: 2 }, [BAR]: { 0: 3 } }) });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 4, targetAssignment: tp({ [FOO]: [0], [BAR]: [0] }), subscribedTopicIds: new Set([FOO]), subscriptionChanged: true }));
    expect(next.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(epochsOf(next)).toEqual(['bar-0@3', 'foo-0@2']);
  });

  it('a static member leaving for a while (-2) has its partitions at 0, and the member taking its place holds them at 0', () => {
    const m = newConsumerGroupMember('m1', { memberEpoch: 9, instanceId: 'inst', assignedPartitions: tp({ [FOO]: [0, 1] }), assignmentEpochs: epochsMap({ [FOO]: { 0: 4, 1: 9 } }) });
    const away = staticMemberTemporaryLeave(m);
    expect(epochsOf(away)).toEqual(['foo-0@0', 'foo-1@0']);
    const back = replaceStaticMember('g', away, 'm2');
    const reconciled = reconcileMember(back, input({ targetAssignmentEpoch: 11, targetAssignment: tp({ [FOO]: [0, 1], [BAR]: [0] }) }));
    expect(epochsOf(reconciled)).toEqual(['bar-0@11', 'foo-0@0', 'foo-1@0']);
  });

  it('a change of assignment epochs alone is a new current assignment record', () => {
    const m = newConsumerGroupMember('m', { memberEpoch: 4, assignedPartitions: tp({ [FOO]: [0] }), assignmentEpochs: epochsMap({ [FOO]: { 0: 2 } }) });
    expect(sameCurrentAssignment(m, { ...m, assignmentEpochs: epochsMap({ [FOO]: { 0: 2 } }) })).toBe(true);
    expect(sameCurrentAssignment(m, { ...m, assignmentEpochs: epochsMap({ [FOO]: { 0: 3 } }) })).toBe(false);
  });
});

describe('assignment epochs in __consumer_offsets', () => {
  const metadata: ConsumerGroupRecord = {
    type: 'consumer-group-member-metadata',
    group: 'g',
    memberId: 'member-id',
    value: { instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: ['foo', 'bar'], subscribedTopicRegex: null, rebalanceTimeoutMs: 1000, serverAssignor: null, classicMemberMetadata: null },
  };

  function load(records: ConsumerGroupRecord[]): ConsumerGroupMember {
    const bytes = records.map((r) => serializeConsumerGroupRecord(r));
    const parsed = bytes.map((b, i) => parseConsumerGroupRecord(b.key.readInt16BE(0), b.key, b.value) ?? records[i]!);
    const groups = replayConsumerGroups(parsed, (_, err) => {
      throw err;
    });
    return groups[0]!.members.get('member-id')!;
  }

  it('the current assignment record carries each partition\'s epoch (tag 0, aligned with the partitions), read back as written', () => {
    const record = currentAssignmentRecord('g', member);
    expect(record.type === 'consumer-group-current-member-assignment' && record.value).toMatchObject({
      assignedPartitions: [{ topicId: FOO, partitions: [0, 1, 2], assignmentEpochs: [5, 8, 10] }],
      partitionsPendingRevocation: [{ topicId: BAR, partitions: [0, 1], assignmentEpochs: [3, 9] }],
    });
    const loaded = load([metadata, record]);
    expect(epochsOf(loaded)).toEqual(epochsOf(member));
    expect(validate([loaded], commitOf(8, [['foo', 0], ['foo', 1]]))).toBeUndefined();
    expect(validate([loaded], commitOf(8, [['foo', 2]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('a record without epochs (a Kafka before 4.3) reads at its member epoch: the strict check', () => {
    const legacy: ConsumerGroupRecord = {
      type: 'consumer-group-current-member-assignment',
      group: 'g',
      memberId: 'member-id',
      value: { memberEpoch: 7, previousMemberEpoch: 6, state: 0, assignedPartitions: [{ topicId: FOO, partitions: [0, 1], assignmentEpochs: null }], partitionsPendingRevocation: [] },
    };
    const loaded = load([metadata, legacy]);
    expect(epochsOf(loaded)).toEqual(['foo-0@7', 'foo-1@7']);
    expect(validate([loaded], commitOf(6, [['foo', 0]]))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('a static member away (-2) in a record without epochs reads at 0; a topic whose epochs do not match its partitions reads at the member epoch', () => {
    const away: ConsumerGroupRecord = {
      type: 'consumer-group-current-member-assignment',
      group: 'g',
      memberId: 'member-id',
      value: { memberEpoch: -2, previousMemberEpoch: 6, state: 0, assignedPartitions: [{ topicId: FOO, partitions: [0], assignmentEpochs: null }], partitionsPendingRevocation: [] },
    };
    expect(epochsOf(load([metadata, away]))).toEqual(['foo-0@0']);
    const broken: ConsumerGroupRecord = {
      type: 'consumer-group-current-member-assignment',
      group: 'g',
      memberId: 'member-id',
      value: {
        memberEpoch: 7,
        previousMemberEpoch: 6,
        state: 0,
        assignedPartitions: [{ topicId: FOO, partitions: [0, 1], assignmentEpochs: [3] }, { topicId: BAR, partitions: [0], assignmentEpochs: [5] }],
        partitionsPendingRevocation: [],
      },
    };
    expect(epochsOf(load([metadata, broken]))).toEqual(['bar-0@5', 'foo-0@7', 'foo-1@7']);
  });
});
