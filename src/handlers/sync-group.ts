/**
 * SyncGroup: v0-5.
 * Behavior: the leader's SyncGroup carries every member's assignment; it is
 * stored in `__consumer_offsets` (members the leader left out get an empty
 * assignment) and then every parked SyncGroup of the generation is answered
 * with its member's assignment and the group becomes Stable. Followers'
 * SyncGroups wait for the leader's; in a Stable group a SyncGroup returns the
 * current assignment. Errors as Kafka: UNKNOWN_MEMBER_ID (unknown group or
 * member, Empty group), ILLEGAL_GENERATION, FENCED_INSTANCE_ID,
 * REBALANCE_IN_PROGRESS (a rebalance started, or the coordinator is loading),
 * INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * checked after the v5+ protocol check; GROUP_AUTHORIZATION_FAILED otherwise.
 * Version notes: v3+ group_instance_id; v5+ protocol type and name are
 * mandatory (INCONSISTENT_GROUP_PROTOCOL when missing or not the group's) and
 * echoed in the response.
 * A classic member of a consumer group (KIP-848) is answered by
 * src/group/classic-members.ts.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const syncGroupHandler = defineHandler({
  api: apiByKey(ApiKey.SyncGroup)!,
  request: schemas.syncGroupRequest,
  response: schemas.syncGroupResponse,
  async handle(ctx, req) {
    const v = ctx.version;
    if (v >= 5 && (req.protocolType === null || req.protocolName === null)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, assignment: Buffer.alloc(0) };
    }
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, assignment: Buffer.alloc(0) };
    const result = await ctx.services.groups.sync({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: v >= 3 ? req.groupInstanceId : null,
      protocolType: v >= 5 ? req.protocolType : null,
      protocolName: v >= 5 ? req.protocolName : null,
      assignments: new Map(req.assignments.map((a) => [a.memberId, a.assignment])),
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
});
