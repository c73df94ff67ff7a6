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
 * Version notes: v0 only (Kafka 4.3's), flexible.
 */
import { apiByKey, ApiKey, schemas, type MessageInput } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

type Response = MessageInput<typeof schemas.alterShareGroupOffsetsResponse>;

export const alterShareGroupOffsetsHandler = defineHandler({
  api: apiByKey(ApiKey.AlterShareGroupOffsets)!,
  request: schemas.alterShareGroupOffsetsRequest,
  response: schemas.alterShareGroupOffsetsResponse,
  async handle(ctx, req): Promise<Response> {
    const topics = req.topics.map((t) => ({ topicName: t.topicName, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, startOffset: Number(p.startOffset) })) }));
    const result = await ctx.services.groups.alterShareGroupOffsets(req.groupId, topics);
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      responses: result.topics.map((t) => ({ topicName: t.topicName, topicId: t.topicId, partitions: t.partitions })),
    };
  },
});
