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
import { apiByKey, ApiKey, ErrorCode, KafkaError, schemas } from '../../protocol/index.js';
import type { TopicPartitions } from '../group/consumer/consumer-group-member.js';
import { authorize, authorizedNames, authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED, hasAuthorizer } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';


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
    const describable = new Set(req.groupIds.filter((g) => authorize(ctx, 'DESCRIBE', 'GROUP', g)));
    const described = new Map(ctx.services.groups.describeShareGroups(req.groupIds.filter((g) => describable.has(g))).map((d) => [d.groupId, d.result]));
    const groups = req.groupIds.map((groupId) => {
      const result = described.get(groupId);
      if (result === undefined) return refusedGroup(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
      if (result instanceof KafkaError) {
        return { errorCode: result.code, errorMessage: result.message || null, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
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
        authorizedOperations: req.includeAuthorizedOperations ? authorizedOperations(ctx, 'GROUP', groupId) : AUTHORIZED_OPERATIONS_OMITTED,
      };
    });
    if (!hasAuthorizer(ctx)) return { throttleTimeMs: 0, groups };
    // the topics of every member's assignment must be describable
    const topicsOf = (g: (typeof groups)[number]) => g.members.flatMap((m) => m.assignment.topicPartitions.map((tp) => tp.topicName)).filter((t) => t !== '');
    const topicsDescribable = authorizedNames(ctx, 'DESCRIBE', 'TOPIC', groups.flatMap(topicsOf));
    return {
      throttleTimeMs: 0,
      groups: groups.map((g) => (topicsOf(g).every((t) => topicsDescribable.has(t)) ? g : refusedGroup(g.groupId, ErrorCode.TOPIC_AUTHORIZATION_FAILED, UNDESCRIBABLE_TOPICS))),
    };
  },
});

const UNDESCRIBABLE_TOPICS = 'The group has described topic(s) that the client is not authorized to describe.';

/** A group the session may not see, as Kafka answers it (the schema's defaults). */
function refusedGroup(groupId: string, errorCode: number, errorMessage: string | null) {
  return { errorCode, errorMessage, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}
