/**
 * The target assignment of a consumer group (KIP-848) at a new group epoch
 * (Kafka's TargetAssignmentBuilder, modern/). When a heartbeat finds the group
 * epoch ahead of the assignment epoch, the coordinator runs the group's
 * assignor over every member and what each has as target now, and writes a
 * ConsumerGroupTargetAssignmentMember record for each member whose target
 * changed, then the ConsumerGroupTargetAssignmentMetadata record with the new
 * assignment epoch (= the group epoch).
 *
 * 1. Every member of the group is given to the assignor with its current
 *    target (empty for a new member).
 * 2. The members this heartbeat adds, updates or removes (updatedMembers:
 *    null removes) replace the group's view. A member that joins with the
 *    instance id of another member id (a static member replacing its departed
 *    self, static-members.ts) starts from that member's target, so the assignor
 *    — which keeps current targets where it can — gives it the same partitions.
 * 3. The result's delta against the previous targets is what is written.
 *
 * The assignor itself (uniform, range) is another module's; here it is a
 * function from member specs to targets, so this module has no opinion on it.
 */
import { EMPTY_TOPIC_PARTITIONS, topicPartitionsEqual, type ConsumerGroupMember, type TopicPartitions } from './consumer-group-member.js';

/** What the assignor is told about one member. */
export interface AssignmentMemberSpec {
  readonly member: ConsumerGroupMember;
  /** The member's target before this computation (its "current assignment" for a sticky assignor). */
  readonly currentTarget: TopicPartitions;
}

/** The group's assignor, seen from here: member id → spec in, member id → target out. */
export type AssignFunction = (members: ReadonlyMap<string, AssignmentMemberSpec>) => ReadonlyMap<string, TopicPartitions>;

export interface TargetAssignmentInput {
  readonly groupEpoch: number;
  readonly members: ReadonlyMap<string, ConsumerGroupMember>;
  /** Instance id → member id of the group's static members. */
  readonly staticMembers: ReadonlyMap<string, string>;
  /** Member id → target at the previous assignment epoch. */
  readonly targetAssignment: ReadonlyMap<string, TopicPartitions>;
  /** Members added or changed by this heartbeat; null for a member removed. */
  readonly updatedMembers?: ReadonlyMap<string, ConsumerGroupMember | null>;
  readonly assign: AssignFunction;
}

export interface TargetAssignmentResult {
  /** The new assignment epoch: the group epoch it was computed at. */
  readonly assignmentEpoch: number;
  /** Member id → target, for every member of the group. */
  readonly targetAssignment: ReadonlyMap<string, TopicPartitions>;
  /** The members whose target differs from before (one TargetAssignmentMember record each). */
  readonly changedMembers: ReadonlyMap<string, TopicPartitions>;
}

export function buildTargetAssignment(input: TargetAssignmentInput): TargetAssignmentResult {
  const specs = new Map<string, AssignmentMemberSpec>();
  for (const [memberId, member] of input.members) {
    specs.set(memberId, { member, currentTarget: input.targetAssignment.get(memberId) ?? EMPTY_TOPIC_PARTITIONS });
  }
  for (const [memberId, member] of input.updatedMembers ?? []) {
    if (member === null) {
      specs.delete(memberId);
      continue;
    }
    let currentTarget = input.targetAssignment.get(memberId) ?? EMPTY_TOPIC_PARTITIONS;
    if (member.instanceId !== null) {
      const previousMemberId = input.staticMembers.get(member.instanceId);
      if (previousMemberId !== undefined && previousMemberId !== memberId) {
        currentTarget = input.targetAssignment.get(previousMemberId) ?? EMPTY_TOPIC_PARTITIONS;
      }
    }
    specs.set(memberId, { member, currentTarget });
  }

  const assigned = input.assign(specs);
  const targetAssignment = new Map<string, TopicPartitions>();
  const changedMembers = new Map<string, TopicPartitions>();
  for (const memberId of specs.keys()) {
    const target = assigned.get(memberId) ?? EMPTY_TOPIC_PARTITIONS;
    targetAssignment.set(memberId, target);
    const before = input.targetAssignment.get(memberId);
    if (before === undefined || !topicPartitionsEqual(before, target)) changedMembers.set(memberId, target);
  }
  return { assignmentEpoch: input.groupEpoch, targetAssignment, changedMembers };
}
