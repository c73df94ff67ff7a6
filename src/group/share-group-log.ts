/**
 * A share group (KIP-932) in `__consumer_offsets`: the records that say what
 * changed in a ShareGroup (share-group.ts), and the groups rebuilt from them
 * when the partition loads. The bytes are share-group-records.ts'.
 *
 * What is written, as Kafka 4.x's GroupMetadataManager writes it:
 * - a member joins or changes its subscription (or rack, client): its
 *   ShareGroupMemberMetadata, then the group's ShareGroupMetadata with the
 *   new group epoch;
 * - a new target assignment: a ShareGroupTargetAssignmentMember for each
 *   member whose target changed, then ShareGroupTargetAssignmentMetadata;
 * - a member moved to a new epoch: its ShareGroupCurrentMemberAssignment;
 * - share-partitions asked to be initialized, or initialized: the group's
 *   ShareGroupStatePartitionMetadata (the whole of it, each time);
 * - a member removed: tombstones of its current assignment, target and
 *   metadata, then the group's metadata with the bumped epoch;
 * - a group deleted: tombstones of its state partition metadata, target
 *   metadata and metadata.
 *
 * As for consumer groups, the group in memory is the authority and the
 * records are written with `replayRecords: false`; replay only happens at load.
 * The metadata hash is consumer-group-log.ts' (not Kafka's algorithm).
 */
import { topicPartitions, type TopicPartitions } from './consumer/consumer-group-member.js';
import { memberStateFromValue } from './consumer/member-state.js';
import { newShareGroupMember, type ShareGroupMember } from './share/share-group-member.js';
import { ShareGroup, type StateTopic } from './share-group.js';
import type { ShareGroupRecord, ShareTopicIdPartitions, ShareTopicPartitionsInfo } from './share-group-records.js';

function idPartitions(tp: TopicPartitions): ShareTopicIdPartitions[] {
  return [...tp].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((a, b) => a - b) }));
}

function fromIdPartitions(list: readonly ShareTopicIdPartitions[]): TopicPartitions {
  return topicPartitions(list.map((t) => [t.topicId, t.partitions] as const));
}

export function shareGroupEpochRecord(group: ShareGroup): ShareGroupRecord {
  return { type: 'share-group-metadata', group: group.groupId, value: { epoch: group.groupEpoch, metadataHash: group.metadataHash } };
}

export function shareMemberMetadataRecord(groupId: string, m: ShareGroupMember): ShareGroupRecord {
  return {
    type: 'share-group-member-metadata',
    group: groupId,
    memberId: m.memberId,
    value: { rackId: m.rackId, clientId: m.clientId, clientHost: m.clientHost, subscribedTopicNames: [...m.subscribedTopicNames] },
  };
}

export function shareTargetMemberRecord(groupId: string, memberId: string, target: TopicPartitions): ShareGroupRecord {
  return { type: 'share-group-target-assignment-member', group: groupId, memberId, value: { topicPartitions: idPartitions(target) } };
}

export function shareTargetMetadataRecord(group: ShareGroup): ShareGroupRecord {
  return { type: 'share-group-target-assignment-metadata', group: group.groupId, value: { assignmentEpoch: group.assignmentEpoch } };
}

export function shareCurrentAssignmentRecord(groupId: string, m: ShareGroupMember): ShareGroupRecord {
  return {
    type: 'share-group-current-member-assignment',
    group: groupId,
    memberId: m.memberId,
    value: { memberEpoch: m.memberEpoch, previousMemberEpoch: m.previousMemberEpoch, state: m.state, assignedPartitions: idPartitions(m.assignedPartitions) },
  };
}

function stateTopicsOut(topics: ReadonlyMap<string, StateTopic>): ShareTopicPartitionsInfo[] {
  return [...topics].map(([topicId, t]) => ({ topicId, topicName: t.topicName, partitions: [...t.partitions].sort((a, b) => a - b), createTimestamp: t.createTimestamp }));
}

export function shareStatePartitionMetadataRecord(group: ShareGroup): ShareGroupRecord {
  return {
    type: 'share-group-state-partition-metadata',
    group: group.groupId,
    value: {
      initializingTopics: stateTopicsOut(group.initializing),
      initializedTopics: stateTopicsOut(group.initialized),
      deletingTopics: [...group.deleting].map(([topicId, topicName]) => ({ topicId, topicName })),
    },
  };
}

/** The tombstones of a removed member, in Kafka's order. */
export function shareMemberTombstones(groupId: string, memberId: string): ShareGroupRecord[] {
  return [
    { type: 'share-group-current-member-assignment', group: groupId, memberId, value: null },
    { type: 'share-group-target-assignment-member', group: groupId, memberId, value: null },
    { type: 'share-group-member-metadata', group: groupId, memberId, value: null },
  ];
}

/** The tombstones of a deleted (empty) group. */
export function shareGroupTombstones(groupId: string): ShareGroupRecord[] {
  return [
    { type: 'share-group-state-partition-metadata', group: groupId, value: null },
    { type: 'share-group-target-assignment-metadata', group: groupId, value: null },
    { type: 'share-group-metadata', group: groupId, value: null },
  ];
}

/** Whether two values of a member hold the same ShareGroupMemberMetadata record. */
export function sameShareMemberMetadata(a: ShareGroupMember, b: ShareGroupMember): boolean {
  return (
    a.rackId === b.rackId &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    a.subscribedTopicNames.size === b.subscribedTopicNames.size &&
    [...a.subscribedTopicNames].every((t) => b.subscribedTopicNames.has(t))
  );
}

function stateTopicsIn(into: Map<string, StateTopic>, list: readonly ShareTopicPartitionsInfo[]): void {
  into.clear();
  for (const t of list) into.set(t.topicId, { topicName: t.topicName, partitions: new Set(t.partitions), createTimestamp: t.createTimestamp });
}

/** The share groups `records` (in log order) leave, with their members, targets, assignments and state partitions. */
export function replayShareGroups(records: readonly ShareGroupRecord[]): ShareGroup[] {
  const groups = new Map<string, ShareGroup>();
  /** The members with a ShareGroupMemberMetadata record: the others are gone. */
  const withMetadata = new Map<string, Set<string>>();
  const of = (groupId: string): ShareGroup => {
    let g = groups.get(groupId);
    if (g === undefined) {
      groups.set(groupId, (g = new ShareGroup(groupId)));
      withMetadata.set(groupId, new Set());
    }
    return g;
  };
  for (const r of records) {
    switch (r.type) {
      case 'share-group-metadata':
        if (r.value === null) {
          groups.delete(r.group);
          withMetadata.delete(r.group);
        } else {
          const g = of(r.group);
          g.groupEpoch = r.value.epoch;
          g.metadataHash = r.value.metadataHash;
        }
        break;
      case 'share-group-member-metadata': {
        const g = r.value === null ? groups.get(r.group) : of(r.group);
        if (g === undefined) break;
        if (r.value === null) {
          g.members.delete(r.memberId);
          withMetadata.get(r.group)!.delete(r.memberId);
          break;
        }
        withMetadata.get(r.group)!.add(r.memberId);
        const v = r.value;
        g.putMember({
          ...(g.members.get(r.memberId) ?? newShareGroupMember(r.memberId)),
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: new Set(v.subscribedTopicNames),
        });
        break;
      }
      case 'share-group-target-assignment-metadata':
        if (r.value !== null) of(r.group).assignmentEpoch = r.value.assignmentEpoch;
        break;
      case 'share-group-target-assignment-member':
        if (r.value === null) groups.get(r.group)?.target.delete(r.memberId);
        else of(r.group).target.set(r.memberId, fromIdPartitions(r.value.topicPartitions));
        break;
      case 'share-group-current-member-assignment': {
        if (r.value === null) {
          const g = groups.get(r.group);
          const m = g?.members.get(r.memberId);
          if (m !== undefined) g!.putMember({ ...newShareGroupMember(r.memberId), rackId: m.rackId, clientId: m.clientId, clientHost: m.clientHost, subscribedTopicNames: m.subscribedTopicNames });
          break;
        }
        const g = of(r.group);
        const v = r.value;
        g.putMember({
          ...(g.members.get(r.memberId) ?? newShareGroupMember(r.memberId)),
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: memberStateFromValue(v.state),
          assignedPartitions: fromIdPartitions(v.assignedPartitions),
        });
        break;
      }
      case 'share-group-state-partition-metadata': {
        if (r.value === null) {
          const g = groups.get(r.group);
          g?.initializing.clear();
          g?.initialized.clear();
          g?.deleting.clear();
          break;
        }
        const g = of(r.group);
        stateTopicsIn(g.initializing, r.value.initializingTopics);
        stateTopicsIn(g.initialized, r.value.initializedTopics);
        g.deleting.clear();
        for (const t of r.value.deletingTopics) g.deleting.set(t.topicId, t.topicName);
        break;
      }
    }
  }
  const loaded: ShareGroup[] = [];
  for (const [groupId, g] of groups) {
    const named = withMetadata.get(groupId)!;
    // a member whose metadata was removed is gone, whatever of its assignment records is left
    for (const memberId of [...g.members.keys()]) if (!named.has(memberId)) g.members.delete(memberId);
    for (const memberId of [...g.target.keys()]) if (!g.members.has(memberId)) g.target.delete(memberId);
    // the group epoch is never behind the assignment epoch
    g.groupEpoch = Math.max(g.groupEpoch, g.assignmentEpoch);
    loaded.push(g);
  }
  return loaded;
}
