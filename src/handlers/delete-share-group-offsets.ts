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
 * Authorization (an authorizer's, as Kafka's KafkaApis): DELETE on the group,
 * else GROUP_AUTHORIZATION_FAILED (no topics answered); READ on each topic,
 * else TOPIC_AUTHORIZATION_FAILED with Kafka's message (answered first, with
 * the zero topic id, as Kafka's), the others deleted.
 * Version notes: v0 only (Kafka 4.3's), flexible.
 */
import { apiByKey, ApiKey, ErrorCode, errorInfo, schemas, type MessageInput } from '../../protocol/index.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** Kafka's Uuid.ZERO_UUID: a refused topic's id is not told. */
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

type Response = MessageInput<typeof schemas.deleteShareGroupOffsetsResponse>;

export const deleteShareGroupOffsetsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteShareGroupOffsets)!,
  request: schemas.deleteShareGroupOffsetsRequest,
  response: schemas.deleteShareGroupOffsetsResponse,
  async handle(ctx, req): Promise<Response> {
    if (!authorize(ctx, 'DELETE', 'GROUP', req.groupId)) {
      const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, errorCode, errorMessage: errorInfo(errorCode).message, responses: [] };
    }
    const names = req.topics.map((t) => t.topicName);
    const readable = authorizedNames(ctx, 'READ', 'TOPIC', names);
    const refused = names
      .filter((topicName) => !readable.has(topicName))
      .map((topicName) => ({ topicName, topicId: ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).message }));
    const result = await ctx.services.groups.deleteShareGroupOffsets(req.groupId, names.filter((n) => readable.has(n)));
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      // a group error answers no topics
      responses: result.errorCode !== ErrorCode.NONE ? [] : [...refused, ...result.topics.map((t) => ({ topicName: t.topicName, topicId: t.topicId, errorCode: t.errorCode, errorMessage: t.errorMessage }))],
    };
  },
});
