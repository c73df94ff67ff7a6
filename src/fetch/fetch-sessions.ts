/**
 * Incremental fetch sessions (KIP-227), as Kafka 3.9 keeps them
 * (notes/fetch-sessions.md).
 *
 * A Fetch request (v7+) names a session id and epoch. `newContext` turns them
 * into what to fetch: every partition of a full request, or the session's
 * cached partitions for an incremental one (after adding/updating the listed
 * partitions and dropping the forgotten ones), or a top-level error.
 * `complete` turns the read results into the response partitions: a full
 * request may create a session (caching each partition's request parameters
 * and the high watermark / log start offset it was told); an incremental one
 * reports only partitions that changed and moves partitions that returned
 * records to the end of the session's order.
 *
 * The cache holds at most max.incremental.fetch.session.cache.slots sessions;
 * a full cache evicts a session idle longer than the eviction time, or else
 * the least valuable session older than the eviction time (fewer partitions,
 * consumers before followers) when the newcomer is worth more. Sessions live
 * in memory only.
 */
import { randomInt } from 'node:crypto';
import { ErrorCode } from '../../protocol/index.js';

/** Session id 0: no session. */
export const INVALID_SESSION_ID = 0;
/** Epoch 0: a full fetch that would like a new session. */
export const INITIAL_EPOCH = 0;
/** Epoch -1: a full fetch without a session. */
export const FINAL_EPOCH = -1;
/** Idle time after which Kafka lets any newcomer evict a session. */
export const SESSION_EVICTION_MS = 120_000;

/** What a request (or a session's cache) says about one partition. */
export interface FetchPartitionParams {
  /** Topic name; null when a topic id (v13+) did not resolve. */
  topic: string | null;
  /** Topic id (v13+); the zero UUID before. */
  topicId: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  logStartOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
}

/** The outcome of reading one partition, as far as sessions care. */
export interface PartitionOutcome {
  readonly params: FetchPartitionParams;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Bytes of records returned. */
  readonly recordsSize: number;
  /** True when a diverging epoch is reported (always sent). */
  readonly diverging: boolean;
}

export interface ForgottenTopic {
  topic: string;
  topicId: string;
  partitions: number[];
}

interface CachedPartition extends FetchPartitionParams {
  /** High watermark last sent (-1: none, or an error was sent). */
  cachedHighWatermark: number;
  cachedLogStartOffset: number;
}

export class FetchSession {
  /** Next expected epoch. */
  epoch = 1;
  lastUsedMs: number;
  /** Insertion order is the fetch order (records-returning partitions move to the end). */
  readonly partitions = new Map<string, CachedPartition>();
  constructor(
    readonly id: number,
    readonly usesTopicIds: boolean,
    readonly privileged: boolean,
    readonly createdMs: number,
  ) {
    this.lastUsedMs = createdMs;
  }
  get size(): number {
    return this.partitions.size;
  }
}

export type FetchContext =
  /** Top-level error: no partitions, session id 0. */
  | { readonly kind: 'error'; readonly errorCode: number }
  /** Fetch exactly these partitions; no session (v0-6, epoch -1, or an emptied session). */
  | { readonly kind: 'sessionless'; readonly partitions: FetchPartitionParams[] }
  /** Fetch these partitions; the response may create a session. */
  | { readonly kind: 'full'; readonly partitions: FetchPartitionParams[]; readonly usesTopicIds: boolean; readonly privileged: boolean }
  /** Fetch the session's partitions, in its order. */
  | { readonly kind: 'incremental'; readonly partitions: FetchPartitionParams[]; readonly session: FetchSession };

export interface FetchSessionRequest {
  sessionId: number;
  sessionEpoch: number;
  /** Fetch request version (sessions exist from v7; topic ids from v13). */
  version: number;
  /** From a follower (replica id >= 0). */
  privileged: boolean;
  partitions: FetchPartitionParams[];
  forgotten: ForgottenTopic[];
}

/** The next session epoch: n+1, wrapping from 2147483647 to 1. */
export function nextEpoch(epoch: number): number {
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

function keyOf(usesTopicIds: boolean, topic: string | null, topicId: string, partition: number): string {
  return `${usesTopicIds ? topicId : (topic ?? '')}\u0000${partition}`;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();

  constructor(
    /** max.incremental.fetch.session.cache.slots */
    readonly maxSessions: number,
    readonly evictionMs: number = SESSION_EVICTION_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  /** Interprets the session fields of a Fetch request (before reading anything). */
  newContext(req: FetchSessionRequest): FetchContext {
    if (req.version < 7) return { kind: 'sessionless', partitions: req.partitions };
    const full = req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH;
    if (full) {
      if (req.sessionId !== INVALID_SESSION_ID) this.sessions.delete(req.sessionId);
      if (req.sessionEpoch === FINAL_EPOCH) return { kind: 'sessionless', partitions: req.partitions };
      return { kind: 'full', partitions: req.partitions, usesTopicIds: req.version >= 13, privileged: req.privileged };
    }
    const session = this.sessions.get(req.sessionId);
    if (!session) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== req.sessionEpoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    if (session.usesTopicIds !== req.version >= 13) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    for (const p of req.partitions) {
      const key = keyOf(session.usesTopicIds, p.topic, p.topicId, p.partition);
      const cached = session.partitions.get(key);
      if (cached) {
        Object.assign(cached, p, { topic: p.topic ?? cached.topic });
      } else {
        session.partitions.set(key, { ...p, cachedHighWatermark: -1, cachedLogStartOffset: -1 });
      }
    }
    for (const f of req.forgotten) {
      for (const partition of f.partitions) session.partitions.delete(keyOf(session.usesTopicIds, f.topic, f.topicId, partition));
    }
    if (session.size === 0) {
      this.sessions.delete(session.id);
      return { kind: 'sessionless', partitions: req.partitions };
    }
    session.lastUsedMs = this.now();
    session.epoch = nextEpoch(session.epoch);
    return { kind: 'incremental', partitions: [...session.partitions.values()], session };
  }

  /**
   * Builds the response from the read outcomes (one per context partition, in
   * order): the session id to send and the outcomes to include.
   */
  complete<T extends PartitionOutcome>(ctx: FetchContext, outcomes: T[]): { sessionId: number; partitions: T[] } {
    switch (ctx.kind) {
      case 'error':
        return { sessionId: INVALID_SESSION_ID, partitions: [] };
      case 'sessionless':
        return { sessionId: INVALID_SESSION_ID, partitions: outcomes };
      case 'full': {
        const session = outcomes.length > 0 ? this.maybeCreate(ctx.usesTopicIds, ctx.privileged, outcomes.length) : undefined;
        if (session) {
          for (const o of outcomes) {
            const p = o.params;
            session.partitions.set(keyOf(session.usesTopicIds, p.topic, p.topicId, p.partition), {
              ...p,
              cachedHighWatermark: o.errorCode !== 0 ? -1 : o.highWatermark,
              cachedLogStartOffset: o.logStartOffset,
            });
          }
        }
        return { sessionId: session?.id ?? INVALID_SESSION_ID, partitions: outcomes };
      }
      case 'incremental': {
        const session = ctx.session;
        const send: T[] = [];
        for (const o of outcomes) {
          const p = o.params;
          const key = keyOf(session.usesTopicIds, p.topic, p.topicId, p.partition);
          const cached = session.partitions.get(key);
          if (!cached) continue; // removed concurrently: not part of the session any more
          let mustRespond = o.recordsSize > 0 || o.diverging;
          if (cached.cachedHighWatermark !== o.highWatermark) {
            mustRespond = true;
            cached.cachedHighWatermark = o.highWatermark;
          }
          if (cached.cachedLogStartOffset !== o.logStartOffset) {
            mustRespond = true;
            cached.cachedLogStartOffset = o.logStartOffset;
          }
          if (o.errorCode !== 0) {
            mustRespond = true;
            cached.cachedHighWatermark = -1;
          }
          if (!mustRespond) continue;
          send.push(o);
          if (o.recordsSize > 0) {
            // round-robin fairness: partitions that returned records go to the back
            session.partitions.delete(key);
            session.partitions.set(key, cached);
          }
        }
        return { sessionId: session.id, partitions: send };
      }
    }
  }

  /** Creates a session if there is room (evicting one if allowed); undefined when the cache is full. */
  private maybeCreate(usesTopicIds: boolean, privileged: boolean, size: number): FetchSession | undefined {
    if (this.maxSessions <= 0) return undefined;
    const now = this.now();
    if (this.sessions.size >= this.maxSessions && !this.tryEvict(privileged, size, now)) return undefined;
    let id: number;
    do id = randomInt(1, 0x7fffffff);
    while (this.sessions.has(id));
    const session = new FetchSession(id, usesTopicIds, privileged, now);
    this.sessions.set(id, session);
    return session;
  }

  /**
   * Kafka's eviction rule: a session idle longer than the eviction time goes
   * first; otherwise the least valuable session older than the eviction time
   * (consumers before followers, then fewer partitions) makes room if the
   * newcomer is at least as valuable. A follower may also evict any consumer
   * session.
   */
  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    let stalest: FetchSession | undefined;
    for (const s of this.sessions.values()) if (!stalest || s.lastUsedMs < stalest.lastUsedMs) stalest = s;
    if (stalest && now - stalest.lastUsedMs > this.evictionMs) {
      this.sessions.delete(stalest.id);
      return true;
    }
    let victim: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      const old = now - s.createdMs > this.evictionMs;
      const evictable = privileged ? !s.privileged || old : old;
      if (!evictable) continue;
      if (!victim || compareValue(s, victim) < 0) victim = s;
    }
    if (!victim || compareValue({ privileged, size, id: 0 }, victim) < 0) return false;
    this.sessions.delete(victim.id);
    return true;
  }
}

function compareValue(a: { privileged: boolean; size: number; id: number }, b: { privileged: boolean; size: number; id: number }): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.size !== b.size) return a.size - b.size;
  return a.id - b.id;
}
