/**
 * A consumer group (KIP-848) in `__consumer_offsets`: the records that say
 * what changed in a ConsumerGroup (consumer-group.ts), and the groups rebuilt
 * from them when the partition loads. The bytes are consumer-group-records.ts'.
 *
 * What is written, as Kafka 4.x's GroupMetadataManager writes it:
 * - a member joins or changes its subscription (or other metadata): its
 *   ConsumerGroupMemberMetadata, then the group's ConsumerGroupMetadata with
 *   the new group epoch;
 * - a new target assignment: a ConsumerGroupTargetAssignmentMember for each
 *   member whose target changed, then ConsumerGroupTargetAssignmentMetadata;
 * - a reconciliation that changed the member: its
 *   ConsumerGroupCurrentMemberAssignment;
 * - a member removed: tombstones of its current assignment, target and
 *   metadata, then the group's metadata with the bumped epoch;
 * - the group's regular expressions resolved (consumer/regex-subscription.ts):
 *   a ConsumerGroupRegularExpression for each, after the member's metadata and
 *   before the group's; the tombstone of one no member subscribes to any more;
 * - a group deleted: tombstones of its target metadata, regular expressions
 *   and metadata.
 * A current assignment record carries, for each topic, the epoch each
 * partition was assigned at (KIP-1251, Kafka 4.3's tag 0, aligned with the
 * partitions). A record without them (Kafka before 4.3, Gregor before it
 * wrote them), or with a count that does not match, reads with that topic's
 * partitions at the record's member epoch, never below 0, as Kafka: an offset
 * commit of the member is then checked strictly against its epoch, as before.
 * A classic member's metadata record carries its ClassicMemberMetadata (its
 * session timeout and JoinGroup protocols); the conversions between a
 * classic and a consumer group write what group-migration.ts says.
 *
 * As the classic groups, the group in memory is the authority and its
 * records are written with `replayRecords: false`; replay only happens at load.
 *
 * The metadata hash: Kafka 4.1+ writes a hash of the subscribed topics'
 * metadata; here it is a 64-bit hash of the names, ids and partition counts
 * (not Kafka's algorithm: a group loaded from Kafka's log sees a difference
 * once, and its epoch bumps at the next heartbeat, recomputing a target the
 * sticky assignor keeps as it was). Partition-metadata records (Kafka ≤ 4.0)
 * are read and ignored. A loaded group's regular expressions are resolved
 * again at its first heartbeat (the versions in their records are another
 * process's).
 */
import { createHash } from 'node:crypto';
import {
  assignmentEpochOf,
  newConsumerGroupMember,
  type AssignmentEpochs,
  type ClassicMemberMetadata,
  topicPartitions,
  type ConsumerGroupMember,
  type TopicPartitions,
} from './consumer/consumer-group-member.js';
import { memberStateFromValue } from './consumer/member-state.js';
import type { ResolvedRegularExpression } from './consumer/regex-subscription.js';
import { ConsumerGroup } from './consumer-group.js';
import type { AssignedTopicPartitions, ConsumerGroupRecord, TopicIdPartitions } from './consumer-group-records.js';

/** A 64-bit hash of the subscribed topics' metadata signature (see above). */
export function metadataHashOf(signature: string): bigint {
  if (signature === '') return 0n;
  return createHash('sha256').update(signature).digest().readBigInt64BE(0);
}

function idPartitions(tp: TopicPartitions): TopicIdPartitions[] {
  return [...tp].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((a, b) => a - b) }));
}

/** The member's partitions of `tp` with the epoch each was assigned at. */
function assigned(m: ConsumerGroupMember, tp: TopicPartitions): AssignedTopicPartitions[] {
  return idPartitions(tp).map((t) => ({ ...t, assignmentEpochs: t.partitions.map((p) => assignmentEpochOf(m, t.topicId, p) ?? m.memberEpoch) }));
}

/** The assignment epochs of a record's partitions; a topic without them (or not one per partition) at `defaultEpoch`. */
function assignmentEpochsOf(lists: ReadonlyArray<readonly AssignedTopicPartitions[]>, defaultEpoch: number): AssignmentEpochs {
  const epochs = new Map<string, Map<number, number>>();
  for (const list of lists) {
    for (const t of list) {
      const known = t.assignmentEpochs !== null && t.assignmentEpochs.length === t.partitions.length ? t.assignmentEpochs : null;
      let topic = epochs.get(t.topicId);
      if (topic === undefined) epochs.set(t.topicId, (topic = new Map()));
      t.partitions.forEach((p, i) => topic.set(p, known?.[i] ?? defaultEpoch));
    }
  }
  return epochs;
}

function fromIdPartitions(list: readonly TopicIdPartitions[]): TopicPartitions {
  return topicPartitions(list.map((t) => [t.topicId, t.partitions] as const));
}

export function groupEpochRecord(group: ConsumerGroup): ConsumerGroupRecord {
  return { type: 'consumer-group-metadata', group: group.groupId, value: { epoch: group.groupEpoch, metadataHash: group.metadataHash } };
}

export function memberMetadataRecord(groupId: string, m: ConsumerGroupMember): ConsumerGroupRecord {
  return {
    type: 'consumer-group-member-metadata',
    group: groupId,
    memberId: m.memberId,
    value: {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: [...m.subscribedTopicNames],
      subscribedTopicRegex: m.subscribedTopicRegex === '' ? null : m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignorName,
      classicMemberMetadata: m.classicMemberMetadata,
    },
  };
}

export function targetMemberRecord(groupId: string, memberId: string, target: TopicPartitions): ConsumerGroupRecord {
  return { type: 'consumer-group-target-assignment-member', group: groupId, memberId, value: { topicPartitions: idPartitions(target) } };
}

export function targetMetadataRecord(group: ConsumerGroup, now: number): ConsumerGroupRecord {
  return { type: 'consumer-group-target-assignment-metadata', group: group.groupId, value: { assignmentEpoch: group.assignmentEpoch, assignmentTimestamp: now } };
}

export function currentAssignmentRecord(groupId: string, m: ConsumerGroupMember): ConsumerGroupRecord {
  return {
    type: 'consumer-group-current-member-assignment',
    group: groupId,
    memberId: m.memberId,
    value: {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assignedPartitions: assigned(m, m.assignedPartitions),
      partitionsPendingRevocation: assigned(m, m.partitionsPendingRevocation),
    },
  };
}

/** The tombstones of a removed member, in Kafka's order. */
export function memberTombstones(groupId: string, memberId: string): ConsumerGroupRecord[] {
  return [
    { type: 'consumer-group-current-member-assignment', group: groupId, memberId, value: null },
    { type: 'consumer-group-target-assignment-member', group: groupId, memberId, value: null },
    { type: 'consumer-group-member-metadata', group: groupId, memberId, value: null },
  ];
}

export function regularExpressionRecord(groupId: string, regularExpression: string, resolved: ResolvedRegularExpression): ConsumerGroupRecord {
  return {
    type: 'consumer-group-regular-expression',
    group: groupId,
    regularExpression,
    value: { topics: [...resolved.topics].sort(), version: resolved.version, timestamp: resolved.timestamp },
  };
}

export function regularExpressionTombstone(groupId: string, regularExpression: string): ConsumerGroupRecord {
  return { type: 'consumer-group-regular-expression', group: groupId, regularExpression, value: null };
}

/** The tombstones of a deleted (empty) group, with those of the regular expressions it still has resolved. */
export function groupTombstones(groupId: string, regularExpressions: Iterable<string> = []): ConsumerGroupRecord[] {
  return [
    { type: 'consumer-group-target-assignment-metadata', group: groupId, value: null },
    ...[...regularExpressions].map((r) => regularExpressionTombstone(groupId, r)),
    { type: 'consumer-group-metadata', group: groupId, value: null },
  ];
}

/** Whether two values of a member hold the same ConsumerGroupMemberMetadata record. */
export function sameMemberMetadata(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.rackId === b.rackId &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    a.rebalanceTimeoutMs === b.rebalanceTimeoutMs &&
    a.serverAssignorName === b.serverAssignorName &&
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.subscribedTopicNames.size === b.subscribedTopicNames.size &&
    [...a.subscribedTopicNames].every((t) => b.subscribedTopicNames.has(t)) &&
    sameClassicMetadata(a.classicMemberMetadata, b.classicMemberMetadata)
  );
}

function sameClassicMetadata(a: ClassicMemberMetadata | null, b: ClassicMemberMetadata | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.sessionTimeoutMs === b.sessionTimeoutMs &&
    a.supportedProtocols.length === b.supportedProtocols.length &&
    a.supportedProtocols.every((p, i) => p.name === b.supportedProtocols[i]!.name && p.metadata.equals(b.supportedProtocols[i]!.metadata))
  );
}

interface LoadingGroup {
  epoch: number;
  metadataHash: bigint;
  assignmentEpoch: number;
  readonly members: Map<string, ConsumerGroupMember>;
  /** The members with a ConsumerGroupMemberMetadata record: the others are gone. */
  readonly withMetadata: Set<string>;
  readonly target: Map<string, TopicPartitions>;
  readonly resolved: Map<string, ResolvedRegularExpression>;
}

/**
 * The consumer groups `records` (in log order) leave, with their members, targets and current assignments.
 * `problem` hears of a group whose partitions a loaded member's assignment would give two owners: that
 * group is left out (its members rejoin).
 */
export function replayConsumerGroups(records: readonly ConsumerGroupRecord[], problem: (groupId: string, err: Error) => void): ConsumerGroup[] {
  const loading = new Map<string, LoadingGroup>();
  const of = (groupId: string): LoadingGroup => {
    let g = loading.get(groupId);
    if (g === undefined) loading.set(groupId, (g = { epoch: 0, metadataHash: 0n, assignmentEpoch: 0, members: new Map(), withMetadata: new Set(), target: new Map(), resolved: new Map() }));
    return g;
  };
  for (const r of records) {
    switch (r.type) {
      case 'consumer-group-metadata':
        if (r.value === null) loading.delete(r.group);
        else Object.assign(of(r.group), { epoch: r.value.epoch, metadataHash: r.value.metadataHash });
        break;
      case 'consumer-group-member-metadata': {
        const g = of(r.group);
        if (r.value === null) {
          g.members.delete(r.memberId);
          g.withMetadata.delete(r.memberId);
          break;
        }
        g.withMetadata.add(r.memberId);
        const v = r.value;
        g.members.set(r.memberId, {
          ...(g.members.get(r.memberId) ?? newConsumerGroupMember(r.memberId)),
          instanceId: v.instanceId,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: new Set(v.subscribedTopicNames),
          subscribedTopicRegex: v.subscribedTopicRegex ?? '',
          rebalanceTimeoutMs: v.rebalanceTimeoutMs,
          serverAssignorName: v.serverAssignor,
          classicMemberMetadata: v.classicMemberMetadata,
        });
        break;
      }
      case 'consumer-group-target-assignment-metadata':
        if (r.value !== null) of(r.group).assignmentEpoch = r.value.assignmentEpoch;
        break;
      case 'consumer-group-target-assignment-member':
        if (r.value === null) loading.get(r.group)?.target.delete(r.memberId);
        else of(r.group).target.set(r.memberId, fromIdPartitions(r.value.topicPartitions));
        break;
      case 'consumer-group-current-member-assignment': {
        const g = loading.get(r.group);
        if (r.value === null) {
          const m = g?.members.get(r.memberId);
          if (m !== undefined) g!.members.set(r.memberId, { ...newConsumerGroupMember(r.memberId), ...metadataOf(m) });
          break;
        }
        const group = of(r.group);
        const v = r.value;
        group.members.set(r.memberId, {
          ...(group.members.get(r.memberId) ?? newConsumerGroupMember(r.memberId)),
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: memberStateFromValue(v.state),
          assignedPartitions: fromIdPartitions(v.assignedPartitions),
          partitionsPendingRevocation: fromIdPartitions(v.partitionsPendingRevocation),
          // a static member away (-2) in a record without epochs: 0, as Kafka
          assignmentEpochs: assignmentEpochsOf([v.assignedPartitions, v.partitionsPendingRevocation], Math.max(v.memberEpoch, 0)),
        });
        break;
      }
      case 'consumer-group-regular-expression':
        if (r.value === null) loading.get(r.group)?.resolved.delete(r.regularExpression);
        else of(r.group).resolved.set(r.regularExpression, { topics: new Set(r.value.topics), version: r.value.version, timestamp: r.value.timestamp });
        break;
      default:
        break;
    }
  }
  const groups: ConsumerGroup[] = [];
  for (const [groupId, g] of loading) {
    const group = new ConsumerGroup(groupId);
    // the group epoch is never behind the assignment epoch (a metadata record skipped at load would leave it so)
    group.groupEpoch = Math.max(g.epoch, g.assignmentEpoch);
    group.metadataHash = g.metadataHash;
    group.assignmentEpoch = g.assignmentEpoch;
    for (const [regex, resolved] of g.resolved) group.resolvedRegularExpressions.set(regex, resolved);
    try {
      // a member whose metadata was removed is gone, whatever of its assignment records is left
      for (const m of g.members.values()) if (g.withMetadata.has(m.memberId)) group.putMember(m);
      for (const [memberId, target] of g.target) if (group.members.has(memberId)) group.target.set(memberId, target);
      groups.push(group);
    } catch (err) {
      problem(groupId, err as Error);
    }
  }
  return groups;
}

function metadataOf(m: ConsumerGroupMember): Partial<ConsumerGroupMember> {
  const { instanceId, rackId, clientId, clientHost, subscribedTopicNames, subscribedTopicRegex, rebalanceTimeoutMs, serverAssignorName, classicMemberMetadata } = m;
  return { instanceId, rackId, clientId, clientHost, subscribedTopicNames, subscribedTopicRegex, rebalanceTimeoutMs, serverAssignorName, classicMemberMetadata };
}
