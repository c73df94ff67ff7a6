/**
 * SharePartition: the delivery state of one topic-partition for one share group (KIP-932), as Kafka's
 * SharePartition keeps it, in memory and without I/O. The share-fetch handler reads the log, calls
 * `acquire` with what it read, and hands back acknowledgements; the share coordinator persists what
 * the returned `ShareStateWrite`s say; nothing here waits or reads.
 *
 * Offsets:
 * - SPSO (startOffset): every offset below it is delivered-and-done (or before the log start).
 * - SPEO (endOffset): the last offset ever acquired (equal to startOffset when nothing is in flight).
 * - The in-flight records are the batches between them (InFlightRecords), each with one state or, once
 *   split, one per offset (InFlightBatch). At most group.share.partition.max.record.locks offsets are
 *   in flight (SPEO - SPSO + 1); records between them that were released are acquired again first.
 *
 * Operations (each numbered as in Kafka's SharePartition):
 * 1. initializeSharePartition: from the persisted start offset and state batches, or, when the
 *    coordinator has none (start offset -1), from share.auto.offset.reset. Persisted batches may leave
 *    gaps (offsets the previous leader fetched but never persisted): the gap window makes the next
 *    fetches start there and acquire the gaps before anything past the persisted end.
 * 2. nextFetchOffset: where the handler reads: the first AVAILABLE in-flight offset, else SPEO + 1.
 * 3. acquire(fetched batches): acquires the AVAILABLE records among them for a member, whole fetched
 *    batches at a time (batch_optimized, cut into AcquiredRecords of about BatchSize), or exactly
 *    MaxRecords (record_limit, ShareFetch v2); each acquisition bumps the delivery count and takes the
 *    acquisition lock (group.share.record.lock.duration.ms). Read-committed fetches archive the records
 *    of aborted transactions at once (aborted-transactions.ts). Cached AVAILABLE batches the read
 *    skipped (compacted away) are archived.
 * 4. acknowledge(member, batches): ACCEPT → ACKNOWLEDGED, RELEASE → AVAILABLE (ARCHIVED at the delivery
 *    count limit), REJECT and GAP → ARCHIVED, RENEW → a fresh lock. All the partition's batches apply or
 *    none (INVALID_RECORD_STATE / INVALID_REQUEST with Kafka's messages). The changes are a pending state
 *    transition until completeStateUpdate says whether the coordinator persisted them (rollback otherwise).
 * 5. releaseAcquiredRecords(member): a member that leaves (or closes its share session) releases every
 *    record it holds, as a RELEASE would.
 * 6. expireAcquisitionLocks(): records whose lock deadline passed go back to AVAILABLE (ARCHIVED at the
 *    limit); the caller schedules itself with nextAcquisitionLockDeadline().
 * 7. After each committed change, SPSO moves past the terminal records at the front and the batches
 *    wholly below it leave the cache (maybeUpdateCachedStateAndOffsets).
 * 8. updateLogStartOffset: retention or DeleteRecords moved the log start offset: SPSO jumps to it and
 *    AVAILABLE records below it are archived; ACQUIRED ones are archived when released or expired.
 *
 * Not modelled: Kafka's DLQ (ARCHIVING, KIP-1191), the delivery throttling of records near the
 * delivery limit, fetch locks and purgatory (the handler's job), per-group dynamic config (the caller
 * passes the effective config).
 */
import { ErrorCode } from '../../protocol/index.js';
import { type ShareAcknowledgementBatch, acknowledgeTypeAt } from './acknowledge.js';
import { abortedTransactionBatches, subtractRanges } from './aborted-transactions.js';
import { type LogOffsets, type ShareAutoOffsetReset, resetStartOffset } from './auto-offset-reset.js';
import type { AbortedTransaction, FetchedBatch } from './fetched-batch.js';
import {
  type InFlightBatch,
  batchLength,
  maybeInitializeOffsetState,
  newInFlightBatch,
  newPartiallyAcquiredBatch,
  stateAt,
} from './in-flight-batch.js';
import { InFlightRecords } from './in-flight-records.js';
import {
  EMPTY_MEMBER_ID,
  NO_LOCK,
  type InFlightState,
  archiveState,
  completeStateTransition,
  hasOngoingStateTransition,
  newInFlightState,
  startStateTransition,
  tryUpdateState,
} from './in-flight-state.js';
import type { PersistedShareState, PersisterStateBatch, ShareStateWrite } from './persister-state-batch.js';
import {
  AcknowledgeType,
  RecordState,
  isAcknowledgeType,
  isStateTerminal,
  recordStateForAcknowledgeType,
  recordStateForId,
} from './record-state.js';

export interface SharePartitionConfig {
  /** group.share.partition.max.record.locks (share.partition.max.record.locks per group); Kafka's default 2000. */
  readonly maxInFlightRecords: number;
  /** group.share.delivery.count.limit (share.delivery.count.limit); default 5. */
  readonly maxDeliveryCount: number;
  /** group.share.record.lock.duration.ms (share.record.lock.duration.ms); default 30000. */
  readonly recordLockDurationMs: number;
  /** share.renew.acknowledge.enable (KIP-1222): whether RENEW acknowledgements are accepted. */
  readonly renewAcknowledgeEnabled?: boolean;
}

/** The time source; tests pass a clock they move by hand. */
export interface Clock {
  now(): number;
}

/** One ShareFetch AcquiredRecords entry. */
export interface AcquiredRecords {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly deliveryCount: number;
}

export interface ShareAcquiredRecords {
  readonly acquiredRecords: readonly AcquiredRecords[];
  /** The number of offsets acquired. */
  readonly count: number;
}

export type ShareAcquireMode = 'batch_optimized' | 'record_limit';
export type ShareIsolationLevel = 'read_uncommitted' | 'read_committed';

export interface AcquireRequest {
  readonly memberId: string;
  /** The offset the log was read from (nextFetchOffset when the read started). */
  readonly fetchOffset: number;
  /** The batches the read returned, in offset order. */
  readonly batches: readonly FetchedBatch[];
  /** ShareFetch MaxRecords (v1+); a soft limit in batch_optimized mode. */
  readonly maxFetchRecords: number;
  /** ShareFetch BatchSize (v1+). */
  readonly batchSize: number;
  readonly acquireMode?: ShareAcquireMode;
  /** share.isolation.level of the group; Kafka's default read_uncommitted. */
  readonly isolationLevel?: ShareIsolationLevel;
  /** Fetch's aborted_transactions for the read (read_committed). */
  readonly abortedTransactions?: readonly AbortedTransaction[];
}

/** State changes waiting for the share coordinator: persist `write`, then call completeStateUpdate. */
export interface PendingStateUpdate {
  /** What to persist, or null when nothing changed that needs persisting (then completing is a no-op). */
  readonly write: ShareStateWrite | null;
  /** @internal the transitions to commit or roll back */
  readonly transitions: readonly Transition[];
  /** @internal what the update counts once committed (SharePartitionCounts) */
  readonly counts: Partial<Record<keyof SharePartitionCounts, number>>;
}

/**
 * What a share-partition counts for the metrics, in records, since it was loaded: acquired (redelivered:
 * acquired again, delivery count above 1), acknowledged by type (counted once persisted), archived (for
 * good: rejected, at the delivery count limit, below the start offset), and acquisition locks that
 * expired. Plain numbers, a few additions per fetch or acknowledgement.
 */
export interface SharePartitionCounts {
  acquired: number;
  redelivered: number;
  accepted: number;
  released: number;
  rejected: number;
  archived: number;
  lockTimeouts: number;
}

function newCounts(): SharePartitionCounts {
  return { acquired: 0, redelivered: 0, accepted: 0, released: 0, rejected: 0, archived: 0, lockTimeouts: 0 };
}

interface Transition {
  readonly batch: InFlightBatch;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export type StateUpdateResult =
  | { readonly errorCode: 0; readonly update: PendingStateUpdate }
  | { readonly errorCode: number; readonly errorMessage: string };

export type InitializeResult =
  | { readonly errorCode: 0; readonly sharePartition: SharePartition }
  | { readonly errorCode: number; readonly errorMessage: string };

class StateError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function invalidRecordState(message: string): StateError {
  return new StateError(ErrorCode.INVALID_RECORD_STATE, message);
}

/** The gap window of a persisted state: offsets from gapStartOffset up to endOffset may hold gaps to acquire. */
interface GapWindow {
  readonly endOffset: number;
  gapStartOffset: number;
}

/**
 * Builds the share-partition from what the coordinator returned (ReadShareGroupState). Kafka's
 * "Failed to initialize" cases (a batch below the start offset, a batch ending before it begins)
 * answer UNKNOWN_SERVER_ERROR; by_duration with no record at or after the timestamp answers
 * OFFSET_NOT_AVAILABLE.
 */
export function initializeSharePartition(
  config: SharePartitionConfig,
  clock: Clock,
  persisted: PersistedShareState,
  reset: ShareAutoOffsetReset,
  log: LogOffsets,
): InitializeResult {
  let startOffset = persisted.startOffset;
  if (startOffset === -1) {
    const offset = resetStartOffset(reset, log, clock.now());
    if (offset === undefined) {
      return { errorCode: ErrorCode.OFFSET_NOT_AVAILABLE, errorMessage: 'Offset for timestamp not found' };
    }
    startOffset = offset;
  }
  const sp = new SharePartition(config, clock, startOffset, persisted.stateEpoch);
  const error = sp.loadStateBatches(persisted.stateBatches);
  if (error !== null) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: error };
  // A log start offset past the persisted start (retention ran meanwhile) moves it, as Kafka's
  // SharePartitionManager does once the partition is loaded.
  if (log.logStartOffset > sp.startOffset()) sp.updateLogStartOffset(log.logStartOffset);
  return { errorCode: ErrorCode.NONE, sharePartition: sp };
}

export class SharePartition {
  private readonly cachedState = new InFlightRecords();
  private findNextFetchOffset = false;
  /** What this share-partition counted (the metrics read it). */
  readonly counts: SharePartitionCounts = newCounts();
  /** share.record.lock.duration.ms of the group (setRecordLockDurationMs); undefined: config.recordLockDurationMs. */
  private groupLockDurationMs: number | undefined = undefined;
  private gapWindow: GapWindow | null = null;
  private spso: number;
  private speo: number;

  /** Use initializeSharePartition. */
  constructor(
    private readonly config: SharePartitionConfig,
    private readonly clock: Clock,
    startOffset: number,
    readonly stateEpoch: number,
  ) {
    this.spso = startOffset;
    this.speo = startOffset;
  }

  /** @internal step 1 of initialization; an error message when the batches are invalid. */
  loadStateBatches(stateBatches: readonly PersisterStateBatch[]): string | null {
    let gapStartOffset = -1;
    let previousLast = this.spso - 1;
    for (const b of stateBatches) {
      if (b.firstOffset < this.spso || b.lastOffset < b.firstOffset) {
        this.cachedState.clear();
        return 'Failed to initialize the share partition';
      }
      if (gapStartOffset === -1 && b.firstOffset > previousLast + 1) gapStartOffset = previousLast + 1;
      previousLast = b.lastOffset;
      const state = recordStateForId(b.deliveryState);
      // A record persisted ACQUIRED (never written by Kafka) has no owner any more: it is AVAILABLE again.
      const loaded = state === RecordState.ACQUIRED ? RecordState.AVAILABLE : state;
      this.cachedState.put(newInFlightBatch(b.firstOffset, b.lastOffset, newInFlightState(loaded, b.deliveryCount, EMPTY_MEMBER_ID)));
    }
    const last = this.cachedState.last();
    if (last !== undefined) {
      this.findNextFetchOffset = true;
      this.speo = last.lastOffset;
      if (gapStartOffset !== -1) this.gapWindow = { endOffset: this.speo, gapStartOffset };
      this.maybeUpdateCachedStateAndOffsets();
    }
    return null;
  }

  /** The share-partition start offset (SPSO). */
  startOffset(): number {
    return this.spso;
  }

  /** The share-partition end offset (SPEO). */
  endOffset(): number {
    return this.speo;
  }

  /** Offsets in flight, SPEO - SPSO + 1 (0 when the cache is empty). */
  numInFlightRecords(): number {
    return this.cachedState.isEmpty() ? 0 : this.speo - this.spso + 1;
  }

  /** Whether a fetch may acquire anything: some released record to re-acquire, or room under the lock limit. */
  canAcquireRecords(): boolean {
    if (this.nextFetchOffset() !== this.speo + 1) return true;
    return this.numInFlightRecords() < this.config.maxInFlightRecords;
  }

  /** The state of one offset, or undefined when it is not in the cache (for tests and DescribeShareGroupOffsets-like views). */
  recordState(offset: number): { state: RecordState; deliveryCount: number; memberId: string; inTransition: boolean } | undefined {
    const b = this.cachedState.floor(offset);
    if (b === undefined || b.lastOffset < offset) return undefined;
    const s = stateAt(b, offset);
    return { state: s.state, deliveryCount: s.deliveryCount, memberId: s.memberId, inTransition: hasOngoingStateTransition(s) };
  }

  /** The in-flight batches, for inspection: first/last offset and whether the batch is split per offset. */
  inFlightBatches(): { firstOffset: number; lastOffset: number; perOffset: boolean }[] {
    return this.cachedState.all().map((b) => ({ firstOffset: b.firstOffset, lastOffset: b.lastOffset, perOffset: b.offsetState !== null }));
  }

  // 2. nextFetchOffset

  nextFetchOffset(): number {
    const last = this.cachedState.last();
    if (last === undefined || this.spso > last.lastOffset) {
      this.findNextFetchOffset = false;
      return this.speo;
    }
    if (!this.findNextFetchOffset) return this.speo + 1;

    let next = -1;
    let gapStart = this.isGapWindowActive() ? (this.gapWindow as GapWindow).gapStartOffset : -1;
    outer: for (const b of this.cachedState.all()) {
      if (this.isGapWindowActive()) {
        if (b.firstOffset > gapStart) {
          next = gapStart;
          break;
        }
        gapStart = Math.max(b.lastOffset + 1, gapStart);
      }
      if (b.offsetState === null) {
        const s = b.batchState as InFlightState;
        if (s.state === RecordState.AVAILABLE && !hasOngoingStateTransition(s)) {
          next = b.firstOffset;
          break;
        }
      } else {
        for (let i = 0; i < b.offsetState.length; i++) {
          const s = b.offsetState[i] as InFlightState;
          if (s.state === RecordState.AVAILABLE && !hasOngoingStateTransition(s)) {
            next = b.firstOffset + i;
            break outer;
          }
        }
      }
    }
    if (next === -1) {
      this.findNextFetchOffset = false;
      next = this.speo + 1;
    }
    return next;
  }

  // 3. acquire

  acquire(req: AcquireRequest): ShareAcquiredRecords {
    const acquired = this.acquireRecords(req);
    for (const r of acquired.acquiredRecords) {
      const n = r.lastOffset - r.firstOffset + 1;
      this.counts.acquired += n;
      if (r.deliveryCount > 1) this.counts.redelivered += n;
    }
    return acquired;
  }

  private acquireRecords(req: AcquireRequest): ShareAcquiredRecords {
    const empty: ShareAcquiredRecords = { acquiredRecords: [], count: 0 };
    const recordLimit = req.acquireMode === 'record_limit';
    const firstBatch = req.batches[0];
    const lastBatch = req.batches[req.batches.length - 1];
    if (req.maxFetchRecords <= 0 || firstBatch === undefined || lastBatch === undefined) return empty;
    if (lastBatch.lastOffset < this.spso) return empty;

    let { lastOffset: lastOffsetToAcquire, maxRecords } = this.lastOffsetAndMaxRecordsToAcquire(
      req.fetchOffset,
      req.maxFetchRecords,
      lastBatch.lastOffset,
    );
    if (maxRecords <= 0) return empty;

    let baseOffset = firstBatch.baseOffset;
    this.maybeArchiveStaleBatches(req.fetchOffset, baseOffset);

    const floor = this.cachedState.floor(baseOffset);
    if (floor === undefined) {
      if (baseOffset < this.spso) baseOffset = this.spso;
    } else if (floor.lastOffset >= baseOffset) {
      baseOffset = floor.firstOffset;
    }
    const subMap = this.cachedState.firstOffsetsIn(Math.min(firstBatch.baseOffset, baseOffset), lastOffsetToAcquire);
    if (subMap.length === 0) {
      const acquired = this.acquireNewBatchRecords(req, recordLimit, baseOffset, lastOffsetToAcquire, maxRecords);
      return this.maybeFilterAborted(req, acquired);
    }

    const result: AcquiredRecords[] = [];
    let acquiredCount = 0;
    let maybeGapStartOffset = baseOffset;
    for (const batch of subMap) {
      if (acquiredCount >= maxRecords) break;
      if (this.isGapWindowActive()) {
        if (maybeGapStartOffset < batch.firstOffset) {
          const gap = this.acquireNewBatchRecords(req, recordLimit, maybeGapStartOffset, batch.firstOffset - 1, maxRecords - acquiredCount);
          result.push(...gap.acquiredRecords);
          acquiredCount += gap.count;
        }
        maybeGapStartOffset = batch.lastOffset + 1;
        if (acquiredCount >= maxRecords) break;
      }

      const fullMatch = batch.firstOffset >= firstBatch.baseOffset && batch.lastOffset <= lastOffsetToAcquire;
      const remaining = maxRecords - acquiredCount;
      const recordLimitSubsetMatch = recordLimit && batchLength(batch) > remaining;
      if (!fullMatch || batch.offsetState !== null || recordLimitSubsetMatch) {
        if (batch.offsetState === null) {
          const s = batch.batchState as InFlightState;
          if (s.state !== RecordState.AVAILABLE || hasOngoingStateTransition(s)) continue;
          maybeInitializeOffsetState(batch);
        }
        acquiredCount += this.acquireSubsetBatchRecords(req.memberId, recordLimit, remaining, firstBatch.baseOffset, lastOffsetToAcquire, batch, result);
        continue;
      }

      const s = batch.batchState as InFlightState;
      if (s.state !== RecordState.AVAILABLE || hasOngoingStateTransition(s)) continue;
      if (!tryUpdateState(s, RecordState.ACQUIRED, 'increase', this.config.maxDeliveryCount, req.memberId)) continue;
      s.lockExpiresAtMs = this.lockDeadline();
      result.push({ firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, deliveryCount: s.deliveryCount });
      acquiredCount += batchLength(batch);
    }

    const lastCached = subMap[subMap.length - 1] as InFlightBatch;
    if (acquiredCount < maxRecords && lastCached.lastOffset < lastOffsetToAcquire) {
      const more = this.acquireNewBatchRecords(req, recordLimit, lastCached.lastOffset + 1, lastOffsetToAcquire, maxRecords - acquiredCount);
      result.push(...more.acquiredRecords);
      acquiredCount += more.count;
    }
    if (result.length === 0) return { acquiredRecords: result, count: acquiredCount };
    this.maybeUpdateGapWindowStartOffset((result[result.length - 1] as AcquiredRecords).lastOffset + 1);
    return this.maybeFilterAborted(req, { acquiredRecords: result, count: acquiredCount });
  }

  /** The group's share.record.lock.duration.ms for the records acquired (or renewed) from now on; undefined: the broker's. */
  setRecordLockDurationMs(ms: number | undefined): void {
    this.groupLockDurationMs = ms;
  }

  private lockDeadline(): number {
    return this.clock.now() + (this.groupLockDurationMs ?? this.config.recordLockDurationMs);
  }

  private lastOffsetAndMaxRecordsToAcquire(fetchOffset: number, maxFetchRecords: number, lastOffset: number): { lastOffset: number; maxRecords: number } {
    let maxRecords = Math.min(maxFetchRecords, this.config.maxInFlightRecords - this.numInFlightRecords());
    let lastOffsetToAcquire = lastOffset;
    // At the limit, a fetch inside the in-flight range (released records) may still acquire up to SPEO.
    if (maxRecords <= 0 && fetchOffset <= this.speo) {
      maxRecords = Math.min(maxFetchRecords, this.speo - fetchOffset + 1);
      lastOffsetToAcquire = Math.min(lastOffset, this.speo);
    }
    return { lastOffset: lastOffsetToAcquire, maxRecords };
  }

  private acquireNewBatchRecords(
    req: AcquireRequest,
    recordLimit: boolean,
    firstOffset: number,
    lastOffset: number,
    maxFetchRecords: number,
  ): ShareAcquiredRecords {
    let firstAcquired = firstOffset;
    if (this.cachedState.isEmpty() && this.speo > firstAcquired) firstAcquired = this.speo;
    let lastAcquired = lastOffset;
    if (maxFetchRecords < lastAcquired - firstAcquired + 1) {
      // Whole fetched batches: stretch to the end of the batch holding the last record allowed.
      lastAcquired = lastOffsetFromBatchWithRequestOffset(req.batches, firstAcquired + maxFetchRecords - 1);
      if (this.isGapWindowActive() && lastAcquired > lastOffset) lastAcquired = lastOffset;
    }
    if (lastAcquired < firstAcquired) return { acquiredRecords: [], count: 0 };

    const acquired = this.createBatches(req, recordLimit, maxFetchRecords, firstAcquired, lastAcquired);
    if ((this.cachedState.first() as InFlightBatch).firstOffset === firstAcquired) this.spso = firstAcquired;
    if (lastAcquired > this.speo) this.speo = lastAcquired;
    if (recordLimit) lastAcquired = (acquired[0] as AcquiredRecords).lastOffset;
    this.maybeUpdateGapWindowStartOffset(lastAcquired + 1);
    return { acquiredRecords: acquired, count: lastAcquired - firstAcquired + 1 };
  }

  private createBatches(req: AcquireRequest, recordLimit: boolean, maxFetchRecords: number, first: number, last: number): AcquiredRecords[] {
    const result: AcquiredRecords[] = [];
    let currentFirst = first;
    if (!recordLimit && last - first + 1 > req.batchSize) {
      for (const b of req.batches) {
        if (b.baseOffset > last) break;
        if (b.baseOffset - currentFirst >= req.batchSize) {
          result.push({ firstOffset: currentFirst, lastOffset: b.baseOffset - 1, deliveryCount: 1 });
          currentFirst = b.baseOffset;
        }
      }
    }
    result.push({ firstOffset: currentFirst, lastOffset: last, deliveryCount: 1 });
    const deadline = this.lockDeadline();
    if (recordLimit) {
      const only = result[0] as AcquiredRecords;
      if (only.lastOffset - only.firstOffset + 1 > maxFetchRecords) {
        // The cache keeps the whole fetched range; only the first maxFetchRecords offsets are acquired.
        const lastAcquired = only.firstOffset + maxFetchRecords - 1;
        this.cachedState.put(newPartiallyAcquiredBatch(only.firstOffset, only.lastOffset, lastAcquired, req.memberId, deadline));
        this.findNextFetchOffset = true;
        return [{ firstOffset: only.firstOffset, lastOffset: lastAcquired, deliveryCount: 1 }];
      }
    }
    for (const r of result) {
      this.cachedState.put(newInFlightBatch(r.firstOffset, r.lastOffset, newInFlightState(RecordState.ACQUIRED, 1, req.memberId, deadline)));
    }
    return result;
  }

  private acquireSubsetBatchRecords(
    memberId: string,
    recordLimit: boolean,
    maxFetchRecords: number,
    requestFirstOffset: number,
    requestLastOffset: number,
    batch: InFlightBatch,
    result: AcquiredRecords[],
  ): number {
    const offsets = batch.offsetState as InFlightState[];
    let count = 0;
    const deadline = this.lockDeadline();
    for (let i = 0; i < offsets.length; i++) {
      const offset = batch.firstOffset + i;
      if (offset < requestFirstOffset) continue;
      if (offset > requestLastOffset) break;
      const s = offsets[i] as InFlightState;
      if (s.state !== RecordState.AVAILABLE || hasOngoingStateTransition(s)) continue;
      if (!tryUpdateState(s, RecordState.ACQUIRED, 'increase', this.config.maxDeliveryCount, memberId)) continue;
      s.lockExpiresAtMs = deadline;
      accumulateAcquiredRecords(result, { firstOffset: offset, lastOffset: offset, deliveryCount: s.deliveryCount });
      count++;
      if (recordLimit && count === maxFetchRecords) break;
    }
    return count;
  }

  /** Archives AVAILABLE cached records between the fetch offset and the first batch the read returned (compacted away). */
  private maybeArchiveStaleBatches(fetchOffset: number, baseOffset: number): void {
    if (this.cachedState.isEmpty() || fetchOffset >= baseOffset) return;
    if (this.archiveRecords(fetchOffset, baseOffset, RecordState.AVAILABLE)) this.findNextFetchOffset = true;
  }

  /** Archives for good the records of [from, toExclusive) that are in `initialState`; true when any was. */
  private archiveRecords(from: number, toExclusive: number, initialState: RecordState): boolean {
    let any = false;
    for (const b of this.cachedState.overlapping(from, toExclusive - 1)) {
      const fullMatch = b.firstOffset >= from && b.lastOffset <= toExclusive - 1;
      if (!fullMatch || b.offsetState !== null) {
        if (b.offsetState === null) {
          if ((b.batchState as InFlightState).state !== initialState) continue;
          maybeInitializeOffsetState(b);
        }
        const offsets = b.offsetState as InFlightState[];
        for (let o = Math.max(from, b.firstOffset); o <= Math.min(toExclusive - 1, b.lastOffset); o++) {
          const s = offsets[o - b.firstOffset] as InFlightState;
          if (s.state !== initialState) continue;
          archiveState(s);
          any = true;
        }
        continue;
      }
      const s = b.batchState as InFlightState;
      if (s.state === initialState) {
        archiveState(s);
        any = true;
      }
    }
    return any;
  }

  private maybeFilterAborted(req: AcquireRequest, acquired: ShareAcquiredRecords): ShareAcquiredRecords {
    const aborted = req.abortedTransactions;
    if (req.isolationLevel !== 'read_committed' || aborted === undefined || aborted.length === 0) return acquired;
    const toArchive = abortedTransactionBatches(req.batches, aborted);
    if (toArchive.length === 0) return acquired;
    for (const r of toArchive) this.archiveRecords(r.firstOffset, r.lastOffset + 1, RecordState.ACQUIRED);
    const kept = subtractRanges(acquired.acquiredRecords, toArchive, (from, firstOffset, lastOffset) => ({ ...from, firstOffset, lastOffset }));
    const count = kept.reduce((n, r) => n + r.lastOffset - r.firstOffset + 1, 0);
    // Archived records at the front let the start offset move at once.
    this.maybeUpdateCachedStateAndOffsets();
    return { acquiredRecords: kept, count };
  }

  private isGapWindowActive(): boolean {
    return this.gapWindow !== null && this.gapWindow.endOffset === this.speo;
  }

  private maybeUpdateGapWindowStartOffset(offset: number): void {
    if (this.gapWindow === null) return;
    if (this.gapWindow.endOffset === this.speo && offset <= this.gapWindow.endOffset) this.gapWindow.gapStartOffset = offset;
    else this.gapWindow = null;
  }

  // 4. acknowledge

  acknowledge(memberId: string, batches: readonly ShareAcknowledgementBatch[]): StateUpdateResult {
    const transitions: Transition[] = [];
    const stateBatches: PersisterStateBatch[] = [];
    try {
      for (const ack of batches) {
        const bad = ack.acknowledgeTypes.find((t) => !isAcknowledgeType(t));
        if (bad !== undefined || ack.acknowledgeTypes.length === 0) {
          throw new StateError(ErrorCode.INVALID_REQUEST, `Invalid acknowledge type: [${ack.acknowledgeTypes.join(', ')}]`);
        }
        if (ack.lastOffset < this.spso) continue;
        const subMap = this.subMapForAcknowledgementBatch(ack);
        this.acknowledgeBatchRecords(memberId, ack, subMap, transitions, stateBatches);
      }
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      this.completeTransitions(transitions, false);
      return { errorCode: err.code, errorMessage: err.message };
    }
    const update = this.pendingUpdate(transitions, stateBatches);
    const count = (type: number, n: number): void => {
      const key = type === 1 ? 'accepted' : type === 2 ? 'released' : type === 3 ? 'rejected' : undefined;
      if (key !== undefined) update.counts[key] = (update.counts[key] ?? 0) + n;
    };
    for (const ack of batches) {
      const first = Math.max(ack.firstOffset, this.spso);
      if (ack.acknowledgeTypes.length === 1) count(ack.acknowledgeTypes[0] as number, Math.max(0, ack.lastOffset - first + 1));
      else for (let o = first; o <= ack.lastOffset; o++) count(acknowledgeTypeAt(ack, o), 1);
    }
    return { errorCode: ErrorCode.NONE, update };
  }

  private subMapForAcknowledgementBatch(ack: ShareAcknowledgementBatch): InFlightBatch[] {
    let floor = this.cachedState.floor(ack.firstOffset);
    if (floor === undefined) {
      if (ack.firstOffset < this.spso && ack.lastOffset >= this.spso) floor = this.cachedState.floor(this.spso);
      if (floor === undefined) throw invalidRecordState('Batch record not found. The request batch offsets are not found in the cache.');
    }
    const subMap = this.cachedState.firstOffsetsIn(floor.firstOffset, ack.lastOffset);
    const last = subMap[subMap.length - 1] as InFlightBatch;
    if (last.lastOffset < ack.firstOffset) {
      throw new StateError(ErrorCode.INVALID_REQUEST, 'Batch record not found. The first offset in request is past acquired records.');
    }
    if (ack.lastOffset > last.lastOffset) {
      throw new StateError(ErrorCode.INVALID_REQUEST, 'Batch record not found. The last offset in request is past acquired records.');
    }
    return subMap;
  }

  private acknowledgeBatchRecords(
    memberId: string,
    ack: ShareAcknowledgementBatch,
    subMap: readonly InFlightBatch[],
    transitions: Transition[],
    stateBatches: PersisterStateBatch[],
  ): void {
    for (const batch of subMap) {
      if (batch.lastOffset < this.spso) continue;
      if (batch.offsetState === null) {
        const s = batch.batchState as InFlightState;
        if (s.memberId === EMPTY_MEMBER_ID) throw invalidRecordState('The batch cannot be acknowledged. The batch is not in the acquired state.');
        if (s.memberId !== memberId) throw invalidRecordState('Member is not the owner of batch record');
        if (hasOngoingStateTransition(s)) {
          throw invalidRecordState('The record state is invalid. The acknowledgement of delivery could not be completed.');
        }
      }
      const fullMatch = batch.firstOffset >= ack.firstOffset && batch.lastOffset <= ack.lastOffset;
      const perOffsetAck = ack.acknowledgeTypes.length > 1;
      const startOffsetInBatch = batch.firstOffset < this.spso && batch.lastOffset >= this.spso;
      if (!fullMatch || batch.offsetState !== null || perOffsetAck || startOffsetInBatch) {
        if (batch.offsetState === null) {
          if ((batch.batchState as InFlightState).state !== RecordState.ACQUIRED) {
            throw invalidRecordState('The batch cannot be acknowledged. The subset batch is not in the acquired state.');
          }
          maybeInitializeOffsetState(batch);
        }
        this.acknowledgePerOffsetBatchRecords(memberId, ack, batch, transitions, stateBatches);
      } else {
        this.acknowledgeCompleteBatch(ack, batch, transitions, stateBatches);
      }
    }
  }

  private acknowledgePerOffsetBatchRecords(
    memberId: string,
    ack: ShareAcknowledgementBatch,
    batch: InFlightBatch,
    transitions: Transition[],
    stateBatches: PersisterStateBatch[],
  ): void {
    const offsets = batch.offsetState as InFlightState[];
    for (let i = 0; i < offsets.length; i++) {
      const offset = batch.firstOffset + i;
      if (offset < ack.firstOffset || offset < this.spso) continue;
      if (offset > ack.lastOffset) break;
      const s = offsets[i] as InFlightState;
      if (s.state !== RecordState.ACQUIRED) throw invalidRecordState('The offset cannot be acknowledged. The offset is not acquired.');
      if (hasOngoingStateTransition(s)) {
        throw invalidRecordState('The record state is invalid. The acknowledgement of delivery could not be completed.');
      }
      if (s.memberId !== memberId) throw invalidRecordState('Member is not the owner of offset');
      const type = acknowledgeTypeAt(ack, offset);
      if (type === AcknowledgeType.RENEW) {
        this.renew(s);
        continue;
      }
      if (!startStateTransition(s, recordStateForAcknowledgeType(type), 'noop', this.config.maxDeliveryCount, EMPTY_MEMBER_ID)) {
        throw invalidRecordState('Unable to acknowledge records for the batch');
      }
      transitions.push({ batch, firstOffset: offset, lastOffset: offset });
      stateBatches.push({ firstOffset: offset, lastOffset: offset, deliveryState: s.state, deliveryCount: s.deliveryCount });
    }
  }

  private acknowledgeCompleteBatch(
    ack: ShareAcknowledgementBatch,
    batch: InFlightBatch,
    transitions: Transition[],
    stateBatches: PersisterStateBatch[],
  ): void {
    const s = batch.batchState as InFlightState;
    if (s.state !== RecordState.ACQUIRED) throw invalidRecordState('The batch cannot be acknowledged. The batch is not in the acquired state.');
    const type = acknowledgeTypeAt(ack, ack.firstOffset);
    if (type === AcknowledgeType.RENEW) {
      this.renew(s);
      return;
    }
    if (!startStateTransition(s, recordStateForAcknowledgeType(type), 'noop', this.config.maxDeliveryCount, EMPTY_MEMBER_ID)) {
      throw invalidRecordState('Unable to acknowledge records for the batch');
    }
    transitions.push({ batch, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset });
    stateBatches.push({ firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, deliveryState: s.state, deliveryCount: s.deliveryCount });
  }

  private renew(s: InFlightState): void {
    if (this.config.renewAcknowledgeEnabled !== true) {
      throw invalidRecordState('Renewing acquisition locks is not enabled for the group.');
    }
    s.lockExpiresAtMs = this.lockDeadline();
  }

  // 5. releaseAcquiredRecords

  releaseAcquiredRecords(memberId: string): StateUpdateResult {
    const transitions: Transition[] = [];
    const stateBatches: PersisterStateBatch[] = [];
    try {
      for (const batch of this.cachedState.all()) {
        if (batch.offsetState === null) {
          const s = batch.batchState as InFlightState;
          if (s.state === RecordState.ACQUIRED && s.memberId === memberId && batch.firstOffset < this.spso && batch.lastOffset >= this.spso) {
            maybeInitializeOffsetState(batch);
          }
        }
        if (batch.offsetState !== null) {
          for (let i = 0; i < batch.offsetState.length; i++) {
            const offset = batch.firstOffset + i;
            const s = batch.offsetState[i] as InFlightState;
            if (s.memberId !== memberId || s.state !== RecordState.ACQUIRED) continue;
            const target = offset < this.spso ? RecordState.ARCHIVED : RecordState.AVAILABLE;
            if (!startStateTransition(s, target, 'noop', this.config.maxDeliveryCount, EMPTY_MEMBER_ID)) {
              throw invalidRecordState('Unable to release acquired records for the offset');
            }
            transitions.push({ batch, firstOffset: offset, lastOffset: offset });
            stateBatches.push({ firstOffset: offset, lastOffset: offset, deliveryState: s.state, deliveryCount: s.deliveryCount });
          }
          continue;
        }
        const s = batch.batchState as InFlightState;
        if (s.memberId !== memberId || s.state !== RecordState.ACQUIRED) continue;
        const target = batch.lastOffset < this.spso ? RecordState.ARCHIVED : RecordState.AVAILABLE;
        if (!startStateTransition(s, target, 'noop', this.config.maxDeliveryCount, EMPTY_MEMBER_ID)) {
          throw invalidRecordState('Unable to release acquired records for the batch');
        }
        transitions.push({ batch, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset });
        stateBatches.push({ firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, deliveryState: s.state, deliveryCount: s.deliveryCount });
      }
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      this.completeTransitions(transitions, false);
      return { errorCode: err.code, errorMessage: err.message };
    }
    return { errorCode: ErrorCode.NONE, update: this.pendingUpdate(transitions, stateBatches) };
  }

  private pendingUpdate(transitions: Transition[], stateBatches: PersisterStateBatch[]): PendingStateUpdate {
    const archived = stateBatches.reduce((n, b) => n + (b.deliveryState === RecordState.ARCHIVED ? b.lastOffset - b.firstOffset + 1 : 0), 0);
    return { write: stateBatches.length === 0 ? null : this.stateWrite(stateBatches), transitions, counts: { archived } };
  }

  /**
   * Ends the transitions of an acknowledge or release: `persisted` true commits them (and moves SPSO
   * when it can), false rolls them back (records whose lock expired meanwhile become AVAILABLE).
   */
  completeStateUpdate(update: PendingStateUpdate, persisted: boolean): void {
    this.completeTransitions(update.transitions, persisted);
    if (!persisted) return;
    for (const [key, n] of Object.entries(update.counts) as Array<[keyof SharePartitionCounts, number]>) this.counts[key] += n;
    this.maybeUpdateCachedStateAndOffsets();
  }

  private completeTransitions(transitions: readonly Transition[], commit: boolean): void {
    const now = this.clock.now();
    for (const t of transitions) {
      for (const s of statesIn(t.batch, t.firstOffset, t.lastOffset)) {
        completeStateTransition(s, commit, now);
        if (s.state === RecordState.AVAILABLE) this.findNextFetchOffset = true;
      }
    }
  }

  // 6. acquisition locks

  /** The earliest acquisition lock deadline among acquired records, or undefined when none is held. */
  nextAcquisitionLockDeadline(): number | undefined {
    let min: number | undefined;
    for (const b of this.cachedState.all()) {
      for (const s of statesIn(b, b.firstOffset, b.lastOffset)) {
        if (s.state === RecordState.ACQUIRED && s.lockExpiresAtMs !== NO_LOCK && (min === undefined || s.lockExpiresAtMs < min)) {
          min = s.lockExpiresAtMs;
        }
      }
    }
    return min;
  }

  /**
   * Releases every acquired record whose lock deadline is ≤ now: AVAILABLE again, or ARCHIVED at the
   * delivery count limit or below SPSO. Applied at once (Kafka goes ahead even when the write fails);
   * returns what to persist, or null when no lock had expired.
   */
  expireAcquisitionLocks(): ShareStateWrite | null {
    const now = this.clock.now();
    const stateBatches: PersisterStateBatch[] = [];
    for (const batch of this.cachedState.all()) {
      if (batch.offsetState === null) {
        const s = batch.batchState as InFlightState;
        if (!lockExpired(s, now)) continue;
        if (batch.firstOffset < this.spso && batch.lastOffset >= this.spso) {
          maybeInitializeOffsetState(batch);
        } else {
          this.expire(s, batch.lastOffset < this.spso, batch.firstOffset, batch.lastOffset, stateBatches);
          continue;
        }
      }
      const offsets = batch.offsetState as InFlightState[];
      for (let i = 0; i < offsets.length; i++) {
        const s = offsets[i] as InFlightState;
        const offset = batch.firstOffset + i;
        if (lockExpired(s, now)) this.expire(s, offset < this.spso, offset, offset, stateBatches);
      }
    }
    if (stateBatches.length === 0) return null;
    const write = this.stateWrite(stateBatches);
    this.maybeUpdateCachedStateAndOffsets();
    return write;
  }

  private expire(s: InFlightState, belowStart: boolean, first: number, last: number, out: PersisterStateBatch[]): void {
    if (!tryUpdateState(s, belowStart ? RecordState.ARCHIVED : RecordState.AVAILABLE, 'noop', this.config.maxDeliveryCount, EMPTY_MEMBER_ID)) return;
    s.lockExpiresAtMs = NO_LOCK;
    this.counts.lockTimeouts += last - first + 1;
    if (s.state === RecordState.ARCHIVED) this.counts.archived += last - first + 1;
    if (s.state === RecordState.AVAILABLE) this.findNextFetchOffset = true;
    out.push({ firstOffset: first, lastOffset: last, deliveryState: s.state, deliveryCount: s.deliveryCount });
  }

  // 7. SPSO advance

  private canMoveStartOffset(): boolean {
    const entry = this.cachedState.floor(this.spso);
    if (entry === undefined) return false;
    if (entry.lastOffset < this.spso) {
      // SPSO sits in a gap after the batch; the next batch (if any) decides.
      return false;
    }
    const s = stateAt(entry, this.spso);
    return !hasOngoingStateTransition(s) && isStateTerminal(s.state);
  }

  private findLastOffsetAcknowledged(): number {
    let lastAcked = -1;
    for (const b of this.cachedState.all()) {
      if (this.isGapWindowActive() && b.lastOffset >= (this.gapWindow as GapWindow).gapStartOffset) return lastAcked;
      if (b.offsetState === null) {
        const s = b.batchState as InFlightState;
        if (hasOngoingStateTransition(s) || !isStateTerminal(s.state)) return lastAcked;
        lastAcked = b.lastOffset;
      } else {
        for (let i = 0; i < b.offsetState.length; i++) {
          const s = b.offsetState[i] as InFlightState;
          if (hasOngoingStateTransition(s) || !isStateTerminal(s.state)) return lastAcked;
          lastAcked = b.firstOffset + i;
        }
      }
    }
    return lastAcked;
  }

  /** Moves SPSO past the terminal records at the front and drops the batches wholly below it; true when anything moved. */
  private maybeUpdateCachedStateAndOffsets(): boolean {
    // Batches wholly below SPSO (the log start offset moved past them) leave once nothing in them is pending.
    let moved = false;
    for (let b = this.cachedState.first(); b !== undefined && b.lastOffset < this.spso && isSettled(b); b = this.cachedState.first()) {
      this.cachedState.removeThrough(b.firstOffset);
      moved = true;
    }
    if (this.cachedState.isEmpty()) {
      this.speo = Math.max(this.speo, this.spso);
      return moved;
    }
    if (!this.canMoveStartOffset()) return moved;
    const lastAcked = this.findLastOffsetAcknowledged();
    if (lastAcked === -1) return moved;
    const lastCached = (this.cachedState.last() as InFlightBatch).lastOffset;
    if (lastAcked === lastCached) {
      this.spso = Math.max(this.spso, lastCached + 1);
      this.speo = this.spso;
      this.cachedState.clear();
      return true;
    }
    const entry = this.cachedState.floor(lastAcked) as InFlightBatch;
    if (lastAcked === entry.lastOffset) {
      const higher = this.cachedState.higher(lastAcked) as InFlightBatch;
      if (higher.firstOffset > this.spso) this.spso = higher.firstOffset;
      if (this.isGapWindowActive()) this.spso = Math.min((this.gapWindow as GapWindow).gapStartOffset, this.spso);
      this.cachedState.removeThrough(entry.firstOffset);
    } else {
      if (lastAcked + 1 > this.spso) this.spso = lastAcked + 1;
      // Only whole batches leave the cache: the ones before the batch SPSO is in.
      this.cachedState.removeThrough(entry.firstOffset - 1);
    }
    return true;
  }

  // 8. log start offset movement

  /** The log start offset moved (retention, DeleteRecords); archives AVAILABLE records below it and moves SPSO to it. */
  updateLogStartOffset(logStartOffset: number): void {
    if (logStartOffset <= this.spso) return;
    if (this.cachedState.isEmpty()) {
      this.spso = logStartOffset;
      this.speo = logStartOffset;
      return;
    }
    if (this.archiveRecords(this.spso, logStartOffset, RecordState.AVAILABLE)) this.findNextFetchOffset = true;
    this.spso = logStartOffset;
    if (this.speo < this.spso) this.speo = this.spso;
    this.maybeUpdateCachedStateAndOffsets();
  }

  // persistence

  /** Offsets ≥ SPSO in a terminal state. */
  deliveryCompleteCount(): number {
    let n = 0;
    for (const b of this.cachedState.all()) {
      if (b.lastOffset < this.spso) continue;
      for (let o = Math.max(b.firstOffset, this.spso); o <= b.lastOffset; o++) {
        if (isStateTerminal(stateAt(b, o).state)) n++;
      }
    }
    return n;
  }

  private stateWrite(stateBatches: PersisterStateBatch[]): ShareStateWrite {
    return {
      stateEpoch: this.stateEpoch,
      startOffset: this.spso,
      deliveryCompleteCount: this.deliveryCompleteCount(),
      stateBatches: mergeAdjacent(stateBatches),
    };
  }

  /** The whole in-flight state as state batches (what a coordinator snapshot of this partition holds). */
  stateBatches(): PersisterStateBatch[] {
    const out: PersisterStateBatch[] = [];
    for (const b of this.cachedState.all()) {
      for (let o = Math.max(b.firstOffset, this.spso); o <= b.lastOffset; o++) {
        const s = stateAt(b, o);
        // An acquired record is persisted as it was before (AVAILABLE with its count); Kafka never persists ACQUIRED.
        const state = s.rollback !== null ? s.rollback.state : s.state;
        out.push({ firstOffset: o, lastOffset: o, deliveryState: state === RecordState.ACQUIRED ? RecordState.AVAILABLE : state, deliveryCount: s.deliveryCount });
      }
    }
    return mergeAdjacent(out);
  }
}

/** Every offset of the batch is terminal and none is in a transition. */
function isSettled(batch: InFlightBatch): boolean {
  return statesIn(batch, batch.firstOffset, batch.lastOffset).every((s) => isStateTerminal(s.state) && !hasOngoingStateTransition(s));
}

function lockExpired(s: InFlightState, now: number): boolean {
  return s.state === RecordState.ACQUIRED && !hasOngoingStateTransition(s) && s.lockExpiresAtMs !== NO_LOCK && s.lockExpiresAtMs <= now;
}

/** The distinct states that cover [first, last] of the batch. */
function statesIn(batch: InFlightBatch, first: number, last: number): InFlightState[] {
  if (batch.offsetState === null) return [batch.batchState as InFlightState];
  return batch.offsetState.slice(Math.max(0, first - batch.firstOffset), last - batch.firstOffset + 1);
}

/** Appends `r`, merging it into the previous entry when it continues it with the same delivery count (ShareFetchUtils.accumulateAcquiredRecords). */
function accumulateAcquiredRecords(result: AcquiredRecords[], r: AcquiredRecords): void {
  const prev = result[result.length - 1];
  if (prev !== undefined && prev.lastOffset + 1 === r.firstOffset && prev.deliveryCount === r.deliveryCount) {
    result[result.length - 1] = { ...prev, lastOffset: r.lastOffset };
  } else {
    result.push(r);
  }
}

function mergeAdjacent(batches: PersisterStateBatch[]): PersisterStateBatch[] {
  const out: PersisterStateBatch[] = [];
  for (const b of batches) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.lastOffset + 1 === b.firstOffset && prev.deliveryState === b.deliveryState && prev.deliveryCount === b.deliveryCount) {
      out[out.length - 1] = { ...prev, lastOffset: b.lastOffset };
    } else {
      out.push(b);
    }
  }
  return out;
}

/** The last offset of the fetched batch holding `offset`, or `offset` when none does. */
function lastOffsetFromBatchWithRequestOffset(batches: readonly FetchedBatch[], offset: number): number {
  let previous: FetchedBatch | undefined;
  for (const b of batches) {
    if (offset >= b.baseOffset) previous = b;
    else break;
  }
  return previous !== undefined && offset <= previous.lastOffset ? previous.lastOffset : offset;
}

