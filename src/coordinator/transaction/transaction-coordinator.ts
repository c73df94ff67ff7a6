/**
 * The transaction coordinator (Kafka's TransactionCoordinator, single node:
 * this broker coordinates every transactional id): the facade the handlers
 * call. It runs on the coordinator runtime (src/coordinator/) over
 * `__transaction_state`: each transactional id lives in the shard of its
 * partition (transaction-state-topic.ts), created lazily by the first write,
 * as Kafka creates the topic on the first FindCoordinator for a
 * transactional id.
 *
 * Where things are: transaction-metadata.ts and transaction-state.ts (the
 * state machine), transaction-coordinator-shard.ts (the ids of one partition,
 * their writes, expiration), transaction-records.ts and transaction-log.ts
 * (the records and their bytes), transaction-marker-writer.ts (the door to
 * the partitions' logs), transaction-stats.ts (what the metrics count).
 *
 * The operations, as Kafka's (each answers an error code; the handlers map
 * PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for versions before KIP-588):
 * - initProducerId: an empty id INVALID_REQUEST; a timeout outside
 *   1..transaction.max.timeout.ms INVALID_TRANSACTION_TIMEOUT; a new id gets a
 *   new producer id at epoch 0; a known one its epoch bumped (a new producer
 *   id once exhausted); an ongoing transaction is fenced and aborted first,
 *   and the client gets CONCURRENT_TRANSACTIONS to retry; so does one whose
 *   commit/abort is still being written.
 * - addPartitions / addOffsets (the group's `__consumer_offsets` partition):
 *   the transaction becomes Ongoing. While the previous transaction of the
 *   id is still completing (PrepareCommit/PrepareAbort: its markers and
 *   Complete record being written, fdatasync'ed with gregor.flush.acks.all),
 *   the request waits for that, up to COMPLETION_WAIT_MS, instead of getting
 *   CONCURRENT_TRANSACTIONS at once (then it does, as from Kafka): a client
 *   that starts its next transaction right after EndTxn would otherwise
 *   retry after its backoff (kafkajs 300 ms; Kafka's Java producer 20 ms for
 *   this case), the answer its retry would get, only later.
 * - endTxn: PrepareCommit/PrepareAbort is written, the client answered, then
 *   the markers are written to every partition (each partition leaves the
 *   metadata's partitions once its marker is written, as Kafka's
 *   removePartition: DescribeTransactions shows those still waiting) and
 *   CompleteCommit/CompleteAbort recorded; a retry of an end already done
 *   answers NONE.
 * - endTxnV2 (transaction version 2, KIP-890 part 2: EndTxn v5 with the
 *   feature finalized at 2, src/features.ts): the end bumps the epoch, the markers
 *   carry the bumped epoch, an exhausted epoch moves the id to a new producer
 *   id at epoch 0, and the answer is the next transaction's producer id and
 *   epoch. addPartitions with client transaction version 2 (Produce v12+,
 *   TxnOffsetCommit v5) records it.
 *   Coordinator aborts (fence, timeout) stay version 1 (one bump, the fence).
 * - verifyPartitions (AddPartitionsToTxn v4+ verify-only) and
 *   verifyTransaction (the produce path's KIP-890 check, by the Produce's
 *   transactional id, as Kafka) change nothing and keep nothing.
 * - the coordinator aborts, every abort interval, each Ongoing transaction
 *   older than its timeout (with an epoch fence, so its producer is fenced).
 *
 * Loading: partitions of an existing topic are replayed at start; requests
 * for ids of a partition still loading get COORDINATOR_LOAD_IN_PROGRESS, and
 * COORDINATOR_NOT_AVAILABLE after close.
 */
import { ErrorCode } from '../../../protocol/index.js';
import type { Logger } from '../../logger.js';
import { compileRe2, PatternSyntaxError, type Re2Pattern } from '../../re2-pattern.js';
import { CoordinatorRuntime } from '../coordinator-runtime.js';
import type { InternalTopic, InternalTopicHost } from '../internal-topic.js';
import type { TransactionConfig } from './transaction-config.js';
import { TransactionCoordinatorShard, type TransactionShardHooks } from './transaction-coordinator-shard.js';
import type { TransactionMarkerWriter, TransactionResult } from './transaction-marker-writer.js';
import { isEpochExhausted, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TransactionMetadata, topicPartitionKey, type TopicPartition, type TxnTransitMetadata } from './transaction-metadata.js';
import { transactionRecordSerde, type TransactionLogRecord } from './transaction-records.js';
import { transactionStateNamed, type TransactionState } from './transaction-state.js';
import { TransactionStats, type AbortReason } from './transaction-stats.js';
import { transactionPartition, transactionStateTopic, type TransactionStateTopicSettings } from './transaction-state-topic.js';

/** A transactional id as ListTransactions answers it. */
export interface ListedTransaction {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly state: TransactionState;
}

export interface ListedTransactions {
  readonly errorCode: number;
  /** State filters that name no state Kafka knows. */
  readonly unknownStates: string[];
  readonly transactions: ListedTransaction[];
}

export interface TransactionCoordinatorDeps {
  readonly config: TransactionConfig;
  readonly topicSettings: TransactionStateTopicSettings;
  readonly topics: InternalTopicHost;
  readonly logger: Logger;
  /** New producer ids (the broker's ProducerIdManager). */
  readonly producerIds: { nextId(): Promise<number> };
  readonly markers: TransactionMarkerWriter;
  /** The `__consumer_offsets` partition of a group (AddOffsetsToTxn). */
  offsetsPartitionFor(groupId: string): TopicPartition;
}

export interface InitProducerIdParams {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  /** KIP-360: the producer id and epoch a recovering producer has (InitProducerId v3+), or none. */
  readonly expected?: { readonly producerId: number; readonly producerEpoch: number };
}

export interface InitProducerIdResult {
  readonly errorCode: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface TxnProducer {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** The transactions and ids the coordinator holds now, as the metrics count them. */
export interface TransactionCounts {
  /** Transactional ids held by the served shards, in every state. */
  readonly transactionalIds: number;
  /** Transactions not complete yet: Ongoing, PrepareCommit, PrepareAbort. */
  readonly open: Readonly<Record<'Ongoing' | 'PrepareCommit' | 'PrepareAbort', number>>;
}

/**
 * The coordinator's answer to a partition leader's check or add (verifyTransaction; a transaction version 2
 * Produce's addPartitions) as the Produce answers it, as Kafka's AddPartitionsToTxnManager and ReplicaManager
 * map it: PRODUCER_FENCED as INVALID_PRODUCER_EPOCH, and NOT_ENOUGH_REPLICAS, which clients retry, for a
 * transaction being committed or aborted or a coordinator not available.
 */
export function produceVerificationError(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    default:
      return errorCode;
  }
}

/** Who ends a transaction: its client (EndTxn), or the coordinator (a timeout; a fence on re-init). */
type EndOrigin = Exclude<AbortReason, 'resumed'>;

/** The highest epoch a client uses (32767 is the coordinator's, to fence): an EndTxn retry after an overflow comes with it. */
const MAX_CLIENT_EPOCH = 32766;

/** How long an AddPartitionsToTxn/AddOffsetsToTxn waits for the id's previous transaction to complete. */
const COMPLETION_WAIT_MS = 1000;

/**
 * ListTransactions' id pattern, matched against a whole id as Kafka matches it (RE2/J `matches()`, by
 * re2-pattern.ts: linear time, whatever a client sends); null for no filter (null or empty), 'invalid'
 * when RE2 refuses it.
 */
function transactionalIdPattern(pattern: string | null): Re2Pattern | null | 'invalid' {
  if (pattern === null || pattern === '') return null;
  try {
    return compileRe2(pattern);
  } catch (err) {
    if (err instanceof PatternSyntaxError) return 'invalid';
    throw err;
  }
}

const initError = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });

export class TransactionCoordinator {
  private readonly runtime: CoordinatorRuntime<TransactionCoordinatorShard, TransactionLogRecord>;
  private readonly log: Logger;
  /** Requests waiting for the completion of an id's transaction (addPartitions), by its metadata. */
  private readonly completionWaiters = new Map<TransactionMetadata, Set<() => void>>();
  /** Counts for the metrics (transaction-stats.ts). */
  readonly stats = new TransactionStats();

  private constructor(private readonly deps: TransactionCoordinatorDeps) {
    const log = deps.logger.child({ component: 'transaction-coordinator' });
    this.log = log;
    const hooks: TransactionShardHooks = {
      onLoadedPrepared: (shard, m) => this.completeLoaded(shard, m),
      abortTimedOut: (shard, now) => this.abortTimedOut(shard, now),
    };
    this.runtime = new CoordinatorRuntime({
      topic: transactionStateTopic(deps.topicSettings, deps.topics, deps.logger),
      serde: transactionRecordSerde,
      // every record sets (or removes) its transactional id's whole state
      latestPerKey: true,
      logger: log,
      newShard: (ctx) => new TransactionCoordinatorShard(ctx, deps.config, log, hooks),
    });
  }

  /** Starts the coordinator; existing `__transaction_state` partitions are loaded in the background. */
  static start(deps: TransactionCoordinatorDeps): TransactionCoordinator {
    const c = new TransactionCoordinator(deps);
    c.stats.loadStarting();
    c.runtime.startLoading();
    void c.runtime.whenLoaded().then(() => c.stats.loadDone());
    return c;
  }

  whenLoaded(): Promise<void> {
    return this.runtime.whenLoaded();
  }

  close(): Promise<void> {
    return this.runtime.close();
  }

  /** `__transaction_state` (FindCoordinator creates it with ensureCreated). */
  get stateTopic(): InternalTopic {
    return this.runtime.topic;
  }

  partitionFor(transactionalId: string): number {
    return transactionPartition(transactionalId, this.runtime.topic.partitionCount);
  }

  /** COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE for the id's partition, or undefined when served. */
  unavailable(transactionalId: string): number | undefined {
    return this.runtime.partitionError(this.partitionFor(transactionalId));
  }

  /** The metadata of an id as its shard holds it (DescribeTransactions; tests). */
  metadata(transactionalId: string): TransactionMetadata | undefined {
    if (this.unavailable(transactionalId) !== undefined) return undefined;
    return this.shardOf(transactionalId).transactions.get(transactionalId);
  }

  /**
   * ListTransactions (Kafka's TransactionStateManager.listTransactionStates): every id of every served
   * partition matching the filters (empty filters match all; a state name Kafka does not know is returned in
   * `unknownStates` and matches nothing; Dead ids are never listed; `durationMs` >= 0: only transactions started longer ago than that;
   * `transactionalIdPattern` (KIP-1152), unless null or empty: only ids the regular expression matches whole, as
   * Kafka's `matcher(id).matches()`; one that does not compile INVALID_REGULAR_EXPRESSION, nothing listed).
   * While any partition loads: COORDINATOR_LOAD_IN_PROGRESS and nothing listed; after close:
   * COORDINATOR_NOT_AVAILABLE.
   */
  listTransactions(
    filters: { states: readonly string[]; producerIds: readonly number[]; durationMs: number; transactionalIdPattern?: string | null },
    now = Date.now(),
  ): ListedTransactions {
    const empty = (errorCode: number): ListedTransactions => ({ errorCode, unknownStates: [], transactions: [] });
    if (this.runtime.isClosed) return empty(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (this.runtime.anyLoading) return empty(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    const pattern = transactionalIdPattern(filters.transactionalIdPattern ?? null);
    if (pattern === 'invalid') return empty(ErrorCode.INVALID_REGULAR_EXPRESSION);
    const states = new Set<TransactionState>();
    const unknownStates: string[] = [];
    for (const name of filters.states) {
      const state = transactionStateNamed(name);
      if (state === undefined) unknownStates.push(name);
      else states.add(state);
    }
    // only unknown names: nothing can match
    if (filters.states.length > 0 && states.size === 0) return { errorCode: ErrorCode.NONE, unknownStates, transactions: [] };
    const producerIds = new Set(filters.producerIds);
    const transactions: ListedTransaction[] = [];
    for (const shard of this.runtime.activeShards()) {
      for (const m of shard.transactions.values()) {
        // a Dead id is on its way out: never listed
        if (m.state === 'Dead') continue;
        if (states.size > 0 && !states.has(m.state)) continue;
        if (producerIds.size > 0 && !producerIds.has(m.producerId)) continue;
        if (filters.durationMs >= 0 && now - m.txnStartTimestamp <= filters.durationMs) continue;
        if (pattern !== null && !pattern.matches(m.transactionalId)) continue;
        transactions.push({ transactionalId: m.transactionalId, producerId: m.producerId, state: m.state });
      }
    }
    return { errorCode: ErrorCode.NONE, unknownStates, transactions };
  }

  /** The ids and open transactions of the served shards now (the metrics). */
  counts(): TransactionCounts {
    let transactionalIds = 0;
    const open = { Ongoing: 0, PrepareCommit: 0, PrepareAbort: 0 };
    for (const shard of this.runtime.activeShards()) {
      transactionalIds += shard.transactions.size;
      for (const m of shard.transactions.values()) if (m.state === 'Ongoing' || m.state === 'PrepareCommit' || m.state === 'PrepareAbort') open[m.state]++;
    }
    return { transactionalIds, open };
  }

  /** Every served shard (ListTransactions; the timeout and expiration tasks run per shard). */
  shards(): TransactionCoordinatorShard[] {
    return this.runtime.activeShards();
  }

  private shardOf(transactionalId: string): TransactionCoordinatorShard {
    return this.runtime.activeShard(this.partitionFor(transactionalId));
  }

  private coordinatorEpoch(partition: number): number {
    return this.runtime.topic.topic?.partitions[partition]?.leaderEpoch ?? 0;
  }

  // ------------------------------------------------------------ InitProducerId

  async initProducerId(p: InitProducerIdParams): Promise<InitProducerIdResult> {
    const { transactionalId, transactionTimeoutMs } = p;
    if (transactionalId === '') return initError(ErrorCode.INVALID_REQUEST);
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.deps.config.maxTimeoutMs) return initError(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let unavailable = this.unavailable(transactionalId);
    if (unavailable !== undefined) return initError(unavailable);

    // a new id: a producer id first (may wait for a block to be reserved), then the metadata unless another request made it
    if (!this.shardOf(transactionalId).transactions.has(transactionalId)) {
      const producerId = await this.deps.producerIds.nextId();
      unavailable = this.unavailable(transactionalId);
      if (unavailable !== undefined) return initError(unavailable);
      const shard = this.shardOf(transactionalId);
      if (!shard.transactions.has(transactionalId)) {
        shard.transactions.set(transactionalId, new TransactionMetadata({ transactionalId, producerId, producerEpoch: NO_PRODUCER_EPOCH, txnTimeoutMs: transactionTimeoutMs, state: 'Empty', txnLastUpdateTimestamp: Date.now() }));
      }
    }

    let rotationId: number | undefined;
    for (;;) {
      unavailable = this.unavailable(transactionalId);
      if (unavailable !== undefined) return initError(unavailable);
      const shard = this.shardOf(transactionalId);
      const m = shard.transactions.get(transactionalId);
      if (!m) return initError(ErrorCode.CONCURRENT_TRANSACTIONS); // expired meanwhile: the client retries
      const decision = this.prepareInitTransit(m, p, rotationId);
      if ('errorCode' in decision) return initError(decision.errorCode);
      if ('needsProducerId' in decision) {
        rotationId = await this.deps.producerIds.nextId();
        continue;
      }
      const transit = decision.transit;
      if (transit.txnState === 'PrepareEpochFence') {
        // abort the ongoing transaction with the bumped epoch; the client retries, and its retry bumps again
        const errorCode = await this.endTransaction(transactionalId, transit.producerId, transit.producerEpoch, 'abort', 'fenced');
        return initError(errorCode === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : errorCode);
      }
      const errorCode = await shard.appendTransition(m, transit);
      if (errorCode !== ErrorCode.NONE) return initError(errorCode);
      this.log.info({ transactionalId, producerId: transit.producerId, producerEpoch: transit.producerEpoch }, 'initialized transactional id');
      return { errorCode, producerId: transit.producerId, producerEpoch: transit.producerEpoch };
    }
  }

  /** Kafka's prepareInitProducerIdTransit: the transition to write, an error, or "get a new producer id first". */
  private prepareInitTransit(
    m: TransactionMetadata,
    p: InitProducerIdParams,
    rotationId: number | undefined,
  ): { transit: TxnTransitMetadata } | { errorCode: number } | { needsProducerId: true } {
    const expected = p.expected;
    if (m.pendingTransitionInProgress) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    const validProducerId =
      expected === undefined ||
      m.producerEpoch === NO_PRODUCER_EPOCH ||
      expected.producerId === m.producerId ||
      (expected.producerId === m.lastProducerId && isEpochExhausted(expected.producerEpoch));
    if (!validProducerId) return { errorCode: ErrorCode.PRODUCER_FENCED };
    switch (m.state) {
      case 'PrepareAbort':
      case 'PrepareCommit':
        return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
      case 'CompleteAbort':
      case 'CompleteCommit':
      case 'Empty': {
        if (m.isProducerEpochExhausted && (expected === undefined || expected.producerEpoch === m.producerEpoch)) {
          if (rotationId === undefined) return { needsProducerId: true };
          return { transit: m.prepareProducerIdRotation(rotationId, p.transactionTimeoutMs, Date.now(), expected !== undefined) };
        }
        const r = m.prepareIncrementProducerEpoch(p.transactionTimeoutMs, expected?.producerEpoch, Date.now());
        return 'error' in r ? { errorCode: ErrorCode.PRODUCER_FENCED } : r;
      }
      case 'Ongoing':
        return { transit: m.prepareFenceProducerEpoch() };
      case 'Dead':
      case 'PrepareEpochFence':
        throw new Error(`transactional id ${m.transactionalId} found in state ${m.state}`);
    }
  }

  // ------------------------------------------------------------ AddPartitionsToTxn, AddOffsetsToTxn

  /**
   * AddPartitionsToTxn (v0-3): the partitions join the transaction, which becomes Ongoing. With
   * `clientTransactionVersion` 2 (a transaction version 2 client's Produce or TxnOffsetCommit adding its
   * partition, as Kafka's partition leader asks with AddPartitionsToTxn v5) the transition records it, so
   * the transaction's end bumps the epoch.
   */
  addPartitions(producer: TxnProducer, partitions: readonly TopicPartition[], clientTransactionVersion = 0): Promise<number> {
    return this.addPartitionsOnce(producer, partitions, false, clientTransactionVersion);
  }

  /** addPartitions; `waited`: it has waited for the previous transaction to complete already. */
  private async addPartitionsOnce(producer: TxnProducer, partitions: readonly TopicPartition[], waited: boolean, clientTransactionVersion: number): Promise<number> {
    const { transactionalId, producerId, producerEpoch } = producer;
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== undefined) return unavailable;
    const shard = this.shardOf(transactionalId);
    const m = shard.transactions.get(transactionalId);
    if (!m || m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') {
      if (waited) return ErrorCode.CONCURRENT_TRANSACTIONS;
      // the previous transaction completing: wait for it, then everything is checked again
      await this.whenCompleted(m, COMPLETION_WAIT_MS);
      return this.addPartitionsOnce(producer, partitions, true, clientTransactionVersion);
    }
    if (m.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (m.state === 'Ongoing' && partitions.every((tp) => m.topicPartitions.has(topicPartitionKey(tp)))) return ErrorCode.NONE;
    return shard.appendTransition(m, m.prepareAddPartitions(partitions, Date.now(), clientTransactionVersion));
  }

  /**
   * AddPartitionsToTxn v4+ with verify_only (Kafka's handleVerifyPartitionsInTransaction): whether the
   * partitions are in the producer's transaction, nothing changed. One code per partition, in order: an
   * empty id INVALID_REQUEST; the id's partition loading or closed its error; an unknown id or another
   * producer id INVALID_PRODUCER_ID_MAPPING; another epoch PRODUCER_FENCED; a transaction being committed
   * or aborted CONCURRENT_TRANSACTIONS; otherwise NONE for a partition in the transaction and
   * TRANSACTION_ABORTABLE for one that is not (a pending transition is not checked, as Kafka: the append
   * checks again).
   */
  verifyPartitions(producer: TxnProducer, partitions: readonly TopicPartition[]): number[] {
    const all = (errorCode: number): number[] => partitions.map(() => errorCode);
    const { transactionalId, producerId, producerEpoch } = producer;
    if (transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== undefined) return all(unavailable);
    const m = this.shardOf(transactionalId).transactions.get(transactionalId);
    if (m === undefined || m.producerId !== producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (m.producerEpoch !== producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return partitions.map((tp) => (m.topicPartitions.has(topicPartitionKey(tp)) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE));
  }

  /**
   * KIP-890 part 1, the partition leader's check before a transactional append (Kafka's ReplicaManager asks
   * the coordinator with a verify-only AddPartitionsToTxn for the Produce's transactional id): NONE when the
   * producer's transaction includes the partition, else the code the Produce answers, as Kafka's
   * AddPartitionsToTxnManager and ReplicaManager map the coordinator's: TRANSACTION_ABORTABLE (the produce
   * path gives older versions INVALID_TXN_STATE), INVALID_PRODUCER_EPOCH for a fenced epoch,
   * INVALID_PRODUCER_ID_MAPPING, INVALID_REQUEST (empty id), and NOT_ENOUGH_REPLICAS, which clients retry,
   * for a transaction being committed or aborted or a coordinator not available. Without a transactional id
   * (never from a Produce, which refuses transactional records without one) INVALID_TXN_STATE. Synchronous,
   * and nothing is kept per producer: the answer is the id's metadata as the coordinator holds it now.
   */
  verifyTransaction(tp: TopicPartition, producerId: number, producerEpoch: number, transactionalId: string | null): number {
    if (transactionalId === null) return ErrorCode.INVALID_TXN_STATE;
    return produceVerificationError(this.verifyPartitions({ transactionalId, producerId, producerEpoch }, [tp])[0] ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  addOffsets(producer: TxnProducer, groupId: string): Promise<number> {
    return this.addPartitions(producer, [this.deps.offsetsPartitionFor(groupId)]);
  }

  // ------------------------------------------------------------ EndTxn

  /** EndTxn from a client. */
  endTxn(producer: TxnProducer, result: TransactionResult): Promise<number> {
    return this.endTransaction(producer.transactionalId, producer.producerId, producer.producerEpoch, result, 'client');
  }

  /**
   * EndTxn v5+ from a transaction version 2 client (Kafka's endTransaction above transaction version 2):
   * the end bumps the epoch, and the answer carries the producer id and epoch of the client's next
   * transaction (a new producer id at epoch 0 when the epoch was exhausted). Epoch rules, as Kafka's:
   * Ongoing or Empty need the current epoch; PrepareCommit/PrepareAbort only a retry (the current epoch
   * minus one: CONCURRENT_TRANSACTIONS for the same result); CompleteCommit/CompleteAbort a retry (NONE for
   * the same result, with the current producer id and epoch; a retry after an overflow comes with the last
   * producer id at 32766) or the current epoch (an abort with no partition added, which bumps; a commit is
   * INVALID_TXN_STATE); any other epoch PRODUCER_FENCED; another producer id INVALID_PRODUCER_ID_MAPPING.
   */
  async endTxnV2(producer: TxnProducer, result: TransactionResult): Promise<InitProducerIdResult> {
    const { transactionalId, producerId, producerEpoch } = producer;
    if (transactionalId === '') return initError(ErrorCode.INVALID_REQUEST);
    let unavailable = this.unavailable(transactionalId);
    if (unavailable !== undefined) return initError(unavailable);
    let nextProducerId: number | undefined;
    for (;;) {
      const shard = this.shardOf(transactionalId);
      const m = shard.transactions.get(transactionalId);
      if (!m) return initError(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      const retryOnOverflow = m.lastProducerId === producerId && producerEpoch === MAX_CLIENT_EPOCH && m.producerEpoch === 0;
      const retryOnEpochBump = m.producerEpoch === producerEpoch + 1;
      let validEpoch: boolean;
      switch (m.state) {
        case 'PrepareCommit':
        case 'PrepareAbort':
          validEpoch = retryOnEpochBump;
          break;
        case 'CompleteCommit':
        case 'CompleteAbort':
          validEpoch = retryOnEpochBump || retryOnOverflow || producerEpoch === m.producerEpoch;
          break;
        default:
          validEpoch = producerEpoch === m.producerEpoch;
      }
      const isRetry = retryOnEpochBump || retryOnOverflow;
      if (m.producerId !== producerId && !retryOnOverflow) return initError(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      if (!validEpoch) return initError(ErrorCode.PRODUCER_FENCED);
      if (m.pendingTransitionInProgress) return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
      const wanted = result === 'commit' ? 'Commit' : 'Abort';
      let nextState: 'PrepareCommit' | 'PrepareAbort';
      let noPartitionAdded = false;
      switch (m.state) {
        case 'Ongoing':
          nextState = result === 'commit' ? 'PrepareCommit' : 'PrepareAbort';
          break;
        case 'CompleteCommit':
        case 'CompleteAbort':
          if (isRetry) {
            if (m.state !== `Complete${wanted}`) return initError(ErrorCode.INVALID_TXN_STATE);
            return { errorCode: ErrorCode.NONE, producerId: m.producerId, producerEpoch: m.producerEpoch };
          }
          if (result === 'commit') return initError(ErrorCode.INVALID_TXN_STATE);
          nextState = 'PrepareAbort';
          noPartitionAdded = true;
          break;
        case 'PrepareCommit':
        case 'PrepareAbort':
          return initError(m.state === `Prepare${wanted}` ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
        case 'Empty':
          if (result === 'commit') return initError(ErrorCode.INVALID_TXN_STATE);
          nextState = 'PrepareAbort';
          noPartitionAdded = true;
          break;
        case 'Dead':
        case 'PrepareEpochFence':
          throw new Error(`transactional id ${transactionalId} found in state ${m.state}`);
      }
      // an exhausted epoch: the next transaction gets a new producer id (which may wait for a block; then all is checked again)
      if (m.isProducerEpochExhausted && nextProducerId === undefined) {
        nextProducerId = await this.deps.producerIds.nextId();
        unavailable = this.unavailable(transactionalId);
        if (unavailable !== undefined) return initError(unavailable);
        continue;
      }
      const prepare = m.prepareAbortOrCommit(nextState, Date.now(), { nextProducerId: m.isProducerEpochExhausted ? (nextProducerId ?? NO_PRODUCER_ID) : NO_PRODUCER_ID, noPartitionAdded });
      const errorCode = await shard.appendTransition(m, prepare);
      if (errorCode !== ErrorCode.NONE) return initError(errorCode);
      const now: string = m.state;
      if (now !== nextState || m.pendingTransitionInProgress) return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
      // the markers carry the bumped epoch (with the producer id of the transaction); the answer, what the Complete record makes current
      const complete = m.prepareComplete(Date.now());
      this.writeMarkersAndComplete(shard, m, complete, result, 'client', m.topicPartitions.values(), { producerId: m.producerId, producerEpoch: m.producerEpoch });
      return { errorCode: ErrorCode.NONE, producerId: complete.producerId, producerEpoch: complete.producerEpoch };
    }
  }

  /**
   * Kafka's endTransaction (transaction.version 0/1): from a client, or from
   * the coordinator itself (a fence on re-init or timeout, which comes with
   * the bumped epoch and a PrepareEpochFence pending).
   */
  private async endTransaction(transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult, origin: EndOrigin): Promise<number> {
    const isFromClient = origin === 'client';
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const unavailable = this.unavailable(transactionalId);
    if (unavailable !== undefined) return unavailable;
    const shard = this.shardOf(transactionalId);
    const m = shard.transactions.get(transactionalId);
    if (!m) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    const fencing = m.pendingState === 'PrepareEpochFence';
    const refuse = (errorCode: number): number => {
      // a fence that goes no further is dropped, so the id is not left pending
      if (fencing && !isFromClient && m.pendingState === 'PrepareEpochFence') m.abortPendingTransition();
      return errorCode;
    };
    if (m.producerId !== producerId) return refuse(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if ((isFromClient && producerEpoch !== m.producerEpoch) || producerEpoch < m.producerEpoch) return refuse(ErrorCode.PRODUCER_FENCED);
    if (m.pendingTransitionInProgress && !fencing) return ErrorCode.CONCURRENT_TRANSACTIONS;
    const wanted = result === 'commit' ? 'Commit' : 'Abort';
    switch (m.state) {
      case 'Ongoing':
        break;
      case 'CompleteCommit':
      case 'CompleteAbort':
        return refuse(m.state === `Complete${wanted}` ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      case 'PrepareCommit':
      case 'PrepareAbort':
        return refuse(m.state === `Prepare${wanted}` ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case 'Empty':
        return refuse(ErrorCode.INVALID_TXN_STATE);
      case 'Dead':
      case 'PrepareEpochFence':
        throw new Error(`transactional id ${transactionalId} found in state ${m.state}`);
    }
    const nextState = result === 'commit' ? 'PrepareCommit' : 'PrepareAbort';
    if (fencing) {
      if (nextState !== 'PrepareAbort') return refuse(ErrorCode.INVALID_TXN_STATE);
      m.applyEpochFence({ ...m.prepareNoTransit(), producerEpoch });
    }
    const prepare = m.prepareAbortOrCommit(nextState, Date.now());
    const errorCode = await shard.appendTransition(m, prepare);
    if (errorCode !== ErrorCode.NONE) {
      if (fencing && shard.transactions.get(transactionalId) === m) m.hasFailedEpochFence = true;
      return errorCode;
    }
    // the prepare record is written: the transaction will complete (a restart resumes it); answer now
    // (the state has changed since the switch above: read it afresh)
    const now: string = m.state;
    if (now !== nextState || m.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    this.writeMarkersAndComplete(shard, m, m.prepareComplete(Date.now()), result, origin, m.topicPartitions.values());
    return ErrorCode.NONE;
  }

  /** Resolves once the transaction of `m` has completed or given up (completed(m)), or after `maxMs`. */
  private whenCompleted(m: TransactionMetadata, maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.completionWaiters.get(m);
      if (!waiters) this.completionWaiters.set(m, (waiters = new Set()));
      const all = waiters;
      const done = (): void => {
        clearTimeout(timer);
        all.delete(done);
        if (all.size === 0 && this.completionWaiters.get(m) === all) this.completionWaiters.delete(m);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      all.add(done);
    });
  }

  /** Wakes the requests waiting for the transaction of `m` (whenCompleted). */
  private completed(m: TransactionMetadata): void {
    const waiters = this.completionWaiters.get(m);
    if (!waiters) return;
    for (const done of [...waiters]) done();
  }

  /** A loaded transaction in PrepareCommit/PrepareAbort: its markers are written again, then it completes. */
  private completeLoaded(shard: TransactionCoordinatorShard, m: TransactionMetadata): void {
    const result: TransactionResult = m.state === 'PrepareCommit' ? 'commit' : 'abort';
    // the markers carry the Prepare's producer id and epoch (with transaction version 2 the Complete may move to a new producer id)
    this.writeMarkersAndComplete(shard, m, m.prepareComplete(Date.now()), result, 'resumed', m.topicPartitions.values(), { producerId: m.producerId, producerEpoch: m.producerEpoch });
  }

  /**
   * Writes the markers to the partitions left (retrying those that fail after
   * the backoff), then the Complete record (retried the same way); the
   * transition to CompleteCommit/CompleteAbort stays pending meanwhile, so
   * other requests for the id get CONCURRENT_TRANSACTIONS.
   */
  private writeMarkersAndComplete(
    shard: TransactionCoordinatorShard,
    m: TransactionMetadata,
    complete: TxnTransitMetadata,
    result: TransactionResult,
    reason: AbortReason,
    partitions: Iterable<TopicPartition>,
    markerProducer: { readonly producerId: number; readonly producerEpoch: number } = { producerId: complete.producerId, producerEpoch: complete.producerEpoch },
  ): void {
    const left = [...partitions];
    const retry = (what: () => void): void => shard.schedule(`markers-${m.transactionalId}`, this.deps.config.markerRetryBackoffMs, what);
    const writeComplete = async (): Promise<void> => {
      const errorCode = await shard.appendTransition(m, complete);
      if (errorCode === ErrorCode.NONE) this.stats.completed(result, reason);
      if (errorCode === ErrorCode.NONE || shard.isUnloaded || shard.transactions.get(m.transactionalId) !== m) {
        this.completed(m);
        return;
      }
      this.log.warn({ transactionalId: m.transactionalId, error: errorCode }, `writing ${complete.txnState} failed; retrying`);
      retry(() => {
        if (m.pendingTransitionInProgress) return;
        this.writeMarkersAndComplete(shard, m, m.prepareComplete(Date.now()), result, reason, [], markerProducer);
      });
    };
    const writeMarkers = async (): Promise<void> => {
      if (left.length > 0) {
        const results = await this.deps.markers.writeMarkers({
          producerId: markerProducer.producerId,
          producerEpoch: markerProducer.producerEpoch,
          coordinatorEpoch: this.coordinatorEpoch(shard.partition),
          result,
          partitions: [...left],
        });
        for (const r of results) if (r.errorCode === ErrorCode.NONE) this.stats.markersWritten[result]++;
        if (shard.isUnloaded || shard.transactions.get(m.transactionalId) !== m) {
          this.completed(m);
          return;
        }
        const failed = new Set(
          results
            .filter((r) => r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            .map((r) => topicPartitionKey(r)),
        );
        const answered = new Set(results.map((r) => topicPartitionKey(r)));
        const still = left.filter((tp) => failed.has(topicPartitionKey(tp)) || !answered.has(topicPartitionKey(tp)));
        // the partitions done no longer wait for a marker (a deleted one neither)
        for (const tp of left) if (answered.has(topicPartitionKey(tp)) && !failed.has(topicPartitionKey(tp))) m.removePartition(tp);
        left.splice(0, left.length, ...still);
        if (left.length > 0) {
          this.log.warn({ transactionalId: m.transactionalId, partitions: left.length }, 'transaction markers not written; retrying');
          retry(() => void writeMarkers());
          return;
        }
      }
      await writeComplete();
    };
    void writeMarkers().catch((err: unknown) => {
      this.log.error({ err, transactionalId: m.transactionalId }, 'completing a transaction failed');
      this.completed(m);
    });
  }

  // ------------------------------------------------------------ timeouts

  /** Aborts the shard's Ongoing transactions older than their timeout, fencing their producers (Kafka's abortTimedOutTransactions). */
  private abortTimedOut(shard: TransactionCoordinatorShard, now: number): void {
    for (const m of [...shard.transactions.values()]) {
      if (m.state !== 'Ongoing' || m.pendingTransitionInProgress || m.txnStartTimestamp + m.txnTimeoutMs >= now) continue;
      this.log.info({ transactionalId: m.transactionalId, producerId: m.producerId, producerEpoch: m.producerEpoch }, 'aborting a timed-out transaction');
      const fence = m.prepareFenceProducerEpoch();
      void this.endTransaction(m.transactionalId, fence.producerId, fence.producerEpoch, 'abort', 'timeout').then((errorCode) => {
        if (errorCode !== ErrorCode.NONE) this.log.warn({ transactionalId: m.transactionalId, error: errorCode }, 'aborting a timed-out transaction failed');
      });
    }
  }

  /** Runs the timeout task of every served shard now (what the periodic task does; tests and shutdown paths). */
  abortTimedOutTransactions(now = Date.now()): void {
    for (const shard of this.shards()) this.abortTimedOut(shard, now);
  }
}
