/**
 * The classic rebalance protocol of one shard's groups: JoinGroup and
 * SyncGroup, the two phases of a rebalance, and their timers (Kafka's
 * GroupMetadataManager, classic part; member-sessions.ts has Heartbeat,
 * LeaveGroup and the sessions).
 *
 * Join phase (PreparingRebalance). Members send JoinGroup and are parked.
 * The phase ends (timer "join-<group>"):
 * - after `group.initial.rebalance.delay.ms` for a group starting from
 *   Empty, extended while new members arrive, capped by the rebalance
 *   timeout (the largest of the members');
 * - else when every member has rejoined (checked on every change), or when
 *   the rebalance timeout expires; dynamic members that did not rejoin are
 *   removed then.
 * Ending it starts the next generation: a protocol is chosen, every parked
 * JoinGroup is answered (the leader with every member's metadata), the group
 * is CompletingRebalance. A group left without members is Empty, and its
 * metadata written.
 *
 * Sync phase (CompletingRebalance). Members send SyncGroup and are parked
 * until the leader's SyncGroup brings the assignment; it is written to
 * `__consumer_offsets` as the group's metadata, then every parked SyncGroup
 * gets its member's assignment and the group is Stable. If the write fails,
 * they get its error and a new rebalance starts. Members that have not sent
 * SyncGroup within the rebalance timeout (timer "sync-<group>") are removed
 * and a new rebalance starts.
 *
 * Static members (group.instance.id) rejoining with a new member id take
 * over the old id's place; in a Stable group whose protocol stays, without a
 * rebalance: the new id is written first and, should that fail, reverted.
 */
import { ErrorCode } from '../../protocol/index.js';
import { Group } from './group.js';
import { EMPTY_BYTES, joinError, sameProtocols, syncError, type JoinResult, type Member, type SyncResult } from './group-member.js';
import type { JoinParams, SyncParams } from './group-requests.js';
import type { GroupStore } from './group-store.js';
import { MemberSessions, NEW_MEMBER_JOIN_TIMEOUT_MS, validateCurrentMember, type JoinPhase } from './member-sessions.js';

type JoinCallback = (r: JoinResult) => void;

function joinKey(groupId: string): string {
  return `join-${groupId}`;
}

function syncKey(groupId: string): string {
  return `sync-${groupId}`;
}

export class ClassicRebalance implements JoinPhase {
  readonly sessions: MemberSessions;

  constructor(private readonly store: GroupStore) {
    this.sessions = new MemberSessions(store, this);
  }

  // ------------------------------------------------------------ JoinGroup

  /** JoinGroup to a group of a served partition. */
  join(p: JoinParams): Promise<JoinResult> {
    return new Promise((resolve) => {
      const config = this.store.config;
      if (p.sessionTimeoutMs < config.minSessionTimeoutMs || p.sessionTimeoutMs > config.maxSessionTimeoutMs) {
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
        this.sessions.removeMember(group, p.memberId);
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
    const maxGroupSize = this.store.config.maxGroupSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.members.get(memberId)?.awaitingJoin !== undefined) || group.numAwaitingJoin < maxGroupSize;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < maxGroupSize;
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
        this.store.log.info({ group: group.groupId, groupInstanceId: p.groupInstanceId, oldMemberId, newMemberId, state: group.state }, 'static member rejoins with a new member id');
        return this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, p, cb);
      }
      return this.addMemberAndRebalance(group, p, newMemberId, cb);
    }
    if (p.requireKnownMemberId) {
      // KIP-394: hand out the id, expect the member back with it within the session timeout
      this.sessions.addPendingMember(group, newMemberId, p.sessionTimeoutMs);
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
    const error = validateCurrentMember(group, p.memberId, p.groupInstanceId);
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
    this.sessions.pendingMemberJoined(group, memberId);
    const member = group.add({ ...p, memberId }, cb);
    member.isNew = true;
    // new members cannot heartbeat yet: their parked JoinGroup times out instead
    this.sessions.scheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
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
    this.sessions.renameMember(group, oldMemberId);
    this.sessions.scheduleHeartbeat(group, member);
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
            this.store.log.warn({ group: group.groupId, error }, 'failed to persist the replaced static member; reverting');
            group.updateMember(member, old.protocols, undefined, old);
            const reverted = group.replaceStaticMember(instanceId, newMemberId, oldMemberId, ErrorCode.FENCED_INSTANCE_ID);
            this.sessions.renameMember(group, newMemberId);
            this.sessions.scheduleHeartbeat(group, reverted);
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

  maybePrepareRebalance(group: Group, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.store.timer.cancel(syncKey(group.groupId));
    const fromEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', Date.now());
    this.store.log.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    if (fromEmpty) {
      const delay = this.store.config.initialRebalanceDelayMs;
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
        const delay = Math.min(this.store.config.initialRebalanceDelayMs, remainingMs);
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
    this.store.timer.schedule(joinKey(group.groupId), ms, fire);
    group.joinTimerIsInitialDelay = initialDelay;
  }

  /** Completes the join phase early when every member has rejoined (never during the initial delay). */
  checkJoinCompletion(group: Group): void {
    if (this.store.timer.isScheduled(joinKey(group.groupId)) && !group.joinTimerIsInitialDelay && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    this.store.timer.cancel(joinKey(group.groupId));
    if (!this.store.isCurrent(group)) return;
    for (const m of group.notYetRejoinedMembers()) {
      if (m.groupInstanceId !== null) continue;
      this.store.log.info({ group: group.groupId, memberId: m.memberId }, 'removing member that did not rejoin in time');
      this.sessions.removeMember(group, m.memberId);
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      this.store.log.warn({ group: group.groupId }, 'no member rejoined; waiting another rebalance timeout');
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs);
      return;
    }
    group.initNextGeneration(Date.now());
    if (group.is('Empty')) {
      this.store.log.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      void this.store.storeGroup(group, new Map()).then((error) => {
        if (error !== ErrorCode.NONE) this.store.log.warn({ group: group.groupId, error }, 'failed to write empty group metadata');
      });
      return;
    }
    this.store.log.info({ group: group.groupId, generation: group.generationId, members: group.size, protocol: group.protocolName }, 'stabilized group');
    for (const member of group.members.values()) {
      group.maybeInvokeJoin(member, this.generationResult(group, member, group.isLeader(member.memberId)));
      this.sessions.scheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  // ------------------------------------------------------------ SyncGroup

  /** SyncGroup to a group of a served partition. */
  sync(p: SyncParams): Promise<SyncResult> {
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
        for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY_BYTES);
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
        this.sessions.scheduleHeartbeat(group, member);
        return;
      case 'Dead':
        return cb(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private validateSync(group: Group, p: SyncParams): number | undefined {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = validateCurrentMember(group, p.memberId, p.groupInstanceId);
    if (error !== undefined) return error;
    if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (p.protocolType !== null && p.protocolType !== group.protocolType) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (p.protocolName !== null && p.protocolName !== group.protocolName) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    return undefined;
  }

  private setAndPropagateAssignment(group: Group, assignment: ReadonlyMap<string, Buffer>): void {
    for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_BYTES;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private resetAndPropagateAssignmentError(group: Group, error: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_BYTES;
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
      if (answered) this.sessions.scheduleHeartbeat(group, m);
    }
  }

  private schedulePendingSync(group: Group): void {
    const generation = group.generationId;
    this.store.timer.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs, () => this.onExpirePendingSync(group, generation));
  }

  private removePendingSyncMember(group: Group, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.store.timer.cancel(syncKey(group.groupId));
  }

  private onExpirePendingSync(group: Group, generation: number): void {
    if (!this.store.isCurrent(group) || generation !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    for (const id of missing) this.sessions.removeMember(group, id);
    this.store.log.info({ group: group.groupId, members: missing }, 'removing members that did not send SyncGroup in time');
    this.prepareRebalance(group, 'members did not sync in time');
  }

  // ------------------------------------------------------------ unload

  /**
   * The shard is unloaded (broker shutdown): the group is Dead, parked
   * JoinGroup (during the join phase) and SyncGroup requests are answered
   * NOT_COORDINATOR. The shard's timers are already cancelled.
   */
  unload(group: Group): void {
    const previous = group.state;
    group.transitionTo('Dead', Date.now());
    for (const m of group.members.values()) {
      if (previous === 'PreparingRebalance') group.maybeInvokeJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
      group.maybeInvokeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
    }
    for (const id of [...group.pendingMembers]) group.clearPendingMember(id);
  }
}
