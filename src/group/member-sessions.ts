/**
 * Members' liveness in the classic protocol: Heartbeat, LeaveGroup, the
 * session timers and the expiry of pending member ids, and how a member is
 * removed (Kafka's GroupMetadataManager, the heartbeat/leave part).
 *
 * Timers, in the shard's CoordinatorTimer:
 * - "heartbeat-<group>-<member>": the session, reset by heartbeats, commits,
 *   join and sync completion. A member parked in JoinGroup or SyncGroup
 *   counts as alive unless it is new (a new member's JoinGroup times out
 *   after 5 minutes instead: NEW_MEMBER_JOIN_TIMEOUT_MS).
 * - "pending-<group>-<member>": a member id handed out with
 *   MEMBER_ID_REQUIRED must come back within the session timeout.
 *
 * Removing a member answers its parked JoinGroup or SyncGroup with
 * UNKNOWN_MEMBER_ID (so that it retries); what the group does next (a
 * rebalance, or an earlier end of the join phase) is the rebalance
 * protocol's, reached through the JoinPhase it gives this module.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Group } from './group.js';
import { joinError, syncError, type Member } from './group-member.js';
import type { HeartbeatParams, LeaveResult, LeavingMember } from './group-requests.js';
import type { GroupStore } from './group-store.js';

/** Kafka's fixed timeout for a new member's parked JoinGroup (GroupCoordinator.NewMemberJoinTimeoutMs). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

/** What the join phase does when members go (classic-rebalance.ts). */
export interface JoinPhase {
  /** Starts a rebalance if the group's state allows one. */
  maybePrepareRebalance(group: Group, reason: string): void;
  /** Ends the join phase early when every member has rejoined. */
  checkJoinCompletion(group: Group): void;
}

/** A static member's instance id must map to this member id; a dynamic member id must exist. */
export function validateCurrentMember(group: Group, memberId: string, groupInstanceId: string | null): number | undefined {
  if (groupInstanceId !== null) {
    const current = group.currentStaticMemberId(groupInstanceId);
    if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    return undefined;
  }
  return group.has(memberId) ? undefined : ErrorCode.UNKNOWN_MEMBER_ID;
}

function heartbeatKey(groupId: string, memberId: string): string {
  return `heartbeat-${groupId}-${memberId}`;
}

function pendingMemberKey(groupId: string, memberId: string): string {
  return `pending-${groupId}-${memberId}`;
}

export class MemberSessions {
  constructor(
    private readonly store: GroupStore,
    private readonly joinPhase: JoinPhase,
  ) {}

  /** Heartbeat of a member of a known group (the group's partition is served). */
  heartbeat(group: Group, p: HeartbeatParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = validateCurrentMember(group, p.memberId, p.groupInstanceId);
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

  /** LeaveGroup for members of a group of a served partition (undefined: the group does not exist). */
  leave(group: Group | undefined, leaving: readonly LeavingMember[]): LeaveResult {
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
      const memberError = validateCurrentMember(group, m.memberId, m.groupInstanceId);
      if (memberError !== undefined) return result(m, memberError);
      this.removeMemberAndUpdateGroup(group, group.members.get(m.memberId)!, `member left: ${m.reason ?? 'not provided'}`);
      return result(m, ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  /** (Re)starts the member's session timer. */
  scheduleHeartbeat(group: Group, member: Member, timeoutMs = member.sessionTimeoutMs): void {
    this.store.timer.schedule(heartbeatKey(group.groupId, member.memberId), timeoutMs, () => this.onExpireHeartbeat(group, member));
  }

  /** A static member got a new member id: its session timer moves with it. */
  renameMember(group: Group, oldMemberId: string): void {
    this.store.timer.cancel(heartbeatKey(group.groupId, oldMemberId));
  }

  /** Hands out a member id (MEMBER_ID_REQUIRED) that must come back within `sessionTimeoutMs`. */
  addPendingMember(group: Group, memberId: string, sessionTimeoutMs: number): void {
    this.store.timer.schedule(pendingMemberKey(group.groupId, memberId), sessionTimeoutMs, () => this.onExpirePendingMember(group, memberId));
    group.addPendingMember(memberId);
  }

  /** A pending member id joined: it is a member now. */
  pendingMemberJoined(group: Group, memberId: string): void {
    this.store.timer.cancel(pendingMemberKey(group.groupId, memberId));
  }

  /**
   * Removes a member (or pending member id); a JoinGroup or SyncGroup it
   * still has parked is answered UNKNOWN_MEMBER_ID so that it retries.
   */
  removeMember(group: Group, memberId: string): void {
    const member = group.members.get(memberId);
    if (member) {
      group.maybeInvokeJoin(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
      group.maybeInvokeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
    group.remove(memberId);
    this.store.timer.cancel(heartbeatKey(group.groupId, memberId));
    this.store.timer.cancel(pendingMemberKey(group.groupId, memberId));
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member, reason: string): void {
    this.removeMember(group, member.memberId);
    this.store.log.info({ group: group.groupId, memberId: member.memberId, reason }, 'removed member');
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        return this.joinPhase.maybePrepareRebalance(group, reason);
      case 'PreparingRebalance':
        return this.joinPhase.checkJoinCompletion(group);
      case 'Empty':
      case 'Dead':
        return;
    }
  }

  private removePendingMember(group: Group, memberId: string): void {
    this.removeMember(group, memberId);
    if (group.is('PreparingRebalance')) this.joinPhase.checkJoinCompletion(group);
  }

  private onExpirePendingMember(group: Group, memberId: string): void {
    if (!this.store.isCurrent(group) || !group.isPendingMember(memberId)) return;
    this.store.log.info({ group: group.groupId, memberId }, 'pending member expired');
    this.removePendingMember(group, memberId);
  }

  private onExpireHeartbeat(group: Group, member: Member): void {
    if (!this.store.isCurrent(group) || group.is('Dead') || group.members.get(member.memberId) !== member) return;
    // members parked in JoinGroup/SyncGroup are alive, unless they are new (their join timed out)
    const satisfied = !member.isNew && (member.awaitingJoin !== undefined || member.awaitingSync !== undefined);
    if (satisfied) return;
    this.store.log.info({ group: group.groupId, memberId: member.memberId }, 'member session expired');
    this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} session expired`);
  }
}
