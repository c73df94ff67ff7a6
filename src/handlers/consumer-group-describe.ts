/**
 * ConsumerGroupDescribe: v0-1 (KIP-848).
 * Behavior: each requested consumer group's state (Empty, Assigning,
 * Reconciling, Stable), epochs, assignor and members, sorted by member id,
 * with each member's current and target assignment, topics by id and name
 * (an id no topic has any more: name ""). GROUP_ID_NOT_FOUND for an unknown
 * group ("Group <id> not found.") or a classic one ("Group <id> is not a
 * consumer group."), INVALID_GROUP_ID for the empty id,
 * COORDINATOR_LOAD_IN_PROGRESS while the group's partition loads,
 * COORDINATOR_NOT_AVAILABLE while shutting down. Authorized operations as
 * DescribeGroups answers them (no authorizer: READ, DELETE, DESCRIBE).
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on each
 * group, else GROUP_AUTHORIZATION_FAILED for it; authorized operations when
 * asked, for the groups answered without error (-2147483648 otherwise; without
 * an authorizer every group operation); with an authorizer, a group whose
 * members' assignments name a topic the session may not DESCRIBE gets
 * TOPIC_AUTHORIZATION_FAILED "The group has described topic(s) that the
 * client is not authorized to describe." and no members.
 * Version notes: v1 adds each member's type (KIP-1099: 0 for a classic
 * member of the group, 1 for a member of the consumer protocol).
 */
import { apiByKey, ApiKey, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';
import { describeModernGroups } from './modern-group-describe.js';

/** KIP-1099's MemberType of a member that speaks the classic protocol, and of one that speaks the consumer protocol. */
const CLASSIC_MEMBER_TYPE = 0;
const CONSUMER_MEMBER_TYPE = 1;

export const consumerGroupDescribeHandler = defineHandler({
  api: apiByKey(ApiKey.ConsumerGroupDescribe)!,
  request: schemas.consumerGroupDescribeRequest,
  response: schemas.consumerGroupDescribeResponse,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const groups = describeModernGroups(
      ctx,
      req,
      (ids) => ctx.services.groups.describeConsumerGroups(ids),
      (g, assignment) =>
        g.members.map(({ member, targetAssignment }) => ({
          memberId: member.memberId,
          instanceId: member.instanceId,
          rackId: member.rackId,
          memberEpoch: member.memberEpoch,
          clientId: member.clientId,
          clientHost: member.clientHost,
          subscribedTopicNames: [...member.subscribedTopicNames].sort(),
          subscribedTopicRegex: member.subscribedTopicRegex === '' ? null : member.subscribedTopicRegex,
          assignment: assignment(member.assignedPartitions),
          targetAssignment: assignment(targetAssignment),
          memberType: member.classicMemberMetadata === null ? CONSUMER_MEMBER_TYPE : CLASSIC_MEMBER_TYPE,
        })),
      (m) => [m.assignment, m.targetAssignment],
    );
    return { throttleTimeMs: 0, groups };
  },
});

