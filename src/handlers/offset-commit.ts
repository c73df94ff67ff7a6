/**
 * OffsetCommit: v0-10.
 * Behavior: stores committed offsets as records in `__consumer_offsets`
 * (value v3, or v1 when v2-4 asked for an explicit retention), then answers.
 * Partitions of unknown topics or partitions get UNKNOWN_TOPIC_OR_PARTITION
 * and are not stored; metadata longer than offset.metadata.max.bytes gets
 * OFFSET_METADATA_TOO_LARGE. A member of the group commits with its
 * generation and member id (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 * FENCED_INSTANCE_ID; REBALANCE_IN_PROGRESS during CompletingRebalance;
 * allowed in PreparingRebalance). A member of a consumer group (KIP-848)
 * commits with its member epoch: UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH for an
 * epoch ahead of its own, or for an older one unless every partition was
 * assigned to it at that epoch or before (KIP-1251, Kafka 4.3); its classic
 * members with their generation (ILLEGAL_GENERATION). A commit outside group management
 * (generation -1, no member id) is accepted while the group is Empty or does
 * not exist (it then creates an offsets-only group), else UNKNOWN_MEMBER_ID;
 * a positive generation for an unknown group gets ILLEGAL_GENERATION. Write
 * failures map as Kafka: COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
 * INVALID_COMMIT_OFFSET_SIZE. COORDINATOR_LOAD_IN_PROGRESS while loading.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * else every partition gets GROUP_AUTHORIZATION_FAILED and nothing is
 * stored; READ on each topic, else TOPIC_AUTHORIZATION_FAILED on its
 * partitions (checked before the topic is looked for, after an unknown id).
 * Version notes: v0 has no generation or member id (a simple commit); v1
 * adds them and a per-partition commit timestamp; v2-4 retention_time_ms
 * (-1 = broker default); v5 drops retention; v6+ leader epoch; v7+
 * group_instance_id; v8+ flexible; v9 is the same for classic groups; v10
 * names topics by id (KIP-848), answered with the same id: the offsets are
 * stored under the topic's name as before, and an id this broker does not
 * know gets UNKNOWN_TOPIC_ID on each of its partitions (as Kafka 4.3).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { OffsetToCommit } from '../group/coordinator.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** The first version that names topics by id. */
const TOPIC_IDS_VERSION = 10;

export const offsetCommitHandler = defineHandler({
  api: apiByKey(ApiKey.OffsetCommit)!,
  request: schemas.offsetCommitRequest,
  response: schemas.offsetCommitResponse,
  async handle(ctx, req) {
    const v = ctx.version;
    const groupAllowed = authorize(ctx, 'READ', 'GROUP', req.groupId);
    const errors: number[][] = req.topics.map((t) => t.partitions.map(() => (groupAllowed ? ErrorCode.NONE : ErrorCode.GROUP_AUTHORIZATION_FAILED)));
    const offsets: OffsetToCommit[] = [];
    const positions: Array<[number, number]> = [];
    const byId = v >= TOPIC_IDS_VERSION;
    const resolved = req.topics.map((t) => (byId ? ctx.services.topics.getById(t.topicId) : ctx.services.topics.get(t.name)));
    const readable = groupAllowed ? authorizedNames(ctx, 'READ', 'TOPIC', req.topics.flatMap((t, ti) => (byId ? (resolved[ti] ? [resolved[ti].name] : []) : [t.name]))) : new Set<string>();
    req.topics.forEach((t, ti) => {
      if (!groupAllowed) return;
      const topic = resolved[ti];
      t.partitions.forEach((p, pi) => {
        if (byId && !topic) {
          errors[ti]![pi] = ErrorCode.UNKNOWN_TOPIC_ID;
          return;
        }
        if (!readable.has(byId ? topic!.name : t.name)) {
          errors[ti]![pi] = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          return;
        }
        if (!topic || !topic.partitions[p.partitionIndex]) {
          errors[ti]![pi] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return;
        }
        offsets.push({
          topic: topic.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
          commitTimestamp: v === 1 ? Number(p.commitTimestamp) : -1,
        });
        positions.push([ti, pi]);
      });
    });
    if (offsets.length > 0) {
      const results = await ctx.services.groups.commitOffsets({
        groupId: req.groupId,
        generationId: v >= 1 ? req.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? req.memberId : '',
        groupInstanceId: v >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs) : -1,
        offsets,
      });
      results.forEach((code, i) => {
        const [ti, pi] = positions[i]!;
        errors[ti]![pi] = code;
      });
    }
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t, ti) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.map((p, pi) => ({ partitionIndex: p.partitionIndex, errorCode: errors[ti]![pi]! })),
      })),
    };
  },
});
