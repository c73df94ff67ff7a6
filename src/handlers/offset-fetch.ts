/**
 * OffsetFetch: v0-9.
 * Behavior: the committed offsets of a group, whatever its state: of the
 * requested partitions, or of every partition with a committed offset when
 * the topic list is null (v2+). Partitions without a commit (and unknown
 * groups) get offset -1, leader epoch -1, metadata "". With require_stable
 * (v7+) a partition whose commit is still being written gets
 * UNSTABLE_OFFSET_COMMIT. Group errors: COORDINATOR_LOAD_IN_PROGRESS while
 * the group's partition loads, COORDINATOR_NOT_AVAILABLE while shutting down.
 * Version notes: v0-1 have no top-level error: a group error is reported on
 * every requested partition; v2-7 a top-level error code; v5+ leader epochs;
 * v7 require_stable; v8+ several groups per request, each with its own
 * error; v9 member id/epoch (ignored for classic groups).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { FetchOffsetsResult, TopicPartitions } from '../group/coordinator.js';
import type { Groups } from '../services.js';
import { defineHandler } from './handler.js';

function fetch(groups: Groups, groupId: string, topics: ReadonlyArray<{ name: string; partitionIndexes: number[] }> | null, requireStable: boolean): FetchOffsetsResult {
  const requested: TopicPartitions[] | null = topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
  return groups.fetchOffsets(groupId, requested, requireStable);
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
        groups: req.groups.map((g) => {
          const result = fetch(ctx.services.groups, g.groupId, g.topics, requireStable);
          return { groupId: g.groupId, errorCode: result.errorCode, topics: partitionsOf(result) };
        }),
      };
    }
    const topics = v >= 2 ? req.topics : (req.topics ?? []);
    const result = fetch(ctx.services.groups, req.groupId, topics, requireStable);
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
