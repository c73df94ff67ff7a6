/**
 * The consumer protocol (KIP-848) of one shard: the consumer groups and
 * ConsumerGroupHeartbeat, as Kafka's GroupMetadataManager.consumerGroupHeartbeat
 * runs it, with the members' session and rebalance timers.
 *
 * One heartbeat, in order:
 * 1. The request is validated (INVALID_REQUEST with Kafka's messages).
 * 2. A leave (epoch -1; -2 for a static member leaving for a while) removes
 *    the member and bumps the group epoch.
 * 3. The group is found or, for a join (epoch 0), created. A classic group of
 *    the same id with members is converted into a consumer group of classic
 *    members when a member joins and group.consumer.migration.policy allows
 *    it (the online upgrade: group-migration.ts), GROUP_ID_NOT_FOUND
 *    otherwise; an empty one (a holder of committed offsets) stays beside it.
 * 4. The member is found or created and its epoch checked (epochs.ts); v0
 *    generates the member id of a joining member, v1 takes the client's.
 * 5. The member's regular expression, if it subscribes by one, is compiled
 *    when new (INVALID_REGULAR_EXPRESSION) and the group's expressions are
 *    resolved against the broker's topic names when one is new or a topic
 *    name came or went since (consumer/regex-subscription.ts): a member is
 *    subscribed to its names and the topics its expression resolved to.
 *    The group epoch bumps for a new member, a changed subscription (names
 *    or expression), a resolution that names other topics, or a change of
 *    the subscribed topics' ids or partition counts; when it is
 *    ahead of the assignment epoch, the target assignment is recomputed with
 *    the group's server assignor (target-assignment-builder.ts).
 * 6. The member is reconciled (current-assignment-builder.ts), and the
 *    response carries its assignment when it changed or the request was a
 *    full one (a join, or every non-optional field set), as Kafka.
 *
 * Classic members: a consumer group may hold members that speak the classic
 * protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup: classic-members.ts
 * runs those requests with the steps 5-6 here, `applyMember`). When members
 * are removed and only classic members remain, the group may become a
 * classic group again (the online downgrade, group-migration.ts, through the
 * `migration` the shard sets).
 *
 * Timers, in the shard's CoordinatorTimer:
 * - "consumer-session-<group>-<member>": the group's consumer.session.timeout.ms
 *   (group-configs.ts; group.consumer.session.timeout.ms unless the group sets
 *   it; a classic member's: its JoinGroup's session timeout), reset by every
 *   heartbeat; on expiry the member is removed and the group epoch bumps.
 * - "consumer-rebalance-<group>-<member>": the member's rebalance timeout
 *   while it holds partitions it was asked to revoke; on expiry it is fenced
 *   (removed) as well. Not for classic members: they have
 *   "consumer-join-<group>-<member>" (the rebalance timeout to rejoin once
 *   told to) and "consumer-sync-<group>-<member>" (to send SyncGroup after
 *   JoinGroup), classic-members.ts.
 *
 * Records: every change is made in memory, then written to
 * `__consumer_offsets` (consumer-group-log.ts says which records), and the
 * heartbeat is answered once they are (with the error Kafka maps a failed
 * write to; memory keeps the change, as for the classic groups). The groups
 * are rebuilt from the records when the partition loads (`load`).
 *
 * Metrics: an observer (consumer/consumer-group-stats.ts) is told of every
 * answer, target assignment computation, reconciliation and fenced member.
 *
 * Errors are thrown as KafkaError by the steps and turned into the response
 * here. A join beyond group.consumer.max.size is refused (consumer/group-limits.ts).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { groupSpecOf, describeTopics, PartitionAssignorError, singleNodePartitionRacks, type MemberSpec, type PartitionAssignor, type TopicDescription } from './consumer/assignor.js';
import { builtinAssignor, BUILTIN_ASSIGNORS } from './consumer/assignors.js';
import {
  newConsumerGroupMember,
  sameCurrentAssignment,
  topicPartitions,
  usesClassicProtocol,
  topicPartitionsEqual,
  type ConsumerGroupMember,
  type TopicPartitions,
} from './consumer/consumer-group-member.js';
import { reconcileMember } from './consumer/current-assignment-builder.js';
import { NO_CONSUMER_GROUP_OBSERVER, type ConsumerGroupObserver } from './consumer/consumer-group-stats.js';
import { checkMemberEpoch, heartbeatKind, JOIN_GROUP_MEMBER_EPOCH, LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH, unknownMember } from './consumer/epochs.js';
import { throwIfConsumerGroupIsFull } from './consumer/group-limits.js';
import { MemberState } from './consumer/member-state.js';
import { validateConsumerOffsetCommit, type ConsumerOffsetCommit } from './consumer/offset-commit-validation.js';
import { replaceStaticMember, staticMemberOf, staticMemberTemporaryLeave } from './consumer/static-members.js';
import { compileSubscribedTopicRegex, dropUnsubscribed, NO_REGEX_UPDATE, updateRegularExpressions, type DescribableTopics, type RegexUpdate } from './consumer/regex-subscription.js';
import { buildTargetAssignment, type AssignFunction } from './consumer/target-assignment-builder.js';
import { ConsumerGroup } from './consumer-group.js';
import {
  currentAssignmentRecord,
  groupEpochRecord,
  groupTombstones,
  memberMetadataRecord,
  memberTombstones,
  metadataHashOf,
  regularExpressionRecord,
  regularExpressionTombstone,
  replayConsumerGroups,
  sameMemberMetadata,
  targetMemberRecord,
  targetMetadataRecord,
} from './consumer-group-log.js';
import type { ConsumerGroupRecord } from './consumer-group-records.js';
import { consumerGroupTimeouts, type ConsumerGroupTimeouts } from './group-configs.js';
import type { Group } from './group.js';
import type { GroupCoordinatorRecord } from './group-records.js';
import type { GroupStore } from './group-store.js';

/** A topic as the consumer protocol resolves a subscribed name. */
export interface SubscribedTopic {
  readonly topicId: string;
  readonly numPartitions: number;
}

/** The broker's topics as the consumer protocol reads them. */
export interface TopicLookup {
  /** A topic by name. */
  get(name: string): SubscribedTopic | undefined;
  /** Every topic name, internal ones too: a regular expression is resolved against them. */
  names(): Iterable<string>;
  /** Moves on when a topic name comes or goes: the regular expressions are resolved again. */
  readonly namesVersion: number;
}

/** The configs set on a group (group-configs.ts); empty when none. */
export type GroupConfigLookup = (groupId: string) => Readonly<Record<string, string>>;

export interface ConsumerHeartbeatParams {
  readonly version: number;
  readonly groupId: string;
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly subscribedTopicNames: readonly string[] | null;
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
  readonly topicPartitions: ReadonlyArray<{ readonly topicId: string; readonly partitions: readonly number[] }> | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** With an authorizer: the topics the member may DESCRIBE, which alone its expressions resolve to (regex-subscription.ts). */
  readonly describableTopics?: DescribableTopics;
}

export interface ConsumerHeartbeatResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly memberId: string | null;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  readonly assignment: { topicPartitions: Array<{ topicId: string; partitions: number[] }> } | null;
}

/** A consumer group as ConsumerGroupDescribe shows it; topics by id. */
export interface DescribedConsumerGroup {
  readonly groupState: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignorName: string;
  readonly members: ReadonlyArray<{
    readonly member: ConsumerGroupMember;
    readonly targetAssignment: TopicPartitions;
  }>;
}

/**
 * The conversions between classic and consumer groups (group-migration.ts), as the shard wires them.
 * Both add the records of the conversion to `records` and change the groups in memory.
 */
export interface ProtocolMigration {
  /** A member joins with ConsumerGroupHeartbeat a classic group with members: the consumer group it becomes; throws GROUP_ID_NOT_FOUND when it may not. */
  upgrade(classic: Group, records: GroupCoordinatorRecord[]): ConsumerGroup;
  /** Members are about to be removed: true when the group became a classic group instead (it held only classic members besides them). */
  downgrade(group: ConsumerGroup, leaving: ReadonlySet<string>, records: GroupCoordinatorRecord[]): boolean;
}

/** How a member's new value is applied (`applyMember`). */
export interface MemberUpdate {
  readonly isNew: boolean;
  readonly subscriptionChanged: boolean;
  /** The partitions the member says it owns; null when it did not say. */
  readonly owned: TopicPartitions | null;
  /** The assignor the member asks for (the group's own choice among the members' wins: groupAssignor). */
  readonly assignor: PartitionAssignor;
  /** The group's regular expressions after this member's update (regex-subscription.ts); none for a classic member. */
  readonly regex?: RegexUpdate;
}

export function consumerHeartbeatError(errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

/** A member id as Kafka's Uuid.randomUuid().toString(): 16 random bytes, base64url. */
function newMemberId(): string {
  return randomBytes(16).toString('base64url');
}

function sessionKey(groupId: string, memberId: string): string {
  return `consumer-session-${groupId}-${memberId}`;
}

function rebalanceKey(groupId: string, memberId: string): string {
  return `consumer-rebalance-${groupId}-${memberId}`;
}

/** A classic member told to rejoin must do so within its rebalance timeout (classic-members.ts). */
export function classicJoinKey(groupId: string, memberId: string): string {
  return `consumer-join-${groupId}-${memberId}`;
}

/** A classic member that joined must send SyncGroup within its rebalance timeout (classic-members.ts). */
export function classicSyncKey(groupId: string, memberId: string): string {
  return `consumer-sync-${groupId}-${memberId}`;
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

export class ConsumerGroups {
  private readonly groups = new Map<string, ConsumerGroup>();
  /** Set by the shard: the conversions between classic and consumer groups. */
  migration: ProtocolMigration | undefined;

  constructor(
    private readonly store: GroupStore,
    private readonly topics: TopicLookup,
    private readonly groupConfigs: GroupConfigLookup = () => ({}),
    /** Told of heartbeats, rebalances, reconciliations and fenced members (the metrics: consumer-group-stats.ts). */
    private readonly observer: ConsumerGroupObserver = NO_CONSUMER_GROUP_OBSERVER,
  ) {}

  /** The group's session timeout and heartbeat interval: its own configs, else the broker's. */
  private timeouts(groupId: string): ConsumerGroupTimeouts {
    return consumerGroupTimeouts(this.groupConfigs(groupId), this.store.config);
  }

  get(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  all(): ConsumerGroup[] {
    return [...this.groups.values()];
  }

  /** Forgets an empty consumer group (a classic group takes its id, or offset retention deletes it) and writes its tombstones. */
  remove(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    this.groups.delete(groupId);
    this.writeInBackground(groupTombstones(groupId, group.resolvedRegularExpressions.keys()), groupId);
  }

  /** A group converted from a classic group takes its place: its members' sessions start now. */
  adopt(group: ConsumerGroup): void {
    this.groups.set(group.groupId, group);
    for (const member of group.members.values()) this.scheduleTimers(group, undefined, member);
  }

  /** A group converted to a classic group leaves, with its members' timers (its records are the conversion's). */
  drop(group: ConsumerGroup): void {
    if (this.groups.get(group.groupId) !== group) return;
    for (const memberId of group.members.keys()) this.cancelTimers(group.groupId, memberId);
    this.groups.delete(group.groupId);
  }

  /** The partition loaded: the consumer groups its records describe; each member's session starts now. */
  load(records: readonly ConsumerGroupRecord[]): number {
    const groups = replayConsumerGroups(records, (groupId, err) => {
      this.store.log.warn({ partition: this.store.partition, groupId, err: err.message }, 'consumer group left out of loading: its records give a partition two owners');
    });
    for (const group of groups) {
      this.groups.set(group.groupId, group);
      for (const member of group.members.values()) this.scheduleTimers(group, undefined, member);
    }
    return groups.length;
  }

  /** The shard is unloaded: every group and timer goes. */
  unload(): void {
    for (const group of this.groups.values()) {
      for (const memberId of group.members.keys()) this.cancelTimers(group.groupId, memberId);
    }
    this.groups.clear();
  }

  async heartbeat(p: ConsumerHeartbeatParams): Promise<ConsumerHeartbeatResult> {
    const records: GroupCoordinatorRecord[] = [];
    let result: ConsumerHeartbeatResult;
    try {
      result = this.handle(p, records);
    } catch (err) {
      if (err instanceof KafkaError) result = consumerHeartbeatError(err.code, err.message || null);
      else if (err instanceof PartitionAssignorError) result = consumerHeartbeatError(ErrorCode.UNKNOWN_SERVER_ERROR, err.message);
      else throw err;
    }
    // a step that failed after changing the group (an assignor error) still writes what it changed
    const written = await this.store.writeConsumerGroupRecords(records);
    if (written !== ErrorCode.NONE && result.errorCode === ErrorCode.NONE) result = consumerHeartbeatError(written);
    this.observer.heartbeatAnswered(p.memberEpoch, result.errorCode);
    return result;
  }

  /**
   * OffsetCommit or TxnOffsetCommit to a consumer group (Kafka's ConsumerGroup.validateOffsetCommit, with the
   * assignment epochs of KIP-1251: consumer/offset-commit-validation.ts). Undefined when the commit is accepted.
   */
  validateOffsetCommit(group: ConsumerGroup, commit: ConsumerOffsetCommit): number | undefined {
    return validateConsumerOffsetCommit(group.members, commit, (name) => this.topics.get(name)?.topicId);
  }

  /** ConsumerGroupDescribe of a group of this shard: GROUP_ID_NOT_FOUND with Kafka's messages when there is none. */
  describe(groupId: string): DescribedConsumerGroup | KafkaError {
    const group = this.groups.get(groupId);
    if (group === undefined) {
      const classic = this.store.get(groupId);
      return new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, classic === undefined || classic.is('Dead') ? `Group ${groupId} not found.` : `Group ${groupId} is not a consumer group.`);
    }
    const members = [...group.members.values()]
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
      .map((member) => ({ member, targetAssignment: group.target.get(member.memberId) ?? new Map<string, ReadonlySet<number>>() }));
    return {
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: this.groupAssignor(group.members.values(), BUILTIN_ASSIGNORS[0]!).name,
      members,
    };
  }

  /**
   * OffsetFetch v9+ of a consumer group (Kafka's ConsumerGroup.validateOffsetFetch): without a member (epoch
   * < 0, member id null) anyone may read; a member must exist and ask at its epoch (STALE_MEMBER_EPOCH).
   */
  validateOffsetFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): number | undefined {
    if (memberEpoch < 0 && memberId === null) return undefined;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return undefined;
  }

  private handle(p: ConsumerHeartbeatParams, records: GroupCoordinatorRecord[]): ConsumerHeartbeatResult {
    validateRequest(p);
    const kind = heartbeatKind(p.memberEpoch, p.instanceId);
    let group = this.groups.get(p.groupId);
    const classic = group === undefined ? this.store.get(p.groupId) : undefined;
    if (classic !== undefined && classic.members.size > 0 && (kind !== 'join' || this.migration === undefined)) {
      throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`);
    }
    if (kind === 'leave' || kind === 'static-leave') {
      if (group === undefined) throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${p.groupId} not found.`);
      return this.leave(group, p, kind, records);
    }
    const assignor = this.assignorFor(p.serverAssignor);
    // a new expression is refused before a new group is made (regex-subscription.ts checks again for the member)
    if (p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== '' && group?.resolvedRegularExpressions.has(p.subscribedTopicRegex) !== true) {
      compileSubscribedTopicRegex(p.subscribedTopicRegex);
    }
    // the online upgrade: the classic group's members become classic members of a consumer group
    if (classic !== undefined && classic.members.size > 0) group = this.migration!.upgrade(classic, records);
    if (group === undefined) {
      if (kind !== 'join') throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${p.groupId} not found.`);
      group = new ConsumerGroup(p.groupId);
      this.groups.set(p.groupId, group);
    }
    throwIfConsumerGroupIsFull(group, p.memberId, this.store.config.consumerMaxSize);
    const owned = p.topicPartitions === null ? null : topicPartitions(p.topicPartitions.map((t) => [t.topicId, t.partitions] as const));

    // the member, as it was before this heartbeat
    const memberId = p.version === 0 && kind === 'join' && p.memberId === '' ? newMemberId() : p.memberId;
    let member: ConsumerGroupMember;
    let replacedMemberId: string | null = null;
    let isNew = false;
    if (p.instanceId === null) {
      const existing = group.members.get(memberId);
      if (existing === undefined || kind === 'join') {
        // a known member joining again (after FENCED_MEMBER_EPOCH) has dropped its partitions: it starts afresh
        if (kind !== 'join') throw unknownMember(p.groupId, memberId);
        member = newConsumerGroupMember(memberId);
        isNew = true;
      } else {
        member = existing;
        checkMemberEpoch(member, p.memberEpoch, owned);
      }
    } else {
      const existingId = group.staticMembers.get(p.instanceId);
      const existing = existingId === undefined ? undefined : group.members.get(existingId);
      if (kind === 'join') {
        if (existing === undefined) {
          member = newConsumerGroupMember(memberId, { instanceId: p.instanceId });
          isNew = true;
        } else {
          // even under its own member id: a static member rejoins only after leaving with -2 (static-members.ts)
          member = replaceStaticMember(p.groupId, existing, memberId);
          replacedMemberId = existing.memberId;
        }
      } else {
        member = staticMemberOf(existing, memberId, p.instanceId);
        checkMemberEpoch(member, p.memberEpoch, owned);
      }
    }

    // the member's new subscription and other fields
    const previous = member;
    const subscribedTopicNames = p.subscribedTopicNames === null ? member.subscribedTopicNames : new Set(p.subscribedTopicNames);
    member = {
      ...member,
      rackId: p.rackId ?? member.rackId,
      rebalanceTimeoutMs: p.rebalanceTimeoutMs === -1 ? member.rebalanceTimeoutMs : p.rebalanceTimeoutMs,
      clientId: p.clientId,
      clientHost: p.clientHost,
      subscribedTopicNames,
      subscribedTopicRegex: p.subscribedTopicRegex ?? member.subscribedTopicRegex,
      serverAssignorName: p.serverAssignor ?? member.serverAssignorName,
    };
    const others = [...group.members.values()].filter((m) => m.memberId !== member.memberId && m.memberId !== replacedMemberId);
    const regex = updateRegularExpressions(group, previous, member, others, this.topics, Date.now(), p.describableTopics);
    const subscriptionChanged = !isNew && (!sameSet(subscribedTopicNames, previous.subscribedTopicNames) || regex.regexChanged);
    if (replacedMemberId !== null) {
      const target = group.target.get(replacedMemberId);
      this.cancelTimers(group.groupId, replacedMemberId);
      group.removeMember(replacedMemberId);
      records.push(...memberTombstones(group.groupId, replacedMemberId));
      if (target !== undefined) {
        group.target.set(member.memberId, target);
        records.push(targetMemberRecord(group.groupId, member.memberId, target));
      }
    }
    const { before, next } = this.applyMember(group, member, { isNew, subscriptionChanged, owned, assignor, regex }, records);

    const fullRequest = p.rebalanceTimeoutMs !== -1 && (p.subscribedTopicNames !== null || p.subscribedTopicRegex !== null) && p.topicPartitions !== null;
    const assignmentChanged = before === undefined || !topicPartitionsEqual(before.assignedPartitions, next.assignedPartitions);
    const sendAssignment = p.memberEpoch === JOIN_GROUP_MEMBER_EPOCH || fullRequest || assignmentChanged;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: next.memberId,
      memberEpoch: next.memberEpoch,
      heartbeatIntervalMs: this.timeouts(group.groupId).heartbeatIntervalMs,
      assignment: sendAssignment ? { topicPartitions: assignmentOf(next.assignedPartitions) } : null,
    };
  }

  /**
   * Steps 5-6 for a member's new value (a heartbeat's, or a classic member's JoinGroup's): its metadata
   * record, the group epoch and target assignment, its reconciliation and timers. Returns the member as it
   * was before (undefined when new) and as it is now.
   */
  applyMember(
    group: ConsumerGroup,
    member: ConsumerGroupMember,
    update: MemberUpdate,
    records: GroupCoordinatorRecord[],
  ): { before: ConsumerGroupMember | undefined; next: ConsumerGroupMember } {
    const { isNew, subscriptionChanged, owned, assignor } = update;
    const regex = update.regex ?? NO_REGEX_UPDATE;
    const before = group.members.get(member.memberId);
    if (before === undefined || !sameMemberMetadata(before, member)) records.push(memberMetadataRecord(group.groupId, member));
    group.putMember(member);
    for (const r of regex.removed) records.push(regularExpressionTombstone(group.groupId, r));
    for (const [r, resolved] of regex.resolved) records.push(regularExpressionRecord(group.groupId, r, resolved));

    // the group epoch, and the target assignment when it moved on
    const metadataHash = metadataHashOf(this.subscriptionMetadata(group));
    if (isNew || subscriptionChanged || regex.topicsChanged || metadataHash !== group.metadataHash || group.groupEpoch === 0) {
      group.groupEpoch += 1;
      group.metadataHash = metadataHash;
      records.push(groupEpochRecord(group));
    }
    if (group.groupEpoch > group.assignmentEpoch) {
      const started = performance.now();
      const result = buildTargetAssignment({
        groupEpoch: group.groupEpoch,
        members: group.members,
        staticMembers: group.staticMembers,
        targetAssignment: group.target,
        assign: this.assignFunction(group, assignor),
      });
      this.observer.targetAssignmentComputed((performance.now() - started) / 1000);
      group.target = new Map(result.targetAssignment);
      group.assignmentEpoch = result.assignmentEpoch;
      for (const [memberId, target] of result.changedMembers) records.push(targetMemberRecord(group.groupId, memberId, target));
      records.push(targetMetadataRecord(group, Date.now()));
    }

    // reconciliation
    const subscribedTopicIds = this.topicIdsOf(group.memberTopicNames(member));
    const next = reconcileMember(member, {
      targetAssignmentEpoch: group.assignmentEpoch,
      targetAssignment: group.target.get(member.memberId) ?? new Map(),
      currentPartitionEpoch: (topicId, partition) => group.partitionEpoch(topicId, partition),
      ownedTopicPartitions: owned,
      subscribedTopicIds,
      subscriptionChanged,
    });
    group.putMember(next);
    this.observer.memberReconciled(before, next);
    if (before === undefined || !sameCurrentAssignment(before, next)) records.push(currentAssignmentRecord(group.groupId, next));
    this.scheduleTimers(group, before, next);
    return { before, next };
  }

  private leave(group: ConsumerGroup, p: ConsumerHeartbeatParams, kind: 'leave' | 'static-leave', records: GroupCoordinatorRecord[]): ConsumerHeartbeatResult {
    let member: ConsumerGroupMember;
    if (p.instanceId === null) {
      const existing = group.members.get(p.memberId);
      if (existing === undefined) throw unknownMember(p.groupId, p.memberId);
      member = existing;
    } else {
      const existingId = group.staticMembers.get(p.instanceId);
      member = staticMemberOf(existingId === undefined ? undefined : group.members.get(existingId), p.memberId, p.instanceId);
    }
    if (kind === 'static-leave') {
      this.cancelTimers(group.groupId, member.memberId);
      const away = staticMemberTemporaryLeave(member);
      group.putMember(away);
      records.push(currentAssignmentRecord(group.groupId, away));
      // the static member's session still runs: it must come back within it
      this.store.timer.schedule(sessionKey(group.groupId, member.memberId), this.timeouts(group.groupId).sessionTimeoutMs, () => this.fence(group, member.memberId, 'session timeout'));
    } else {
      records.push(...this.fence(group, member.memberId, 'left'));
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: p.memberId,
      memberEpoch: kind === 'leave' ? LEAVE_GROUP_MEMBER_EPOCH : LEAVE_GROUP_STATIC_MEMBER_EPOCH,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /**
   * Removes the member (left, session, rebalance, join or sync timeout) and bumps the group epoch; returns the
   * records to write. A timer's removal writes them itself.
   */
  fence(group: ConsumerGroup, memberId: string, reason: 'left' | 'session timeout' | 'rebalance timeout' | 'join timeout' | 'sync timeout'): GroupCoordinatorRecord[] {
    if (this.groups.get(group.groupId) !== group || !group.members.has(memberId)) return [];
    const records = this.removeMembers(group, [memberId]);
    if (reason === 'left') return records;
    this.observer.memberFenced(reason === 'session timeout' ? 'session_timeout' : 'rebalance_timeout');
    this.store.log.info({ groupId: group.groupId, memberId, groupEpoch: group.groupEpoch }, `removed consumer group member: ${reason}`);
    this.writeInBackground(records, group.groupId);
    return [];
  }

  /**
   * Removes members of the group (Kafka's consumerGroupFenceMembers): when only classic members would remain,
   * the group may become a classic group instead (the online downgrade); otherwise the members go and the
   * group epoch bumps once. Returns the records to write.
   */
  removeMembers(group: ConsumerGroup, memberIds: readonly string[]): GroupCoordinatorRecord[] {
    const records: GroupCoordinatorRecord[] = [];
    if (memberIds.length === 0) return records;
    if (this.migration?.downgrade(group, new Set(memberIds), records)) return records;
    for (const memberId of memberIds) {
      this.cancelTimers(group.groupId, memberId);
      group.removeMember(memberId);
      records.push(...memberTombstones(group.groupId, memberId));
    }
    for (const r of dropUnsubscribed(group)) records.push(regularExpressionTombstone(group.groupId, r));
    group.groupEpoch += 1;
    records.push(groupEpochRecord(group));
    return records;
  }

  /** Writes records no request waits for; a failure is logged (memory keeps the change). */
  writeInBackground(records: readonly GroupCoordinatorRecord[], groupId: string): void {
    void this.store.writeConsumerGroupRecords(records).then((error) => {
      if (error !== ErrorCode.NONE) this.store.log.warn({ partition: this.store.partition, groupId, error }, 'failed to write consumer group records');
    });
  }

  /** (Re)starts the member's session: group.consumer.session.timeout.ms, or a classic member's own. */
  scheduleSession(group: ConsumerGroup, member: ConsumerGroupMember): void {
    const timeoutMs = member.classicMemberMetadata?.sessionTimeoutMs ?? this.timeouts(group.groupId).sessionTimeoutMs;
    this.store.timer.schedule(sessionKey(group.groupId, member.memberId), timeoutMs, () => this.fence(group, member.memberId, 'session timeout'));
  }

  private scheduleTimers(group: ConsumerGroup, before: ConsumerGroupMember | undefined, next: ConsumerGroupMember): void {
    const timer = this.store.timer;
    this.scheduleSession(group, next);
    const key = rebalanceKey(group.groupId, next.memberId);
    // a classic member revokes by rejoining: its join timeout (classic-members.ts) stands for this one
    if (next.state !== MemberState.UNREVOKED_PARTITIONS || usesClassicProtocol(next)) {
      timer.cancel(key);
    } else if (before?.state !== MemberState.UNREVOKED_PARTITIONS || before.memberEpoch !== next.memberEpoch || !timer.isScheduled(key)) {
      timer.schedule(key, Math.max(next.rebalanceTimeoutMs, 0), () => this.fence(group, next.memberId, 'rebalance timeout'));
    }
  }

  private cancelTimers(groupId: string, memberId: string): void {
    this.store.timer.cancel(sessionKey(groupId, memberId));
    this.store.timer.cancel(rebalanceKey(groupId, memberId));
    this.store.timer.cancel(classicJoinKey(groupId, memberId));
    this.store.timer.cancel(classicSyncKey(groupId, memberId));
  }

  /** The member's assignor, or the default (the first built-in: uniform); UNSUPPORTED_ASSIGNOR for others. */
  assignorFor(name: string | null): PartitionAssignor {
    if (name === null) return BUILTIN_ASSIGNORS[0]!;
    const assignor = builtinAssignor(name);
    if (assignor === undefined) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${name} is not supported. Supported assignors: ${BUILTIN_ASSIGNORS.map((a) => a.name).join(', ')}.`);
    }
    return assignor;
  }

  private assignFunction(group: ConsumerGroup, preferred: PartitionAssignor): AssignFunction {
    return (specs) => {
      const topics = new Map<string, TopicDescription>();
      const members = new Map<string, MemberSpec>();
      for (const [memberId, spec] of specs) {
        const ids = new Set<string>();
        for (const name of group.memberTopicNames(spec.member)) {
          const topic = this.topics.get(name);
          if (topic === undefined) continue;
          ids.add(topic.topicId);
          topics.set(topic.topicId, { numPartitions: topic.numPartitions, partitionRacks: singleNodePartitionRacks(this.store.config.brokerRack, topic.numPartitions) });
        }
        members.set(memberId, { rackId: spec.member.rackId, instanceId: spec.member.instanceId, subscribedTopicIds: ids, assignment: spec.currentTarget });
      }
      const assignor = this.groupAssignor([...specs.values()].map((s) => s.member), preferred);
      return assignor.assign(groupSpecOf(members), describeTopics(topics)).members;
    };
  }

  /** The group's assignor: the one most members name (Kafka's ConsumerGroup.preferredServerAssignor), else `fallback`. */
  private groupAssignor(members: Iterable<ConsumerGroupMember>, fallback: PartitionAssignor): PartitionAssignor {
    const votes = new Map<string, number>();
    for (const m of members) if (m.serverAssignorName !== null) votes.set(m.serverAssignorName, (votes.get(m.serverAssignorName) ?? 0) + 1);
    let assignor = fallback;
    let best = 0;
    for (const [name, count] of votes) {
      const a = builtinAssignor(name);
      if (a !== undefined && count > best) {
        assignor = a;
        best = count;
      }
    }
    return assignor;
  }

  private topicIdsOf(names: ReadonlySet<string>): Set<string> {
    const ids = new Set<string>();
    for (const name of names) {
      const topic = this.topics.get(name);
      if (topic !== undefined) ids.add(topic.topicId);
    }
    return ids;
  }

  /**
   * The subscribed topics' names, ids, partition counts and partition racks, as a string to compare (Kafka's
   * topic hash covers the racks too, so a new broker.rack bumps the group epoch once).
   */
  private subscriptionMetadata(group: ConsumerGroup): string {
    const parts: string[] = [];
    const rack = this.store.config.brokerRack ?? '';
    for (const name of [...group.subscribedTopicNames()].sort()) {
      const topic = this.topics.get(name);
      if (topic !== undefined) parts.push(rack === '' ? `${name}:${topic.topicId}:${topic.numPartitions}` : `${name}:${topic.topicId}:${topic.numPartitions}:${rack}`);
    }
    return parts.join(',');
  }
}

/** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid. */
function validateRequest(p: ConsumerHeartbeatParams): void {
  if (p.groupId === '') throw invalid("GroupId can't be empty.");
  if (p.rackId !== null && p.rackId === '') throw invalid("RackId can't be empty.");
  if (p.version >= 1 && p.memberId === '') throw invalid("MemberId can't be empty.");
  if (p.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
    if (p.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
    if (p.topicPartitions === null || p.topicPartitions.length > 0) throw invalid('TopicPartitions must be empty when (re-)joining.');
    if (p.subscribedTopicNames === null && p.subscribedTopicRegex === null) throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
  } else if (p.memberId === '') {
    throw invalid("MemberId can't be empty.");
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function assignmentOf(tp: TopicPartitions): Array<{ topicId: string; partitions: number[] }> {
  return [...tp].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((a, b) => a - b) }));
}
