/**
 * ConsumerGroupHeartbeat: v0-1 (KIP-848, the consumer protocol).
 * Behavior: joins (epoch 0), heartbeats and leaves (-1; -2 for a static
 * member leaving for a while) a consumer group; the group coordinator
 * (group/consumer-group-heartbeat.ts) computes the target assignment with a
 * server-side assignor and reconciles the member. INVALID_REQUEST for a
 * malformed request (Kafka's messages); GROUP_ID_NOT_FOUND for a classic
 * group with members or an unknown group at epoch ≠ 0; UNKNOWN_MEMBER_ID;
 * FENCED_MEMBER_EPOCH; UNSUPPORTED_ASSIGNOR; INVALID_REGULAR_EXPRESSION for a
 * SubscribedTopicRegex RE2 refuses; COORDINATOR_LOAD_IN_PROGRESS
 * while the group's partition loads; COORDINATOR_NOT_AVAILABLE while
 * shutting down.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group
 * (else GROUP_AUTHORIZATION_FAILED); DESCRIBE on every topic of
 * subscribed_topic_names (else TOPIC_AUTHORIZATION_FAILED, nothing changed);
 * a SubscribedTopicRegex resolves only to topics the member may DESCRIBE
 * (Kafka 4.1+; not told, the others are left out).
 * Version notes: v0 generates a joining member's id; v1 takes the client's
 * (KIP-1082) and adds SubscribedTopicRegex (RE2 syntax, whole-name match,
 * group/consumer/regex-subscription.ts).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { ConnectionInfo } from '../connection-info.js';
import { authorize, authorizedNames, hasAuthorizer } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** The member's host as Kafka reports it: InetAddress.toString(), "/<address>". */
function clientHostOf(connection: ConnectionInfo): string {
  const address = connection.remoteAddress.startsWith('::ffff:') ? connection.remoteAddress.slice(7) : connection.remoteAddress;
  return `/${address}`;
}

export const consumerGroupHeartbeatHandler = defineHandler({
  api: apiByKey(ApiKey.ConsumerGroupHeartbeat)!,
  request: schemas.consumerGroupHeartbeatRequest,
  response: schemas.consumerGroupHeartbeatResponse,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const refused = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, memberEpoch: 0, heartbeatIntervalMs: 0 });
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const subscribed = req.subscribedTopicNames ?? [];
    if (authorizedNames(ctx, 'DESCRIBE', 'TOPIC', subscribed).size < new Set(subscribed).size) return refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const result = await ctx.services.groups.consumerGroupHeartbeat({
      version: ctx.version,
      groupId: req.groupId,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      instanceId: req.instanceId,
      rackId: req.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames,
      subscribedTopicRegex: ctx.version >= 1 ? req.subscribedTopicRegex : null,
      serverAssignor: req.serverAssignor,
      topicPartitions: req.topicPartitions,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx.connection),
      // filtering what the client did not name: refusals are not audited (Kafka's logIfDenied false)
      ...(hasAuthorizer(ctx) ? { describableTopics: (names: Iterable<string>) => authorizedNames(ctx, 'DESCRIBE', 'TOPIC', names, false) } : {}),
    });
    return { throttleTimeMs: 0, ...result };
  },
});
