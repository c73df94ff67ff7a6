/**
 * AlterShareGroupOffsets: v0 (KIP-932; kafka-share-groups.sh --reset-offsets).
 * Behavior: sets the start offset (SPSO) of share-partitions of an empty
 * share group and resets their state at the share coordinator (a fresh state
 * at a new group epoch: no delivery states; the records from the start offset
 * on are delivered again, as new). A group of that id that does not exist is
 * created (Kafka 4.2+), so that a group can be started at chosen offsets;
 * a group need not consume a topic to have its offsets set
 * (group/share-group-heartbeat.ts: ShareGroups.alterOffsets). Persisted in
 * `__consumer_offsets` (the group's epoch and state partitions) and
 * `__share_group_state` (a ShareSnapshot per share-partition).
 * Group errors (no topics answered): INVALID_GROUP_ID for "",
 * GROUP_ID_NOT_FOUND for a group of another type, NON_EMPTY_GROUP while the
 * group has members, COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE.
 * Per partition: UNKNOWN_TOPIC_OR_PARTITION (a topic no topic has, with topic
 * id zero, or a partition beyond its partitions), the share coordinator's
 * errors.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * else GROUP_AUTHORIZATION_FAILED (no topics answered); READ on each topic,
 * else TOPIC_AUTHORIZATION_FAILED with Kafka's message on each of its
 * partitions (answered first, with the topic's id when it exists, as
 * Kafka's), the group's offsets set for the others only.
 * Version notes: v0 only (Kafka 4.3's), flexible.
 */
import { apiByKey, ApiKey, ErrorCode, errorInfo, schemas, type MessageInput } from '../../protocol/index.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** Kafka's Uuid.ZERO_UUID, for a topic name no topic has. */
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

type Response = MessageInput<typeof schemas.alterShareGroupOffsetsResponse>;

export const alterShareGroupOffsetsHandler = defineHandler({
  api: apiByKey(ApiKey.AlterShareGroupOffsets)!,
  request: schemas.alterShareGroupOffsetsRequest,
  response: schemas.alterShareGroupOffsetsResponse,
  async handle(ctx, req): Promise<Response> {
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) {
      const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, errorCode, errorMessage: errorInfo(errorCode).message, responses: [] };
    }
    const readable = authorizedNames(ctx, 'READ', 'TOPIC', req.topics.map((t) => t.topicName));
    const refused = req.topics
      .filter((t) => !readable.has(t.topicName))
      .map((t) => ({
        topicName: t.topicName,
        topicId: ctx.services.topics.get(t.topicName)?.topicId ?? ZERO_UUID,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).message })),
      }));
    const topics = req.topics.filter((t) => readable.has(t.topicName)).map((t) => ({ topicName: t.topicName, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, startOffset: Number(p.startOffset) })) }));
    const result = await ctx.services.groups.alterShareGroupOffsets(req.groupId, topics);
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      responses: result.errorCode === ErrorCode.NONE ? [...refused, ...result.topics.map((t) => ({ topicName: t.topicName, topicId: t.topicId, partitions: t.partitions }))] : [],
    };
  },
});
