/**
 * DescribeTopicPartitions: v0.
 * Behavior: as a Kafka 4.3 broker (KIP-966; DescribeTopicPartitionsRequestHandler
 * and the metadata cache's describeTopicResponse): Metadata's answer for
 * topics, paginated. The topics asked for (all topics, internal ones
 * included, when the list is empty), without duplicates, in name order,
 * from the cursor's topic on (names before it are skipped), each with its
 * partitions from the cursor's partition index (the cursor's topic) or 0:
 * partition index, this node as leader, replica and ISR, the leader epoch,
 * empty eligible leader replicas and last known ELR (one broker: no ELR),
 * no offline replicas, and the topic's authorized operations (without an
 * authorizer every topic operation; with one, those the session may do). At most max(1, min(response_partition_limit,
 * max.request.partition.size.limit)) partitions are answered; where they
 * run out, next_cursor names the topic and partition to ask for next (else
 * it is null). A topic of the list that does not exist gets
 * UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an illegal name),
 * no partitions and a zero topic id, and takes none of the limit; with the
 * empty list only existing topics are answered.
 * A cursor whose topic is not in a non-empty list, or whose partition index
 * is negative, is an invalid request: every topic of the request (in its
 * order) gets INVALID_REQUEST and nothing else, as Kafka's error response.
 * Authorization (an authorizer's, as Kafka's handler): DESCRIBE on each
 * topic; one of the list not allowed gets TOPIC_AUTHORIZATION_FAILED, after
 * the others, without partitions, id or authorized operations, and takes
 * none of the limit; with the empty list such topics are left out.
 * Version notes: v0 only (flexible).
 */
import { ApiKey, apiByKey, ErrorCode, schemas, ZERO_UUID, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { INTERNAL_TOPICS, topicNameProblem } from '../metadata/topic-names.js';
import type { TopicInfo } from '../metadata/topic-manager.js';
import { authorize, authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED, type AuthContext } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Request = MessageValue<typeof schemas.describeTopicPartitionsRequest>;
type Response = MessageInput<typeof schemas.describeTopicPartitionsResponse>;
type ResponseTopic = NonNullable<Response['topics']>[number];

export const describeTopicPartitionsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeTopicPartitions)!,
  request: schemas.describeTopicPartitionsRequest,
  response: schemas.describeTopicPartitionsResponse,
  handle(ctx, req: Request): Response {
    const { services } = ctx;
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const all = req.topics.length === 0;
    const names = new Set<string>();
    for (const name of all ? services.topics.all().map((t) => t.name) : req.topics.map((t) => t.name)) {
      if (name >= cursorTopic) names.add(name);
    }
    if (cursor !== null && ((!all && !names.has(cursor.topicName)) || cursor.partitionIndex < 0)) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({ errorCode: ErrorCode.INVALID_REQUEST, name: t.name, isInternal: false, partitions: [] })),
        nextCursor: null,
      };
    }
    const node = services.identity.nodeId;
    let remaining = Math.max(Math.min(services.config.int('max.request.partition.size.limit'), req.responsePartitionLimit), 1);
    const topics: ResponseTopic[] = [];
    // topics the session may not DESCRIBE: named in the list, they are answered last, without partitions or id
    const refused: ResponseTopic[] = [];
    let nextCursor: Response['nextCursor'] = null;
    for (const name of [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const start = name === cursorTopic && cursor !== null ? cursor.partitionIndex : 0;
      if (!authorize(ctx, 'DESCRIBE', 'TOPIC', name)) {
        if (!all) refused.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED });
        continue;
      }
      if (remaining <= 0) {
        nextCursor = { topicName: name, partitionIndex: start };
        break;
      }
      const topic: TopicInfo | undefined = services.topics.get(name);
      if (topic === undefined) {
        if (!all) topics.push(unknownTopic(ctx, name));
        continue;
      }
      const end = Math.min(topic.partitions.length, start + remaining);
      const partitions = topic.partitions.slice(start, Math.max(start, end)).map((p) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: p.partition,
        leaderId: node,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [node],
        isrNodes: [node],
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
        offlineReplicas: [],
      }));
      remaining -= partitions.length;
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: topic.topicId,
        isInternal: topic.internal,
        partitions,
        topicAuthorizedOperations: authorizedOperations(ctx, 'TOPIC', name),
      });
      if (end < topic.partitions.length) {
        nextCursor = { topicName: name, partitionIndex: end };
        break;
      }
    }
    return { throttleTimeMs: 0, topics: [...topics, ...refused], nextCursor };
  },
});

/** A listed topic that does not exist. */
function unknownTopic(ctx: AuthContext, name: string): ResponseTopic {
  return {
    errorCode: topicNameProblem(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    name,
    topicId: ZERO_UUID,
    isInternal: INTERNAL_TOPICS.has(name),
    partitions: [],
    topicAuthorizedOperations: authorizedOperations(ctx, 'TOPIC', name),
  };
}
