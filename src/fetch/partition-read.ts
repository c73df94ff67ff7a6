/**
 * One Fetch read pass over a list of partitions, under Kafka's size rules
 * (KIP-74): partitions are read in order; each gets at most
 * min(partition_max_bytes, what is left of the response's max_bytes); until a
 * partition has returned records the first batch is returned whole even if it
 * is larger (v3+; v0-2 have hard limits). After that, a partition whose first
 * batch does not fit gets no records from v3 on, as Kafka's ReplicaManager
 * answers an incomplete first entry: clients find no complete batch in a cut
 * one and fail (the Java consumer with "Failed to make progress reading
 * messages", kafkajs 2.2.4 on a section shorter than 17 bytes), while the
 * next fetch can read it. v0-2 get it cut at the limit (how pre-KIP-74
 * clients learn that a message is larger than their fetch size). Record bytes
 * are the storage's buffers (slices, never concatenated); for a fetch that
 * needs no conversion (v4+), batch-cache slices while the pass's cache
 * allowance lasts and file regions for the rest, which the connection streams
 * from the segment files as the socket drains (storage's readForSend).
 * READ_COMMITTED (consumers only) reads up to the last stable offset instead of
 * the high watermark, and answers the aborted transactions overlapping what it
 * returns (storage's collectAbortedTransactions, from the segments' .txnindex),
 * with every transaction whose ABORT marker is at or after the fetch offset and
 * whose first offset is below the LSO (a superset of Kafka's bound, which stops
 * at the end of the data read; clients match them by offset), ordered by
 * first offset (byFirstOffset). Every answer carries the partition's LSO;
 * READ_UNCOMMITTED reads it without I/O (the high watermark while producer
 * state is not loaded).
 */
import { ErrorCode } from '../../protocol/index.js';
import { entrySizeAt } from '../../protocol/records/index.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AbortedTxn, FileRegion, LogManager, PartitionLog } from '../../storage/index.js';
import type { PartitionState, TopicManager } from '../metadata/topic-manager.js';
import type { FetchPartitionParams, PartitionOutcome } from './fetch-sessions.js';

/** The topics a fetch names, by name or (v13+) by id. */
export type FetchedTopics = Pick<TopicManager, 'get' | 'getById'>;

/** What a read pass uses of the broker. */
export interface ReadDeps {
  readonly topics: FetchedTopics;
  readonly logger: Logger;
  /** Where records read and then not answered (cut by the size rules) go back. */
  readonly logs: Pick<LogManager, 'releaseReadBuffers'>;
  /** Each partition's last stable offset (producer state: produce/producer-state-manager.ts). */
  readonly stableOffsets: StableOffsets;
}

/** The last stable offset of a log: loaded if needed, or without I/O (undefined when not loaded). */
export interface StableOffsets {
  lastStableOffset(log: PartitionLog): Promise<number>;
  lastStableOffsetIfLoaded(log: PartitionLog): number | undefined;
}

/** Record bytes of an answer: in memory, or a region of a segment file streamed when the answer is written. */
export type RecordChunk = Buffer | FileRegion;

export interface ReadLimits {
  /** Bytes left for the whole response. */
  remainingBytes: number;
  /** The first batch may exceed the limits until a partition returned records. */
  minOneMessage: boolean;
}

export interface PartitionRead extends PartitionOutcome {
  readonly state: PartitionState | undefined;
  readonly lastStableOffset: number;
  readonly records: RecordChunk[];
  readonly divergingEpoch: { epoch: number; endOffset: number } | undefined;
  /** READ_COMMITTED: the aborted transactions overlapping the records answered (empty without records); else undefined. */
  readonly abortedTransactions: readonly AbortedTxn[] | undefined;
}

export interface ReadOptions {
  readonly version: number;
  /** Followers read up to the log end offset, consumers up to the high watermark. */
  readonly fromFollower: boolean;
  /** isolation_level READ_COMMITTED (of a consumer): read up to the last stable offset. */
  readonly readCommitted: boolean;
  /** Converts stored batches for v0-3 fetchers (magic 0 or 1), from the fetch offset on; undefined for v4+. */
  readonly convert: ((chunks: Buffer[], fetchOffset: number) => Promise<Buffer[]>) | undefined;
  /**
   * Without conversion: bytes of batch-cache slices the pass may still hold (counted down); every other
   * batch is answered as a file region. Undefined: everything is read into memory.
   */
  readonly cacheAllowance: { bytes: number } | undefined;
  /**
   * With an authorizer: whether the fetch may read the topic (null: an unknown topic id); a partition it may
   * not read answers TOPIC_AUTHORIZATION_FAILED before anything else is looked at. Undefined: everything.
   */
  readonly authorized?: (topic: string | null) => boolean;
}

/** The partition a fetch names: by topic id from v13, by name before. */
export function resolvePartition(topics: FetchedTopics, p: FetchPartitionParams, version: number): PartitionState | number {
  const topic = version >= 13 ? topics.getById(p.topicId) : p.topic === null ? undefined : topics.get(p.topic);
  if (!topic) return version >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  return topic.partitions[p.partition] ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}

export function errorRead(params: FetchPartitionParams, errorCode: number, state?: PartitionState): PartitionRead {
  return {
    params,
    state,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    recordsSize: 0,
    records: [],
    diverging: false,
    divergingEpoch: undefined,
    abortedTransactions: undefined,
  };
}

export async function readPartition(
  deps: ReadDeps,
  params: FetchPartitionParams,
  limits: ReadLimits,
  opts: ReadOptions,
): Promise<PartitionRead> {
  if (opts.authorized !== undefined && !opts.authorized(params.topic)) return errorRead(params, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const resolved = resolvePartition(deps.topics, params, opts.version);
  if (typeof resolved === 'number') return errorRead(params, resolved);
  const state = resolved;
  if (params.currentLeaderEpoch >= 0 && params.currentLeaderEpoch !== state.leaderEpoch) {
    return errorRead(params, params.currentLeaderEpoch < state.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH, state);
  }
  const config = deps.topics.get(state.topic)?.config;
  if (opts.version < 10 && config?.compressionType === 'zstd') {
    return errorRead(params, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, state);
  }
  if (opts.convert && !opts.fromFollower && config?.downConversionEnable === false) {
    return errorRead(params, ErrorCode.UNSUPPORTED_VERSION, state);
  }
  const log = state.log;
  try {
    const readCommitted = opts.readCommitted && !opts.fromFollower;
    // (the LSO first: no await between it and the high watermark, so it is never above it)
    const loaded = deps.stableOffsets.lastStableOffsetIfLoaded(log);
    const stable = readCommitted && loaded === undefined ? await deps.stableOffsets.lastStableOffset(log) : loaded;
    const highWatermark = log.highWatermark;
    const lastStableOffset = stable ?? highWatermark;
    const logStartOffset = log.logStartOffset;
    const base = { params, state, errorCode: ErrorCode.NONE, highWatermark, lastStableOffset, logStartOffset, abortedTransactions: undefined };
    if (params.lastFetchedEpoch >= 0) {
      const end = log.endOffsetForEpoch(params.lastFetchedEpoch);
      if (end.leaderEpoch < 0 || end.endOffset < 0) return errorRead(params, ErrorCode.OFFSET_OUT_OF_RANGE, state);
      if (end.leaderEpoch < params.lastFetchedEpoch || end.endOffset < params.fetchOffset) {
        const divergingEpoch = { epoch: end.leaderEpoch, endOffset: end.endOffset };
        return { ...base, recordsSize: 0, records: [], diverging: true, divergingEpoch };
      }
    }
    const offset = params.fetchOffset;
    if (offset < logStartOffset || offset > log.logEndOffset) return errorRead(params, ErrorCode.OFFSET_OUT_OF_RANGE, state);
    const maxOffset = opts.fromFollower ? log.logEndOffset : readCommitted ? lastStableOffset : highWatermark;
    const limit = Math.max(0, Math.min(params.partitionMaxBytes, limits.remainingBytes));
    let records: RecordChunk[] = [];
    let size = 0;
    if (offset < maxOffset && (limit > 0 || limits.minOneMessage)) {
      if (opts.cacheAllowance !== undefined && !opts.convert) {
        records = (await log.readForSend(offset, Math.max(limit, 1), maxOffset, opts.cacheAllowance)).chunks;
        size = sizeOf(records);
        if (size > limit && !limits.minOneMessage) {
          const kept = wholeEntries(records, limit);
          deps.logs.releaseReadBuffers(records.slice(kept.length));
          records = kept;
          size = sizeOf(records);
        }
      } else {
        const read = await log.read(offset, Math.max(limit, 1), maxOffset);
        let buffers = opts.convert ? await opts.convert(read.chunks, offset) : read.chunks;
        size = sizeOf(buffers);
        if (size > limit && !limits.minOneMessage) {
          buffers = opts.version >= 3 ? wholeEntries(buffers, limit) : cutChunks(buffers, limit);
          size = sizeOf(buffers);
        }
        records = buffers;
      }
    }
    if (size > 0) {
      limits.minOneMessage = false;
      limits.remainingBytes = Math.max(0, limits.remainingBytes - size);
    }
    // (a literal, not a spread of `base`: spread objects allocated here were promoted to V8's old generation
    // by the thousand per second, and the garbage collector's pauses are the latency tail)
    return {
      params,
      state,
      errorCode: ErrorCode.NONE,
      highWatermark,
      lastStableOffset,
      logStartOffset,
      recordsSize: size,
      records,
      diverging: false,
      divergingEpoch: undefined,
      abortedTransactions: readCommitted ? (size > 0 ? byFirstOffset(log.collectAbortedTransactions(offset, lastStableOffset)) : NO_ABORTS) : undefined,
    };
  } catch (err) {
    // OFFSET_OUT_OF_RANGE; a ProtocolError's code for stored batches that cannot be converted for an old
    // fetcher (e.g. zstd for magic 0/1); KAFKA_STORAGE_ERROR, unless the partition was deleted meanwhile
    if (!isKnownError(err)) throw err;
    const code = errorCodeOf(err);
    if (code === ErrorCode.KAFKA_STORAGE_ERROR) {
      const now = resolvePartition(deps.topics, params, opts.version);
      if (typeof now === 'number' || now.log !== log) return errorRead(params, typeof now === 'number' ? now : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      deps.logger.warn({ err, topic: state.topic, partition: state.partition }, 'Fetch: storage error');
    }
    return errorRead(params, code, state);
  }
}

const NO_ABORTS: readonly AbortedTxn[] = [];

/**
 * The aborted transactions ordered by first offset. Kafka answers them in marker order (the .txnindex's) and
 * the protocol leaves the order open: the Java consumer and librdkafka order them by first offset themselves,
 * but kafkajs 2.2.4 (filterAbortedMessages) starts dropping a producer's records only when it reaches the next
 * entry's first offset, so a transaction begun before another yet aborted after it would have its first
 * records delivered to a read_committed consumer. (kafkajs still takes one entry per message: a fetch that
 * starts inside two aborted transactions can deliver a record of the second, whatever the order.)
 */
function byFirstOffset(txns: AbortedTxn[]): readonly AbortedTxn[] {
  for (let i = 1; i < txns.length; i++) {
    if ((txns[i] as AbortedTxn).firstOffset < (txns[i - 1] as AbortedTxn).firstOffset) return txns.sort((a, b) => a.firstOffset - b.firstOffset);
  }
  return txns;
}

export function sizeOf(chunks: readonly RecordChunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/**
 * The whole entries (v2 batches, or magic 0/1 messages: both framed as offset, size, body) that fit in the
 * first `limit` bytes of `chunks`, as slices (no copy); none when the first one does not fit. A file region
 * (whole batches) is kept whole or not at all; the chunks kept are the first ones of `chunks`, the last
 * possibly cut.
 */
export function wholeEntries<C extends RecordChunk>(chunks: readonly C[], limit: number): C[] {
  const out: C[] = [];
  let left = limit;
  for (const c of chunks) {
    if (!Buffer.isBuffer(c)) {
      if (c.length > left) break;
      out.push(c);
      left -= c.length;
      continue;
    }
    let end = 0;
    for (;;) {
      const size = entrySizeAt(c, end);
      if (size < 0 || size > left || end + size > c.length) break;
      end += size;
      left -= size;
    }
    if (end > 0) out.push(end === c.length ? c : (c.subarray(0, end) as C));
    if (end < c.length) break;
  }
  return out;
}

/** The first `limit` bytes of `chunks`, as slices (no copy). */
export function cutChunks(chunks: readonly Buffer[], limit: number): Buffer[] {
  const out: Buffer[] = [];
  let left = limit;
  for (const c of chunks) {
    if (left <= 0) break;
    out.push(c.length <= left ? c : c.subarray(0, left));
    left -= c.length;
  }
  return out;
}
