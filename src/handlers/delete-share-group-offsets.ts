/**
 * DeleteShareGroupOffsets: v0 (KIP-932; kafka-share-groups.sh --delete-offsets).
 * Behavior: deletes the state of whole topics' share-partitions of an empty
 * share group at the share coordinator (tombstones in `__share_group_state`),
 * so that a member that consumes them again starts where the group's
 * share.auto.offset.reset says (group/share-group-heartbeat.ts:
 * ShareGroups.deleteOffsets). Topics answered: those deleted (with their
 * ids), then those with an error.
 * Group errors (no topics answered): INVALID_GROUP_ID for "",
 * GROUP_ID_NOT_FOUND (no share group of that id, another group type included),
 * NON_EMPTY_GROUP while the group has members, COORDINATOR_LOAD_IN_PROGRESS /
 * COORDINATOR_NOT_AVAILABLE.
 * Per topic: UNKNOWN_TOPIC_OR_PARTITION for a topic no topic has, or one the
 * group has no state of ("There is no offset information to delete."), the
 * share coordinator's errors.
 * Version notes: v0 only (Kafka 4.3's), flexible.
 */
import { apiByKey, ApiKey, schemas, type MessageInput } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

type Response = MessageInput<typeof schemas.deleteShareGroupOffsetsResponse>;

export const deleteShareGroupOffsetsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteShareGroupOffsets)!,
  request: schemas.deleteShareGroupOffsetsRequest,
  response: schemas.deleteShareGroupOffsetsResponse,
  async handle(ctx, req): Promise<Response> {
    const result = await ctx.services.groups.deleteShareGroupOffsets(req.groupId, req.topics.map((t) => t.topicName));
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      responses: result.topics.map((t) => ({ topicName: t.topicName, topicId: t.topicId, errorCode: t.errorCode, errorMessage: t.errorMessage })),
    };
  },
});
