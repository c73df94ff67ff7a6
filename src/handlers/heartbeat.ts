/**
 * Heartbeat: v0-4.
 * Behavior: resets the member's session timer. NONE in Stable and
 * CompletingRebalance; REBALANCE_IN_PROGRESS in PreparingRebalance (the
 * member must rejoin; its timer is reset too); UNKNOWN_MEMBER_ID for an
 * unknown group or member or an Empty group; ILLEGAL_GENERATION;
 * FENCED_INSTANCE_ID; INVALID_GROUP_ID; NONE while the group's partition is
 * loading (as Kafka: it answers blindly); COORDINATOR_NOT_AVAILABLE while
 * shutting down.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * checked first; GROUP_AUTHORIZATION_FAILED otherwise.
 * Version notes: v3+ group_instance_id.
 * A classic member of a consumer group (KIP-848) is answered by
 * src/group/classic-members.ts.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const heartbeatHandler = defineHandler({
  api: apiByKey(ApiKey.Heartbeat)!,
  request: schemas.heartbeatRequest,
  response: schemas.heartbeatResponse,
  handle(ctx, req) {
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = ctx.services.groups.heartbeat({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: ctx.version >= 3 ? req.groupInstanceId : null,
    });
    return { throttleTimeMs: 0, errorCode };
  },
});
