/**
 * ShareGroupHeartbeat: v1 (KIP-932, share groups; v0 was Kafka 4.0's early
 * access and is no longer accepted, as Kafka 4.1+).
 * Behavior: joins (epoch 0, with the client's member id), heartbeats and
 * leaves (epoch -1) a share group; the group coordinator
 * (group/share-group-heartbeat.ts) assigns the subscribed topics'
 * share-partitions with the simple assignor, sharing partitions when the
 * group has more members than partitions. INVALID_REQUEST for a malformed
 * request (Kafka's messages); GROUP_ID_NOT_FOUND for an unknown group at
 * epoch ≠ 0 or a group of another type; UNKNOWN_MEMBER_ID;
 * FENCED_MEMBER_EPOCH; GROUP_MAX_SIZE_REACHED past group.share.max.size;
 * COORDINATOR_LOAD_IN_PROGRESS while the group's partition loads;
 * COORDINATOR_NOT_AVAILABLE while shutting down.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group
 * (else GROUP_AUTHORIZATION_FAILED); DESCRIBE on every topic of
 * subscribed_topic_names (else TOPIC_AUTHORIZATION_FAILED, nothing changed).
 * Version notes: v1 only.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { ConnectionInfo } from '../connection-info.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** The member's host as Kafka reports it: InetAddress.toString(), "/<address>". */
function clientHostOf(connection: ConnectionInfo): string {
  const address = connection.remoteAddress.startsWith('::ffff:') ? connection.remoteAddress.slice(7) : connection.remoteAddress;
  return `/${address}`;
}

export const shareGroupHeartbeatHandler = defineHandler({
  api: apiByKey(ApiKey.ShareGroupHeartbeat)!,
  request: schemas.shareGroupHeartbeatRequest,
  response: schemas.shareGroupHeartbeatResponse,
  minVersion: 1,
  maxVersion: 1,
  async handle(ctx, req) {
    const refused = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, memberEpoch: 0, heartbeatIntervalMs: 0 });
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const subscribed = req.subscribedTopicNames ?? [];
    if (authorizedNames(ctx, 'DESCRIBE', 'TOPIC', subscribed).size < new Set(subscribed).size) return refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const result = await ctx.services.groups.shareGroupHeartbeat({
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      rackId: req.rackId,
      subscribedTopicNames: req.subscribedTopicNames,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx.connection),
    });
    return { throttleTimeMs: 0, ...result };
  },
});
