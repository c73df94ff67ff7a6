/**
 * Reconciliation of the consumer group protocol (KIP-848), member side: the
 * CurrentAssignmentBuilder rules on one member (revoke before assign, the
 * epochs it moves through, unreleased partitions, subscription changes, the
 * UNKNOWN state), the epoch checks of a heartbeat (fenced epochs, the previous
 * epoch a member may still send), static members, the target assignment
 * builder, and simulated groups driven through many heartbeats in which no
 * partition is ever owned by two members at once.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import {
  isSubset,
  newConsumerGroupMember,
  sameCurrentAssignment,
  topicPartitions,
  type ConsumerGroupMember,
  type TopicPartitions,
} from '../../src/group/consumer/consumer-group-member.js';
import { reconcileMember, type ReconcileInput } from '../../src/group/consumer/current-assignment-builder.js';
import { checkMemberEpoch, heartbeatKind } from '../../src/group/consumer/epochs.js';
import { MemberState, memberStateFromValue, memberStateName } from '../../src/group/consumer/member-state.js';
import {
  addPartitionEpochs,
  currentPartitionEpoch,
  PartitionEpochError,
  updateMemberPartitionEpochs,
  type PartitionEpochs,
} from '../../src/group/consumer/partition-epochs.js';
import { replaceStaticMember, staticMemberOf, staticMemberTemporaryLeave } from '../../src/group/consumer/static-members.js';
import { buildTargetAssignment } from '../../src/group/consumer/target-assignment-builder.js';
import { heartbeatError, SimCoordinator, stickyAssignor, type HeartbeatResponse } from './consumer-group-sim.js';

const T = 'topic-a-id';
const U = 'topic-b-id';

function tp(entries: Record<string, number[]>): TopicPartitions {
  return topicPartitions(Object.entries(entries));
}

function plain(x: TopicPartitions): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [topicId, ps] of [...x].sort()) out[topicId] = [...ps].sort((a, b) => a - b);
  return out;
}

const free = (): number => -1;

function input(partial: Partial<ReconcileInput> & Pick<ReconcileInput, 'targetAssignmentEpoch' | 'targetAssignment'>): ReconcileInput {
  return { currentPartitionEpoch: free, ownedTopicPartitions: null, ...partial };
}

function member(fields: Partial<ConsumerGroupMember> = {}): ConsumerGroupMember {
  return newConsumerGroupMember('m1', fields);
}

describe('member state', () => {
  it('a stored byte this version does not know reads as UNKNOWN', () => {
    expect(memberStateFromValue(0)).toBe(MemberState.STABLE);
    expect(memberStateFromValue(1)).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(memberStateFromValue(2)).toBe(MemberState.UNRELEASED_PARTITIONS);
    expect(memberStateFromValue(3)).toBe(MemberState.UNKNOWN);
    expect(memberStateName(MemberState.UNREVOKED_PARTITIONS)).toBe('UNREVOKED_PARTITIONS');
  });
});

describe('CurrentAssignmentBuilder rules', () => {
  it('a new member at epoch 0 gets its free target at the target epoch and is STABLE', () => {
    const next = reconcileMember(member(), input({ targetAssignmentEpoch: 3, targetAssignment: tp({ [T]: [0, 1] }), ownedTopicPartitions: new Map() }));
    expect(next.state).toBe(MemberState.STABLE);
    expect(next.memberEpoch).toBe(3);
    expect(next.previousMemberEpoch).toBe(0);
    expect(plain(next.assignedPartitions)).toEqual({ [T]: [0, 1] });
  });

  it('a STABLE member at the target epoch is returned as is (no record to write)', () => {
    const m = member({ memberEpoch: 4, assignedPartitions: tp({ [T]: [0] }) });
    expect(reconcileMember(m, input({ targetAssignmentEpoch: 4, targetAssignment: tp({ [T]: [0] }) }))).toBe(m);
  });

  it('partitions leaving the target are revoked first: the member keeps its epoch and gets nothing new meanwhile', () => {
    const m = member({ memberEpoch: 5, previousMemberEpoch: 4, assignedPartitions: tp({ [T]: [0, 1] }) });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0, 2] }), ownedTopicPartitions: tp({ [T]: [0, 1] }) }));
    expect(next.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(next.memberEpoch).toBe(5);
    expect(plain(next.assignedPartitions)).toEqual({ [T]: [0] });
    expect(plain(next.partitionsPendingRevocation)).toEqual({ [T]: [1] });

    // Still owning partition 1: nothing moves.
    const still = reconcileMember(next, input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0, 2] }), ownedTopicPartitions: tp({ [T]: [0, 1] }) }));
    expect(still).toBe(next);
    // A heartbeat without owned partitions proves nothing either.
    expect(reconcileMember(next, input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0, 2] }) }))).toBe(next);

    // Partition 1 released: the member moves to epoch 6 and gets partition 2.
    const done = reconcileMember(next, input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0, 2] }), ownedTopicPartitions: tp({ [T]: [0] }) }));
    expect(done.state).toBe(MemberState.STABLE);
    expect(done.memberEpoch).toBe(6);
    expect(done.previousMemberEpoch).toBe(5);
    expect(plain(done.assignedPartitions)).toEqual({ [T]: [0, 2] });
    expect(done.partitionsPendingRevocation.size).toBe(0);
  });

  it('revoked partitions the member already gave up do not hold it back', () => {
    const m = member({ memberEpoch: 5, assignedPartitions: tp({ [T]: [0, 1] }) });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0] }), ownedTopicPartitions: tp({ [T]: [0] }) }));
    expect(next.state).toBe(MemberState.STABLE);
    expect(next.memberEpoch).toBe(6);
    expect(plain(next.assignedPartitions)).toEqual({ [T]: [0] });
  });

  it('a partition another member still holds is unreleased: the member moves on without it, then gets it once it is free', () => {
    const owners = new Map([[`${T}-2`, 5]]);
    const epochOf = (topicId: string, p: number): number => owners.get(`${topicId}-${p}`) ?? -1;
    const m = member({ memberEpoch: 5, assignedPartitions: tp({ [T]: [0] }) });
    const target = tp({ [T]: [0, 1, 2] });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 6, targetAssignment: target, currentPartitionEpoch: epochOf, ownedTopicPartitions: tp({ [T]: [0] }) }));
    expect(next.state).toBe(MemberState.UNRELEASED_PARTITIONS);
    expect(next.memberEpoch).toBe(6);
    expect(plain(next.assignedPartitions)).toEqual({ [T]: [0, 1] });

    // Not released yet: same assignment and state. Kafka's updateMemberEpoch still makes the previous epoch 6.
    const waiting = reconcileMember(next, input({ targetAssignmentEpoch: 6, targetAssignment: target, currentPartitionEpoch: epochOf, ownedTopicPartitions: tp({ [T]: [0, 1] }) }));
    expect(waiting.state).toBe(MemberState.UNRELEASED_PARTITIONS);
    expect(plain(waiting.assignedPartitions)).toEqual({ [T]: [0, 1] });
    expect(waiting.previousMemberEpoch).toBe(6);

    // A third heartbeat that changes nothing gives a value with the same record: nothing to write.
    const again = reconcileMember(waiting, input({ targetAssignmentEpoch: 6, targetAssignment: target, currentPartitionEpoch: epochOf, ownedTopicPartitions: tp({ [T]: [0, 1] }) }));
    expect(sameCurrentAssignment(again, waiting)).toBe(true);
    expect(sameCurrentAssignment(next, waiting)).toBe(false);

    owners.delete(`${T}-2`);
    const done = reconcileMember(waiting, input({ targetAssignmentEpoch: 6, targetAssignment: target, currentPartitionEpoch: epochOf, ownedTopicPartitions: tp({ [T]: [0, 1] }) }));
    expect(done.state).toBe(MemberState.STABLE);
    expect(plain(done.assignedPartitions)).toEqual({ [T]: [0, 1, 2] });
  });

  it("the member's own partition pending revocation is not unreleased when its target gives it back", () => {
    const m = member({
      memberEpoch: 5,
      state: MemberState.UNREVOKED_PARTITIONS,
      assignedPartitions: tp({ [T]: [0] }),
      partitionsPendingRevocation: tp({ [T]: [1] }),
    });
    const next = reconcileMember(
      m,
      input({ targetAssignmentEpoch: 7, targetAssignment: tp({ [T]: [0, 1] }), currentPartitionEpoch: () => 5, ownedTopicPartitions: tp({ [T]: [0] }) }),
    );
    expect(next.state).toBe(MemberState.STABLE);
    expect(plain(next.assignedPartitions)).toEqual({ [T]: [0, 1] });
  });

  it('after a revocation, a member that must revoke again moves one epoch on, never past the target (Kafka 4.1)', () => {
    const m = member({
      memberEpoch: 5,
      state: MemberState.UNREVOKED_PARTITIONS,
      assignedPartitions: tp({ [T]: [0, 1] }),
      partitionsPendingRevocation: tp({ [T]: [2] }),
    });
    const next = reconcileMember(m, input({ targetAssignmentEpoch: 8, targetAssignment: tp({ [T]: [0] }), ownedTopicPartitions: tp({ [T]: [0, 1] }) }));
    expect(next.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(next.memberEpoch).toBe(6);
    expect(plain(next.partitionsPendingRevocation)).toEqual({ [T]: [1] });
  });

  it('a topic the member no longer subscribes to has an empty target', () => {
    const m = member({ memberEpoch: 5, assignedPartitions: tp({ [T]: [0], [U]: [0] }) });
    const next = reconcileMember(
      m,
      input({ targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0], [U]: [0] }), subscribedTopicIds: new Set([T]), ownedTopicPartitions: tp({ [T]: [0], [U]: [0] }) }),
    );
    expect(next.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(plain(next.partitionsPendingRevocation)).toEqual({ [U]: [0] });
  });

  it('a subscription change in STABLE takes the unsubscribed topics away at once, without a new target', () => {
    const m = member({ memberEpoch: 6, assignedPartitions: tp({ [T]: [0], [U]: [1] }) });
    const base = { targetAssignmentEpoch: 6, targetAssignment: tp({ [T]: [0], [U]: [1] }), subscriptionChanged: true };
    const next = reconcileMember(m, input({ ...base, subscribedTopicIds: new Set([T]), ownedTopicPartitions: tp({ [T]: [0], [U]: [1] }) }));
    expect(next.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(next.memberEpoch).toBe(6);
    expect(plain(next.assignedPartitions)).toEqual({ [T]: [0] });
    expect(plain(next.partitionsPendingRevocation)).toEqual({ [U]: [1] });

    // Already given up: the assignment just shrinks.
    const shrunk = reconcileMember(m, input({ ...base, subscribedTopicIds: new Set([T]), ownedTopicPartitions: tp({ [T]: [0] }) }));
    expect(shrunk.state).toBe(MemberState.STABLE);
    expect(plain(shrunk.assignedPartitions)).toEqual({ [T]: [0] });

    // Subscribed to nothing: everything is to be revoked.
    const none = reconcileMember(m, input({ ...base, subscribedTopicIds: new Set(), ownedTopicPartitions: tp({ [T]: [0], [U]: [1] }) }));
    expect(none.assignedPartitions.size).toBe(0);
    expect(plain(none.partitionsPendingRevocation)).toEqual({ [T]: [0], [U]: [1] });
  });

  it('a member in UNKNOWN state is fenced unless it owns nothing', () => {
    const m = member({ memberEpoch: 5, state: MemberState.UNKNOWN, assignedPartitions: tp({ [T]: [0] }) });
    const target = { targetAssignmentEpoch: 7, targetAssignment: tp({ [T]: [0, 1] }) };
    expect(heartbeatError(() => reconcileMember(m, input({ ...target, ownedTopicPartitions: tp({ [T]: [0] }) })))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(heartbeatError(() => reconcileMember(m, input({ ...target, ownedTopicPartitions: null })))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    const next = reconcileMember(m, input({ ...target, ownedTopicPartitions: new Map() }));
    expect(next.state).toBe(MemberState.STABLE);
    expect(next.memberEpoch).toBe(7);
  });
});

describe('member epoch checks', () => {
  const m = member({ memberEpoch: 7, previousMemberEpoch: 6, assignedPartitions: tp({ [T]: [0, 1] }) });

  it('the current epoch passes', () => {
    expect(() => checkMemberEpoch(m, 7, tp({ [T]: [0] }))).not.toThrow();
  });

  it('an epoch ahead of the coordinator is FENCED_MEMBER_EPOCH', () => {
    expect(heartbeatError(() => checkMemberEpoch(m, 8, new Map()))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
  });

  it('the previous epoch passes when the owned partitions are a subset of the assignment (a lost response)', () => {
    expect(() => checkMemberEpoch(m, 6, tp({ [T]: [1] }))).not.toThrow();
    expect(() => checkMemberEpoch(m, 6, new Map())).not.toThrow();
  });

  it('the previous epoch with a partition outside the assignment, or without owned partitions, is fenced', () => {
    expect(heartbeatError(() => checkMemberEpoch(m, 6, tp({ [T]: [2] })))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(heartbeatError(() => checkMemberEpoch(m, 6, null))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
  });

  it('an older epoch than the previous one is fenced', () => {
    expect(heartbeatError(() => checkMemberEpoch(m, 5, new Map()))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
  });

  it('what a heartbeat epoch asks for: 0 joins, -1 leaves, -2 is a static leave, below -2 is invalid', () => {
    expect(heartbeatKind(0, null)).toBe('join');
    expect(heartbeatKind(-1, null)).toBe('leave');
    expect(heartbeatKind(-1, 'i')).toBe('leave');
    expect(heartbeatKind(-2, 'i')).toBe('static-leave');
    expect(heartbeatKind(4, null)).toBe('heartbeat');
    expect(heartbeatError(() => heartbeatKind(-2, null))).toBe(ErrorCode.INVALID_REQUEST);
    expect(heartbeatError(() => heartbeatKind(-3, null))).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('isSubset: null (not sent) is never a subset', () => {
    expect(isSubset(null, tp({ [T]: [0] }))).toBe(false);
    expect(isSubset(tp({ [U]: [0] }), tp({ [T]: [0] }))).toBe(false);
  });
});

describe('partition epochs', () => {
  it('refuse a partition held by two members', () => {
    const epochs: PartitionEpochs = new Map();
    updateMemberPartitionEpochs(epochs, null, member({ memberEpoch: 3, assignedPartitions: tp({ [T]: [0] }) }));
    expect(currentPartitionEpoch(epochs, T, 0)).toBe(3);
    expect(currentPartitionEpoch(epochs, T, 1)).toBe(-1);
    expect(() => addPartitionEpochs(epochs, tp({ [T]: [0] }), 4)).toThrow(PartitionEpochError);
  });

  it('hold partitions pending revocation at the member epoch until they are released', () => {
    const epochs: PartitionEpochs = new Map();
    const before = member({ memberEpoch: 3, assignedPartitions: tp({ [T]: [0, 1] }) });
    updateMemberPartitionEpochs(epochs, null, before);
    const revoking = { ...before, state: MemberState.UNREVOKED_PARTITIONS, assignedPartitions: tp({ [T]: [0] }), partitionsPendingRevocation: tp({ [T]: [1] }) };
    updateMemberPartitionEpochs(epochs, before, revoking);
    expect(currentPartitionEpoch(epochs, T, 1)).toBe(3);
    const done = { ...revoking, state: MemberState.STABLE, memberEpoch: 4, partitionsPendingRevocation: new Map() };
    updateMemberPartitionEpochs(epochs, revoking, done);
    expect(currentPartitionEpoch(epochs, T, 1)).toBe(-1);
    expect(currentPartitionEpoch(epochs, T, 0)).toBe(4);
  });
});

describe('static members', () => {
  const old = member({ memberEpoch: 9, previousMemberEpoch: 8, instanceId: 'inst-1', assignedPartitions: tp({ [T]: [0, 1] }) });

  it('an instance id still in use is UNRELEASED_INSTANCE_ID', () => {
    expect(heartbeatError(() => replaceStaticMember('g', old, 'm2'))).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
  });

  it('after a -2 leave the member keeps its assignment, drops pending revocations, and is replaced at epoch 0 with its partitions', () => {
    const away = staticMemberTemporaryLeave({ ...old, partitionsPendingRevocation: tp({ [T]: [2] }) });
    expect(away.memberEpoch).toBe(-2);
    expect(away.partitionsPendingRevocation.size).toBe(0);
    const back = replaceStaticMember('g', away, 'm2');
    expect(back.memberId).toBe('m2');
    expect(back.memberEpoch).toBe(0);
    expect(back.previousMemberEpoch).toBe(0);
    expect(back.instanceId).toBe('inst-1');
    expect(plain(back.assignedPartitions)).toEqual({ [T]: [0, 1] });
  });

  it('a heartbeat with an unknown instance id is UNKNOWN_MEMBER_ID; with another member id, FENCED_INSTANCE_ID', () => {
    expect(heartbeatError(() => staticMemberOf(undefined, 'm1', 'inst-1'))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeatError(() => staticMemberOf(old, 'm2', 'inst-1'))).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(staticMemberOf(old, 'm1', 'inst-1')).toBe(old);
  });
});

describe('TargetAssignmentBuilder', () => {
  const topics = new Map([[T, 4]]);

  it('gives a static member that replaces its departed self the old target, and reports only changed targets', () => {
    const a = newConsumerGroupMember('a', { instanceId: 'inst-a', memberEpoch: -2 });
    const b = newConsumerGroupMember('b');
    const previous = new Map<string, TopicPartitions>([
      ['a', tp({ [T]: [2, 3] })],
      ['b', tp({ [T]: [0, 1] })],
    ]);
    const a2 = replaceStaticMember('g', a, 'a2');
    const result = buildTargetAssignment({
      groupEpoch: 5,
      members: new Map([['b', b]]),
      staticMembers: new Map([['inst-a', 'a']]),
      targetAssignment: previous,
      updatedMembers: new Map([[a2.memberId, a2]]),
      assign: stickyAssignor(topics),
    });
    expect(result.assignmentEpoch).toBe(5);
    expect(plain(result.targetAssignment.get('a2') ?? new Map())).toEqual({ [T]: [2, 3] });
    expect(plain(result.targetAssignment.get('b') ?? new Map())).toEqual({ [T]: [0, 1] });
    expect([...result.changedMembers.keys()]).toEqual(['a2']);
    expect(result.targetAssignment.has('a')).toBe(false);
  });

  it('a removed member drops out and its partitions go to the others', () => {
    const result = buildTargetAssignment({
      groupEpoch: 3,
      members: new Map([
        ['a', newConsumerGroupMember('a')],
        ['b', newConsumerGroupMember('b')],
      ]),
      staticMembers: new Map(),
      targetAssignment: new Map([
        ['a', tp({ [T]: [0, 1] })],
        ['b', tp({ [T]: [2, 3] })],
      ]),
      updatedMembers: new Map([['b', null]]),
      assign: stickyAssignor(topics),
    });
    expect([...result.targetAssignment.keys()]).toEqual(['a']);
    expect(plain(result.targetAssignment.get('a') ?? new Map())).toEqual({ [T]: [0, 1, 2, 3] });
  });
});

/** A client of the simulation: what it owns, its epoch, and whether it is slow to give partitions up. */
interface SimClient {
  readonly memberId: string;
  readonly instanceId?: string;
  epoch: number;
  owned: Map<string, Set<number>>;
  /** Heartbeats left before a pending revocation is done (the slow onPartitionsRevoked of a real client). */
  revokeDelay: number;
  pendingRevocation: TopicPartitions;
  assignment: TopicPartitions;
}

function newClient(memberId: string, instanceId?: string): SimClient {
  return { memberId, ...(instanceId === undefined ? {} : { instanceId }), epoch: 0, owned: new Map(), revokeDelay: 0, pendingRevocation: new Map(), assignment: new Map() };
}

function ownedOf(c: SimClient): TopicPartitions {
  return topicPartitions([...c.owned].map(([t, ps]) => [t, [...ps]] as const));
}

/** The client applies a response: revokes what left its assignment (now, or after `delay` heartbeats), then takes what is new. */
function applyResponse(c: SimClient, res: HeartbeatResponse, delay: number): void {
  c.epoch = res.memberEpoch;
  c.assignment = res.assignment;
  const revoke = new Map<string, Set<number>>();
  for (const [t, ps] of c.owned) for (const p of ps) if (res.assignment.get(t)?.has(p) !== true) revoke.set(t, (revoke.get(t) ?? new Set()).add(p));
  if (revoke.size > 0 && c.pendingRevocation.size === 0) {
    c.pendingRevocation = revoke;
    c.revokeDelay = delay;
  }
  progress(c);
}

function progress(c: SimClient): void {
  if (c.pendingRevocation.size > 0) {
    if (c.revokeDelay > 0) {
      c.revokeDelay -= 1;
      return;
    }
    for (const [t, ps] of c.pendingRevocation) for (const p of ps) c.owned.get(t)?.delete(p);
    c.pendingRevocation = new Map();
  }
  // Only partitions of the current assignment are taken, and only once nothing is left to revoke.
  for (const [t, ps] of c.assignment) for (const p of ps) c.owned.set(t, (c.owned.get(t) ?? new Set()).add(p));
  for (const [t, ps] of [...c.owned]) {
    for (const p of ps) if (c.assignment.get(t)?.has(p) !== true) ps.delete(p);
    if (ps.size === 0) c.owned.delete(t);
  }
}

function heartbeat(coord: SimCoordinator, c: SimClient, delay = 0): HeartbeatResponse {
  const res = coord.heartbeat({ memberId: c.memberId, memberEpoch: c.epoch, owned: ownedOf(c), ...(c.instanceId === undefined ? {} : { instanceId: c.instanceId }) });
  applyResponse(c, res, delay);
  return res;
}

/** No partition is owned by two clients. */
function expectExclusive(clients: Iterable<SimClient>): void {
  const seen = new Map<string, string>();
  for (const c of clients) {
    for (const [t, ps] of c.owned) {
      for (const p of ps) {
        const key = `${t}-${p}`;
        expect(seen.get(key), `${key} owned by ${seen.get(key) ?? ''} and ${c.memberId}`).toBeUndefined();
        seen.set(key, c.memberId);
      }
    }
  }
}

function ownedBy(c: SimClient): Record<string, number[]> {
  return plain(ownedOf(c));
}

describe('heartbeats through a simulated coordinator', () => {
  it('a partition moving from A to B is given to B only after A heartbeats without it', () => {
    const coord = new SimCoordinator('g', new Map([[T, 4]]));
    const a = newClient('a');
    const b = newClient('b');
    heartbeat(coord, a);
    expect(ownedBy(a)).toEqual({ [T]: [0, 1, 2, 3] });
    expect(a.epoch).toBe(1);

    // B joins: epoch 2; its target is half of A's, all still held by A.
    heartbeat(coord, b);
    expect(b.epoch).toBe(2);
    expect(ownedBy(b)).toEqual({});
    expect(coord.members.get('b')?.state).toBe(MemberState.UNRELEASED_PARTITIONS);

    // A learns it must revoke, but is slow (keeps them one more heartbeat): it stays at epoch 1.
    heartbeat(coord, a, 1);
    expect(a.epoch).toBe(1);
    expect(coord.members.get('a')?.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    heartbeat(coord, b);
    expect(ownedBy(b)).toEqual({});

    // A's next heartbeat still owns them (the revocation finishes after it is sent), so B still waits.
    heartbeat(coord, a);
    heartbeat(coord, b);
    expect(ownedBy(b)).toEqual({});
    expectExclusive([a, b]);

    // A reports them released: A moves to epoch 2, and B gets them at its next heartbeat.
    heartbeat(coord, a);
    expect(a.epoch).toBe(2);
    expect(coord.members.get('a')?.state).toBe(MemberState.STABLE);
    heartbeat(coord, b);
    expect(ownedBy(a)).toEqual({ [T]: [0, 1] });
    expect(ownedBy(b)).toEqual({ [T]: [2, 3] });
    expect(coord.members.get('b')?.state).toBe(MemberState.STABLE);
    expectExclusive([a, b]);
  });

  it('epochs advance: group epoch with each join, member epochs up to the assignment epoch', () => {
    const coord = new SimCoordinator('g', new Map([[T, 6]]));
    const clients = ['a', 'b', 'c'].map((id) => newClient(id));
    for (const c of clients) heartbeat(coord, c);
    expect(coord.groupEpoch).toBe(3);
    expect(coord.assignmentEpoch).toBe(3);
    for (let round = 0; round < 4; round++) for (const c of clients) heartbeat(coord, c);
    for (const c of clients) {
      expect(c.epoch).toBe(3);
      expect(coord.members.get(c.memberId)?.state).toBe(MemberState.STABLE);
      expect(Object.values(ownedBy(c)).flat()).toHaveLength(2);
    }
    expectExclusive(clients);
  });

  it('a member that missed the response moving it to a new epoch may send its previous epoch; one that did not revoke is fenced', () => {
    const coord = new SimCoordinator('g', new Map([[T, 4]]));
    const a = newClient('a');
    heartbeat(coord, a);
    const b = newClient('b');
    heartbeat(coord, b);
    heartbeat(coord, a); // told to revoke 2, 3
    expect(coord.members.get('a')?.state).toBe(MemberState.UNREVOKED_PARTITIONS);

    // A revokes, heartbeats, and the response (epoch 2) is lost: A still believes it is at epoch 1.
    const lost = coord.heartbeat({ memberId: 'a', memberEpoch: 1, owned: tp({ [T]: [0, 1] }) });
    expect(lost.memberEpoch).toBe(2);
    a.owned = new Map([[T, new Set([0, 1])]]);
    expect(a.epoch).toBe(1);
    // Its next heartbeat at epoch 1 owns a subset of its assignment: accepted.
    const res = heartbeat(coord, a);
    expect(res.memberEpoch).toBe(2);

    // Another member that missed a revocation and still holds a partition it lost, at an old epoch: fenced.
    const coord2 = new SimCoordinator('g', new Map([[T, 4]]));
    const x = newClient('x');
    heartbeat(coord2, x);
    heartbeat(coord2, newClient('y'));
    heartbeat(coord2, x); // told to revoke, x stays at epoch 1
    coord2.heartbeat({ memberId: 'x', memberEpoch: 1, owned: tp({ [T]: [0, 1] }) }); // x moves to 2, response lost
    expect(heartbeatError(() => coord2.heartbeat({ memberId: 'x', memberEpoch: 1, owned: tp({ [T]: [0, 1, 2] }) }))).toBe(
      ErrorCode.FENCED_MEMBER_EPOCH,
    );
  });

  it('a member that is fenced drops its partitions, and rejoins at epoch 0 once its session has expired', () => {
    const coord = new SimCoordinator('g', new Map([[T, 2]]));
    const a = newClient('a');
    const b = newClient('b');
    heartbeat(coord, a);
    heartbeat(coord, b);
    for (let i = 0; i < 3; i++) {
      heartbeat(coord, a);
      heartbeat(coord, b);
    }
    expect(coord.members.get('a')?.previousMemberEpoch).toBe(1);
    expect(heartbeatError(() => coord.heartbeat({ memberId: 'a', memberEpoch: 5, owned: new Map() }))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    a.owned = new Map();
    a.epoch = 0;
    // Kafka keeps the member until its session expires: a rejoin at epoch 0 under the same id is fenced meanwhile
    // (0 is neither its epoch nor its previous one).
    expect(heartbeatError(() => heartbeat(coord, a))).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    coord.expire('a');
    const res = heartbeat(coord, a);
    expect(res.memberEpoch).toBe(4);
    // Its old partition was freed when it expired: it gets it back at once.
    expect(coord.members.get('a')?.state).toBe(MemberState.STABLE);
    expect(ownedBy(a)).toEqual({ [T]: [0] });
    for (let i = 0; i < 3; i++) {
      heartbeat(coord, b);
      heartbeat(coord, a);
    }
    expect(ownedBy(a)).toEqual({ [T]: [0] });
    expect(ownedBy(b)).toEqual({ [T]: [1] });
  });

  it('a new member whose first response was lost may join again at epoch 0', () => {
    const coord = new SimCoordinator('g', new Map([[T, 2]]));
    coord.heartbeat({ memberId: 'a', memberEpoch: 0, owned: new Map() });
    const res = coord.heartbeat({ memberId: 'a', memberEpoch: 0, owned: new Map() });
    expect(res.memberEpoch).toBe(1);
    expect(coord.groupEpoch).toBe(1);
  });

  it('heartbeats and leaves of an unknown member id are UNKNOWN_MEMBER_ID; a leave frees the partitions for the others', () => {
    const coord = new SimCoordinator('g', new Map([[T, 4]]));
    expect(heartbeatError(() => coord.heartbeat({ memberId: 'z', memberEpoch: 3, owned: new Map() }))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeatError(() => coord.heartbeat({ memberId: 'z', memberEpoch: -1, owned: null }))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const a = newClient('a');
    const b = newClient('b');
    heartbeat(coord, a);
    heartbeat(coord, b);
    for (let i = 0; i < 3; i++) {
      heartbeat(coord, a);
      heartbeat(coord, b);
    }
    expect(ownedBy(b)).toEqual({ [T]: [2, 3] });
    coord.heartbeat({ memberId: 'b', memberEpoch: -1, owned: null });
    b.owned = new Map();
    expect(coord.members.has('b')).toBe(false);
    heartbeat(coord, a);
    expect(ownedBy(a)).toEqual({ [T]: [0, 1, 2, 3] });
    expect(a.epoch).toBe(coord.groupEpoch);
  });

  it('a static member that restarts (leave -2, join under a new member id) gets its partitions back without a rebalance', () => {
    const coord = new SimCoordinator('g', new Map([[T, 4]]));
    const s = newClient('s1', 'inst-s');
    const d = newClient('d');
    heartbeat(coord, s);
    heartbeat(coord, d);
    for (let i = 0; i < 3; i++) {
      heartbeat(coord, s);
      heartbeat(coord, d);
    }
    const before = ownedBy(s);
    const epochBefore = coord.groupEpoch;
    coord.heartbeat({ memberId: 's1', memberEpoch: -2, instanceId: 'inst-s', owned: null });
    expect(coord.members.get('s1')?.memberEpoch).toBe(-2);
    expect(coord.groupEpoch).toBe(epochBefore);

    // While it is away its partitions are not given to anybody.
    heartbeat(coord, d);
    expect(Object.values(ownedBy(d)).flat()).toHaveLength(2);

    // Another process joining with the instance id while the first still holds it is refused.
    const s2 = newClient('s2', 'inst-s');
    heartbeat(coord, s2);
    expect(ownedBy(s2)).toEqual(before);
    expect(coord.members.has('s1')).toBe(false);
    expect(coord.groupEpoch).toBe(epochBefore);
    const s3 = newClient('s3', 'inst-s');
    expect(heartbeatError(() => heartbeat(coord, s3))).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
    // The old member id is fenced by the new one.
    expect(heartbeatError(() => coord.heartbeat({ memberId: 's1', memberEpoch: 3, instanceId: 'inst-s', owned: new Map() }))).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expectExclusive([s2, d]);
  });

  it('a static member leaving with -1 leaves for good: the group epoch moves and its partitions go to the others', () => {
    const coord = new SimCoordinator('g', new Map([[T, 2]]));
    const s = newClient('s1', 'inst-s');
    const d = newClient('d');
    heartbeat(coord, s);
    heartbeat(coord, d);
    for (let i = 0; i < 3; i++) {
      heartbeat(coord, s);
      heartbeat(coord, d);
    }
    coord.heartbeat({ memberId: 's1', memberEpoch: -1, instanceId: 'inst-s', owned: null });
    expect(coord.staticMembers.has('inst-s')).toBe(false);
    heartbeat(coord, d);
    expect(ownedBy(d)).toEqual({ [T]: [0, 1] });
  });

  it('many members joining, leaving, restarting and heartbeating in random order never own a partition twice', () => {
    let seed = 0x2545f491;
    const random = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    const coord = new SimCoordinator('g', new Map([[T, 12], [U, 5]]));
    const clients = new Map<string, SimClient>();
    let next = 0;
    let stableRounds = 0;
    let fenced = 0;
    let restarts = 0;
    const statesSeen = new Set<number>();
    for (let step = 0; step < 4000; step++) {
      const r = random();
      const live = [...clients.values()];
      if ((r < 0.03 && clients.size < 8) || clients.size === 0) {
        const id = `m${next++}`;
        clients.set(id, newClient(id, random() < 0.3 ? `inst-${id}` : undefined));
      } else if (r < 0.04 && live.length > 0) {
        // A member leaves (-1), having given up its partitions.
        const c = live[Math.floor(random() * live.length)];
        if (c === undefined) continue;
        if (!coord.members.has(c.memberId)) {
          clients.delete(c.memberId); // never joined: nothing to say
          continue;
        }
        coord.heartbeat({ memberId: c.memberId, memberEpoch: -1, owned: null, ...(c.instanceId === undefined ? {} : { instanceId: c.instanceId }) });
        clients.delete(c.memberId);
      } else if (r < 0.05 && live.length > 0) {
        // A member dies: it stops at once; its session expires later (here: now) and its partitions are free.
        const c = live[Math.floor(random() * live.length)];
        if (c === undefined) continue;
        clients.delete(c.memberId);
        coord.expire(c.memberId);
      } else if (r < 0.055) {
        // A static member restarts: -2, then a new process joins with the same instance id.
        const c = live.find((x) => x.instanceId !== undefined && coord.members.has(x.memberId));
        if (c === undefined || c.instanceId === undefined) continue;
        coord.heartbeat({ memberId: c.memberId, memberEpoch: -2, instanceId: c.instanceId, owned: null });
        restarts++;
        clients.delete(c.memberId);
        const id = `m${next++}`;
        clients.set(id, newClient(id, c.instanceId));
      } else {
        const c = live[Math.floor(random() * live.length)];
        if (c === undefined) continue;
        const lose = random() < 0.05;
        let res: HeartbeatResponse;
        try {
          res = coord.heartbeat({
            memberId: c.memberId,
            memberEpoch: c.epoch,
            owned: ownedOf(c),
            ...(c.instanceId === undefined ? {} : { instanceId: c.instanceId }),
          });
        } catch (err) {
          // Fenced (it lost responses and fell behind): the client drops everything and its session expires.
          if (!(err instanceof KafkaError) || err.code !== ErrorCode.FENCED_MEMBER_EPOCH) throw err;
          fenced++;
          clients.delete(c.memberId);
          coord.expire(c.memberId);
          continue;
        }
        if (lose) {
          // The response is lost; the client's revocation, if it had one running, still goes on.
          if (c.pendingRevocation.size === 0) {
            // nothing to do: it heartbeats again with what it has
          } else progress(c);
        } else {
          applyResponse(c, res, random() < 0.3 ? Math.floor(random() * 3) : 0);
        }
      }
      expectExclusive(clients.values());
      for (const m of coord.members.values()) statesSeen.add(m.state);
      const allStable = [...coord.members.values()].every((m) => m.state === MemberState.STABLE && m.memberEpoch === coord.assignmentEpoch);
      if (allStable) stableRounds++;
    }
    // The group does settle between changes.
    expect(stableRounds).toBeGreaterThan(100);
    expect(next).toBeGreaterThan(5);
    expect(fenced).toBeGreaterThan(0);
    expect(restarts).toBeGreaterThan(0);
    expect([...statesSeen].sort()).toEqual([MemberState.STABLE, MemberState.UNREVOKED_PARTITIONS, MemberState.UNRELEASED_PARTITIONS]);
  });
});
