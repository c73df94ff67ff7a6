/**
 * A small consumer-group coordinator for the reconciliation tests: it strings
 * the src/group/consumer/ pieces together the way Kafka's GroupMetadataManager
 * handles a ConsumerGroupHeartbeat (leave; get or create the member and check
 * its epoch; bump the group epoch for a new member; recompute the target when
 * the group epoch is ahead; reconcile), with a sticky round-robin assignor
 * over fixed topics. Not the broker's coordinator: that one writes records;
 * this one keeps the same state in memory so tests can drive many heartbeats.
 */
import { KafkaError } from '../../protocol/index.js';
import {
  newConsumerGroupMember,
  topicPartitions,
  type ConsumerGroupMember,
  type TopicPartitions,
} from '../../src/group/consumer/consumer-group-member.js';
import { reconcileMember } from '../../src/group/consumer/current-assignment-builder.js';
import { checkMemberEpoch, heartbeatKind, unknownMember } from '../../src/group/consumer/epochs.js';
import { currentPartitionEpoch, updateMemberPartitionEpochs, type PartitionEpochs } from '../../src/group/consumer/partition-epochs.js';
import { replaceStaticMember, staticMemberOf, staticMemberTemporaryLeave } from '../../src/group/consumer/static-members.js';
import { buildTargetAssignment, type AssignFunction } from '../../src/group/consumer/target-assignment-builder.js';

export interface HeartbeatRequest {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly instanceId?: string;
  /** null: the heartbeat does not carry its owned partitions. */
  readonly owned: TopicPartitions | null;
}

export interface HeartbeatResponse {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly assignment: TopicPartitions;
}

/** Balanced and sticky: each member keeps what its current target has, up to its quota; the rest go round. */
export function stickyAssignor(topics: ReadonlyMap<string, number>): AssignFunction {
  return (specs) => {
    const result = new Map<string, TopicPartitions>();
    const ids = [...specs.keys()].sort();
    if (ids.length === 0) return result;
    const all: [string, number][] = [];
    for (const [topicId, count] of [...topics].sort()) for (let p = 0; p < count; p++) all.push([topicId, p]);
    const base = Math.floor(all.length / ids.length);
    const extra = all.length % ids.length;
    const quota = new Map(ids.map((id, i) => [id, base + (i < extra ? 1 : 0)]));
    const taken = new Set<string>();
    const picks = new Map<string, [string, number][]>(ids.map((id) => [id, []]));
    for (const id of ids) {
      const mine = picks.get(id) ?? [];
      for (const [topicId, partitions] of specs.get(id)?.currentTarget ?? []) {
        for (const p of [...partitions].sort((a, b) => a - b)) {
          const key = `${topicId}-${p}`;
          if (mine.length < (quota.get(id) ?? 0) && !taken.has(key) && p < (topics.get(topicId) ?? 0)) {
            mine.push([topicId, p]);
            taken.add(key);
          }
        }
      }
    }
    for (const [topicId, p] of all) {
      if (taken.has(`${topicId}-${p}`)) continue;
      const id = ids.find((m) => (picks.get(m)?.length ?? 0) < (quota.get(m) ?? 0));
      if (id === undefined) break;
      picks.get(id)?.push([topicId, p]);
    }
    for (const [id, list] of picks) result.set(id, topicPartitions(list.map(([t, p]) => [t, [p]] as const)));
    return result;
  };
}

export class SimCoordinator {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  readonly staticMembers = new Map<string, string>();
  target = new Map<string, TopicPartitions>();
  readonly partitionEpochs: PartitionEpochs = new Map();
  private readonly assign: AssignFunction;

  constructor(
    readonly groupId: string,
    topics: ReadonlyMap<string, number>,
  ) {
    this.assign = stickyAssignor(topics);
  }

  heartbeat(req: HeartbeatRequest): HeartbeatResponse {
    const instanceId = req.instanceId ?? null;
    const kind = heartbeatKind(req.memberEpoch, instanceId);
    if (kind === 'leave' || kind === 'static-leave') return this.leave(req, kind);

    let member: ConsumerGroupMember;
    let replacedMemberId: string | null = null;
    let isNew = false;
    if (instanceId === null) {
      const existing = this.members.get(req.memberId);
      if (existing === undefined) {
        if (kind !== 'join') throw unknownMember(this.groupId, req.memberId);
        member = newConsumerGroupMember(req.memberId);
        isNew = true;
      } else {
        member = existing;
      }
      checkMemberEpoch(member, req.memberEpoch, req.owned);
    } else {
      const existingId = this.staticMembers.get(instanceId);
      const existing = existingId === undefined ? undefined : this.members.get(existingId);
      if (kind === 'join') {
        if (existing === undefined) {
          member = newConsumerGroupMember(req.memberId, { instanceId });
          isNew = true;
        } else if (existing.memberId === req.memberId) {
          member = existing;
          checkMemberEpoch(member, req.memberEpoch, req.owned);
        } else {
          member = replaceStaticMember(this.groupId, existing, req.memberId);
          replacedMemberId = existing.memberId;
          this.removeMember(existing.memberId);
          this.putMember(member);
        }
      } else {
        member = staticMemberOf(existing, req.memberId, instanceId);
        checkMemberEpoch(member, req.memberEpoch, req.owned);
      }
    }

    // A new member is a subscription change: the group epoch moves (so does a new group's, from 0).
    if (isNew || this.groupEpoch === 0) this.groupEpoch += 1;

    if (this.groupEpoch > this.assignmentEpoch) {
      const updated = new Map<string, ConsumerGroupMember | null>([[member.memberId, member]]);
      const staticMembers = new Map(this.staticMembers);
      if (replacedMemberId !== null && instanceId !== null) staticMembers.set(instanceId, replacedMemberId);
      const previousTargets = new Map(this.target);
      const result = buildTargetAssignment({
        groupEpoch: this.groupEpoch,
        members: this.members,
        staticMembers,
        targetAssignment: previousTargets,
        updatedMembers: updated,
        assign: this.assign,
      });
      this.target = new Map(result.targetAssignment);
      this.assignmentEpoch = result.assignmentEpoch;
    } else if (replacedMemberId !== null) {
      const previous = this.target.get(replacedMemberId);
      this.target.delete(replacedMemberId);
      if (previous !== undefined) this.target.set(member.memberId, previous);
    }

    const next = reconcileMember(member, {
      targetAssignmentEpoch: this.assignmentEpoch,
      targetAssignment: this.target.get(member.memberId) ?? new Map(),
      currentPartitionEpoch: (topicId, partition) => currentPartitionEpoch(this.partitionEpochs, topicId, partition),
      ownedTopicPartitions: req.owned,
    });
    this.putMember(next);
    return { memberId: next.memberId, memberEpoch: next.memberEpoch, assignment: next.assignedPartitions };
  }

  /** The member's session expired (or its rebalance timeout): it is fenced out and the group epoch moves. */
  expire(memberId: string): void {
    this.removeMember(memberId);
    this.target.delete(memberId);
    this.groupEpoch += 1;
  }

  private leave(req: HeartbeatRequest, kind: 'leave' | 'static-leave'): HeartbeatResponse {
    let member: ConsumerGroupMember;
    if (req.instanceId === undefined) {
      const existing = this.members.get(req.memberId);
      if (existing === undefined) throw unknownMember(this.groupId, req.memberId);
      member = existing;
    } else {
      const existingId = this.staticMembers.get(req.instanceId);
      member = staticMemberOf(existingId === undefined ? undefined : this.members.get(existingId), req.memberId, req.instanceId);
    }
    if (kind === 'static-leave') this.putMember(staticMemberTemporaryLeave(member));
    else this.expire(member.memberId);
    return { memberId: req.memberId, memberEpoch: req.memberEpoch, assignment: new Map() };
  }

  private putMember(member: ConsumerGroupMember): void {
    updateMemberPartitionEpochs(this.partitionEpochs, this.members.get(member.memberId) ?? null, member);
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
  }

  private removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (member === undefined) return;
    updateMemberPartitionEpochs(this.partitionEpochs, member, null);
    this.members.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) this.staticMembers.delete(member.instanceId);
  }
}

/** The error code a heartbeat failed with, or undefined when it succeeded. */
export function heartbeatError(f: () => unknown): number | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }
}
