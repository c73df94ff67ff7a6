/**
 * LeaveGroup: v0-5.
 * Behavior: removes members from a group at once and starts a rebalance (a
 * PreparingRebalance group may complete its join phase). A member id "" with
 * a group instance id removes that static member (administrative removal);
 * a pending member id (MEMBER_ID_REQUIRED, not yet joined) is dropped.
 * Per-member errors: UNKNOWN_MEMBER_ID (unknown group or member),
 * FENCED_INSTANCE_ID (instance id mapped to another member id). Group
 * errors: INVALID_GROUP_ID, COORDINATOR_LOAD_IN_PROGRESS,
 * COORDINATOR_NOT_AVAILABLE.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * checked first; GROUP_AUTHORIZATION_FAILED otherwise.
 * Version notes: v0-2 name one member and answer its error as the top-level
 * error (Kafka's LeaveGroupResponse rule); v3+ take a batch of members with
 * per-member results; v5+ a reason per member.
 * A consumer group (KIP-848) removes its classic members named
 * (src/group/classic-members.ts); a member of the consumer protocol named
 * here is UNKNOWN_MEMBER_ID.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const leaveGroupHandler = defineHandler({
  api: apiByKey(ApiKey.LeaveGroup)!,
  request: schemas.leaveGroupRequest,
  response: schemas.leaveGroupResponse,
  async handle(ctx, req) {
    const v = ctx.version;
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const leaving =
      v >= 3
        ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: v >= 5 ? m.reason : null }))
        : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    const result = await ctx.services.groups.leave(req.groupId, leaving);
    if (v >= 3) return { throttleTimeMs: 0, errorCode: result.errorCode, members: [...result.members] };
    const memberError = result.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
    return { throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError };
  },
});
