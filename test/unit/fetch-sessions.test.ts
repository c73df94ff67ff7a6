import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import {
  FetchSessionCache,
  nextEpoch,
  type FetchContext,
  type FetchPartitionParams,
  type FetchSessionRequest,
  type PartitionOutcome,
} from '../../src/fetch/fetch-sessions.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';

function part(topic: string, partition: number, fetchOffset = 0): FetchPartitionParams {
  return { topic, topicId: ZERO, partition, fetchOffset, partitionMaxBytes: 1024, logStartOffset: -1, currentLeaderEpoch: -1, lastFetchedEpoch: -1 };
}

function req(sessionId: number, sessionEpoch: number, partitions: FetchPartitionParams[], extra: Partial<FetchSessionRequest> = {}): FetchSessionRequest {
  return { sessionId, sessionEpoch, version: 12, privileged: false, partitions, forgotten: [], ...extra };
}

function outcome(params: FetchPartitionParams, hw: number, recordsSize = 0, errorCode = 0): PartitionOutcome {
  return { params, errorCode, highWatermark: hw, logStartOffset: 0, recordsSize, diverging: false };
}

function partitionsOf(ctx: FetchContext): FetchPartitionParams[] {
  if (ctx.kind === 'error') throw new Error(`unexpected error context ${ctx.errorCode}`);
  return ctx.partitions;
}

/** Creates a session with the given partitions (all at high watermark 10) and returns its id. */
function openSession(cache: FetchSessionCache, parts: FetchPartitionParams[]): number {
  const ctx = cache.newContext(req(0, 0, parts));
  expect(ctx.kind).toBe('full');
  const { sessionId } = cache.complete(ctx, parts.map((p) => outcome(p, 10)));
  expect(sessionId).toBeGreaterThan(0);
  return sessionId;
}

describe('fetch sessions', () => {
  it('a full fetch with epoch 0 creates a session that expects epoch 1', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0), part('a', 1)]);
    expect(cache.get(id)?.epoch).toBe(1);
    expect(cache.get(id)?.size).toBe(2);
  });

  it('a full fetch with epoch -1 creates no session and closes the one it names', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0)]);
    const ctx = cache.newContext(req(id, -1, [part('a', 0)]));
    expect(ctx.kind).toBe('sessionless');
    expect(cache.complete(ctx, [outcome(part('a', 0), 10)]).sessionId).toBe(0);
    expect(cache.get(id)).toBeUndefined();
  });

  it('fetch versions below 7 are always sessionless', () => {
    const cache = new FetchSessionCache(10);
    const ctx = cache.newContext(req(0, 0, [part('a', 0)], { version: 6 }));
    expect(ctx.kind).toBe('sessionless');
    expect(cache.size).toBe(0);
  });

  it('an unknown session id gives FETCH_SESSION_ID_NOT_FOUND', () => {
    const cache = new FetchSessionCache(10);
    const ctx = cache.newContext(req(12345, 1, []));
    expect(ctx).toEqual({ kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
    expect(cache.complete(ctx, [])).toEqual({ sessionId: 0, partitions: [] });
  });

  it('a wrong epoch gives INVALID_FETCH_SESSION_EPOCH and leaves the session as it was', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0)]);
    expect(cache.newContext(req(id, 2, []))).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
    expect(cache.newContext(req(id, 1, [])).kind).toBe('incremental');
    expect(cache.get(id)?.epoch).toBe(2);
  });

  it('a session created with topic ids refuses a request below v13 with FETCH_SESSION_TOPIC_ID_ERROR', () => {
    const cache = new FetchSessionCache(10);
    const ctx = cache.newContext(req(0, 0, [part('a', 0)], { version: 13 }));
    const { sessionId } = cache.complete(ctx, [outcome(part('a', 0), 10)]);
    expect(cache.newContext(req(sessionId, 1, [], { version: 12 }))).toEqual({ kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR });
  });

  it('an incremental fetch reads every cached partition but answers only the changed ones', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0), part('a', 1), part('b', 0)]);
    const ctx = cache.newContext(req(id, 1, []));
    const parts = partitionsOf(ctx);
    expect(parts.map((p) => `${p.topic}-${p.partition}`)).toEqual(['a-0', 'a-1', 'b-0']);
    const res = cache.complete(ctx, [outcome(parts[0]!, 10), outcome(parts[1]!, 11), outcome(parts[2]!, 10, 0, ErrorCode.KAFKA_STORAGE_ERROR)]);
    expect(res.sessionId).toBe(id);
    expect(res.partitions.map((o) => `${o.params.topic}-${o.params.partition}`)).toEqual(['a-1', 'b-0']);
  });

  it('a partition that had an error is sent again once the error clears, even with the same high watermark', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0)]);
    let ctx = cache.newContext(req(id, 1, []));
    cache.complete(ctx, [outcome(partitionsOf(ctx)[0]!, -1, 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)]);
    ctx = cache.newContext(req(id, 2, []));
    expect(cache.complete(ctx, [outcome(partitionsOf(ctx)[0]!, 10)]).partitions).toHaveLength(1);
    ctx = cache.newContext(req(id, 3, []));
    expect(cache.complete(ctx, [outcome(partitionsOf(ctx)[0]!, 10)]).partitions).toHaveLength(0);
  });

  it('partitions that returned records move to the end of the session order', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0), part('a', 1), part('a', 2)]);
    const ctx = cache.newContext(req(id, 1, []));
    const parts = partitionsOf(ctx);
    cache.complete(ctx, [outcome(parts[0]!, 12, 100), outcome(parts[1]!, 10), outcome(parts[2]!, 10)]);
    const next = partitionsOf(cache.newContext(req(id, 2, [])));
    expect(next.map((p) => p.partition)).toEqual([1, 2, 0]);
  });

  it('listed partitions update the cached fetch offset; forgotten ones leave the session', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0), part('a', 1)]);
    const ctx = cache.newContext(req(id, 1, [part('a', 0, 42), part('c', 0, 7)], { forgotten: [{ topic: 'a', topicId: ZERO, partitions: [1] }] }));
    const parts = partitionsOf(ctx);
    expect(parts.map((p) => [p.topic, p.partition, p.fetchOffset])).toEqual([
      ['a', 0, 42],
      ['c', 0, 7],
    ]);
  });

  it('a session emptied by forgotten topics is closed and the request is served without a session', () => {
    const cache = new FetchSessionCache(10);
    const id = openSession(cache, [part('a', 0)]);
    const ctx = cache.newContext(req(id, 1, [], { forgotten: [{ topic: 'a', topicId: ZERO, partitions: [0] }] }));
    expect(ctx.kind).toBe('sessionless');
    expect(cache.get(id)).toBeUndefined();
  });

  it('the epoch wraps from 2147483647 to 1, never 0', () => {
    expect(nextEpoch(1)).toBe(2);
    expect(nextEpoch(2147483647)).toBe(1);
  });

  it('a full cache creates no new session (session id 0) unless a stale one can be evicted', () => {
    let now = 1_000_000;
    const cache = new FetchSessionCache(1, 120_000, () => now);
    const first = openSession(cache, [part('a', 0)]);
    const ctx = cache.newContext(req(0, 0, [part('b', 0)]));
    expect(cache.complete(ctx, [outcome(part('b', 0), 1)]).sessionId).toBe(0);
    now += 120_001;
    const ctx2 = cache.newContext(req(0, 0, [part('b', 0)]));
    const second = cache.complete(ctx2, [outcome(part('b', 0), 1)]).sessionId;
    expect(second).toBeGreaterThan(0);
    expect(cache.get(first)).toBeUndefined();
  });

  it('an old session with fewer partitions gives way to a newcomer with more', () => {
    let now = 0;
    const cache = new FetchSessionCache(1, 120_000, () => now);
    const small = openSession(cache, [part('a', 0)]);
    now += 100_000;
    cache.newContext(req(small, 1, [])); // keeps it from being idle
    now += 30_000; // created 130 s ago, used 30 s ago
    const ctx = cache.newContext(req(0, 0, [part('b', 0), part('b', 1)]));
    const id = cache.complete(ctx, [outcome(part('b', 0), 1), outcome(part('b', 1), 1)]).sessionId;
    expect(id).toBeGreaterThan(0);
    expect(cache.get(small)).toBeUndefined();
  });

  it('a cache of zero slots never creates sessions', () => {
    const cache = new FetchSessionCache(0);
    const ctx = cache.newContext(req(0, 0, [part('a', 0)]));
    expect(cache.complete(ctx, [outcome(part('a', 0), 1)]).sessionId).toBe(0);
  });
});
