/**
 * OffsetFetch: v0-10.
 * Behavior: the committed offsets of a group, whatever its state: of the
 * requested partitions, or of every partition with a committed offset when
 * the topic list is null (v2+). Partitions without a commit (and unknown
 * groups) get offset -1, leader epoch -1, metadata "". With require_stable
 * (v7+) a partition whose commit is still being written gets
 * UNSTABLE_OFFSET_COMMIT. Group errors: COORDINATOR_LOAD_IN_PROGRESS while
 * the group's partition loads, COORDINATOR_NOT_AVAILABLE while shutting down.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on the
 * group, else the group's error is GROUP_AUTHORIZATION_FAILED; DESCRIBE on
 * each topic: a requested topic not allowed gets TOPIC_AUTHORIZATION_FAILED
 * (offset -1) on its partitions, and with a null list the topics not allowed
 * are left out.
 * Version notes: v0-1 have no top-level error: a group error is reported on
 * every requested partition; v2-7 a top-level error code; v5+ leader epochs;
 * v7 require_stable; v8+ several groups per request, each with its own
 * error; v9 member id/epoch (ignored for classic groups; a consumer
 * group's member must ask at its epoch: UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH); v10 names topics
 * by id (KIP-848), as Kafka 4.3: requested ids are looked up (an id this
 * broker does not know gets UNKNOWN_TOPIC_ID, offset -1, on each requested
 * partition), the answer carries each topic's id (the zero id for a topic
 * that no longer exists, as Kafka's metadata cache answers).
 */
import { apiByKey, ApiKey, ErrorCode, schemas, ZERO_UUID } from '../../protocol/index.js';
import type { FetchOffsetsResult, TopicPartitions } from '../group/coordinator.js';
import { authorize, authorizedNames, type AuthContext } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Member = { memberId: string | null; memberEpoch: number } | undefined;

/** The group's offsets, as the session may see them (DESCRIBE on the group and on each topic). */
function fetch(ctx: AuthContext, groupId: string, topics: ReadonlyArray<{ name: string; partitionIndexes: number[] }> | null, requireStable: boolean, member?: Member): FetchOffsetsResult {
  const groups = ctx.services.groups;
  if (!authorize(ctx, 'DESCRIBE', 'GROUP', groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  if (topics === null) {
    const all = groups.fetchOffsets(groupId, null, requireStable, member);
    if (all.errorCode !== ErrorCode.NONE) return all;
    const describable = authorizedNames(ctx, 'DESCRIBE', 'TOPIC', all.topics.map((t) => t.topic));
    return { errorCode: all.errorCode, topics: all.topics.filter((t) => describable.has(t.topic)) };
  }
  const describable = authorizedNames(ctx, 'DESCRIBE', 'TOPIC', topics.map((t) => t.name));
  const requested: TopicPartitions[] = topics.filter((t) => describable.has(t.name)).map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
  const result = groups.fetchOffsets(groupId, requested, requireStable, member);
  if (result.errorCode !== ErrorCode.NONE || requested.length === topics.length) return result;
  const refused = topics
    .filter((t) => !describable.has(t.name))
    .map((t) => ({ topic: t.name, partitions: t.partitionIndexes.map((partition) => ({ partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) }));
  return { errorCode: result.errorCode, topics: [...result.topics, ...refused] };
}

function partitionsOf(result: FetchOffsetsResult): Array<{ name: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string; errorCode: number }> }> {
  return result.topics.map((t) => ({
    name: t.topic,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: BigInt(p.offset),
      committedLeaderEpoch: p.leaderEpoch,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));
}

/** The first version that names topics by id. */
const TOPIC_IDS_VERSION = 10;

type GroupTopics = ReadonlyArray<{ name: string; topicId: string; partitionIndexes: number[] }> | null;

/** A v8+ group of the answer; v10+ looks requested topic ids up and answers ids. */
function groupAnswer(ctx: AuthContext, v: number, groupId: string, topics: GroupTopics, requireStable: boolean, member: Member) {
  if (v < TOPIC_IDS_VERSION) {
    const result = fetch(ctx, groupId, topics, requireStable, member);
    return { groupId, errorCode: result.errorCode, topics: partitionsOf(result) };
  }
  const { topics: known } = ctx.services;
  const named = topics === null ? null : topics.flatMap((t) => {
    const name = known.getById(t.topicId)?.name;
    return name === undefined ? [] : [{ name, topicId: t.topicId, partitionIndexes: t.partitionIndexes }];
  });
  const result = fetch(ctx, groupId, named, requireStable, member);
  if (result.errorCode !== ErrorCode.NONE) return { groupId, errorCode: result.errorCode, topics: [] };
  const answered = new Map(partitionsOf(result).map((t) => [t.name, t]));
  const idOf = (name: string) => known.get(name)?.topicId ?? ZERO_UUID;
  if (topics === null) return { groupId, errorCode: result.errorCode, topics: [...answered.values()].map((t) => ({ ...t, topicId: idOf(t.name) })) };
  return {
    groupId,
    errorCode: result.errorCode,
    topics: topics.map((t) => {
      const name = known.getById(t.topicId)?.name;
      const found = name === undefined ? undefined : answered.get(name);
      if (found !== undefined) return { ...found, topicId: t.topicId };
      return {
        name: '',
        topicId: t.topicId,
        partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_ID })),
      };
    }),
  };
}

export const offsetFetchHandler = defineHandler({
  api: apiByKey(ApiKey.OffsetFetch)!,
  request: schemas.offsetFetchRequest,
  response: schemas.offsetFetchResponse,
  handle(ctx, req) {
    const v = ctx.version;
    const requireStable = v >= 7 && req.requireStable;
    if (v >= 8) {
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => groupAnswer(ctx, v, g.groupId, g.topics, requireStable, v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined)),
      };
    }
    const topics = v >= 2 ? req.topics : (req.topics ?? []);
    const result = fetch(ctx, req.groupId, topics, requireStable);
    if (v < 2 && result.errorCode !== ErrorCode.NONE) {
      // no top-level error before v2: every requested partition carries it
      return {
        throttleTimeMs: 0,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: result.errorCode })),
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: result.errorCode, topics: partitionsOf(result) };
  },
});
