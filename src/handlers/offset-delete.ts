/**
 * OffsetDelete: v0.
 * Behavior: deletes committed offsets of a group (tombstones in
 * `__consumer_offsets`). In an Empty group any partition's; in a consumer
 * group with members only those of topics no member subscribes to, the
 * others get GROUP_SUBSCRIBED_TO_TOPIC. Partitions of unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION. Group errors: GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP (a non-consumer group with members), INVALID_GROUP_ID,
 * COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DELETE on the group,
 * else the group error GROUP_AUTHORIZATION_FAILED; READ on each topic, else
 * TOPIC_AUTHORIZATION_FAILED on its partitions (before the topic is looked
 * for).
 * Version notes: v0 is the only version.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { TopicPartitions } from '../group/coordinator.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const offsetDeleteHandler = defineHandler({
  api: apiByKey(ApiKey.OffsetDelete)!,
  request: schemas.offsetDeleteRequest,
  response: schemas.offsetDeleteResponse,
  async handle(ctx, req) {
    if (!authorize(ctx, 'DELETE', 'GROUP', req.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const readable = authorizedNames(ctx, 'READ', 'TOPIC', req.topics.map((t) => t.name));
    const unknown = new Map<string, Map<number, number>>();
    const known: TopicPartitions[] = [];
    for (const t of req.topics) {
      const topic = ctx.services.topics.get(t.name);
      const valid: number[] = [];
      for (const p of t.partitions) {
        if (readable.has(t.name) && topic?.partitions[p.partitionIndex]) valid.push(p.partitionIndex);
        else {
          let m = unknown.get(t.name);
          if (!m) unknown.set(t.name, (m = new Map()));
          m.set(p.partitionIndex, readable.has(t.name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        }
      }
      if (valid.length > 0) known.push({ topic: t.name, partitions: valid });
    }
    const result = await ctx.services.groups.deleteOffsets(req.groupId, known);
    const codes = result.errorCode === ErrorCode.NONE ? result.partitions : new Map<string, Map<number, number>>();
    const topics = req.topics
      .map((t) => ({
        name: t.name,
        partitions: t.partitions
          .map((p) => ({ partitionIndex: p.partitionIndex, errorCode: unknown.get(t.name)?.get(p.partitionIndex) ?? codes.get(t.name)?.get(p.partitionIndex) }))
          .filter((p): p is { partitionIndex: number; errorCode: number } => p.errorCode !== undefined),
      }))
      .filter((t) => t.partitions.length > 0);
    return { errorCode: result.errorCode, throttleTimeMs: 0, topics };
  },
});
