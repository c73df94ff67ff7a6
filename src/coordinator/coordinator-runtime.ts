/**
 * The coordinator runtime: one framework for every state machine the broker
 * keeps in an internal compacted topic (Kafka's CoordinatorRuntime, 3.7+).
 * Today the group coordinator runs on it over `__consumer_offsets`; the
 * transaction coordinator (over `__transaction_state`) and the share
 * coordinator (over the share-group state topic) are meant to.
 *
 * Shards. The topic's partitions split the coordinator's keys (group ids,
 * transactional ids) by hash; each partition has a shard (Kafka's
 * CoordinatorShard): the state of the keys of that partition, rebuilt from
 * it and changed only by this broker. A request for a key is routed to its
 * partition's shard by the coordinator's facade; shards never look at each
 * other.
 *
 * The cycle: load → serve → write → replay.
 * 1. Load. On start every partition of an existing topic is loading; they
 *    are loaded one after the other in the background (partition 0 first),
 *    each by replaying its records from the log start offset to the high
 *    watermark into a fresh shard (coordinator-loader.ts), then
 *    `onLoaded()`. A partition that fails to load is logged and served
 *    empty. A partition of a topic that does not exist yet has nothing to
 *    load: its shard is created, empty, on first use.
 * 2. Serve. `partitionError(p)` says what a request for a partition gets
 *    now: COORDINATOR_LOAD_IN_PROGRESS while it loads,
 *    COORDINATOR_NOT_AVAILABLE once the runtime is closed (each coordinator
 *    maps these as Kafka does for its APIs). Otherwise `activeShard(p)` is
 *    the shard to operate on. Reads are plain calls on it.
 * 3. Write. An operation computes, against the shard's state, the records
 *    to append and the response (a CoordinatorResult), and hands them to
 *    `ShardContext.write`: the records are serialized and appended as one
 *    uncompressed batch (waiting for fdatasync when the result asks), and
 *    the response is given back only after the append, with its outcome.
 * 4. Replay. Once appended, the records are replayed into the shard with
 *    the same `replay` that loading uses, so the state after a write is the
 *    state a reload of the log would give.
 *
 * The consistency rule, for writes of one shard in flight together:
 * - An operation runs to completion before the next one of the shard starts
 *   (the event loop gives us what Kafka's one event thread per shard gives
 *   it). It sees every write already replayed, and none in flight.
 * - Appends are not serialized: each write's batch goes to the log at once,
 *   so pipelined writes (offset commits from many consumers) share the
 *   log's fdatasync rounds (its group commit) instead of waiting for one
 *   fsync each.
 * - Writes complete in log order: a write is replayed and answered only
 *   after every earlier write of its shard (a non-durable append behind a
 *   durable one waits for the fsync ahead of it). So the replayed state
 *   follows the log, and a read sees written records only, as Kafka's reads
 *   see the committed state.
 * - A failed append is answered with its error code and nothing is
 *   replayed: the state is as before the write, which is where Kafka rolls
 *   a shard back to when a batch fails. Each coordinator maps the code to
 *   its answer (a failed group metadata write: COORDINATOR_NOT_AVAILABLE,
 *   NOT_COORDINATOR, ... as Kafka's group coordinator does).
 * - An operation may also change state directly (soft state such as
 *   members, parked requests and timers; or a removal that must show at
 *   once). It then writes with `replayRecords: false` (Kafka's classic
 *   groups do: the group in memory is the authority and its metadata record
 *   a snapshot of it) and, should the append fail, undoes or keeps the
 *   change itself. Such a direct change must not be undone by the replay of
 *   an earlier write still in flight: the shard fences those writes (the
 *   group coordinator's pending offset commits: a removal cancels the
 *   commits of the same partition in flight, and their replay skips them).
 * - A write without records is answered at once.
 *
 * Timers. Each shard has its own CoordinatorTimer (sessions, rebalance
 * phases, periodic tasks such as offset expiration); its tasks run like
 * operations, and unloading cancels them all.
 *
 * Resign. `resignAll()` (the topic was deleted) unloads every shard the same
 * way and keeps serving with new, empty shards, as Kafka's coordinators resign
 * the partitions of a deleted topic.
 *
 * Unload. `close()` (broker shutdown) stops loading, cancels every timer and
 * calls each shard's `onUnloaded()`, which answers what is parked (a
 * JoinGroup waiting for its rebalance gets NOT_COORDINATOR). Writes in
 * flight still complete and are answered (the log is closed after the
 * coordinators), but no longer replayed.
 *
 * Plugging in a coordinator (the transaction coordinator is next): define its
 * records and their serde (TransactionLogKey/Value: transactional id →
 * producer id, epoch, timeout, state, partitions); a shard holding the
 * transactions of one partition of `__transaction_state` whose `replay`
 * puts or removes a transaction's metadata; the topic spec (50 partitions,
 * transaction.state.log.num.partitions, cleanup.policy=compact); a facade
 * routing each transactional id to its partition (the same Java hashCode
 * modulo the partition count) whose InitProducerId, AddPartitionsToTxn and
 * EndTxn are writes answered after their append; and its timers: a
 * transaction's timeout (abort), transactional id expiration (repeating).
 * The runtime and the internal topic do not change.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import { loadPartition } from './coordinator-loader.js';
import type { CoordinatorResult, CoordinatorShard, RecordSerde, ShardContext, WriteOutcome } from './coordinator-shard.js';
import { CoordinatorTimer } from './coordinator-timer.js';
import type { AppendOutcome, InternalTopic } from './internal-topic.js';

export interface CoordinatorRuntimeOptions<S, R> {
  readonly topic: InternalTopic;
  readonly serde: RecordSerde<R>;
  /** A fresh, empty shard for a partition (loading replays into it). */
  newShard(context: ShardContext<R>): S;
  /** Load only the latest record of each key (coordinator-loader.ts says when that is right). */
  readonly latestPerKey: boolean;
  readonly logger: Logger;
}

/** A write waiting for its append, or for earlier writes of its shard to complete. */
interface PendingWrite<R> {
  readonly result: CoordinatorResult<unknown, R>;
  outcome: AppendOutcome | undefined;
  readonly answer: (outcome: WriteOutcome<unknown>) => void;
}

/** A partition's shard and what the runtime keeps for it. */
interface ShardSlot<S, R> {
  readonly partition: number;
  readonly shard: S;
  readonly timer: CoordinatorTimer;
  loading: boolean;
  unloaded: boolean;
  /** Writes not yet answered, in log order. */
  readonly writes: Array<PendingWrite<R>>;
}

export class CoordinatorRuntime<S extends CoordinatorShard<R>, R> {
  private readonly slots = new Map<number, ShardSlot<S, R>>();
  private closed = false;
  private loaded: Promise<void> = Promise.resolve();
  private loadingCount = 0;

  constructor(private readonly opts: CoordinatorRuntimeOptions<S, R>) {}

  get topic(): InternalTopic {
    return this.opts.topic;
  }

  /**
   * Starts loading every partition of the topic, when it exists, in the
   * background; each counts as loading from this call on.
   */
  startLoading(): void {
    const info = this.opts.topic.topic;
    if (!info || this.closed) return;
    const loading: number[] = [];
    for (let p = 0; p < info.numPartitions; p++) {
      this.slots.set(p, this.newSlot(p, true));
      loading.push(p);
    }
    this.loadingCount = loading.length;
    // the replay starts once the current startup step is done, so the broker listens (and
    // answers COORDINATOR_LOAD_IN_PROGRESS) while it loads instead of after
    this.loaded = new Promise((resolve) => setImmediate(resolve)).then(() => this.loadAll(loading));
  }

  /** Resolves once loading has finished (or stopped). */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Some partition is still loading. */
  get anyLoading(): boolean {
    return this.loadingCount > 0;
  }

  /**
   * What a request for the partition gets now instead of being served:
   * COORDINATOR_NOT_AVAILABLE once closed, COORDINATOR_LOAD_IN_PROGRESS
   * while the partition loads; undefined when its shard serves.
   */
  partitionError(partition: number): number | undefined {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.slots.get(partition)?.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return undefined;
  }

  /** The shard of a partition that serves (see partitionError); created, empty, on first use. */
  activeShard(partition: number): S {
    const error = this.partitionError(partition);
    if (error !== undefined) throw new Error(`partition ${partition} of ${this.opts.topic.name} is not served (error ${error})`);
    let slot = this.slots.get(partition);
    if (!slot) {
      slot = this.newSlot(partition, false);
      this.slots.set(partition, slot);
      slot.shard.onLoaded();
    }
    return slot.shard;
  }

  /** Every shard that serves, by partition. */
  activeShards(): S[] {
    if (this.closed) return [];
    const out: Array<{ partition: number; shard: S }> = [];
    for (const slot of this.slots.values()) if (!slot.loading) out.push(slot);
    return out.sort((a, b) => a.partition - b.partition).map((s) => s.shard);
  }

  /**
   * The topic was deleted: unloads every shard as close does (timers cancelled, parked requests answered,
   * writes in flight answered but not replayed) and stops a load in progress, but keeps serving: each
   * partition gets a new, empty shard on first use, whose writes create the topic again. So nothing is
   * served that the log (and so a restart) does not have.
   */
  resignAll(): void {
    if (this.closed) return;
    for (const slot of this.slots.values()) this.unload(slot);
    this.slots.clear();
    this.loadingCount = 0;
  }

  /** Unloads every shard (see the opening comment); resolves when a load in progress has stopped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots.values()) this.unload(slot);
    this.slots.clear();
    await this.loaded.catch(() => undefined);
  }

  private newSlot(partition: number, loading: boolean): ShardSlot<S, R> {
    const timer = new CoordinatorTimer(this.opts.logger);
    let slot: ShardSlot<S, R> | undefined;
    // a shard writes once it serves, never from its constructor: `slot` is set by then
    const context: ShardContext<R> = { partition, timer, write: (result) => this.write(slot!, result) };
    slot = { partition, shard: this.opts.newShard(context), timer, loading, unloaded: false, writes: [] };
    return slot;
  }

  private unload(slot: ShardSlot<S, R>): void {
    slot.unloaded = true;
    slot.timer.close();
    slot.shard.onUnloaded();
  }

  private async loadAll(partitions: readonly number[]): Promise<void> {
    const { topic, logger } = this.opts;
    const started = Date.now();
    let records = 0;
    let stopped = false;
    for (const partition of partitions) {
      let slot = this.slots.get(partition);
      // closed, or resigned (the slot is gone, or a new one serves)
      stopped = this.closed || !slot?.loading;
      if (stopped || !slot) break;
      try {
        const loading = slot;
        const summary = await loadPartition(topic, partition, (r, offset, openTransaction) => loading.shard.replay(r, offset, openTransaction), this.opts);
        records += summary.records;
        logger.debug({ partition, ...summary }, `loaded ${topic.name} partition`);
      } catch (err) {
        logger.error({ err, partition }, `failed to load ${topic.name} partition`);
        stopped = this.closed || slot.unloaded;
        if (stopped) break;
        // served empty, as a partition with nothing to load
        slot.timer.close();
        slot = this.newSlot(partition, true);
        this.slots.set(partition, slot);
      }
      stopped = this.closed || slot.unloaded;
      if (stopped) break;
      slot.loading = false;
      this.loadingCount--;
      slot.shard.onLoaded();
    }
    this.loadingCount = 0;
    if (!stopped) logger.info({ partitions: partitions.length, records, ms: Date.now() - started }, `loaded ${topic.name}`);
  }

  /** ShardContext.write: append now, complete in log order (see the consistency rule above). */
  private write<T>(slot: ShardSlot<S, R>, result: CoordinatorResult<T, R>): Promise<WriteOutcome<T>> {
    if (result.records.length === 0) return Promise.resolve({ errorCode: ErrorCode.NONE, response: result.response });
    const serialized = result.records.map((r) => this.opts.serde.serialize(r));
    return new Promise((resolve) => {
      const pending: PendingWrite<R> = { result, outcome: undefined, answer: resolve as (o: WriteOutcome<unknown>) => void };
      slot.writes.push(pending);
      void this.opts.topic.append(slot.partition, serialized, result.sync ?? false, result.transaction).then((outcome) => {
        pending.outcome = outcome;
        this.completeWrites(slot);
      });
    });
  }

  /** Replays and answers the writes at the head of the slot's queue whose appends are done. */
  private completeWrites(slot: ShardSlot<S, R>): void {
    for (;;) {
      const head = slot.writes[0];
      if (head?.outcome === undefined) return;
      slot.writes.shift();
      let { errorCode } = head.outcome;
      if (errorCode === ErrorCode.NONE && head.result.replayRecords !== false && !slot.unloaded) {
        const base = head.outcome.baseOffset;
        try {
          head.result.records.forEach((r, i) => slot.shard.replay(r, base + i));
        } catch (err) {
          // a record that its own shard cannot replay is a bug, not a state
          this.opts.logger.error({ err, partition: slot.partition }, `replaying a write to ${this.opts.topic.name} failed`);
          errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
        }
      }
      head.answer({ errorCode, response: head.result.response });
    }
  }
}
