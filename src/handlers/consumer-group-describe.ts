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
 * Version notes: v1 adds each member's type (KIP-1099: 0 for a classic
 * member of the group, 1 for a member of the consumer protocol).
 */
import { apiByKey, ApiKey, ErrorCode, KafkaError, schemas } from '../../protocol/index.js';
import type { TopicPartitions } from '../group/consumer/consumer-group-member.js';
import { defineHandler } from './handler.js';

/** Bit field of READ (3), DELETE (6) and DESCRIBE (8): Kafka's answer for groups without an authorizer. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OPERATIONS_NOT_REQUESTED = -2147483648;
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
    const nameOf = (topicId: string): string => ctx.services.topics.getById(topicId)?.name ?? '';
    const assignment = (tp: TopicPartitions) => ({
      topicPartitions: [...tp].map(([topicId, partitions]) => ({ topicId, topicName: nameOf(topicId), partitions: [...partitions].sort((a, b) => a - b) })),
    });
    const authorizedOperations = req.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: ctx.services.groups.describeConsumerGroups(req.groupIds).map(({ groupId, result }) => {
        if (result instanceof KafkaError) {
          return { errorCode: result.code, errorMessage: result.message || null, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations };
        }
        return {
          errorCode: ErrorCode.NONE,
          groupId,
          groupState: result.groupState,
          groupEpoch: result.groupEpoch,
          assignmentEpoch: result.assignmentEpoch,
          assignorName: result.assignorName,
          members: result.members.map(({ member, targetAssignment }) => ({
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
          authorizedOperations,
        };
      }),
    };
  },
});
