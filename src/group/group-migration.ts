/**
 * Online migration between the classic and the consumer protocol (KIP-848),
 * as Kafka 4.0's group coordinator does it, allowed by
 * group.consumer.migration.policy (group-config.ts; Kafka's default:
 * bidirectional).
 *
 * Upgrade (Kafka's convertToConsumerGroup, ConsumerGroup.fromClassicGroup):
 * a member joins with ConsumerGroupHeartbeat (epoch 0) a classic group with
 * members. The group must use the "consumer" embedded protocol and the policy
 * allow upgrades, else GROUP_ID_NOT_FOUND with Kafka's messages; whatever its
 * state (Kafka asks no more). Its members become classic members of a
 * consumer group whose epochs are the classic generation, each STABLE at it,
 * subscribed to the topics of its subscription, with its classic assignment
 * (read from the embedded protocol) as both its current and target
 * assignment; their JoinGroup protocols and session timeout are kept in
 * ClassicMemberMetadata. Subscriptions or assignments that do not read are
 * GROUP_ID_NOT_FOUND (the group stays classic). Parked JoinGroup and SyncGroup
 * requests are answered REBALANCE_IN_PROGRESS. Records: the classic group's
 * tombstone, then every member's metadata, the group epoch, every member's
 * target, the target's epoch and every member's current assignment. The
 * joining member then bumps the group epoch: the classic members are asked to
 * rejoin (classic-members.ts).
 *
 * Downgrade (Kafka's convertToClassicGroup, ClassicGroup.fromConsumerGroup):
 * when members are removed from a consumer group (left, fenced by a timer,
 * LeaveGroup) and only classic members, at least one, would remain, the
 * policy allows downgrades and they are at most group.max.size, the group
 * becomes a Stable classic group of generation = the group epoch, protocol
 * type "consumer", the protocol its members vote for, each member's
 * assignment its target assignment written in the embedded protocol at its
 * subscription's version; then it prepares a rebalance. Records: the consumer
 * group's tombstones (current assignments, targets, the target's epoch,
 * members' metadata, the group epoch, in Kafka's order), then the classic
 * group's metadata.
 *
 * The committed offsets stay with the group id: the classic group and the
 * empty classic group that holds a consumer group's offsets share them.
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import type { ClassicRebalance } from './classic-rebalance.js';
import { newConsumerGroupMember, topicPartitions, usesClassicProtocol, type TopicPartitions } from './consumer/consumer-group-member.js';
import { MemberState } from './consumer/member-state.js';
import { ConsumerGroup } from './consumer-group.js';
import type { ConsumerGroups, ProtocolMigration, TopicLookup } from './consumer-group-heartbeat.js';
import { currentAssignmentRecord, groupEpochRecord, memberMetadataRecord, targetMemberRecord, targetMetadataRecord } from './consumer-group-log.js';
import type { ConsumerGroupRecord } from './consumer-group-records.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  consumerProtocolVersion,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  type TopicPartitionList,
} from './consumer-protocol.js';
import { Group } from './group.js';
import { isDowngradeEnabled, isUpgradeEnabled, type MigrationPolicy } from './group-config.js';
import type { GroupOffsets } from './group-offsets.js';
import { joinError, syncError } from './group-member.js';
import { groupMetadataRecord, groupTombstone, type GroupCoordinatorRecord } from './group-records.js';
import type { GroupStore } from './group-store.js';

/** Why a classic group may not be upgraded (Kafka's validateOnlineUpgrade), or undefined. */
export function upgradeError(classic: Group, policy: MigrationPolicy): KafkaError | undefined {
  const id = classic.groupId;
  if (!isUpgradeEnabled(policy)) return new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${id} to consumer group because online upgrade is disabled.`);
  if (classic.protocolType !== CONSUMER_PROTOCOL_TYPE) {
    return new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${id} to consumer group because the group does not use the consumer embedded protocol.`);
  }
  return undefined;
}

/** Whether removing `leaving` turns the group into a classic group (Kafka's validateOnlineDowngradeWithFencedMembers). */
export function mayDowngrade(group: ConsumerGroup, leaving: ReadonlySet<string>, policy: MigrationPolicy, classicMaxSize: number): boolean {
  let remaining = 0;
  for (const m of group.members.values()) {
    if (leaving.has(m.memberId)) continue;
    if (!usesClassicProtocol(m)) return false;
    remaining++;
  }
  return remaining > 0 && isDowngradeEnabled(policy) && remaining <= classicMaxSize;
}

/** Partitions by topic name as topic ids (topics that do not exist are left out). */
export function topicIdPartitions(list: readonly TopicPartitionList[], topics: TopicLookup): TopicPartitions {
  return topicPartitions(list.flatMap((t) => {
    const topic = topics.get(t.topic);
    return topic === undefined ? [] : [[topic.topicId, t.partitions] as const];
  }));
}

/** Partitions by topic id as topic names, sorted; ids `names` does not know are left out. */
export function topicNamePartitions(tp: TopicPartitions, names: ReadonlyMap<string, string>): TopicPartitionList[] {
  const list: TopicPartitionList[] = [];
  for (const [topicId, partitions] of tp) {
    const topic = names.get(topicId);
    if (topic !== undefined) list.push({ topic, partitions: [...partitions].sort((a, b) => a - b) });
  }
  return list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

/** Topic id → name of the topics the group's members subscribe to. */
export function subscribedTopicNames(group: ConsumerGroup, topics: TopicLookup): Map<string, string> {
  const names = new Map<string, string>();
  for (const name of group.subscribedTopicNames()) {
    const topic = topics.get(name);
    if (topic !== undefined) names.set(topic.topicId, name);
  }
  return names;
}

/**
 * The consumer group a classic group becomes (Kafka's ConsumerGroup.fromClassicGroup); throws (ProtocolError,
 * or a partition given twice) when its members' subscriptions or assignments do not read.
 */
export function consumerGroupFromClassic(classic: Group, topics: TopicLookup): ConsumerGroup {
  const group = new ConsumerGroup(classic.groupId);
  const epoch = classic.generationId;
  group.groupEpoch = epoch;
  group.assignmentEpoch = epoch;
  for (const m of classic.members.values()) {
    const protocol = classic.protocolName ?? m.protocols[0]?.name;
    const subscription = decodeSubscription(classic.metadataOf(m, protocol));
    const assigned = topicIdPartitions(decodeAssignment(m.assignment).partitions, topics);
    const member = newConsumerGroupMember(m.memberId, {
      memberEpoch: epoch,
      previousMemberEpoch: epoch,
      state: MemberState.STABLE,
      instanceId: m.groupInstanceId,
      rackId: subscription.rackId,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: new Set(subscription.topics),
      assignedPartitions: assigned,
      classicMemberMetadata: { sessionTimeoutMs: m.sessionTimeoutMs, supportedProtocols: m.protocols.map((p) => ({ name: p.name, metadata: p.metadata })) },
    });
    group.target.set(m.memberId, assigned);
    group.putMember(member);
  }
  return group;
}

/** The records that create the group as it is (Kafka's ConsumerGroup.createConsumerGroupRecords). */
export function consumerGroupRecords(group: ConsumerGroup, now: number): ConsumerGroupRecord[] {
  const members = [...group.members.values()];
  return [
    ...members.map((m) => memberMetadataRecord(group.groupId, m)),
    groupEpochRecord(group),
    ...members.map((m) => targetMemberRecord(group.groupId, m.memberId, group.target.get(m.memberId) ?? new Map())),
    targetMetadataRecord(group, now),
    ...members.map((m) => currentAssignmentRecord(group.groupId, m)),
  ];
}

/** The records that delete the group and all its members (Kafka's ConsumerGroup.createGroupTombstoneRecords). */
export function consumerGroupTombstones(group: ConsumerGroup): ConsumerGroupRecord[] {
  const groupId = group.groupId;
  const ids = [...group.members.keys()];
  return [
    ...ids.map((memberId): ConsumerGroupRecord => ({ type: 'consumer-group-current-member-assignment', group: groupId, memberId, value: null })),
    ...ids.map((memberId): ConsumerGroupRecord => ({ type: 'consumer-group-target-assignment-member', group: groupId, memberId, value: null })),
    { type: 'consumer-group-target-assignment-metadata', group: groupId, value: null },
    ...ids.map((memberId): ConsumerGroupRecord => ({ type: 'consumer-group-member-metadata', group: groupId, memberId, value: null })),
    ...[...group.resolvedRegularExpressions.keys()].map((regex): ConsumerGroupRecord => ({ type: 'consumer-group-regular-expression', group: groupId, regularExpression: regex, value: null })),
    { type: 'consumer-group-metadata', group: groupId, value: null },
  ];
}

/**
 * The classic group a consumer group of classic members becomes once `leaving` are gone (Kafka's
 * ClassicGroup.fromConsumerGroup), with each member's assignment; `offsets` are the group id's committed offsets.
 */
export function classicGroupFromConsumer(
  group: ConsumerGroup,
  leaving: ReadonlySet<string>,
  names: ReadonlyMap<string, string>,
  now: number,
  offsets?: GroupOffsets,
): { group: Group; assignment: Map<string, Buffer> } {
  const classic = new Group(group.groupId, 'Stable', now, offsets);
  classic.generationId = group.groupEpoch;
  classic.protocolType = CONSUMER_PROTOCOL_TYPE;
  for (const m of group.members.values()) {
    if (leaving.has(m.memberId) || m.classicMemberMetadata === null) continue;
    classic.add(
      {
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.classicMemberMetadata.sessionTimeoutMs,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: m.classicMemberMetadata.supportedProtocols,
      },
      undefined,
    );
  }
  classic.protocolName = classic.selectProtocol();
  classic.subscribedTopics = classic.computeSubscribedTopics();
  const assignment = new Map<string, Buffer>();
  for (const m of classic.members.values()) {
    const target = group.target.get(m.memberId) ?? new Map<string, ReadonlySet<number>>();
    m.assignment = encodeAssignment(topicNamePartitions(target, names), consumerProtocolVersion(classic.metadataOf(m)));
    assignment.set(m.memberId, m.assignment);
  }
  return { group: classic, assignment };
}

/** The conversions of one shard: the groups in memory change, the caller writes the records. */
export class GroupMigration implements ProtocolMigration {
  constructor(
    private readonly store: GroupStore,
    private readonly rebalance: ClassicRebalance,
    private readonly consumer: ConsumerGroups,
    private readonly topics: TopicLookup,
  ) {}

  upgrade(classic: Group, records: GroupCoordinatorRecord[]): ConsumerGroup {
    const error = upgradeError(classic, this.store.config.migrationPolicy);
    if (error !== undefined) throw error;
    let group: ConsumerGroup;
    try {
      group = consumerGroupFromClassic(classic, this.topics);
    } catch (err) {
      this.store.log.warn({ groupId: classic.groupId, err: (err as Error).message }, 'cannot upgrade classic group: the embedded consumer protocol is malformed');
      throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${classic.groupId} to consumer group because the embedded consumer protocol is malformed.`);
    }
    const now = Date.now();
    // the classic group ends: parked requests rejoin, its sessions stop, its offsets stay with the id
    for (const m of classic.members.values()) {
      classic.maybeInvokeJoin(m, joinError(m.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
      classic.maybeInvokeSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    }
    for (const id of [...classic.members.keys(), ...classic.pendingMembers]) this.rebalance.sessions.removeMember(classic, id);
    classic.transitionTo('Dead', now);
    if (classic.hasOffsets()) this.store.add(new Group(classic.groupId, 'Empty', now, classic.offsets));
    else this.store.remove(classic);
    records.push(groupTombstone(classic.groupId), ...consumerGroupRecords(group, now));
    this.consumer.adopt(group);
    this.store.log.info({ groupId: group.groupId, members: group.members.size, groupEpoch: group.groupEpoch }, 'converted the classic group to a consumer group');
    return group;
  }

  downgrade(group: ConsumerGroup, leaving: ReadonlySet<string>, records: GroupCoordinatorRecord[]): boolean {
    if (!mayDowngrade(group, leaving, this.store.config.migrationPolicy, this.store.config.maxGroupSize)) return false;
    const holder = this.store.get(group.groupId);
    let converted: { group: Group; assignment: Map<string, Buffer> };
    try {
      converted = classicGroupFromConsumer(group, leaving, subscribedTopicNames(group, this.topics), Date.now(), holder?.offsets);
    } catch (err) {
      this.store.log.warn({ groupId: group.groupId, err: (err as Error).message }, 'cannot downgrade consumer group: the embedded consumer protocol is malformed');
      return false;
    }
    const classic = converted.group;
    records.push(...consumerGroupTombstones(group), groupMetadataRecord(classic, converted.assignment));
    this.consumer.drop(group);
    this.store.add(classic);
    for (const m of classic.members.values()) this.rebalance.sessions.scheduleHeartbeat(classic, m);
    this.store.log.info({ groupId: group.groupId, members: classic.members.size, generation: classic.generationId }, 'converted the consumer group to a classic group');
    this.rebalance.maybePrepareRebalance(classic, `Downgrade group ${group.groupId} from consumer to classic for member leaving.`);
    return true;
  }
}
