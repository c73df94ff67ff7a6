/**
 * The group coordinator for classic consumer groups (Kafka's GroupCoordinator
 * and GroupMetadataManager, single node: this broker coordinates every
 * group). Owns the groups, their timers and their persistence in
 * `__consumer_offsets`.
 *
 * Timers, as Kafka's purgatories:
 * - join phase: after `group.initial.rebalance.delay.ms` for a group starting
 *   from Empty (extended while new members arrive, capped by the rebalance
 *   timeout), else when every member has rejoined or the rebalance timeout
 *   (largest member value) expires; dynamic members that did not rejoin are
 *   removed then;
 * - sync phase: members that have not sent SyncGroup within the rebalance
 *   timeout after the join phase are removed and a new rebalance starts;
 * - per member session timer, reset by heartbeats, commits, join and sync
 *   completion; a member parked in JoinGroup or SyncGroup counts as alive
 *   unless it is new (new members' JoinGroup times out after 5 minutes);
 * - per pending member id (MEMBER_ID_REQUIRED) the session timeout;
 * - offset retention, every `offsets.retention.check.interval.ms`.
 *
 * Loading: on start every partition of `__consumer_offsets` is replayed in
 * the background; requests for groups of a partition still loading get
 * COORDINATOR_LOAD_IN_PROGRESS (SyncGroup: REBALANCE_IN_PROGRESS, Heartbeat:
 * NONE, as Kafka).
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Broker } from '../broker.js';
import type { Logger } from '../logger.js';
import {
  Group,
  joinError,
  sameProtocols,
  syncError,
  type GroupState,
  type GroupSummary,
  type JoinResult,
  type Member,
  type NewMember,
  type SyncResult,
} from './group.js';
import { GroupStore, type GroupOverview, type OffsetToCommit, type PartitionLag, type TopicPartition } from './group-store.js';
import type { OffsetsTopic } from './offsets-topic.js';

export type { GroupOverview, OffsetToCommit, PartitionLag } from './group-store.js';

/** Kafka's fixed timeout for a new member's parked JoinGroup (GroupCoordinator.NewMemberJoinTimeoutMs). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

/** A JoinGroup: the member as it describes itself (member id "" when new) and how to treat it. */
export interface JoinParams extends Omit<NewMember, 'assignment'> {
  readonly groupId: string;
  /** JoinGroup v4+ without a group instance id: MEMBER_ID_REQUIRED round trip. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader of a stable group skips the assignment. */
  readonly supportSkippingAssignment: boolean;
  readonly reason: string | null;
}

export interface SyncParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: ReadonlyMap<string, Buffer>;
}

export interface HeartbeatParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeavingMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason: string | null;
}

export interface LeaveResult {
  readonly errorCode: number;
  readonly members: ReadonlyArray<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}

export interface CommitParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** OffsetCommit v2-4 retention_time_ms; -1 = the broker's retention. */
  readonly retentionTimeMs: number;
  readonly offsets: readonly OffsetToCommit[];
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface FetchedOffset {
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly errorCode: number;
}

export interface FetchOffsetsResult {
  readonly errorCode: number;
  readonly topics: ReadonlyArray<{ topic: string; partitions: FetchedOffset[] }>;
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupState;
}

const EMPTY = Buffer.alloc(0);

type JoinCallback = (r: JoinResult) => void;

export class GroupCoordinator {
  private readonly store: GroupStore;
  private active = false;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  private readonly initialRebalanceDelayMs: number;
  private readonly minSessionTimeoutMs: number;
  private readonly maxSessionTimeoutMs: number;
  private readonly maxGroupSize: number;
  private readonly retentionMs: number;
  private readonly retentionCheckIntervalMs: number;

  private constructor(broker: Broker) {
    const config = broker.config;
    this.log = broker.logger.child({ component: 'group-coordinator' });
    this.store = new GroupStore(broker, this.log, {
      syncWrites: config.bool('gregor.flush.acks.all'),
      metadataMaxBytes: config.int('offset.metadata.max.bytes'),
    });
    this.initialRebalanceDelayMs = config.int('group.initial.rebalance.delay.ms');
    this.minSessionTimeoutMs = config.int('group.min.session.timeout.ms');
    this.maxSessionTimeoutMs = config.int('group.max.session.timeout.ms');
    this.maxGroupSize = config.int('group.max.size');
    this.retentionMs = config.int('offsets.retention.minutes') * 60_000;
    this.retentionCheckIntervalMs = config.long('offsets.retention.check.interval.ms');
  }

  /** Starts the coordinator; existing `__consumer_offsets` partitions are loaded in the background. */
  static start(broker: Broker): GroupCoordinator {
    const c = new GroupCoordinator(broker);
    c.active = true;
    // loaded members must heartbeat within their session timeout, or they are removed
    c.store.startLoading((group) => {
      for (const m of group.members.values()) c.scheduleHeartbeat(group, m);
    });
    c.cleanupTimer = setInterval(() => void c.expireOffsets(), c.retentionCheckIntervalMs);
    c.cleanupTimer.unref();
    return c;
  }

  /** Resolves once every partition has been loaded. */
  whenLoaded(): Promise<void> {
    return this.store.whenLoaded();
  }

  get offsetsTopic(): OffsetsTopic {
    return this.store.offsetsTopic;
  }

  partitionFor(groupId: string): number {
    return this.store.partitionFor(groupId);
  }

  /**
   * Stops the coordinator (broker shutdown): parked JoinGroup and SyncGroup
   * requests are answered NOT_COORDINATOR, timers stop, loading ends.
   */
  async close(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    for (const group of this.store.all()) this.unload(group);
    await this.store.close();
  }

  // ------------------------------------------------------------ JoinGroup

  join(p: JoinParams): Promise<JoinResult> {
    return new Promise((resolve) => {
      const error = this.validateGroupStatus(p.groupId, false);
      if (error !== undefined) return resolve(joinError(p.memberId, error));
      if (p.sessionTimeoutMs < this.minSessionTimeoutMs || p.sessionTimeoutMs > this.maxSessionTimeoutMs) {
        return resolve(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
      }
      const isUnknownMember = p.memberId === '';
      let group = this.store.get(p.groupId);
      if (!group) {
        // only a JoinGroup without a member id creates a group
        if (!isUnknownMember) return resolve(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        group = this.store.add(new Group(p.groupId, 'Empty', Date.now()));
      }
      if (!this.acceptJoiningMember(group, p.memberId)) {
        this.removeMember(group, p.memberId);
        resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
      } else if (isUnknownMember) {
        this.doNewMemberJoin(group, p, resolve);
      } else {
        this.doCurrentMemberJoin(group, p, resolve);
      }
      if (group.is('PreparingRebalance')) this.checkJoinCompletion(group);
    });
  }

  private acceptJoiningMember(group: Group, memberId: string): boolean {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.members.get(memberId)?.awaitingJoin !== undefined) || group.numAwaitingJoin < this.maxGroupSize;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < this.maxGroupSize;
    }
  }

  private doNewMemberJoin(group: Group, p: JoinParams, cb: JoinCallback): void {
    if (group.is('Dead')) return cb(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols.map((x) => x.name))) {
      return cb(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = Group.generateMemberId(p.clientId, p.groupInstanceId);
    if (p.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(p.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.log.info({ group: group.groupId, groupInstanceId: p.groupInstanceId, oldMemberId, newMemberId, state: group.state }, 'static member rejoins with a new member id');
        return this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, p, cb);
      }
      return this.addMemberAndRebalance(group, p, newMemberId, cb);
    }
    if (p.requireKnownMemberId) {
      // KIP-394: hand out the id, expect the member back with it within the session timeout
      const timer = setTimeout(() => this.onExpirePendingMember(group, newMemberId), p.sessionTimeoutMs);
      timer.unref();
      group.addPendingMember(newMemberId, timer);
      return cb(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, p, newMemberId, cb);
  }

  private doCurrentMemberJoin(group: Group, p: JoinParams, cb: JoinCallback): void {
    if (group.is('Dead')) return cb(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols.map((x) => x.name))) {
      return cb(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.isPendingMember(p.memberId)) {
      // a pending member id is never a static member's (Kafka fails such a request)
      if (p.groupInstanceId !== null) return cb(joinError(p.memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      return this.addMemberAndRebalance(group, p, p.memberId, cb);
    }
    const error = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (error !== undefined) return cb(joinError(p.memberId, error));
    const member = group.members.get(p.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, p, cb, 'member joining during PreparingRebalance');
      case 'CompletingRebalance':
        if (sameProtocols(member.protocols, p.protocols)) {
          // the member lost the JoinGroup response: answer with the current generation again
          return cb(this.generationResult(group, member, group.isLeader(member.memberId)));
        }
        return this.updateMemberAndRebalance(group, member, p, cb, 'member metadata changed during CompletingRebalance');
      case 'Stable':
        if (group.isLeader(member.memberId)) {
          // the leader rejoining always rebalances (e.g. topic metadata changed)
          return this.updateMemberAndRebalance(group, member, p, cb, 'leader rejoining a stable group');
        }
        if (!sameProtocols(member.protocols, p.protocols)) {
          return this.updateMemberAndRebalance(group, member, p, cb, 'member metadata changed during Stable');
        }
        return cb(this.generationResult(group, member, false));
      case 'Empty':
      case 'Dead':
        return cb(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private generationResult(group: Group, member: Member, withMembers: boolean, leader = group.leaderId ?? '', skipAssignment = false): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      memberId: member.memberId,
      generationId: group.generationId,
      protocolType: group.protocolType ?? null,
      protocolName: group.protocolName ?? null,
      leader,
      skipAssignment,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(group: Group, p: JoinParams, memberId: string, cb: JoinCallback): void {
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    const member = group.add({ ...p, memberId }, cb);
    member.isNew = true;
    // new members cannot heartbeat yet: their parked JoinGroup times out instead
    this.scheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `adding new member ${memberId}`);
  }

  private updateMemberAndRebalance(group: Group, member: Member, p: JoinParams, cb: JoinCallback, reason: string): void {
    const replaced = group.updateMember(member, p.protocols, cb, { rebalanceTimeoutMs: p.rebalanceTimeoutMs, sessionTimeoutMs: p.sessionTimeoutMs });
    replaced?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    this.maybePrepareRebalance(group, reason);
  }

  private updateStaticMemberAndRebalance(group: Group, oldMemberId: string, newMemberId: string, p: JoinParams, cb: JoinCallback): void {
    const instanceId = p.groupInstanceId!;
    const currentLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId, ErrorCode.FENCED_INSTANCE_ID);
    this.scheduleHeartbeat(group, member);
    const old = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    group.updateMember(member, p.protocols, cb, { rebalanceTimeoutMs: p.rebalanceTimeoutMs, sessionTimeoutMs: p.sessionTimeoutMs });
    switch (group.state) {
      case 'Stable': {
        // the group's protocol stays: keep the assignment, persist the new member id, no rebalance
        if (group.protocolName !== group.selectProtocol()) {
          return this.maybePrepareRebalance(group, `static member ${instanceId} changed the group protocol`);
        }
        const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
        void this.store.storeGroup(group, assignment).then((error) => {
          if (error !== ErrorCode.NONE) {
            this.log.warn({ group: group.groupId, error }, 'failed to persist the replaced static member; reverting');
            group.updateMember(member, old.protocols, undefined, old);
            this.scheduleHeartbeat(group, group.replaceStaticMember(instanceId, newMemberId, oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
            return cb({ ...joinError('', error), generationId: group.generationId, protocolType: group.protocolType ?? null, protocolName: group.protocolName ?? null, leader: currentLeader });
          }
          if (p.supportSkippingAssignment) {
            const isLeader = group.isLeader(newMemberId);
            group.maybeInvokeJoin(member, this.generationResult(group, member, isLeader, group.leaderId ?? '', isLeader));
          } else {
            // before v9: answer with the old leader id so that a rejoining leader does not assign
            group.maybeInvokeJoin(member, this.generationResult(group, member, false, currentLeader));
          }
        });
        return;
      }
      case 'CompletingRebalance':
        // the leader may have been given the old member id: assign again
        return this.prepareRebalance(group, `static member ${instanceId} rejoined during CompletingRebalance`);
      case 'PreparingRebalance':
        return;
      case 'Empty':
      case 'Dead':
        // unreachable: a group with a static member is neither
        return cb(joinError(newMemberId, ErrorCode.UNKNOWN_SERVER_ERROR));
    }
  }

  private maybePrepareRebalance(group: Group, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.clearSyncTimer(group);
    const fromEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', Date.now());
    this.log.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    if (fromEmpty) {
      const delay = this.initialRebalanceDelayMs;
      this.scheduleInitialDelayedJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs);
      this.checkJoinCompletion(group);
    }
  }

  private scheduleInitialDelayedJoin(group: Group, delayMs: number, remainingMs: number): void {
    this.setJoinTimer(group, delayMs, true, () => {
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const delay = Math.min(this.initialRebalanceDelayMs, remainingMs);
        this.scheduleInitialDelayedJoin(group, delay, Math.max(remainingMs - delayMs, 0));
      } else {
        this.completeJoin(group);
      }
    });
  }

  private scheduleDelayedJoin(group: Group, timeoutMs: number): void {
    this.setJoinTimer(group, timeoutMs, false, () => this.completeJoin(group));
  }

  private setJoinTimer(group: Group, ms: number, initialDelay: boolean, fire: () => void): void {
    this.clearJoinTimer(group);
    const timer = setTimeout(() => {
      if (group.joinTimer !== timer) return;
      group.joinTimer = undefined;
      fire();
    }, ms);
    timer.unref();
    group.joinTimer = timer;
    group.joinTimerIsInitialDelay = initialDelay;
  }

  private clearJoinTimer(group: Group): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
  }

  /** Completes the join phase early when every member has rejoined (never during the initial delay). */
  private checkJoinCompletion(group: Group): void {
    if (group.joinTimer && !group.joinTimerIsInitialDelay && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    this.clearJoinTimer(group);
    if (!this.isCurrent(group)) return;
    for (const m of group.notYetRejoinedMembers()) {
      if (m.groupInstanceId !== null) continue;
      this.log.info({ group: group.groupId, memberId: m.memberId }, 'removing member that did not rejoin in time');
      this.removeMember(group, m.memberId);
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      this.log.warn({ group: group.groupId }, 'no member rejoined; waiting another rebalance timeout');
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs);
      return;
    }
    group.initNextGeneration(Date.now());
    if (group.is('Empty')) {
      this.log.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      void this.store.storeGroup(group, new Map()).then((error) => {
        if (error !== ErrorCode.NONE) this.log.warn({ group: group.groupId, error }, 'failed to write empty group metadata');
      });
      return;
    }
    this.log.info({ group: group.groupId, generation: group.generationId, members: group.size, protocol: group.protocolName }, 'stabilized group');
    for (const member of group.members.values()) {
      group.maybeInvokeJoin(member, this.generationResult(group, member, group.isLeader(member.memberId)));
      this.scheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  // ------------------------------------------------------------ SyncGroup

  sync(p: SyncParams): Promise<SyncResult> {
    const error = this.validateGroupStatus(p.groupId, false);
    // a coordinator that is loading has lost the rebalance: the member must rejoin
    if (error === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    if (error !== undefined) return Promise.resolve(syncError(error));
    const group = this.store.get(p.groupId);
    if (!group) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    return new Promise((resolve) => this.doSync(group, p, resolve));
  }

  private doSync(group: Group, p: SyncParams, cb: (r: SyncResult) => void): void {
    const error = this.validateSync(group, p);
    if (error !== undefined) return cb(syncError(error));
    const member = group.members.get(p.memberId)!;
    switch (group.state) {
      case 'Empty':
        return cb(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return cb(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        // a SyncGroup already parked for this member (sent on another connection) gives way
        group.maybeInvokeSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = cb;
        this.removePendingSyncMember(group, p.memberId);
        if (!group.isLeader(p.memberId)) return;
        const assignment = new Map<string, Buffer>();
        for (const [id, bytes] of p.assignments) assignment.set(id, Buffer.from(bytes));
        for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY);
        const generation = group.generationId;
        void this.store.storeGroup(group, assignment).then((storeError) => {
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          if (storeError !== ErrorCode.NONE) {
            this.resetAndPropagateAssignmentError(group, storeError);
            this.maybePrepareRebalance(group, 'failed to store the group assignment');
          } else {
            this.setAndPropagateAssignment(group, assignment);
            group.transitionTo('Stable', Date.now());
          }
        });
        return;
      }
      case 'Stable':
        this.removePendingSyncMember(group, p.memberId);
        cb({ errorCode: ErrorCode.NONE, protocolType: group.protocolType ?? null, protocolName: group.protocolName ?? null, assignment: member.assignment });
        this.scheduleHeartbeat(group, member);
        return;
      case 'Dead':
        return cb(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private validateSync(group: Group, p: SyncParams): number | undefined {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (error !== undefined) return error;
    if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (p.protocolType !== null && p.protocolType !== group.protocolType) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (p.protocolName !== null && p.protocolName !== group.protocolName) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    return undefined;
  }

  private setAndPropagateAssignment(group: Group, assignment: ReadonlyMap<string, Buffer>): void {
    for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private resetAndPropagateAssignmentError(group: Group, error: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY;
    this.propagateAssignment(group, error);
  }

  private propagateAssignment(group: Group, error: number): void {
    const ok = error === ErrorCode.NONE;
    for (const m of group.members.values()) {
      const answered = group.maybeInvokeSync(m, {
        errorCode: error,
        protocolType: ok ? (group.protocolType ?? null) : null,
        protocolName: ok ? (group.protocolName ?? null) : null,
        assignment: m.assignment,
      });
      // a session that expired while the member waited was ignored: start a fresh one
      if (answered) this.scheduleHeartbeat(group, m);
    }
  }

  private schedulePendingSync(group: Group): void {
    this.clearSyncTimer(group);
    const generation = group.generationId;
    const timer = setTimeout(() => {
      if (group.syncTimer !== timer) return;
      group.syncTimer = undefined;
      this.onExpirePendingSync(group, generation);
    }, group.rebalanceTimeoutMs);
    timer.unref();
    group.syncTimer = timer;
  }

  private clearSyncTimer(group: Group): void {
    if (group.syncTimer) clearTimeout(group.syncTimer);
    group.syncTimer = undefined;
  }

  private removePendingSyncMember(group: Group, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearSyncTimer(group);
  }

  private onExpirePendingSync(group: Group, generation: number): void {
    if (!this.isCurrent(group) || generation !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    for (const id of missing) this.removeMember(group, id);
    this.log.info({ group: group.groupId, members: missing }, 'removing members that did not send SyncGroup in time');
    this.prepareRebalance(group, 'members did not sync in time');
  }

  // ------------------------------------------------------------ Heartbeat / LeaveGroup

  heartbeat(p: HeartbeatParams): number {
    const error = this.validateGroupStatus(p.groupId, false);
    // loading: answer blindly, the member learns about the rebalance later
    if (error === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (error !== undefined) return error;
    const group = this.store.get(p.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (memberError !== undefined) return memberError;
    if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.members.get(p.memberId)!;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleHeartbeat(group, member);
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.scheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Dead':
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  leave(groupId: string, leaving: readonly LeavingMember[]): LeaveResult {
    const error = this.validateGroupStatus(groupId, false);
    if (error !== undefined) return { errorCode: error, members: [] };
    const group = this.store.get(groupId);
    const result = (m: LeavingMember, errorCode: number): { memberId: string; groupInstanceId: string | null; errorCode: number } => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (!group) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => result(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => {
      if (m.memberId === '') {
        // administrative removal by group instance id
        const current = m.groupInstanceId === null ? undefined : group.currentStaticMemberId(m.groupInstanceId);
        if (current === undefined) return result(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, group.members.get(current)!, `static member ${m.groupInstanceId} left: ${m.reason ?? 'not provided'}`);
        return result(m, ErrorCode.NONE);
      }
      if (group.isPendingMember(m.memberId)) {
        this.removePendingMember(group, m.memberId);
        return result(m, ErrorCode.NONE);
      }
      const memberError = this.validateCurrentMember(group, m.memberId, m.groupInstanceId);
      if (memberError !== undefined) return result(m, memberError);
      this.removeMemberAndUpdateGroup(group, group.members.get(m.memberId)!, `member left: ${m.reason ?? 'not provided'}`);
      return result(m, ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  /**
   * Removes a member (or pending member id); a JoinGroup or SyncGroup it
   * still has parked is answered UNKNOWN_MEMBER_ID so that it retries.
   */
  private removeMember(group: Group, memberId: string): void {
    const member = group.members.get(memberId);
    if (member) {
      group.maybeInvokeJoin(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
      group.maybeInvokeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
    group.remove(memberId);
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member, reason: string): void {
    this.removeMember(group, member.memberId);
    this.log.info({ group: group.groupId, memberId: member.memberId, reason }, 'removed member');
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        return this.maybePrepareRebalance(group, reason);
      case 'PreparingRebalance':
        return this.checkJoinCompletion(group);
      case 'Empty':
      case 'Dead':
        return;
    }
  }

  private removePendingMember(group: Group, memberId: string): void {
    this.removeMember(group, memberId);
    if (group.is('PreparingRebalance')) this.checkJoinCompletion(group);
  }

  private onExpirePendingMember(group: Group, memberId: string): void {
    if (!this.isCurrent(group) || !group.isPendingMember(memberId)) return;
    this.log.info({ group: group.groupId, memberId }, 'pending member expired');
    this.removePendingMember(group, memberId);
  }

  private scheduleHeartbeat(group: Group, member: Member, timeoutMs = member.sessionTimeoutMs): void {
    if (member.heartbeatTimer) clearTimeout(member.heartbeatTimer);
    const timer = setTimeout(() => {
      if (member.heartbeatTimer !== timer) return;
      member.heartbeatTimer = undefined;
      this.onExpireHeartbeat(group, member);
    }, timeoutMs);
    timer.unref();
    member.heartbeatTimer = timer;
  }

  private onExpireHeartbeat(group: Group, member: Member): void {
    if (!this.isCurrent(group) || group.is('Dead') || group.members.get(member.memberId) !== member) return;
    // members parked in JoinGroup/SyncGroup are alive, unless they are new (their join timed out)
    const satisfied = !member.isNew && (member.awaitingJoin !== undefined || member.awaitingSync !== undefined);
    if (satisfied) return;
    this.log.info({ group: group.groupId, memberId: member.memberId }, 'member session expired');
    this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} session expired`);
  }

  // ------------------------------------------------------------ offsets

  /** Commits offsets; resolves to one error code per entry of `p.offsets`, in order. */
  async commitOffsets(p: CommitParams): Promise<number[]> {
    const all = (code: number): number[] => p.offsets.map(() => code);
    const error = this.validateGroupStatus(p.groupId, true);
    if (error !== undefined) return all(error);
    let group = this.store.get(p.groupId);
    if (!group) {
      // a group without group management (simple consumer, admin) may commit
      if (p.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = this.store.add(new Group(p.groupId, 'Empty', Date.now()));
    }
    const commitError = this.validateOffsetCommit(group, p);
    if (commitError !== undefined) return all(commitError);
    switch (group.state) {
      case 'Empty':
        return this.store.storeOffsets(group, p.offsets, p.retentionTimeMs);
      case 'Stable':
      case 'PreparingRebalance': {
        // commits during PreparingRebalance are allowed: the heartbeat tells the member about the rebalance
        const member = group.members.get(p.memberId);
        if (member) this.scheduleHeartbeat(group, member);
        return this.store.storeOffsets(group, p.offsets, p.retentionTimeMs);
      }
      case 'CompletingRebalance':
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Dead':
        return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private validateOffsetCommit(group: Group, p: CommitParams): number | undefined {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
      const error = this.validateCurrentMember(group, p.memberId, p.groupInstanceId);
      if (error !== undefined) return error;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      return undefined;
    }
    // outside group management only an empty group takes commits
    if (!group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    return undefined;
  }

  /**
   * Committed offsets of a group: of the given partitions, or (null) of every
   * partition with a committed offset. Partitions without one get offset -1.
   */
  fetchOffsets(groupId: string, requested: readonly TopicPartitions[] | null, requireStable: boolean): FetchOffsetsResult {
    const error = this.validateGroupStatus(groupId, true);
    if (error !== undefined) return { errorCode: error, topics: [] };
    const group = this.store.get(groupId);
    const live = group && !group.is('Dead') ? group : undefined;
    const none = (partition: number, errorCode: number = ErrorCode.NONE): FetchedOffset => ({ partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode });
    const one = (topic: string, partition: number): FetchedOffset => {
      if (!live) return none(partition);
      if (requireStable && live.hasPendingCommit(topic, partition)) return none(partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = live.offset(topic, partition);
      if (!o) return none(partition);
      return { partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
    };
    if (requested !== null) {
      return { errorCode: ErrorCode.NONE, topics: requested.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => one(t.topic, p)) })) };
    }
    const topics: Array<{ topic: string; partitions: FetchedOffset[] }> = [];
    if (live) {
      for (const [topic, byPartition] of live.offsets) {
        topics.push({ topic, partitions: [...byPartition.keys()].map((p) => one(topic, p)) });
      }
    }
    return { errorCode: ErrorCode.NONE, topics };
  }

  /** Deletes offsets of a group (OffsetDelete): the group error, or an error per requested partition. */
  async deleteOffsets(groupId: string, requested: readonly TopicPartitions[]): Promise<{ errorCode: number; partitions: Map<string, Map<number, number>> }> {
    const partitions = new Map<string, Map<number, number>>();
    const set = (topic: string, partition: number, code: number): void => {
      let m = partitions.get(topic);
      if (!m) partitions.set(topic, (m = new Map()));
      m.set(partition, code);
    };
    const error = this.validateGroupStatus(groupId, false);
    if (error !== undefined) return { errorCode: error, partitions };
    const group = this.store.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions };
    const eligible: TopicPartition[] = [];
    if (group.is('Empty')) {
      for (const t of requested) for (const p of t.partitions) eligible.push({ topic: t.topic, partition: p });
    } else if (group.protocolType === 'consumer') {
      for (const t of requested) {
        for (const p of t.partitions) {
          if (group.isSubscribedToTopic(t.topic)) set(t.topic, p, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
          else eligible.push({ topic: t.topic, partition: p });
        }
      }
    } else {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions };
    }
    if (eligible.length > 0) {
      await this.store.cleanup([group], (g) => eligible.filter((e) => g.removeOffset(e.topic, e.partition) !== undefined));
      for (const e of eligible) set(e.topic, e.partition, ErrorCode.NONE);
    }
    return { errorCode: ErrorCode.NONE, partitions };
  }

  // ------------------------------------------------------------ describe / list / delete

  describe(groupId: string): { errorCode: number; summary: GroupSummary } {
    const error = this.validateGroupStatus(groupId, true);
    if (error !== undefined) return { errorCode: error, summary: { state: '', protocolType: '', protocol: '', members: [] } };
    const group = this.store.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, summary: { state: 'Dead', protocolType: '', protocol: '', members: [] } };
    return { errorCode: ErrorCode.NONE, summary: group.summary() };
  }

  /** Groups, filtered by state (case-insensitive) and type ("classic"); empty filters match all. */
  list(states: readonly string[], types: readonly string[]): { errorCode: number; groups: ListedGroup[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const errorCode = this.store.anyLoading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
    const wantedStates = new Set(states.map((s) => s.toLowerCase()));
    const classicWanted = types.length === 0 || types.some((t) => t.toLowerCase() === 'classic');
    const groups: ListedGroup[] = [];
    if (!classicWanted) return { errorCode, groups };
    for (const g of this.store.all()) {
      if (wantedStates.size > 0 && !wantedStates.has(g.state.toLowerCase())) continue;
      groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
    }
    return { errorCode, groups };
  }

  /** Deletes empty groups with their offsets; one error code per group id. */
  async deleteGroups(groupIds: readonly string[]): Promise<Map<string, number>> {
    const results = new Map<string, number>();
    const eligible: Group[] = [];
    for (const groupId of groupIds) {
      const error = this.validateGroupStatus(groupId, true);
      if (error !== undefined) {
        results.set(groupId, error);
        continue;
      }
      const group = this.store.get(groupId);
      if (!group || group.is('Dead')) results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND);
      else if (group.is('Empty')) {
        group.transitionTo('Dead', Date.now());
        eligible.push(group);
      } else results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
    }
    if (eligible.length > 0) {
      await this.store.cleanup(eligible, (g) => {
        const all = g.allOffsets().map(({ topic, partition }) => ({ topic, partition }));
        for (const o of all) g.removeOffset(o.topic, o.partition);
        g.pendingOffsetCommits.clear();
        return all;
      });
      for (const g of eligible) results.set(g.groupId, ErrorCode.NONE);
    }
    return results;
  }

  /** Removes offsets of a deleted topic from every group (to be called when a topic is deleted). */
  async onTopicDeleted(topic: string): Promise<void> {
    await this.store.cleanup(this.store.all(), (g) => {
      const byPartition = g.offsets.get(topic);
      if (!byPartition) return [];
      const removed = [...byPartition.keys()].map((partition) => ({ topic, partition }));
      for (const r of removed) g.removeOffset(r.topic, r.partition);
      return removed;
    });
  }

  /** One pass of offset retention (runs every offsets.retention.check.interval.ms). */
  async expireOffsets(now = Date.now()): Promise<number> {
    if (!this.active) return 0;
    const removed = await this.store.cleanup(this.store.all(), (g) => g.removeExpiredOffsets(now, this.retentionMs));
    if (removed > 0) this.log.info({ removed }, 'removed expired offsets');
    return removed;
  }

  // ------------------------------------------------------------ metrics

  /** Consumer lag of every committed offset of every group, for partitions that exist. */
  consumerLag(): PartitionLag[] {
    return this.store.consumerLag();
  }

  /** State, protocol type, member count and generation of every group. */
  groupOverview(): GroupOverview[] {
    return this.store.overview();
  }

  // ------------------------------------------------------------ shared rules

  /**
   * The checks every group request starts with. `allowEmptyId`: OffsetCommit,
   * OffsetFetch, DescribeGroups and DeleteGroups accept the empty group id.
   */
  private validateGroupStatus(groupId: string, allowEmptyId: boolean): number | undefined {
    if (!allowEmptyId && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.store.isLoading(groupId)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return undefined;
  }

  /** A static member's instance id must map to this member id; a dynamic member id must exist. */
  private validateCurrentMember(group: Group, memberId: string, groupInstanceId: string | null): number | undefined {
    if (groupInstanceId !== null) {
      const current = group.currentStaticMemberId(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return undefined;
    }
    return group.has(memberId) ? undefined : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** The group is still the one the coordinator holds (not deleted, unloaded or replaced). */
  private isCurrent(group: Group): boolean {
    return this.active && this.store.get(group.groupId) === group;
  }

  private unload(group: Group): void {
    const previous = group.state;
    group.transitionTo('Dead', Date.now());
    this.clearJoinTimer(group);
    this.clearSyncTimer(group);
    for (const m of group.members.values()) {
      if (previous === 'PreparingRebalance') group.maybeInvokeJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
      group.maybeInvokeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      if (m.heartbeatTimer) clearTimeout(m.heartbeatTimer);
      m.heartbeatTimer = undefined;
    }
    for (const id of [...group.pendingMembers.keys()]) group.clearPendingMember(id);
  }
}
