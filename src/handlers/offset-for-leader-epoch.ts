/**
 * OffsetForLeaderEpoch: v0-4.
 * Behavior: per partition, the end offset of the requested leader epoch, from
 * the partition's leader epoch cache (`leader-epoch-checkpoint`), as Kafka's
 * LeaderEpochFileCache.endOffsetFor answers it: the current (latest) epoch
 * ends at the log end offset; an older epoch ends where the next epoch starts
 * and is answered with the largest epoch at or below it (the requested one
 * when it precedes every epoch in the cache); an epoch above every epoch, or
 * -1, gets leader epoch -1 and end offset -1, still with error NONE. As in
 * Kafka, where a leader records its epoch at the log end offset when it is
 * elected, the partition's current leader epoch counts as starting at the log
 * end offset when no batch has been written in it yet (so an empty partition
 * answers its epoch with end offset 0). Consumers (librdkafka, the Java
 * client) use this to validate a fetch position after a metadata change.
 * Unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION; a
 * current_leader_epoch (v2+, -1 = none) older or newer than ours gets
 * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH; a log taken offline by a disk
 * failure gets KAFKA_STORAGE_ERROR. Every request is answered as the leader
 * (replica_id is not checked: one node, no followers).
 * Authorization (an authorizer's, as Kafka's KafkaApis): CLUSTER_ACTION on the
 * cluster allows every topic; else a topic needs DESCRIBE (KIP-320
 * consumers), TOPIC_AUTHORIZATION_FAILED on its partitions otherwise.
 * Version notes: v0-1 deprecated; v1+ leader_epoch in the answer; v2+
 * current_leader_epoch and throttle_time_ms; v3+ replica_id; v4+ flexible.
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import type { PartitionLog } from '../../storage/index.js';
import { authorizeCluster, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';
import { leaderEpochError } from './list-offsets.js';

type Request = MessageValue<typeof schemas.offsetForLeaderEpochRequest>;
type Response = MessageInput<typeof schemas.offsetForLeaderEpochResponse>;
type EpochEndOffset = NonNullable<NonNullable<Response['topics']>[number]['partitions']>[number];

const UNDEFINED_EPOCH = -1;
const UNDEFINED_EPOCH_OFFSET = -1;

export const offsetForLeaderEpochHandler = defineHandler({
  api: apiByKey(ApiKey.OffsetForLeaderEpoch)!,
  request: schemas.offsetForLeaderEpochRequest,
  response: schemas.offsetForLeaderEpochResponse,
  handle(ctx, req: Request): Response {
    const describable = authorizeCluster(ctx, 'CLUSTER_ACTION', false) ? undefined : authorizedNames(ctx, 'DESCRIBE', 'TOPIC', req.topics.map((t) => t.topic));
    const topics = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p): EpochEndOffset => {
        const answer = (errorCode: number, leaderEpoch = UNDEFINED_EPOCH, endOffset = UNDEFINED_EPOCH_OFFSET): EpochEndOffset => ({
          errorCode,
          partition: p.partition,
          leaderEpoch,
          endOffset: BigInt(endOffset),
        });
        if (describable !== undefined && !describable.has(t.topic)) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const state = ctx.services.topics.partition(t.topic, p.partition);
        if (!state) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (state.log.offlineError !== null) return answer(ErrorCode.KAFKA_STORAGE_ERROR);
        const epochError = leaderEpochError(p.currentLeaderEpoch, state.leaderEpoch);
        if (epochError !== ErrorCode.NONE) return answer(epochError);
        const found = endOffsetForEpoch(state.log, state.leaderEpoch, p.leaderEpoch);
        return answer(ErrorCode.NONE, found.leaderEpoch, found.endOffset);
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
});

/**
 * The log's answer (PartitionLog.endOffsetForEpoch), with `currentEpoch` counted as starting at the log end
 * offset when the cache has not recorded it yet (no batch written in it), as Kafka's cache would hold it.
 */
export function endOffsetForEpoch(log: PartitionLog, currentEpoch: number, requested: number): { leaderEpoch: number; endOffset: number } {
  const latest = log.latestEpoch;
  if (requested === UNDEFINED_EPOCH || latest >= currentEpoch) return log.endOffsetForEpoch(requested);
  // The cache ends with `latest` (or is empty); Kafka's would also hold currentEpoch from the log end offset.
  const end = log.logEndOffset;
  if (requested === currentEpoch) return { leaderEpoch: currentEpoch, endOffset: end };
  if (requested > currentEpoch) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
  if (latest === UNDEFINED_EPOCH) return { leaderEpoch: requested, endOffset: end };
  if (requested >= latest) return { leaderEpoch: latest, endOffset: end };
  return log.endOffsetForEpoch(requested);
}
