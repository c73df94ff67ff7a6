/**
 * ShareGroupDescribe: v1 (KIP-932; v0 was Kafka 4.0's early access).
 * Behavior: each requested share group's state (Empty, Stable), epochs,
 * assignor ("simple") and members sorted by member id, with each member's
 * assignment, topics by id and name (an id no topic has any more: name "").
 * GROUP_ID_NOT_FOUND for an unknown group ("Group <id> not found.") or one
 * of another type ("Group <id> is not a share group."), INVALID_GROUP_ID for
 * the empty id, COORDINATOR_LOAD_IN_PROGRESS while the group's partition
 * loads, COORDINATOR_NOT_AVAILABLE while shutting down. Authorized
 * operations as DescribeGroups answers them (no authorizer: READ, DELETE,
 * DESCRIBE).
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on each
 * group, else GROUP_AUTHORIZATION_FAILED for it; authorized operations when
 * asked, for the groups answered without error (-2147483648 otherwise; without
 * an authorizer every group operation); with an authorizer, a group whose
 * members' assignments name a topic the session may not DESCRIBE gets
 * TOPIC_AUTHORIZATION_FAILED "The group has described topic(s) that the
 * client is not authorized to describe." and no members.
 * Version notes: v1 only.
 */
import { apiByKey, ApiKey, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';
import { describeModernGroups } from './modern-group-describe.js';


export const shareGroupDescribeHandler = defineHandler({
  api: apiByKey(ApiKey.ShareGroupDescribe)!,
  request: schemas.shareGroupDescribeRequest,
  response: schemas.shareGroupDescribeResponse,
  minVersion: 1,
  maxVersion: 1,
  handle(ctx, req) {
    const groups = describeModernGroups(
      ctx,
      req,
      (ids) => ctx.services.groups.describeShareGroups(ids),
      (g, assignment) =>
        g.members.map((member) => ({
          memberId: member.memberId,
          rackId: member.rackId,
          memberEpoch: member.memberEpoch,
          clientId: member.clientId,
          clientHost: member.clientHost,
          subscribedTopicNames: [...member.subscribedTopicNames].sort(),
          assignment: assignment(member.assignedPartitions),
        })),
      (m) => [m.assignment],
    );
    return { throttleTimeMs: 0, groups };
  },
});

