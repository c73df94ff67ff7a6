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
 * Version notes: v1 only.
 */
import { apiByKey, ApiKey, ErrorCode, KafkaError, schemas } from '../../protocol/index.js';
import type { TopicPartitions } from '../group/consumer/consumer-group-member.js';
import { defineHandler } from './handler.js';

/** Bit field of READ (3), DELETE (6) and DESCRIBE (8): Kafka's answer for groups without an authorizer. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OPERATIONS_NOT_REQUESTED = -2147483648;

export const shareGroupDescribeHandler = defineHandler({
  api: apiByKey(ApiKey.ShareGroupDescribe)!,
  request: schemas.shareGroupDescribeRequest,
  response: schemas.shareGroupDescribeResponse,
  minVersion: 1,
  maxVersion: 1,
  handle(ctx, req) {
    const nameOf = (topicId: string): string => ctx.services.topics.getById(topicId)?.name ?? '';
    const assignment = (tp: TopicPartitions) => ({
      topicPartitions: [...tp].map(([topicId, partitions]) => ({ topicId, topicName: nameOf(topicId), partitions: [...partitions].sort((a, b) => a - b) })),
    });
    const authorizedOperations = req.includeAuthorizedOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: ctx.services.groups.describeShareGroups(req.groupIds).map(({ groupId, result }) => {
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
          members: result.members.map((member) => ({
            memberId: member.memberId,
            rackId: member.rackId,
            memberEpoch: member.memberEpoch,
            clientId: member.clientId,
            clientHost: member.clientHost,
            subscribedTopicNames: [...member.subscribedTopicNames].sort(),
            assignment: assignment(member.assignedPartitions),
          })),
          authorizedOperations,
        };
      }),
    };
  },
});
