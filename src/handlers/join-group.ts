/**
 * JoinGroup: v0-9.
 * Behavior: joins (or rejoins) a classic group through the coordinator
 * (src/group/coordinator.ts): the request is parked until the join phase of
 * the rebalance completes, then every member gets the generation id, the
 * chosen protocol, the leader and its member id; the leader also gets every
 * member's metadata. Errors as Kafka: INVALID_GROUP_ID (empty id),
 * INVALID_SESSION_TIMEOUT (outside group.min/max.session.timeout.ms),
 * UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED,
 * FENCED_INSTANCE_ID, COORDINATOR_LOAD_IN_PROGRESS while the group's
 * `__consumer_offsets` partition loads, COORDINATOR_NOT_AVAILABLE /
 * NOT_COORDINATOR while the broker shuts down. A consumer group (KIP-848)
 * with members takes the member as a classic member, answered at once with
 * no leader (src/group/classic-members.ts).
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * checked first; GROUP_AUTHORIZATION_FAILED otherwise.
 * Version notes: v0 has no rebalance timeout (the session timeout is used);
 * v4+ answers a join without member id (and without group instance id) with
 * MEMBER_ID_REQUIRED and a generated member id (KIP-394); v5+ static
 * membership (group_instance_id); v7+ protocol type in the response and a
 * nullable protocol name; v8+ reason; v9+ skip_assignment for a static leader
 * rejoining a stable group.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { ConnectionInfo } from '../connection-info.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** The member's host as Kafka reports it: InetAddress.toString(), "/<address>". */
function clientHostOf(connection: ConnectionInfo): string {
  const address = connection.remoteAddress.startsWith('::ffff:') ? connection.remoteAddress.slice(7) : connection.remoteAddress;
  return `/${address}`;
}

export const joinGroupHandler = defineHandler({
  api: apiByKey(ApiKey.JoinGroup)!,
  request: schemas.joinGroupRequest,
  response: schemas.joinGroupResponse,
  async handle(ctx, req) {
    const v = ctx.version;
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
      const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: v >= 7 ? null : '', leader: '', skipAssignment: false, memberId: '', members: [] };
    }
    const groupInstanceId = v >= 5 ? req.groupInstanceId : null;
    const result = await ctx.services.groups.join({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId,
      requireKnownMemberId: v >= 4 && groupInstanceId === null,
      supportSkippingAssignment: v >= 9,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx.connection),
      rebalanceTimeoutMs: v >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      // copies: the request buffer is not kept alive by the group
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      reason: v >= 8 ? req.reason : null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
});
