/**
 * Fetch: v0-17.
 * Behavior: reads each requested partition from its fetch offset up to the
 * high watermark (the log end offset for a follower), within max_bytes (capped
 * by fetch.max.bytes) and partition_max_bytes; the first batch is returned
 * whole even when larger (KIP-74), a fetch offset inside a batch returns the
 * whole batch, and record sections are the storage's buffers, never copied.
 * When fewer than min_bytes are available and max_wait_ms > 0 the request
 * waits (long poll), woken by appends to its partitions, then reads again;
 * errors answer at once. READ_COMMITTED reads to the last stable offset, which
 * is the high watermark until transactions exist, with an empty aborted
 * transaction list. Incremental fetch sessions (KIP-227) as in
 * notes/fetch-sessions.md: a cache of max.incremental.fetch.session.cache.slots
 * sessions, FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH,
 * FETCH_SESSION_TOPIC_ID_ERROR, forgotten topics, unchanged partitions
 * omitted. Broker shutdown releases parked fetches (releaseParkedFetches).
 * Per-partition errors: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID
 * (v13+), OFFSET_OUT_OF_RANGE outside [log start offset, log end offset],
 * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR; error
 * partitions carry -1 offsets and no records; a fetch that would need
 * down-conversion on a topic with message.downconversion.enable=false gets
 * UNSUPPORTED_VERSION. preferred_read_replica is -1.
 * Version notes: v0-1 get batches down-converted to magic 0 message sets, v2-3
 * to magic 1 (hard size limits up to v2: no oversized first batch); v3 adds
 * max_bytes, v4 isolation level / last stable offset / aborted transactions,
 * v5 log start offset, v7 sessions, v9 current leader epoch, v10 zstd (a
 * topic with compression.type=zstd answers UNSUPPORTED_COMPRESSION_TYPE below
 * v10), v11 rack / preferred read replica, v12 flexible, last fetched epoch
 * and diverging epoch, v13 topic ids, v15 replica state.
 * Memory: each read pass takes its bytes from the broker's fetch response
 * budget (gregor.fetch.response.max.memory.bytes) — what is free, up to
 * max_bytes, waiting when nothing is — and the answer keeps them until it has
 * been written to the socket; when the budget is short a fetch returns less
 * than max_bytes (at least one batch), as a fetch at its limit does. Once
 * written, the buffers of its file reads go back to storage for reuse.
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { batchesToMessageSet } from '../../protocol/records/index.js';
import type { Broker } from '../broker.js';
import { FetchSessionCache, type FetchPartitionParams, type ForgottenTopic } from '../fetch/fetch-sessions.js';
import { longPoll, type AppendSource } from '../fetch/long-poll.js';
import { readPartition, resolvePartition, type PartitionRead, type ReadLimits } from '../fetch/partition-read.js';
import { defineHandler } from './handler.js';

type Request = MessageValue<typeof schemas.fetchRequest>;
type Response = MessageInput<typeof schemas.fetchResponse>;
type TopicResponse = NonNullable<Response['responses']>[number];

const READ_COMMITTED = 1;

const sessionCaches = new WeakMap<Broker, FetchSessionCache>();
const shutdowns = new WeakMap<Broker, AbortController>();

function shutdownOf(broker: Broker): AbortController {
  let c = shutdowns.get(broker);
  if (!c) {
    c = new AbortController();
    shutdowns.set(broker, c);
  }
  return c;
}

/**
 * Broker shutdown: parked fetches answer now with what they have, and later
 * fetches do not wait, so in-flight requests finish without waiting out
 * their max_wait_ms.
 */
export function releaseParkedFetches(broker: Broker): void {
  shutdownOf(broker).abort();
}

/** The broker's fetch session cache (created on first use). */
export function fetchSessionCacheOf(broker: Broker): FetchSessionCache {
  let cache = sessionCaches.get(broker);
  if (!cache) {
    cache = new FetchSessionCache(broker.config.int('max.incremental.fetch.session.cache.slots'));
    sessionCaches.set(broker, cache);
  }
  return cache;
}

export const fetchHandler = defineHandler({
  api: apiByKey(ApiKey.Fetch)!,
  request: schemas.fetchRequest,
  response: schemas.fetchResponse,
  async handle(ctx, req: Request): Promise<Response> {
    const { broker, version } = ctx;
    const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
    const sessions = fetchSessionCacheOf(broker);
    const context = sessions.newContext({
      sessionId: req.sessionId,
      sessionEpoch: req.sessionEpoch,
      version,
      privileged: replicaId >= 0,
      partitions: requestedPartitions(broker, req, version),
      forgotten: forgottenTopics(req, version),
    });
    if (context.kind === 'error') {
      return { throttleTimeMs: 0, errorCode: context.errorCode, sessionId: 0, responses: [] };
    }
    const partitions = context.partitions;
    const maxBytes = Math.min(version >= 3 ? req.maxBytes : 0x7fffffff, broker.config.int('fetch.max.bytes'));
    const maxDecompressedBytes = broker.config.int('gregor.max.decompressed.bytes');
    const convert =
      version <= 3
        ? async (chunks: Buffer[]): Promise<Buffer[]> => [await batchesToMessageSet(chunks, version <= 1 ? 0 : 1, { maxDecompressedBytes })]
        : undefined;
    const memory = broker.fetchMemory;
    let wanted = 0;
    for (const p of partitions) wanted += Math.max(0, p.partitionMaxBytes);
    wanted = Math.min(wanted, maxBytes);
    // budget bytes held by the reads of the last pass (the ones answered)
    let held = 0;
    const readAll = async (): Promise<{ reads: PartitionRead[]; bytes: number; answerNow: boolean }> => {
      memory.release(held);
      held = 0;
      // v3+ may return less than asked (at least one batch); v0-2 have hard limits, so they wait for all of it
      const granted = wanted === 0 ? 0 : await memory.take(wanted, version >= 3);
      held = granted;
      const limits: ReadLimits = { remainingBytes: Math.min(maxBytes, granted), minOneMessage: version >= 3 };
      const reads: PartitionRead[] = [];
      let bytes = 0;
      let answerNow = false;
      try {
        for (const p of partitions) {
          const r = await readPartition(broker, p, limits, { version, fromFollower: replicaId >= 0, convert });
          reads.push(r);
          bytes += r.recordsSize;
          if (r.errorCode !== ErrorCode.NONE || r.diverging) answerNow = true;
        }
      } finally {
        // what was read is held (a first batch larger than the grant included); the rest goes back
        if (bytes > held) memory.force(bytes - held);
        else memory.release(held - bytes);
        held = bytes;
      }
      return { reads, bytes, answerNow };
    };
    const sources: AppendSource[] = [];
    for (const p of partitions) {
      const state = resolvePartition(broker, p, version);
      if (typeof state !== 'number') sources.push(state.log);
    }
    let reads: PartitionRead[];
    try {
      ({ reads } = await longPoll({
        sources,
        maxWaitMs: partitions.length === 0 ? 0 : req.maxWaitMs,
        signal: shutdownOf(broker).signal,
        onWait: (waiting) => {
          broker.waiting.fetches += waiting ? 1 : -1;
        },
        attempt: async () => {
          const r = await readAll();
          return { done: r.answerNow || r.bytes >= req.minBytes, value: r };
        },
      }));
    } finally {
      const answered = held;
      ctx.connection.afterResponse(() => memory.release(answered));
    }
    // the file reads' buffers are reused once the answer is written (storage's BufferPool)
    ctx.connection.afterResponse(() => {
      for (const r of reads) broker.logs.releaseReadBuffers(r.records);
    });
    const { sessionId, partitions: send } = sessions.complete(context, reads);
    if (broker.metrics) for (const r of send) if (r.recordsSize > 0) broker.metrics.fetched(r.params.topic ?? '', r.records);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId,
      responses: groupByTopic(send, version, req.isolationLevel === READ_COMMITTED),
    };
  },
});

function requestedPartitions(broker: Broker, req: Request, version: number): FetchPartitionParams[] {
  const out: FetchPartitionParams[] = [];
  for (const t of req.topics) {
    const name = version >= 13 ? (broker.topics.getById(t.topicId)?.name ?? null) : t.topic;
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
      abortedTransactions: ok && readCommitted ? [] : null,
      preferredReadReplica: -1,
      records: r.records,
    });
  }
  return topics;
}
