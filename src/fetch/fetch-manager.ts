/**
 * The fetch manager: what the broker keeps for Fetch across requests, and the
 * read loop of one fetch (Kafka's FetchManager and the fetch half of
 * ReplicaManager). The Fetch handler turns the request into a FetchQuery and
 * the answer into the response; everything between is here:
 *
 * 1. Sessions (KIP-227): the query's session id and epoch become the
 *    partitions to read, or a top-level error (fetch-sessions.ts; the cache
 *    holds max.incremental.fetch.session.cache.slots sessions).
 * 2. Read passes (partition-read.ts), each under the response memory budget
 *    below; a pass that finds fewer than min_bytes parks the fetch until an
 *    append to one of its partitions or max_wait_ms (long-poll.ts). A
 *    partition error or a diverging epoch answers at once.
 * 3. The consumer byte rate (a client quota, when the query carries one):
 *    the answer's record bytes are recorded against it; over it, the fetch is
 *    answered empty with the throttle time (the session records nothing, the
 *    bytes do not count), as Kafka's throttled fetch. The query's max_bytes is
 *    first capped at what the quota window allows.
 * 4. The session records what was answered; the read buffers go back to
 *    storage once the response has been written.
 *
 * Memory, in one place (fetchWithin): the broker's fetch response budget
 * (gregor.fetch.response.max.memory.bytes) counts the record bytes an answer
 * holds in memory until it has been written to the socket.
 * - v4+ (no conversion): record data still in the segment files costs
 *   nothing: it is answered as file regions, which the connection streams as
 *   the socket drains, a window at a time (gregor.fetch.stream.window.bytes).
 *   Batch-cache slices are used while the pass can take their bytes from the
 *   budget without waiting (what is free, up to max_bytes); the rest of the
 *   batches come from the files. So no fetch ever waits for memory, and a
 *   client that does not read its responses holds at most its cache slices
 *   (within the budget) and one window.
 * - v0-3 (down-converted, built in memory): each read pass takes its bytes
 *   from the budget — what is free, up to max_bytes, waiting when nothing is —
 *   and gives back what it did not read; the answer keeps what it read (a
 *   first batch larger than the grant included). When the budget is short a
 *   v3 fetch returns less than max_bytes (at least one batch), as a fetch at
 *   its limit does; v0-2 have hard limits and wait for all of it.
 * The records of a pass that is not answered (a long poll reads again) are
 * released at once; those of the answer once it has been written.
 *
 * Broker shutdown (releaseParked): parked fetches answer now with what they
 * have, and later fetches do not wait, so in-flight requests finish without
 * waiting out their max_wait_ms.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { LogManager } from '../../storage/index.js';
import type { ConfigView } from '../config/broker-config.js';
import type { ConnectionInfo } from '../connection-info.js';
import type { Logger } from '../logger.js';
import type { MemoryBudget } from '../memory-budget.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { FetchQuota } from '../security/quota/client-quotas.js';
import { downConvert } from './down-conversion.js';
import { FetchSessionCache, type FetchPartitionParams, type ForgottenTopic } from './fetch-sessions.js';
import { longPoll, type AppendSource } from './long-poll.js';
import { readPartition, resolvePartition, type FetchedTopics, type PartitionRead, type ReadLimits, type ReadOptions, type StableOffsets } from './partition-read.js';

/** What the fetch manager uses of the broker. */
export interface FetchManagerDeps {
  readonly topics: FetchedTopics;
  /** fetch.max.bytes, gregor.max.decompressed.bytes, max.incremental.fetch.session.cache.slots */
  readonly config: ConfigView;
  readonly logger: Logger;
  /** gregor.fetch.response.max.memory.bytes */
  readonly memory: MemoryBudget;
  /** gregor.decompression.max.memory.bytes: what down-conversion for v0-3 fetchers may inflate batches to. */
  readonly decompression: MemoryBudget;
  /** Where the buffers of file reads go back once written. */
  readonly logs: Pick<LogManager, 'releaseReadBuffers'>;
  /** Read at each fetch (undefined when metrics are off). */
  readonly metrics: MetricsRecorder | undefined;
  /** Fetches parked now (read by the metrics). */
  readonly waiting: { fetches: number };
  /** Last stable offsets, for READ_COMMITTED and every answer's LSO. */
  readonly stableOffsets: StableOffsets;
}

/** One Fetch request, as the manager needs it (the handler reads it off the wire). */
export interface FetchQuery {
  readonly version: number;
  /** -1 for a consumer; a follower's node id. */
  readonly replicaId: number;
  readonly sessionId: number;
  readonly sessionEpoch: number;
  readonly partitions: FetchPartitionParams[];
  readonly forgotten: ForgottenTopic[];
  /** The request's max_bytes (0x7fffffff below v3); capped here by fetch.max.bytes. */
  readonly maxBytes: number;
  readonly minBytes: number;
  readonly maxWaitMs: number;
  /** isolation_level 1 (v4+): read up to the last stable offset, with the aborted transactions. */
  readonly readCommitted?: boolean;
  /** With an authorizer: which topics the fetch may read (partition-read.ts ReadOptions.authorized). */
  readonly authorized?: (topic: string | null) => boolean;
  /** The client's consumer byte rate (security/quota/client-quotas.ts), when a quota of that kind was ever set. */
  readonly quota?: FetchQuota | undefined;
}

/** The outcome of a fetch: a top-level error (sessions), or the partitions to send in the session's order. */
export interface FetchAnswer {
  readonly errorCode: number;
  readonly sessionId: number;
  readonly partitions: readonly PartitionRead[];
  /** The consumer byte rate's throttle time (the partitions are then empty), 0 when within it. */
  readonly throttleTimeMs: number;
}

export class FetchManager {
  private readonly sessions: FetchSessionCache;
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: FetchManagerDeps) {
    this.sessions = new FetchSessionCache(deps.config.int('max.incremental.fetch.session.cache.slots'));
  }

  /** Broker shutdown: parked fetches answer now, later ones do not wait. */
  releaseParked(): void {
    this.shutdown.abort();
  }

  /**
   * Serves one fetch. `connection.afterResponse` gives back the answer's memory and read buffers once the
   * response has been written.
   */
  async fetch(q: FetchQuery, connection: Pick<ConnectionInfo, 'afterResponse'>): Promise<FetchAnswer> {
    const deps = this.deps;
    const context = this.sessions.newContext({
      sessionId: q.sessionId,
      sessionEpoch: q.sessionEpoch,
      version: q.version,
      privileged: q.replicaId >= 0,
      partitions: q.partitions,
      forgotten: q.forgotten,
    });
    if (context.kind === 'error') return { errorCode: context.errorCode, sessionId: 0, partitions: [], throttleTimeMs: 0 };
    const partitions = context.partitions;
    const reads = await this.fetchWithin(q, partitions, connection);
    // the file reads' buffers are reused, and their regions unpinned, once the answer is written
    connection.afterResponse(() => {
      for (const r of reads) deps.logs.releaseReadBuffers(r.records);
    });
    if (q.quota !== undefined) {
      let bytes = 0;
      for (const r of reads) bytes += r.recordsSize;
      const throttleTimeMs = q.quota.record(bytes);
      // Kafka's FetchContext.getThrottledResponse: no partitions; an incremental session's id, else none
      if (throttleTimeMs > 0) return { errorCode: ErrorCode.NONE, sessionId: context.kind === 'incremental' ? context.session.id : 0, partitions: [], throttleTimeMs };
    }
    const { sessionId, partitions: send } = this.sessions.complete(context, reads);
    const metrics = deps.metrics;
    if (metrics) for (const r of send) if (r.recordsSize > 0) metrics.fetched(r.params.topic ?? '', r.records);
    return { errorCode: ErrorCode.NONE, sessionId, partitions: send, throttleTimeMs: 0 };
  }

  /** The read passes of one fetch under the response memory budget (see the top of this file). */
  private async fetchWithin(q: FetchQuery, partitions: readonly FetchPartitionParams[], connection: Pick<ConnectionInfo, 'afterResponse'>): Promise<PartitionRead[]> {
    const { deps } = this;
    const version = q.version;
    const maxBytes = Math.min(q.maxBytes, deps.config.int('fetch.max.bytes'), q.quota?.maxBytes ?? Infinity);
    const options = this.readOptions(q);
    const memory = deps.memory;
    let wanted = 0;
    for (const p of partitions) wanted += Math.max(0, p.partitionMaxBytes);
    wanted = Math.max(0, Math.min(wanted, maxBytes));
    // budget bytes held by the reads of the last pass (the ones answered), and those reads
    let held = 0;
    let last: PartitionRead[] = [];
    const streamed = options.convert === undefined;
    const readAll = async (): Promise<{ reads: PartitionRead[]; bytes: number; answerNow: boolean }> => {
      // a pass that read again: the last one is not answered
      for (const r of last) deps.logs.releaseReadBuffers(r.records);
      last = [];
      memory.release(held);
      held = 0;
      let limits: ReadLimits;
      let passOptions = options;
      if (streamed) {
        // cache slices while their bytes are free now; file regions for everything else (no waiting)
        held = wanted === 0 ? 0 : memory.takeFree(wanted);
        passOptions = { ...options, cacheAllowance: { bytes: held } };
        limits = { remainingBytes: maxBytes, minOneMessage: version >= 3 };
      } else {
        // v3 may return less than asked (at least one batch); v0-2 have hard limits, so they wait for all of it
        held = wanted === 0 ? 0 : await memory.take(wanted, version >= 3);
        limits = { remainingBytes: Math.min(maxBytes, held), minOneMessage: version >= 3 };
      }
      const reads: PartitionRead[] = [];
      let bytes = 0;
      let answerNow = false;
      try {
        for (const p of partitions) {
          const r = await readPartition(deps, p, limits, passOptions);
          reads.push(r);
          bytes += r.recordsSize;
          if (r.errorCode !== ErrorCode.NONE || r.diverging) answerNow = true;
        }
      } catch (err) {
        for (const r of reads) deps.logs.releaseReadBuffers(r.records);
        throw err;
      } finally {
        // what is in memory is held (a first batch larger than the grant included); the rest goes back
        const inMemory = bytesInMemory(reads);
        if (inMemory > held) memory.force(inMemory - held);
        else memory.release(held - inMemory);
        held = inMemory;
      }
      last = reads;
      return { reads, bytes, answerNow };
    };
    const sources: AppendSource[] = [];
    for (const p of partitions) {
      const state = resolvePartition(deps.topics, p, version);
      if (typeof state !== 'number') sources.push(state.log);
    }
    try {
      const { reads } = await longPoll({
        sources,
        maxWaitMs: partitions.length === 0 ? 0 : q.maxWaitMs,
        signal: this.shutdown.signal,
        onWait: (waiting) => {
          deps.waiting.fetches += waiting ? 1 : -1;
        },
        attempt: async () => {
          const r = await readAll();
          return { done: r.answerNow || r.bytes >= q.minBytes, value: r };
        },
      });
      return reads;
    } finally {
      const answered = held;
      connection.afterResponse(() => memory.release(answered));
    }
  }

  /** How partitions are read for this query: followers to the log end, v0-3 fetchers down-converted (down-conversion.ts). */
  private readOptions(q: FetchQuery): ReadOptions {
    const version = q.version;
    const conversion = { magic: version <= 1 ? 0 : 1, budget: this.deps.decompression, maxDecompressedBytes: this.deps.config.int('gregor.max.decompressed.bytes') } as const;
    const convert = version <= 3 ? (chunks: Buffer[], fetchOffset: number) => downConvert(chunks, fetchOffset, conversion) : undefined;
    return { version, fromFollower: q.replicaId >= 0, readCommitted: q.readCommitted === true, convert, cacheAllowance: undefined, authorized: q.authorized };
  }
}

/** Record bytes of `reads` held in memory (file regions are not). */
function bytesInMemory(reads: readonly PartitionRead[]): number {
  let n = 0;
  for (const r of reads) for (const c of r.records) if (Buffer.isBuffer(c)) n += c.length;
  return n;
}
