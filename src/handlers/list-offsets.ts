/**
 * ListOffsets: v0-11.
 * Behavior: per partition, the offset for a timestamp: -2 earliest (log start
 * offset), -1 latest (high watermark for consumers; log end offset for
 * replicas and the debugging replica id -2), -3 the record with the largest
 * timestamp, a timestamp >= 0 the first offset whose timestamp is at or after
 * it, and the tiered-storage sentinels answered as a broker without tiered
 * storage does: -4 (earliest local) = earliest, -5 (latest tiered) and -6
 * (earliest pending upload) = offset -1, timestamp -1, leader epoch -1. A
 * timestamp search (and -3) never reports an
 * offset at or past the last fetchable offset (high watermark; last stable
 * offset under READ_COMMITTED, which -1 answers too): nothing
 * found = offset -1, timestamp -1. Unknown topics and partitions get
 * UNKNOWN_TOPIC_OR_PARTITION; a partition listed twice gets INVALID_REQUEST
 * (v1+); a current leader epoch older or newer than ours gets
 * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH (v4+); storage failures get
 * KAFKA_STORAGE_ERROR. With an authorizer, each topic needs DESCRIBE (checked
 * first, as Kafka): TOPIC_AUTHORIZATION_FAILED on its partitions otherwise.
 * Version notes: v0 answers old_style_offsets, Kafka's legacy list: for -1 the
 * high watermark then the log start offset, for -2 the log start offset, for
 * a timestamp the first offset at or after it (or the high watermark), at most
 * max_num_offsets of them, in descending order. v1+ one offset and timestamp;
 * v2+ isolation level; v4+ leader epoch; v7 adds -3, v8 -4, v9 -5, v11 -6
 * (clients only send them at those versions; we answer them at any version).
 * v10 adds timeout_ms, how long a read from tiered storage may take (KIP-1075:
 * past it that partition gets REQUEST_TIMED_OUT); nothing here reads remote
 * storage, every answer is local and immediate, so it is read and ignored.
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import type { PartitionLog } from '../../storage/index.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import type { PartitionState } from '../metadata/topic-manager.js';
import { authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Request = MessageValue<typeof schemas.listOffsetsRequest>;
type Response = MessageInput<typeof schemas.listOffsetsResponse>;
type PartitionResponse = NonNullable<NonNullable<Response['topics']>[number]['partitions']>[number];

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;
export const LATEST_TIERED_TIMESTAMP = -5;
export const EARLIEST_PENDING_UPLOAD_TIMESTAMP = -6;
const CONSUMER_REPLICA_ID = -1;
const READ_COMMITTED = 1;

interface Found {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}
const NOT_FOUND: Found = { offset: -1, timestamp: -1, leaderEpoch: -1 };

export const listOffsetsHandler = defineHandler({
  api: apiByKey(ApiKey.ListOffsets)!,
  request: schemas.listOffsetsRequest,
  response: schemas.listOffsetsResponse,
  async handle(ctx, req: Request): Promise<Response> {
    const fromConsumer = req.replicaId === CONSUMER_REPLICA_ID;
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const key = `${t.name}\u0000${p.partitionIndex}`;
        if (seen.has(key)) duplicates.add(key);
        seen.add(key);
      }
    }
    const describable = authorizedNames(ctx, 'DESCRIBE', 'TOPIC', req.topics.map((t) => t.name));
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p): Promise<PartitionResponse> => {
            const error = (code: number): PartitionResponse => ({
              partitionIndex: p.partitionIndex,
              errorCode: code,
              oldStyleOffsets: [],
              timestamp: -1n,
              offset: -1n,
              leaderEpoch: -1,
            });
            if (!describable.has(t.name)) return error(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (ctx.version >= 1 && duplicates.has(`${t.name}\u0000${p.partitionIndex}`)) return error(ErrorCode.INVALID_REQUEST);
            const state = ctx.services.topics.partition(t.name, p.partitionIndex);
            if (!state) return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            const epochError = leaderEpochError(p.currentLeaderEpoch, state.leaderEpoch);
            if (epochError !== ErrorCode.NONE) return error(epochError);
            const timestamp = Number(p.timestamp);
            try {
              if (ctx.version === 0) {
                const offsets = await legacyOffsets(state.log, timestamp, p.maxNumOffsets, fromConsumer);
                return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, oldStyleOffsets: offsets.map(BigInt) };
              }
              // (the LSO is read only for READ_COMMITTED: it may load the partition's producer state)
              const lastFetchable = !fromConsumer
                ? state.log.logEndOffset
                : ctx.version >= 2 && req.isolationLevel === READ_COMMITTED
                  ? await ctx.services.producerStates.lastStableOffset(state.log)
                  : state.log.highWatermark;
              const found = await offsetFor(state, timestamp, lastFetchable);
              return {
                partitionIndex: p.partitionIndex,
                errorCode: ErrorCode.NONE,
                timestamp: BigInt(found.timestamp),
                offset: BigInt(found.offset),
                leaderEpoch: found.leaderEpoch,
              };
            } catch (err) {
              if (!isKnownError(err)) throw err;
              const code = errorCodeOf(err);
              if (code === ErrorCode.KAFKA_STORAGE_ERROR) ctx.services.logger.warn({ err, topic: t.name, partition: p.partitionIndex }, 'ListOffsets: storage error');
              return error(code);
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});

/** FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when a client's current leader epoch (-1 = none) is not ours. */
export function leaderEpochError(requested: number, current: number): number {
  if (requested < 0 || requested === current) return ErrorCode.NONE;
  return requested < current ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
}

/** `lastFetchable`: the log end offset for replicas, the high watermark (READ_UNCOMMITTED) or LSO (READ_COMMITTED) for consumers. */
async function offsetFor(state: PartitionState, timestamp: number, lastFetchable: number): Promise<Found> {
  const log = state.log;
  switch (timestamp) {
    case LATEST_TIMESTAMP:
      return { offset: lastFetchable, timestamp: -1, leaderEpoch: state.leaderEpoch };
    case EARLIEST_TIMESTAMP:
    case EARLIEST_LOCAL_TIMESTAMP:
      return (await log.offsetForTimestamp(EARLIEST_TIMESTAMP)) ?? { offset: log.logStartOffset, timestamp: -1, leaderEpoch: -1 };
    case LATEST_TIERED_TIMESTAMP:
    case EARLIEST_PENDING_UPLOAD_TIMESTAMP:
      // what Kafka answers for a topic without tiered storage
      return NOT_FOUND;
    default: {
      if (timestamp < 0 && timestamp !== MAX_TIMESTAMP) return NOT_FOUND;
      const found = await log.offsetForTimestamp(timestamp);
      if (!found || found.offset >= lastFetchable) return NOT_FOUND;
      return found;
    }
  }
}

/**
 * ListOffsets v0: Kafka's legacy offsets list, at most maxNumOffsets in
 * descending order. Kafka lists segment base offsets by file modification
 * time; we list the offsets the log can name exactly: the high watermark
 * (latest) and the log start offset, or the offset found for a timestamp.
 */
async function legacyOffsets(log: PartitionLog, timestamp: number, maxNumOffsets: number, fromConsumer: boolean): Promise<number[]> {
  const end = fromConsumer ? log.highWatermark : log.logEndOffset;
  let offsets: number[];
  if (timestamp === LATEST_TIMESTAMP) offsets = end > log.logStartOffset ? [end, log.logStartOffset] : [end];
  else if (timestamp === EARLIEST_TIMESTAMP) offsets = [log.logStartOffset];
  else if (timestamp < 0) offsets = [];
  else {
    const found = await log.offsetForTimestamp(timestamp);
    offsets = [found && found.offset < end ? found.offset : end];
  }
  return offsets.slice(0, Math.max(0, maxNumOffsets));
}
