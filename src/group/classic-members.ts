/**
 * Classic members of a consumer group (KIP-848's migration): consumers that
 * speak JoinGroup, SyncGroup, Heartbeat and LeaveGroup to a group that runs
 * the consumer protocol, as Kafka's GroupMetadataManager answers them
 * (classicGroupJoinToConsumerGroup, classicGroupSyncToConsumerGroup,
 * classicGroupHeartbeatToConsumerGroup, classicGroupLeaveToConsumerGroup).
 * They come from an upgraded classic group (group-migration.ts) or join a
 * consumer group with members; the coordinator, not a leader, assigns them.
 *
 * - JoinGroup: the group must take the member's protocols (type "consumer";
 *   a group with classic members: one protocol all of them support), else
 *   INCONSISTENT_GROUP_PROTOCOL. A new dynamic member of v4+ gets a member id
 *   with MEMBER_ID_REQUIRED. The member's subscription (its first
 *   protocol's metadata) is applied as a heartbeat's (consumer-group-heartbeat.ts
 *   applyMember: group epoch, target assignment, reconciliation with the
 *   owned partitions of the subscription, none for eager clients). The
 *   answer: generation = its member epoch, protocol = its first protocol's
 *   name, no leader, no members. Then it must send SyncGroup within its
 *   rebalance timeout ("consumer-sync-<group>-<member>").
 * - SyncGroup: the member (by id, or by instance id: FENCED_INSTANCE_ID for
 *   another id) must be classic (UNKNOWN_MEMBER_ID), at its epoch
 *   (ILLEGAL_GENERATION), with its protocol (INCONSISTENT_GROUP_PROTOCOL), and
 *   not behind the group epoch unless it is revoking (REBALANCE_IN_PROGRESS);
 *   it gets its current assignment in the embedded protocol's format at its
 *   subscription's version.
 * - Heartbeat: the same member checks; REBALANCE_IN_PROGRESS when it must
 *   rejoin (its epoch is behind the group's, it has partitions to revoke, or
 *   partitions it waited for are free), and then it must rejoin within its
 *   rebalance timeout ("consumer-join-<group>-<member>").
 * - LeaveGroup: each classic member named (by id, or by instance id) is
 *   removed, with one group epoch bump (or the group becomes a classic group
 *   when only classic members remain: group-migration.ts).
 * Every request resets the member's session (its JoinGroup's session timeout).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError, ProtocolError } from '../../protocol/index.js';
import { BUILTIN_ASSIGNORS } from './consumer/assignors.js';
import { newConsumerGroupMember, usesClassicProtocol, type ConsumerGroupMember } from './consumer/consumer-group-member.js';
import { MemberState } from './consumer/member-state.js';
import type { ConsumerGroup } from './consumer-group.js';
import { classicJoinKey, classicSyncKey, type ConsumerGroups, type TopicLookup } from './consumer-group-heartbeat.js';
import { CONSUMER_PROTOCOL_TYPE, consumerProtocolVersion, decodeSubscription, encodeAssignment } from './consumer-protocol.js';
import { subscribedTopicNames, topicIdPartitions, topicNamePartitions } from './group-migration.js';
import { joinError, syncError, type JoinResult, type SyncResult } from './group-member.js';
import type { GroupCoordinatorRecord } from './group-records.js';
import type { HeartbeatParams, JoinParams, LeaveResult, LeavingMember, SyncParams } from './group-requests.js';
import type { GroupStore } from './group-store.js';

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export class ClassicMembers {
  constructor(
    private readonly store: GroupStore,
    private readonly consumer: ConsumerGroups,
    private readonly topics: TopicLookup,
  ) {}

  /** Whether a consumer group takes members of this protocol type and these protocols (Kafka's ConsumerGroup.supportsClassicProtocols). */
  static supportsClassicProtocols(group: ConsumerGroup, protocolType: string, names: readonly string[]): boolean {
    if (protocolType !== CONSUMER_PROTOCOL_TYPE) return false;
    if (group.members.size === 0) return names.length > 0;
    const classic = [...group.members.values()].filter(usesClassicProtocol);
    return names.some((name) => classic.every((m) => m.classicMemberMetadata!.supportedProtocols.some((p) => p.name === name)));
  }

  async join(group: ConsumerGroup, p: JoinParams): Promise<JoinResult> {
    const config = this.store.config;
    if (p.sessionTimeoutMs < config.minSessionTimeoutMs || p.sessionTimeoutMs > config.maxSessionTimeoutMs) return joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    const isUnknown = p.memberId === '';
    const memberId = isUnknown ? randomBytes(16).toString('base64url') : p.memberId;
    if (!ClassicMembers.supportsClassicProtocols(group, p.protocolType, p.protocols.map((x) => x.name))) return joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (isUnknown && p.requireKnownMemberId) return joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED);

    const records: GroupCoordinatorRecord[] = [];
    let next: ConsumerGroupMember;
    try {
      next = this.applyJoin(group, p, memberId, isUnknown, records);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      const written = await this.store.writeConsumerGroupRecords(records);
      return joinError(p.memberId, written === ErrorCode.NONE ? err.code : written);
    }
    const written = await this.store.writeConsumerGroupRecords(records);
    if (written !== ErrorCode.NONE) return joinError(p.memberId, written);
    this.store.timer.cancel(classicJoinKey(group.groupId, next.memberId));
    if (this.consumer.get(group.groupId) === group && group.members.get(next.memberId) === next) {
      this.consumer.scheduleSession(group, next);
      this.store.timer.schedule(classicSyncKey(group.groupId, next.memberId), Math.max(p.rebalanceTimeoutMs, 0), () => this.expire(group, next.memberId, 'sync timeout'));
    }
    return {
      errorCode: ErrorCode.NONE,
      memberId: next.memberId,
      generationId: next.memberEpoch,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: p.protocols[0]?.name ?? null,
      leader: '',
      skipAssignment: false,
      members: [],
    };
  }

  private applyJoin(group: ConsumerGroup, p: JoinParams, memberId: string, isUnknown: boolean, records: GroupCoordinatorRecord[]): ConsumerGroupMember {
    let existing: ConsumerGroupMember | undefined;
    if (p.groupInstanceId === null) {
      existing = group.members.get(memberId);
    } else {
      const currentId = group.staticMembers.get(p.groupInstanceId);
      existing = currentId === undefined ? undefined : group.members.get(currentId);
      if (existing !== undefined && existing.memberId !== memberId) {
        // a static member rejoining with a new id (a restart) takes the old one's place; another id is fenced
        if (!isUnknown) throw new KafkaError(ErrorCode.FENCED_INSTANCE_ID, `Static member ${memberId} with instance id ${p.groupInstanceId} is not the current member ${existing.memberId}.`);
        records.push(...this.consumer.removeMembers(group, [existing.memberId]));
        if (this.consumer.get(group.groupId) !== group) throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, `Group ${group.groupId} became a classic group.`);
        existing = undefined;
      }
    }
    let subscription;
    try {
      subscription = decodeSubscription(p.protocols[0]!.metadata);
    } catch (err) {
      if (err instanceof ProtocolError) throw new KafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `Member ${memberId}'s subscription is malformed.`);
      throw err;
    }
    const isNew = existing === undefined;
    const base = existing ?? newConsumerGroupMember(memberId);
    const subscribed = new Set(subscription.topics);
    const member: ConsumerGroupMember = {
      ...base,
      instanceId: p.groupInstanceId ?? base.instanceId,
      rackId: subscription.rackId ?? base.rackId,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs === -1 ? base.rebalanceTimeoutMs : p.rebalanceTimeoutMs,
      clientId: p.clientId,
      clientHost: p.clientHost,
      subscribedTopicNames: subscribed,
      classicMemberMetadata: { sessionTimeoutMs: p.sessionTimeoutMs, supportedProtocols: p.protocols.map((x) => ({ name: x.name, metadata: Buffer.from(x.metadata) })) },
    };
    const { next } = this.consumer.applyMember(
      group,
      member,
      {
        isNew,
        subscriptionChanged: !isNew && !sameSet(subscribed, base.subscribedTopicNames),
        owned: topicIdPartitions(subscription.ownedPartitions, this.topics),
        assignor: BUILTIN_ASSIGNORS[0]!,
      },
      records,
    );
    return next;
  }

  sync(group: ConsumerGroup, p: SyncParams): SyncResult {
    const member = this.validate(group, p.memberId, p.groupInstanceId, p.generationId);
    if (typeof member === 'number') return syncError(member);
    const protocol = member.classicMemberMetadata!.supportedProtocols[0]?.name ?? '';
    if ((p.protocolType !== null && p.protocolType !== CONSUMER_PROTOCOL_TYPE) || (p.protocolName !== null && p.protocolName !== protocol)) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (group.groupEpoch > member.memberEpoch && member.state !== MemberState.UNREVOKED_PARTITIONS) {
      this.scheduleJoinTimeoutIfAbsent(group, member);
      return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    this.store.timer.cancel(classicSyncKey(group.groupId, member.memberId));
    this.consumer.scheduleSession(group, member);
    const metadata = member.classicMemberMetadata!.supportedProtocols[0]?.metadata;
    let version = 0;
    try {
      if (metadata !== undefined) version = consumerProtocolVersion(metadata);
    } catch {
      version = 0;
    }
    return {
      errorCode: ErrorCode.NONE,
      protocolType: p.protocolType,
      protocolName: p.protocolName,
      assignment: encodeAssignment(topicNamePartitions(member.assignedPartitions, subscribedTopicNames(group, this.topics)), version),
    };
  }

  heartbeat(group: ConsumerGroup, p: HeartbeatParams): number {
    const member = this.validate(group, p.memberId, p.groupInstanceId, p.generationId);
    if (typeof member === 'number') return member;
    this.consumer.scheduleSession(group, member);
    if (member.memberEpoch < group.groupEpoch || member.state === MemberState.UNREVOKED_PARTITIONS || (member.state === MemberState.UNRELEASED_PARTITIONS && !waitingOnUnreleasedPartition(group, member))) {
      this.scheduleJoinTimeoutIfAbsent(group, member);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    return ErrorCode.NONE;
  }

  async leave(group: ConsumerGroup, leaving: readonly LeavingMember[]): Promise<LeaveResult> {
    const removed: string[] = [];
    const members = leaving.map((m) => {
      let error: number | undefined;
      let memberId = m.memberId;
      if (m.groupInstanceId === null) {
        const member = group.members.get(m.memberId);
        error = member === undefined || !usesClassicProtocol(member) ? ErrorCode.UNKNOWN_MEMBER_ID : undefined;
      } else {
        const currentId = group.staticMembers.get(m.groupInstanceId);
        const member = currentId === undefined ? undefined : group.members.get(currentId);
        if (member === undefined) error = ErrorCode.UNKNOWN_MEMBER_ID;
        else if (m.memberId !== '' && m.memberId !== member.memberId) error = ErrorCode.FENCED_INSTANCE_ID;
        else if (!usesClassicProtocol(member)) error = ErrorCode.UNKNOWN_MEMBER_ID;
        else memberId = member.memberId;
      }
      if (error === undefined && !removed.includes(memberId)) removed.push(memberId);
      return { memberId, groupInstanceId: m.groupInstanceId, errorCode: error ?? ErrorCode.NONE };
    });
    if (removed.length > 0) this.store.log.info({ groupId: group.groupId, members: removed }, 'classic members left the consumer group');
    const written = await this.store.writeConsumerGroupRecords(this.consumer.removeMembers(group, removed));
    if (written !== ErrorCode.NONE) return { errorCode: written, members: [] };
    return { errorCode: ErrorCode.NONE, members };
  }

  /** The member the request names, classic and at its epoch, or the error (Kafka's validateConsumerGroupMember and the checks after it). */
  private validate(group: ConsumerGroup, memberId: string, instanceId: string | null, generationId: number): ConsumerGroupMember | number {
    let member: ConsumerGroupMember | undefined;
    if (instanceId === null) {
      member = group.members.get(memberId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    } else {
      const currentId = group.staticMembers.get(instanceId);
      member = currentId === undefined ? undefined : group.members.get(currentId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (member.memberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (!usesClassicProtocol(member)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== member.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
    return member;
  }

  private scheduleJoinTimeoutIfAbsent(group: ConsumerGroup, member: ConsumerGroupMember): void {
    const key = classicJoinKey(group.groupId, member.memberId);
    if (this.store.timer.isScheduled(key)) return;
    this.store.timer.schedule(key, Math.max(member.rebalanceTimeoutMs, 0), () => this.expire(group, member.memberId, 'join timeout'));
  }

  private expire(group: ConsumerGroup, memberId: string, reason: 'join timeout' | 'sync timeout'): void {
    this.consumer.fence(group, memberId, reason);
  }
}

/** Whether a partition of the member's target it does not have yet is still owned by another member (Kafka's ConsumerGroup.waitingOnUnreleasedPartition). */
function waitingOnUnreleasedPartition(group: ConsumerGroup, member: ConsumerGroupMember): boolean {
  for (const [topicId, partitions] of group.target.get(member.memberId) ?? []) {
    const assigned = member.assignedPartitions.get(topicId);
    for (const p of partitions) if (assigned?.has(p) !== true && group.partitionEpoch(topicId, p) !== -1) return true;
  }
  return false;
}
