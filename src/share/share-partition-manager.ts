/**
 * The share-partition manager (Kafka's SharePartitionManager with the reading
 * half of DelayedShareFetch): one SharePartition per (share group, topic
 * partition), and the three things ShareFetch and ShareAcknowledge ask of
 * them: fetch (read the log, acquire), acknowledge, release.
 *
 * 1. A share-partition is created at the first request that names it: its
 *    state is read from the share coordinator (the persister); without one
 *    (start offset -1) the group's share.auto.offset.reset (latest by
 *    default) chooses the start, which is written back at once so that a
 *    restart starts there too. Concurrent first requests share one load; a
 *    failed load is answered with its error and retried by the next request.
 * 2. Fetch: each partition of the share session in turn, one fetch at a time
 *    per share-partition (Kafka's fetch lock): read the log from
 *    nextFetchOffset up to the high watermark (the last stable offset for a
 *    read_committed group), hand the batch headers to `acquire`, and answer
 *    the stored batches that hold acquired records as the log returned them
 *    (slices, never copied or re-encoded; the buffers go back to storage
 *    once the response is written). MaxRecords is shared by the request's
 *    partitions, max bytes (capped by fetch.max.bytes) too.
 * 3. Waiting: a fetch that acquired fewer than MinBytes bytes waits up to
 *    MaxWaitMs, woken by appends to its partitions' logs (long-poll.ts) and by
 *    records becoming available again (released, or their lock expired); what
 *    it acquired stays acquired and is answered with the rest. A partition
 *    that got records is not read again in the same request.
 * 4. Acknowledge / release: the share-partition's pending update is written
 *    to the share coordinator (fdatasync'ed), then committed; a failed write
 *    rolls it back and answers its error. A member that closes its session,
 *    or whose connection closes (share-fetches.ts), has its acquired records
 *    released at once. Leaving the group does not release them, as in Kafka:
 *    a client leaves (ShareGroupHeartbeat -1) and then sends its last
 *    acknowledgements in the closing ShareAcknowledge, which must still find
 *    the records acquired; a member that vanished has its records back when
 *    its connection closes or, at the latest, when their locks expire.
 * 5. Acquisition locks: each share-partition has one timer, set to its
 *    earliest lock deadline; when it fires the expired records go back to
 *    AVAILABLE (ARCHIVED at group.share.delivery.count.limit), the change is
 *    persisted, and waiting fetches wake.
 * 6. The log start offset moving (retention, DeleteRecords) moves the
 *    share-partition's start offset with it.
 * 7. Dropped: a share-partition whose topic was created again, or whose
 *    state an administrator reset at the share coordinator (forget:
 *    AlterShareGroupOffsets, DeleteShareGroupOffsets, DeleteGroups), is no
 *    longer the manager's; the next request loads it again, and a fetch that
 *    still holds it acquires nothing more from it. So does a fetch whose
 *    connection closed (ShareFetchQuery.closed): its answer would go
 *    nowhere, and what it acquired would wait for its locks to expire.
 */
import { ErrorCode } from '../../protocol/index.js';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, lastOffsetOf, readBatchHeader } from '../../protocol/records/batch-header.js';
import { readTransactionMarker } from '../../protocol/records/control-record.js';
import { entrySizeAt } from '../../protocol/records/index.js';
import type { LogManager, PartitionLog } from '../../storage/index.js';
import { longPoll, type AppendSource } from '../fetch/long-poll.js';
import type { StableOffsets } from '../fetch/partition-read.js';
import type { Logger } from '../logger.js';
import type { PartitionState, TopicInfo } from '../metadata/topic-manager.js';
import type { ShareAcknowledgementBatch } from './acknowledge.js';
import { validateAcknowledgementBatches } from './acknowledge.js';
import type { LogOffsets, ShareAutoOffsetReset } from './auto-offset-reset.js';
import type { AbortedTransaction, FetchedBatch } from './fetched-batch.js';
import {
  initializeSharePartition,
  type AcquiredRecords,
  type Clock,
  type PendingStateUpdate,
  type ShareAcquireMode,
  type ShareIsolationLevel,
  type SharePartition,
  type SharePartitionConfig,
  type SharePartitionCounts,
} from './share-partition.js';
import type { ShareStatePersister } from './share-state-api.js';
import type { ShareStateWrite } from './persister-state-batch.js';

/** What the group says of its share-partitions (Kafka's group configs share.auto.offset.reset, share.isolation.level, share.record.lock.duration.ms). */
export interface ShareGroupSettings {
  readonly autoOffsetReset: ShareAutoOffsetReset;
  readonly isolationLevel: ShareIsolationLevel;
  /** The group's share.record.lock.duration.ms; the broker's group.share.record.lock.duration.ms when absent. */
  readonly recordLockDurationMs?: number;
}

export interface SharePartitionManagerDeps {
  readonly topics: { getById(topicId: string): Pick<TopicInfo, 'partitions'> | undefined };
  readonly persister: ShareStatePersister;
  readonly config: SharePartitionConfig;
  groupSettings(groupId: string): ShareGroupSettings;
  readonly stableOffsets: StableOffsets;
  readonly logs: Pick<LogManager, 'releaseReadBuffers'>;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/** One partition a share fetch reads. */
export interface ShareFetchPartition {
  readonly topicId: string;
  readonly partition: number;
}

export interface ShareFetchQuery {
  readonly groupId: string;
  readonly memberId: string;
  readonly partitions: readonly ShareFetchPartition[];
  /** The request's MaxBytes, capped by fetch.max.bytes. */
  readonly maxBytes: number;
  readonly minBytes: number;
  readonly maxWaitMs: number;
  readonly maxRecords: number;
  readonly batchSize: number;
  readonly acquireMode: ShareAcquireMode;
  /** Aborted when the connection of the request closes: nothing is acquired from then on (its answer would go nowhere). */
  readonly closed?: AbortSignal;
}

export interface ShareFetchedPartition extends ShareFetchPartition {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly leaderEpoch: number;
  readonly records: Buffer[];
  readonly acquiredRecords: readonly AcquiredRecords[];
}

export interface AcknowledgeOutcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** What the metrics read of a loaded share-partition. */
export interface SharePartitionStats {
  readonly groupId: string;
  readonly topicId: string;
  readonly partition: number;
  readonly counts: Readonly<SharePartitionCounts>;
  /** Records between the start and end offsets still to be delivered or acknowledged (numInFlightRecords). */
  readonly inFlight: number;
}

/** A share-partition and what the manager keeps for it. */
interface Slot {
  readonly groupId: string;
  readonly topicId: string;
  readonly partition: number;
  readonly state: PartitionState;
  sp: SharePartition | undefined;
  loading: Promise<SharePartition | AcknowledgeOutcome> | undefined;
  /** The tail of the fetches of this share-partition (one at a time). */
  fetching: Promise<unknown>;
  lockTimer: NodeJS.Timeout | undefined;
  lockDeadline: number;
  readonly available: Set<() => void>;
  unsubscribe: (() => void) | undefined;
  /** No longer the manager's (its topic was created again, or its state reset): acquires nothing more. */
  dropped: boolean;
}

const systemClock: Clock = { now: () => Date.now() };

export class SharePartitionManager {
  private readonly slots = new Map<string, Slot>();
  private readonly clock: Clock;
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: SharePartitionManagerDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Broker shutdown: waiting fetches answer now, timers stop. */
  close(): void {
    this.shutdown.abort();
    for (const slot of this.slots.values()) {
      if (slot.lockTimer) clearTimeout(slot.lockTimer);
      slot.unsubscribe?.();
    }
    this.slots.clear();
  }

  /** Every loaded share-partition with its counts and records in flight (the metrics read them when scraped). */
  *partitionStats(): Iterable<SharePartitionStats> {
    for (const slot of this.slots.values()) {
      if (slot.sp === undefined) continue;
      yield { groupId: slot.groupId, topicId: slot.topicId, partition: slot.partition, counts: slot.sp.counts, inFlight: slot.sp.numInFlightRecords() };
    }
  }

  /** The share-partition of a group, when loaded (for inspection). */
  sharePartition(groupId: string, topicId: string, partition: number): SharePartition | undefined {
    return this.slots.get(slotKey(groupId, topicId, partition))?.sp;
  }

  // 1. creation

  private slotFor(groupId: string, topicId: string, partition: number): Slot | AcknowledgeOutcome {
    const topic = this.deps.topics.getById(topicId);
    if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: null };
    const state = topic.partitions[partition];
    if (state === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
    const key = slotKey(groupId, topicId, partition);
    let slot = this.slots.get(key);
    // a topic deleted and created again: a new log, a new share-partition
    if (slot !== undefined && slot.state.log !== state.log) {
      this.drop(slot);
      slot = undefined;
    }
    if (slot === undefined) {
      slot = { groupId, topicId, partition, state, sp: undefined, loading: undefined, fetching: Promise.resolve(), lockTimer: undefined, lockDeadline: 0, available: new Set(), unsubscribe: undefined, dropped: false };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private drop(slot: Slot): void {
    if (slot.lockTimer) clearTimeout(slot.lockTimer);
    slot.unsubscribe?.();
    if (this.slots.get(slotKey(slot.groupId, slot.topicId, slot.partition)) === slot) this.slots.delete(slotKey(slot.groupId, slot.topicId, slot.partition));
    slot.dropped = true;
  }

  /**
   * Drops the group's share-partitions whose state the share coordinator reset (AlterShareGroupOffsets,
   * DeleteShareGroupOffsets, DeleteGroups; Kafka fences them): the next request loads them again, and a
   * fetch in progress on one acquires nothing more from it.
   */
  forget(groupId: string, topicId: string, partitions: readonly number[]): void {
    for (const partition of partitions) {
      const slot = this.slots.get(slotKey(groupId, topicId, partition));
      if (slot !== undefined) this.drop(slot);
    }
  }

  /** The slot's share-partition, loaded (or initialized) on first use. */
  private async load(slot: Slot): Promise<SharePartition | AcknowledgeOutcome> {
    if (slot.sp) return slot.sp;
    slot.loading ??= this.initialize(slot).finally(() => {
      slot.loading = undefined;
    });
    return slot.loading;
  }

  private async initialize(slot: Slot): Promise<SharePartition | AcknowledgeOutcome> {
    const { persister } = this.deps;
    const read = await persister.read({ groupId: slot.groupId, topics: [{ topicId: slot.topicId, partitions: [{ partition: slot.partition, leaderEpoch: slot.state.leaderEpoch }] }] });
    const r = read.topics[0]?.partitions[0];
    if (r === undefined) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'no answer from the share coordinator' };
    if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, errorMessage: r.errorMessage };
    const persisted = { startOffset: r.startOffset ?? -1, stateEpoch: r.stateEpoch ?? 0, stateBatches: r.stateBatches ?? [] };
    const log = slot.state.log;
    const settings = this.deps.groupSettings(slot.groupId);
    const reset = settings.autoOffsetReset;
    const byTime = reset.type === 'by_duration' && persisted.startOffset === -1 ? await log.offsetForTimestamp(this.clock.now() - reset.durationMs) : null;
    const offsets: LogOffsets = {
      logStartOffset: log.logStartOffset,
      latestOffset: log.highWatermark,
      offsetForTimestamp: () => byTime?.offset,
    };
    const result = initializeSharePartition(this.deps.config, this.clock, persisted, reset, offsets);
    if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, errorMessage: 'errorMessage' in result ? result.errorMessage : null };
    const sp = (result as { sharePartition: SharePartition }).sharePartition;
    if (persisted.startOffset === -1) {
      // the start chosen now is the start after a restart too
      const written = await this.persist(slot, { stateEpoch: persisted.stateEpoch, startOffset: sp.startOffset(), deliveryCompleteCount: 0, stateBatches: [] });
      if (written.errorCode !== ErrorCode.NONE) return written;
    }
    // (a request may have dropped the slot meanwhile: the topic was deleted, or the state reset)
    slot.sp = sp;
    if (slot.dropped) return sp;
    slot.unsubscribe = log.onLogStartMoved((logStartOffset) => {
      sp.updateLogStartOffset(logStartOffset);
      this.notifyAvailable(slot);
    });
    return sp;
  }

  // 2-3. fetch

  /** Reads and acquires for one ShareFetch (see the opening comment); one answer per partition, in order. */
  async fetch(q: ShareFetchQuery): Promise<ShareFetchedPartition[]> {
    const answers = new Map<string, ShareFetchedPartition>();
    let bytes = 0;
    let records = 0;
    let failed = false;
    const slots: Array<Slot | undefined> = [];
    for (const p of q.partitions) {
      const slot = this.slotFor(q.groupId, p.topicId, p.partition);
      if ('errorCode' in slot) {
        answers.set(partitionKeyOf(p), errorAnswer(p, slot.errorCode, slot.errorMessage));
        failed = true;
        slots.push(undefined);
        continue;
      }
      const sp = await this.load(slot);
      if ('errorCode' in sp) {
        answers.set(partitionKeyOf(p), errorAnswer(p, sp.errorCode, sp.errorMessage, slot.state.leaderEpoch));
        failed = true;
        slots.push(undefined);
        continue;
      }
      slots.push(slot);
    }
    const attempt = async (): Promise<{ done: boolean; value: null }> => {
      if (q.closed?.aborted) return { done: true, value: null };
      for (const slot of slots) {
        if (slot === undefined || records >= q.maxRecords || bytes >= q.maxBytes) continue;
        const key = partitionKeyOf(slot);
        if ((answers.get(key)?.acquiredRecords.length ?? 0) > 0) continue;
        const answer = await this.fetchPartition(slot, q, q.maxRecords - records, q.maxBytes - bytes);
        if (answer.errorCode !== ErrorCode.NONE) failed = true;
        for (const r of answer.records) bytes += r.length;
        for (const a of answer.acquiredRecords) records += a.lastOffset - a.firstOffset + 1;
        answers.set(key, answer);
      }
      return { done: failed || bytes >= Math.max(1, q.minBytes) || records >= q.maxRecords, value: null };
    };
    const sources: AppendSource[] = [];
    for (const slot of slots) {
      if (slot === undefined) continue;
      sources.push(slot.state.log, { onAppend: (listener) => this.onAvailable(slot, listener) });
    }
    const stop = eitherSignal(this.shutdown.signal, q.closed);
    try {
      await longPoll({ sources, maxWaitMs: sources.length === 0 ? 0 : q.maxWaitMs, signal: stop.signal, attempt });
    } finally {
      stop.dispose();
    }
    return q.partitions.map((p) => answers.get(partitionKeyOf(p)) ?? emptyAnswer(p, this.slots.get(slotKey(q.groupId, p.topicId, p.partition))?.state.leaderEpoch ?? -1));
  }

  /** One read-and-acquire of a share-partition, under its fetch lock. */
  private fetchPartition(slot: Slot, q: ShareFetchQuery, maxRecords: number, maxBytes: number): Promise<ShareFetchedPartition> {
    const run = slot.fetching.then(() => this.readAndAcquire(slot, q, maxRecords, maxBytes));
    slot.fetching = run.catch(() => undefined);
    return run;
  }

  private async readAndAcquire(slot: Slot, q: ShareFetchQuery, maxRecords: number, maxBytes: number): Promise<ShareFetchedPartition> {
    const sp = slot.sp;
    const leaderEpoch = slot.state.leaderEpoch;
    if (sp === undefined || slot.dropped || !sp.canAcquireRecords()) return emptyAnswer(slot, leaderEpoch);
    const log = slot.state.log;
    const settings = this.deps.groupSettings(slot.groupId);
    const readCommitted = settings.isolationLevel === 'read_committed';
    sp.setRecordLockDurationMs(settings.recordLockDurationMs);
    if (log.logStartOffset > sp.startOffset()) sp.updateLogStartOffset(log.logStartOffset);
    const fetchOffset = sp.nextFetchOffset();
    const maxOffset = readCommitted ? await this.deps.stableOffsets.lastStableOffset(log) : log.highWatermark;
    if (fetchOffset >= maxOffset || fetchOffset < log.logStartOffset) return emptyAnswer(slot, leaderEpoch);
    let chunks: Buffer[];
    let located: LocatedBatch[];
    // Read what the fetch can acquire, not its MaxBytes: a share fetch keeps only the batches it acquires,
    // so a read of a client's 50 MiB for 500 records copied (when not cached) and dropped nearly all of it.
    // Start small; read again, FIRST_READ_BYTES × 4 at a time, while the batches hold fewer offsets than
    // MaxRecords and the log has more below maxOffset.
    const limit = Math.max(1, maxBytes);
    let readBytes = Math.min(limit, FIRST_READ_BYTES);
    for (;;) {
      try {
        ({ chunks } = await log.read(fetchOffset, readBytes, maxOffset));
      } catch (err) {
        this.deps.logger.warn({ err, topicId: slot.topicId, partition: slot.partition }, 'ShareFetch: read failed');
        return errorAnswer(slot, ErrorCode.KAFKA_STORAGE_ERROR, null, leaderEpoch);
      }
      located = locateBatches(chunks);
      const last = located.at(-1);
      if (readBytes >= limit || last === undefined || last.batch.lastOffset + 1 >= maxOffset || offsetsFrom(located, fetchOffset) >= maxRecords) break;
      this.deps.logs.releaseReadBuffers(chunks);
      readBytes = Math.min(limit, readBytes * 4);
    }
    // (the read waited: the request's connection may have closed, or the share-partition been reset, meanwhile)
    if (q.closed?.aborted || slot.dropped) {
      this.deps.logs.releaseReadBuffers(chunks);
      return emptyAnswer(slot, leaderEpoch);
    }
    const abortedTransactions: AbortedTransaction[] | undefined = readCommitted
      ? log.collectAbortedTransactions(fetchOffset, maxOffset).map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }))
      : undefined;
    const acquired = sp.acquire({
      memberId: q.memberId,
      fetchOffset,
      batches: located.map((b) => b.batch),
      maxFetchRecords: maxRecords,
      batchSize: q.batchSize,
      acquireMode: q.acquireMode,
      isolationLevel: readCommitted ? 'read_committed' : 'read_uncommitted',
      ...(abortedTransactions === undefined ? {} : { abortedTransactions }),
    });
    if (acquired.count === 0) {
      this.deps.logs.releaseReadBuffers(chunks);
      return emptyAnswer(slot, leaderEpoch);
    }
    this.scheduleLockExpiry(slot);
    const kept = batchesHolding(located, acquired.acquiredRecords);
    return { topicId: slot.topicId, partition: slot.partition, errorCode: ErrorCode.NONE, errorMessage: null, leaderEpoch, records: kept, acquiredRecords: acquired.acquiredRecords };
  }

  // 4. acknowledge / release

  /**
   * Applies a partition's acknowledgement batches for a member and persists them; the partition's answer.
   * `renew`: the request is a renew-only acknowledgement (v2 IsRenewAck).
   */
  async acknowledge(groupId: string, memberId: string, p: ShareFetchPartition, batches: readonly ShareAcknowledgementBatch[], opts: { supportsRenew: boolean; isRenewAck: boolean }): Promise<AcknowledgeOutcome> {
    if (validateAcknowledgementBatches(batches, opts) !== ErrorCode.NONE) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid acknowledgement batches' };
    const slot = this.slotFor(groupId, p.topicId, p.partition);
    if ('errorCode' in slot) return slot;
    const sp = await this.load(slot);
    if ('errorCode' in sp) return sp;
    const result = sp.acknowledge(memberId, batches);
    if (result.errorCode !== ErrorCode.NONE || !('update' in result)) return { errorCode: result.errorCode, errorMessage: 'errorMessage' in result ? result.errorMessage : null };
    return this.complete(slot, sp, result.update);
  }

  /** Releases every record the member holds in the group's share-partitions (its session closed, or it left). */
  async releaseMember(groupId: string, memberId: string): Promise<void> {
    const done: Array<Promise<AcknowledgeOutcome>> = [];
    for (const slot of this.slots.values()) {
      const sp = slot.sp;
      if (slot.groupId !== groupId || sp === undefined) continue;
      const result = sp.releaseAcquiredRecords(memberId);
      if ('update' in result) done.push(this.complete(slot, sp, result.update));
    }
    await Promise.all(done);
  }

  /** Persists a pending update, then commits it (or rolls it back) and wakes fetches when records came back. */
  private async complete(slot: Slot, sp: SharePartition, update: PendingStateUpdate): Promise<AcknowledgeOutcome> {
    const outcome = update.write === null ? { errorCode: ErrorCode.NONE, errorMessage: null } : await this.persist(slot, update.write);
    sp.completeStateUpdate(update, outcome.errorCode === ErrorCode.NONE);
    this.scheduleLockExpiry(slot);
    this.notifyAvailable(slot);
    return outcome;
  }

  private async persist(slot: Slot, write: ShareStateWrite): Promise<AcknowledgeOutcome> {
    try {
      const res = await this.deps.persister.write({
        groupId: slot.groupId,
        topics: [{ topicId: slot.topicId, partitions: [{ ...write, partition: slot.partition, leaderEpoch: slot.state.leaderEpoch }] }],
      });
      const r = res.topics[0]?.partitions[0];
      if (r === undefined) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: null };
      return { errorCode: r.errorCode, errorMessage: r.errorMessage };
    } catch (err) {
      this.deps.logger.error({ err }, 'writing share-partition state failed');
      return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: null };
    }
  }

  // 5. acquisition locks

  private scheduleLockExpiry(slot: Slot): void {
    const deadline = slot.sp?.nextAcquisitionLockDeadline();
    if (deadline === undefined) {
      if (slot.lockTimer) clearTimeout(slot.lockTimer);
      slot.lockTimer = undefined;
      return;
    }
    if (slot.lockTimer && slot.lockDeadline <= deadline) return;
    if (slot.lockTimer) clearTimeout(slot.lockTimer);
    slot.lockDeadline = deadline;
    slot.lockTimer = setTimeout(() => this.expireLocks(slot), Math.max(0, deadline - this.clock.now()));
    slot.lockTimer.unref();
  }

  private expireLocks(slot: Slot): void {
    slot.lockTimer = undefined;
    const sp = slot.sp;
    if (sp === undefined || this.slots.get(slotKey(slot.groupId, slot.topicId, slot.partition)) !== slot) return;
    const write = sp.expireAcquisitionLocks();
    this.scheduleLockExpiry(slot);
    if (write === null) return;
    this.notifyAvailable(slot);
    // applied already (as Kafka): a failed write is logged, the next write carries the state
    void this.persist(slot, write).then((o) => {
      if (o.errorCode !== ErrorCode.NONE) this.deps.logger.warn({ errorCode: o.errorCode, group: slot.groupId, partition: slot.partition }, 'persisting expired acquisition locks failed');
    });
  }

  // waking fetches

  private onAvailable(slot: Slot, listener: () => void): () => void {
    slot.available.add(listener);
    return () => slot.available.delete(listener);
  }

  private notifyAvailable(slot: Slot): void {
    for (const l of [...slot.available]) l();
  }
}

/** A signal aborted when either of two is (the second may be absent); dispose() lets go of them. */
function eitherSignal(a: AbortSignal, b: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  if (b === undefined) return { signal: a, dispose: () => {} };
  const both = new AbortController();
  const abort = (): void => both.abort();
  if (a.aborted || b.aborted) both.abort();
  a.addEventListener('abort', abort);
  b.addEventListener('abort', abort);
  return {
    signal: both.signal,
    dispose: () => {
      a.removeEventListener('abort', abort);
      b.removeEventListener('abort', abort);
    },
  };
}

function slotKey(groupId: string, topicId: string, partition: number): string {
  return `${groupId}\u0000${topicId}\u0000${partition}`;
}

function partitionKeyOf(p: ShareFetchPartition): string {
  return `${p.topicId}:${p.partition}`;
}

function emptyAnswer(p: ShareFetchPartition, leaderEpoch: number): ShareFetchedPartition {
  return { topicId: p.topicId, partition: p.partition, errorCode: ErrorCode.NONE, errorMessage: null, leaderEpoch, records: [], acquiredRecords: [] };
}

function errorAnswer(p: ShareFetchPartition, errorCode: number, errorMessage: string | null, leaderEpoch = -1): ShareFetchedPartition {
  return { topicId: p.topicId, partition: p.partition, errorCode, errorMessage, leaderEpoch, records: [], acquiredRecords: [] };
}

/** How much the first read of a share fetch asks of the log (see readAndAcquire). */
const FIRST_READ_BYTES = 1024 * 1024;

/** How many offsets from `fetchOffset` on the batches hold: at least the records a fetch may acquire of them. */
function offsetsFrom(located: readonly LocatedBatch[], fetchOffset: number): number {
  let n = 0;
  for (const b of located) n += b.batch.lastOffset - Math.max(b.batch.baseOffset, fetchOffset) + 1;
  return n;
}

/** A stored batch: its slice of the read's chunk and what acquire needs of its header. */
interface LocatedBatch {
  readonly bytes: Buffer;
  readonly batch: FetchedBatch;
}

/** The whole v2 batches of the chunks (a cut batch at the end is left out), with their headers. */
function locateBatches(chunks: readonly Buffer[]): LocatedBatch[] {
  const out: LocatedBatch[] = [];
  for (const chunk of chunks) {
    let pos = 0;
    while (pos < chunk.length) {
      const size = entrySizeAt(chunk, pos);
      if (size <= 0 || pos + size > chunk.length) break;
      const bytes = chunk.subarray(pos, pos + size);
      pos += size;
      const h = readBatchHeader(bytes);
      const control = (h.attributes & ATTR_CONTROL) !== 0;
      const marker = control ? readTransactionMarker(bytes) : null;
      out.push({
        bytes,
        batch: {
          baseOffset: h.baseOffset,
          lastOffset: lastOffsetOf(h),
          producerId: h.producerId,
          isTransactional: (h.attributes & ATTR_TRANSACTIONAL) !== 0,
          ...(marker === null ? {} : { control: marker.commit ? ('commit' as const) : ('abort' as const) }),
        },
      });
    }
  }
  return out;
}

/**
 * The batches that hold acquired records, as slices of the read. Adjacent batches of one chunk stay one
 * slice, so a response carries as few buffers as the log gave.
 */
function batchesHolding(located: readonly LocatedBatch[], acquired: readonly AcquiredRecords[]): Buffer[] {
  const out: Buffer[] = [];
  let run: { memory: ArrayBufferLike; byteOffset: number; length: number } | undefined;
  const flush = (): void => {
    if (run) out.push(Buffer.from(run.memory, run.byteOffset, run.length));
    run = undefined;
  };
  for (const b of located) {
    const holds = acquired.some((a) => a.firstOffset <= b.batch.lastOffset && a.lastOffset >= b.batch.baseOffset);
    if (!holds) {
      flush();
      continue;
    }
    const bytes = b.bytes;
    if (run && run.memory === bytes.buffer && run.byteOffset + run.length === bytes.byteOffset) {
      run.length += bytes.length;
      continue;
    }
    flush();
    run = { memory: bytes.buffer, byteOffset: bytes.byteOffset, length: bytes.length };
  }
  flush();
  return out;
}
