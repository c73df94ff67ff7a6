/**
 * Fetch: v0-18.
 * Behavior: reads each requested partition from its fetch offset up to the
 * high watermark (the log end offset for a follower), within max_bytes (capped
 * by fetch.max.bytes) and partition_max_bytes; the first batch is returned
 * whole even when larger (KIP-74), a fetch offset inside a batch returns the
 * whole batch, and record sections are the storage's buffers, never copied.
 * When fewer than min_bytes are available and max_wait_ms > 0 the request
 * waits (long poll), woken by appends to its partitions, then reads again;
 * errors answer at once. READ_COMMITTED reads to the last stable offset (the
 * first offset of the earliest ongoing transaction, else the high watermark)
 * and lists the aborted transactions (producer id, first offset) overlapping
 * the records answered; every answer carries the LSO. Incremental fetch sessions (KIP-227) as in
 * notes/fetch-sessions.md: a cache of max.incremental.fetch.session.cache.slots
 * sessions, FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH,
 * FETCH_SESSION_TOPIC_ID_ERROR, forgotten topics, unchanged partitions
 * omitted. Broker shutdown answers parked fetches at once. A consumer (not a
 * follower) is held to its consumer_byte_rate (client quotas): a fetch over
 * it is answered with no partitions and the throttle time in throttle_time_ms
 * (v1+), and max_bytes is capped at what the quota window allows.
 * Per-partition errors: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID
 * (v13+), OFFSET_OUT_OF_RANGE outside [log start offset, log end offset],
 * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR; error
 * partitions carry -1 offsets and no records; a fetch that would need
 * down-conversion on a topic with message.downconversion.enable=false gets
 * UNSUPPORTED_VERSION. preferred_read_replica is -1.
 * Authorization (with an authorizer, as Kafka's KafkaApis): a consumer needs
 * READ on each topic, a follower (replica id >= 0) CLUSTER_ACTION on the
 * cluster; a partition not allowed answers TOPIC_AUTHORIZATION_FAILED (an
 * unknown topic id of a consumer stays UNKNOWN_TOPIC_ID).
 * Version notes: v0-1 get batches down-converted to magic 0 message sets, v2-3
 * to magic 1 (hard size limits up to v2: no oversized first batch); v3 adds
 * max_bytes, v4 isolation level / last stable offset / aborted transactions,
 * v5 log start offset, v7 sessions, v9 current leader epoch, v10 zstd (a
 * topic with compression.type=zstd answers UNSUPPORTED_COMPRESSION_TYPE below
 * v10), v11 rack / preferred read replica, v12 flexible, last fetched epoch
 * and diverging epoch, v13 topic ids, v15 replica state, v17 a follower's
 * directory id, v18 a follower's high watermark (KIP-1166: the leader answers
 * a follower whose high watermark is behind at once; a consumer sends none,
 * and with no followers it changes nothing here, so it is read and ignored;
 * the response is v17's).
 * Memory: record data still in the segment files is answered as file
 * regions, which the connection streams as the socket drains, at most
 * gregor.fetch.stream.window.bytes per connection in flight (v4+; the bytes
 * on the wire are the same). Bytes held in memory until the answer is
 * written — batch-cache slices, and v0-3 down-converted message sets — come
 * from the broker's fetch response budget
 * (gregor.fetch.response.max.memory.bytes): v4+ uses cache slices only while
 * their bytes are free and never waits; v0-3 take what is free, up to
 * max_bytes, waiting when nothing is, and return less than max_bytes (at
 * least one batch) when it is short. Once written, file regions are unpinned
 * and the buffers of file reads go back to storage for reuse.
 * This module maps the request to a FetchQuery and the answer to the
 * response; sessions, long polls, reads and memory are the fetch manager's
 * (fetch/fetch-manager.ts).
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import type { FetchPartitionParams, ForgottenTopic } from '../fetch/fetch-sessions.js';
import type { PartitionRead } from '../fetch/partition-read.js';
import { authorize, authorizeCluster, hasAuthorizer, type AuthContext } from '../security/auth-helper.js';
import type { Topics } from '../services.js';
import { defineHandler } from './handler.js';

type Request = MessageValue<typeof schemas.fetchRequest>;
type Response = MessageInput<typeof schemas.fetchResponse>;
type TopicResponse = NonNullable<Response['responses']>[number];

const READ_COMMITTED = 1;

export const fetchHandler = defineHandler({
  api: apiByKey(ApiKey.Fetch)!,
  request: schemas.fetchRequest,
  response: schemas.fetchResponse,
  async handle(ctx, req: Request): Promise<Response> {
    const { services, version } = ctx;
    const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
    const answer = await services.fetches.fetch(
      {
        version,
        replicaId,
        sessionId: req.sessionId,
        sessionEpoch: req.sessionEpoch,
        partitions: requestedPartitions(services.topics, req, version),
        forgotten: forgottenTopics(req, version),
        maxBytes: version >= 3 ? req.maxBytes : 0x7fffffff,
        minBytes: req.minBytes,
        maxWaitMs: req.maxWaitMs,
        readCommitted: version >= 4 && req.isolationLevel === READ_COMMITTED,
        authorized: readable(ctx, replicaId),
        quota: replicaId < 0 ? services.quotas.fetchQuota(ctx.session) : undefined,
      },
      ctx.connection,
    );
    if (answer.errorCode !== ErrorCode.NONE) {
      return { throttleTimeMs: 0, errorCode: answer.errorCode, sessionId: 0, responses: [] };
    }
    return {
      throttleTimeMs: answer.throttleTimeMs,
      errorCode: ErrorCode.NONE,
      sessionId: answer.sessionId,
      responses: groupByTopic(answer.partitions, version, req.isolationLevel === READ_COMMITTED),
    };
  },
});

/**
 * Which topics the fetch may read (undefined without an authorizer): a follower needs CLUSTER_ACTION (else no
 * partition at all), a consumer READ on each topic, asked once per topic.
 */
function readable(ctx: AuthContext, replicaId: number): ((topic: string | null) => boolean) | undefined {
  if (!hasAuthorizer(ctx)) return undefined;
  if (replicaId >= 0) {
    const allowed = authorizeCluster(ctx, 'CLUSTER_ACTION');
    return () => allowed;
  }
  const decided = new Map<string, boolean>();
  return (topic) => {
    if (topic === null) return true;
    let allowed = decided.get(topic);
    if (allowed === undefined) decided.set(topic, (allowed = authorize(ctx, 'READ', 'TOPIC', topic)));
    return allowed;
  };
}

function requestedPartitions(topics: Pick<Topics, 'getById'>, req: Request, version: number): FetchPartitionParams[] {
  const out: FetchPartitionParams[] = [];
  for (const t of req.topics) {
    const name = version >= 13 ? (topics.getById(t.topicId)?.name ?? null) : t.topic;
    for (const p of t.partitions) {
      out.push({
        topic: name,
        topicId: t.topicId,
        partition: p.partition,
        fetchOffset: Number(p.fetchOffset),
        partitionMaxBytes: p.partitionMaxBytes,
        logStartOffset: Number(p.logStartOffset),
        currentLeaderEpoch: p.currentLeaderEpoch,
        lastFetchedEpoch: p.lastFetchedEpoch,
      });
    }
  }
  return out;
}

function forgottenTopics(req: Request, version: number): ForgottenTopic[] {
  if (version < 7) return [];
  return req.forgottenTopicsData.map((f) => ({ topic: f.topic, topicId: f.topicId, partitions: f.partitions }));
}

/** Response topics: consecutive partitions of the same topic share an entry (session order may interleave topics). */
function groupByTopic(reads: readonly PartitionRead[], version: number, readCommitted: boolean): TopicResponse[] {
  const topics: TopicResponse[] = [];
  let current: TopicResponse | undefined;
  let currentKey: string | undefined;
  for (const r of reads) {
    const key = version >= 13 ? r.params.topicId : (r.params.topic ?? '');
    if (!current || key !== currentKey) {
      current = { topic: r.params.topic ?? '', topicId: r.params.topicId, partitions: [] };
      currentKey = key;
      topics.push(current);
    }
    const ok = r.errorCode === ErrorCode.NONE;
    current.partitions!.push({
      partitionIndex: r.params.partition,
      errorCode: r.errorCode,
      highWatermark: BigInt(r.highWatermark),
      lastStableOffset: BigInt(r.lastStableOffset),
      logStartOffset: BigInt(r.logStartOffset),
      divergingEpoch: r.divergingEpoch ? { epoch: r.divergingEpoch.epoch, endOffset: BigInt(r.divergingEpoch.endOffset) } : undefined,
      abortedTransactions: ok && readCommitted ? abortedOf(r) : null,
      preferredReadReplica: -1,
      records: r.records,
    });
  }
  return topics;
}

function abortedOf(r: PartitionRead): { producerId: bigint; firstOffset: bigint }[] {
  const aborted = r.abortedTransactions;
  if (aborted === undefined || aborted.length === 0) return [];
  return aborted.map((t) => ({ producerId: BigInt(t.producerId), firstOffset: BigInt(t.firstOffset) }));
}
