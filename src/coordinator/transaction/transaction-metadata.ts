/**
 * One transactional id's state (Kafka's TransactionMetadata): its producer id
 * and epoch, the transaction timeout, the state (transaction-state.ts), the
 * partitions of the ongoing transaction and its timestamps.
 *
 * Two-step transitions, as Kafka's. A change is first *prepared*: a
 * `prepare...` method checks the transition against the current state and
 * returns the target (a TxnTransitMetadata, the value the coordinator writes
 * to `__transaction_state`), and marks the metadata `pendingState` = the
 * target state. Only when the record is written does the coordinator
 * *complete* it (`completeTransitionTo`), which checks the target once more
 * (same producer, epoch the same or bumped by one or 0 with a new producer
 * id, partitions only grown, ...) and applies it; a failed write calls
 * `abortPendingTransition` and the state is as before. While a transition is
 * pending no other may be prepared: requests meanwhile get
 * CONCURRENT_TRANSACTIONS from the coordinator (which checks
 * `pendingTransitionInProgress` first). A transition that breaks the rules is
 * a bug of the coordinator, not a client error: it throws
 * TransactionStateError.
 *
 * Epochs. A producer epoch is an int16; InitProducerId bumps it by one. An
 * epoch of 32766 or more is exhausted (the coordinator must always be able
 * to fence a producer by bumping once more, to 32767): the next
 * InitProducerId gets a new producer id with epoch 0 instead. Fencing (a
 * re-init or a timeout while a transaction is ongoing) bumps the epoch
 * without telling any client (PrepareEpochFence, then PrepareAbort with the
 * bumped epoch); a fence whose write failed does not bump again.
 *
 * Transaction version 2 (KIP-890 part 2), recorded per transition as the
 * client's (`clientTransactionVersion`, 0 for the older clients): every end of
 * a transaction bumps the epoch (PrepareCommit/PrepareAbort carry epoch + 1,
 * the old one as the last epoch), so the markers fence the transaction's own
 * producer epoch; an end at an exhausted epoch gets a new producer id
 * (`nextProducerId`, kept in the Prepare record), which the Complete record
 * makes the producer id, at epoch 0, the old one becoming `lastProducerId`.
 * An abort with no partition added (from Empty, CompleteCommit or
 * CompleteAbort) is allowed and starts its "transaction" at its own time.
 *
 * Plain data and synchronous methods: the coordinator's shard owns the
 * metadata and runs one operation at a time (coordinator-runtime.ts).
 */
import { isValidTransition, type TransactionState } from './transaction-state.js';

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
const MAX_EPOCH = 32767;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** The key of a partition in a transaction's partition map. */
export function topicPartitionKey(tp: TopicPartition): string {
  return `${tp.partition}:${tp.topic}`;
}

/** An epoch at which no further InitProducerId may bump (Kafka's isEpochExhausted). */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_EPOCH - 1;
}

/** The target of a transition (Kafka's TxnTransitMetadata): what is written to the log. */
export interface TxnTransitMetadata {
  readonly producerId: number;
  readonly lastProducerId: number;
  /** Transaction version 2: the producer id the ending transaction's epoch overflow moves to, else -1. */
  readonly nextProducerId: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly txnState: TransactionState;
  readonly topicPartitions: ReadonlyMap<string, TopicPartition>;
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
  /** The transaction version of the client that made the transition (0 when not 2: Kafka's TV_0). */
  readonly clientTransactionVersion: number;
}

/** Transaction version 2 of a transition: the epoch bumps at every end (KIP-890 part 2). */
export const TRANSACTION_VERSION_2 = 2;

/** A transition that breaks the state machine's rules (a coordinator bug). */
export class TransactionStateError extends Error {
  override readonly name = 'TransactionStateError';
}

/** What an InitProducerId epoch bump gives: the target, or the error for the client. */
export type EpochBumpResult = { readonly transit: TxnTransitMetadata } | { readonly error: 'PRODUCER_FENCED' };

export interface TransactionMetadataInit {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly lastProducerId?: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch?: number;
  readonly txnTimeoutMs: number;
  readonly state: TransactionState;
  readonly topicPartitions?: Iterable<TopicPartition>;
  readonly txnStartTimestamp?: number;
  readonly txnLastUpdateTimestamp: number;
  readonly nextProducerId?: number;
  readonly clientTransactionVersion?: number;
}

export class TransactionMetadata {
  readonly transactionalId: string;
  producerId: number;
  lastProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  readonly topicPartitions = new Map<string, TopicPartition>();
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  /** Transaction version 2: the producer id an epoch overflow moves to once the transaction completes, else -1. */
  nextProducerId: number;
  /** The transaction version of the client of the last transition (TRANSACTION_VERSION_2, or 0). */
  clientTransactionVersion: number;
  /** The state a prepared transition goes to, until it completes or is aborted. */
  pendingState: TransactionState | undefined = undefined;
  /** A fence's write failed: the next fence reuses the epoch it bumped to (never handed to a client). */
  hasFailedEpochFence = false;

  constructor(init: TransactionMetadataInit) {
    this.transactionalId = init.transactionalId;
    this.producerId = init.producerId;
    this.lastProducerId = init.lastProducerId ?? NO_PRODUCER_ID;
    this.producerEpoch = init.producerEpoch;
    this.lastProducerEpoch = init.lastProducerEpoch ?? NO_PRODUCER_EPOCH;
    this.txnTimeoutMs = init.txnTimeoutMs;
    this.state = init.state;
    for (const tp of init.topicPartitions ?? []) this.topicPartitions.set(topicPartitionKey(tp), tp);
    this.txnStartTimestamp = init.txnStartTimestamp ?? -1;
    this.txnLastUpdateTimestamp = init.txnLastUpdateTimestamp;
    this.nextProducerId = init.nextProducerId ?? NO_PRODUCER_ID;
    this.clientTransactionVersion = init.clientTransactionVersion ?? 0;
  }

  /** The last transition was made by a transaction version 2 client: every end bumps the epoch. */
  get isTransactionV2(): boolean {
    return this.clientTransactionVersion >= TRANSACTION_VERSION_2;
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== undefined;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** The current state as a target, without a transition (Kafka's prepareNoTransit). */
  prepareNoTransit(): TxnTransitMetadata {
    return {
      producerId: this.producerId,
      lastProducerId: this.lastProducerId,
      nextProducerId: this.nextProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      txnState: this.state,
      topicPartitions: new Map(this.topicPartitions),
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
      clientTransactionVersion: 0,
    };
  }

  /** Bumps the epoch to fence the producer of an ongoing transaction (re-init, timeout): → PrepareEpochFence. */
  prepareFenceProducerEpoch(): TxnTransitMetadata {
    if (this.producerEpoch === MAX_EPOCH) throw new TransactionStateError(`cannot fence producer ${this.producerId} of ${this.transactionalId}: its epoch is ${MAX_EPOCH}`);
    const bumped = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo('PrepareEpochFence', this.producerId, bumped, NO_PRODUCER_EPOCH, this.txnTimeoutMs, this.topicPartitions, this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  /**
   * InitProducerId on the same producer id: → Empty with the epoch bumped.
   * Without an expected epoch (a new producer instance) the last epoch is
   * forgotten. With one (KIP-360, a producer recovering): the current epoch
   * (or none yet) bumps and is remembered as the last; the last epoch is a
   * retry of a bump that succeeded (answered with the current epoch, no
   * bump); anything else is PRODUCER_FENCED.
   */
  prepareIncrementProducerEpoch(newTxnTimeoutMs: number, expectedProducerEpoch: number | undefined, now: number): EpochBumpResult {
    if (this.isProducerEpochExhausted) throw new TransactionStateError(`no more producer epochs for producer ${this.producerId} of ${this.transactionalId}`);
    const bumped = this.producerEpoch + 1;
    let next: number;
    let last: number;
    if (expectedProducerEpoch === undefined) {
      next = bumped;
      last = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch) {
      next = bumped;
      last = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      next = this.producerEpoch;
      last = this.lastProducerEpoch;
    } else {
      return { error: 'PRODUCER_FENCED' };
    }
    return { transit: this.prepareTransitionTo('Empty', this.producerId, next, last, newTxnTimeoutMs, new Map(), -1, now) };
  }

  /** InitProducerId once the epoch is exhausted: → Empty with a new producer id at epoch 0. */
  prepareProducerIdRotation(newProducerId: number, newTxnTimeoutMs: number, now: number, recordLastEpoch: boolean): TxnTransitMetadata {
    if (this.state === 'Ongoing' || this.state === 'PrepareAbort' || this.state === 'PrepareCommit') {
      throw new TransactionStateError(`cannot rotate the producer id of ${this.transactionalId} while a transaction is pending`);
    }
    return this.prepareTransitionTo('Empty', newProducerId, 0, recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH, newTxnTimeoutMs, new Map(), -1, now);
  }

  /**
   * AddPartitionsToTxn / AddOffsetsToTxn, or (transaction version 2) a Produce or TxnOffsetCommit adding its
   * partition: → Ongoing with the partitions added; a new transaction starts now.
   */
  prepareAddPartitions(added: Iterable<TopicPartition>, now: number, clientTransactionVersion = 0): TxnTransitMetadata {
    const starts = this.state === 'Empty' || this.state === 'CompleteAbort' || this.state === 'CompleteCommit';
    const partitions = new Map(this.topicPartitions);
    for (const tp of added) partitions.set(topicPartitionKey(tp), tp);
    return this.prepareTransitionTo('Ongoing', this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, partitions, starts ? now : this.txnStartTimestamp, now, {
      nextProducerId: NO_PRODUCER_ID,
      clientTransactionVersion,
    });
  }

  /**
   * EndTxn (or an abort by the coordinator): → PrepareCommit or PrepareAbort. Transaction version 2 (`v2`):
   * the epoch bumps (the current one becomes the last; the caller has made sure it is not 32767),
   * `nextProducerId` is the new producer id of an exhausted epoch (or -1), and an abort with no partition
   * added starts now.
   */
  prepareAbortOrCommit(
    newState: 'PrepareCommit' | 'PrepareAbort',
    now: number,
    v2?: { readonly nextProducerId: number; readonly noPartitionAdded: boolean },
  ): TxnTransitMetadata {
    if (v2 === undefined) return this.prepareTransitionTo(newState, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, this.topicPartitions, this.txnStartTimestamp, now);
    if (this.producerEpoch >= MAX_EPOCH) throw new TransactionStateError(`${this.transactionalId}: epoch ${this.producerEpoch} cannot be bumped at the end of a transaction`);
    return this.prepareTransitionTo(newState, this.producerId, this.producerEpoch + 1, this.producerEpoch, this.txnTimeoutMs, this.topicPartitions, v2.noPartitionAdded ? now : this.txnStartTimestamp, now, {
      nextProducerId: v2.nextProducerId,
      clientTransactionVersion: TRANSACTION_VERSION_2,
    });
  }

  /**
   * Every marker is written: PrepareCommit → CompleteCommit, PrepareAbort → CompleteAbort, partitions cleared.
   * Transaction version 2 with a next producer id (the epoch overflowed): the producer id becomes it, at epoch 0.
   */
  prepareComplete(now: number): TxnTransitMetadata {
    const newState = this.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort';
    // the prepare record is written: a fence bumped in it is durable
    this.hasFailedEpochFence = false;
    if (this.isTransactionV2) {
      const rotates = this.nextProducerId !== NO_PRODUCER_ID;
      return this.prepareTransitionTo(newState, rotates ? this.nextProducerId : this.producerId, rotates ? 0 : this.producerEpoch, this.producerEpoch, this.txnTimeoutMs, new Map(), this.txnStartTimestamp, now, {
        nextProducerId: NO_PRODUCER_ID,
        clientTransactionVersion: this.clientTransactionVersion,
      });
    }
    return this.prepareTransitionTo(newState, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, new Map(), this.txnStartTimestamp, now);
  }

  /** Expiration of the transactional id: → Dead (its tombstone is written, then it is removed). */
  prepareDead(): TxnTransitMetadata {
    return this.prepareTransitionTo('Dead', this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, new Map(), this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  /**
   * A marker of the transaction being committed or aborted is written to the partition: it leaves the
   * partitions still waiting for one (Kafka's removePartition; DescribeTransactions shows those left).
   */
  removePartition(tp: TopicPartition): void {
    if (this.state !== 'PrepareCommit' && this.state !== 'PrepareAbort') {
      throw new TransactionStateError(`${this.transactionalId} is ${this.state}: no marker partitions to remove`);
    }
    this.topicPartitions.delete(topicPartitionKey(tp));
  }

  /** The prepared transition's write failed: back to the state before it. */
  abortPendingTransition(): void {
    this.pendingState = undefined;
  }

  /**
   * The prepared transition's record is written: check it against the
   * pending state and the current metadata, then apply it.
   */
  completeTransitionTo(transit: TxnTransitMetadata): void {
    const to = this.pendingState;
    if (to === undefined) throw new TransactionStateError(`${this.transactionalId} completes a transition to ${transit.txnState} without a pending state`);
    if (to !== transit.txnState) this.failTransition(transit);
    switch (to) {
      case 'Empty': // InitProducerId
        if ((this.producerEpoch !== transit.producerEpoch && !this.validProducerEpochBump(transit)) || transit.topicPartitions.size > 0 || transit.txnStartTimestamp !== -1) this.failTransition(transit);
        this.txnTimeoutMs = transit.txnTimeoutMs;
        this.producerEpoch = transit.producerEpoch;
        this.lastProducerEpoch = transit.lastProducerEpoch;
        this.producerId = transit.producerId;
        this.lastProducerId = transit.lastProducerId;
        break;
      case 'Ongoing': // AddPartitions
        if (!this.validProducerEpoch(transit) || !isSubset(this.topicPartitions, transit.topicPartitions) || this.txnTimeoutMs !== transit.txnTimeoutMs) this.failTransition(transit);
        this.txnStartTimestamp = transit.txnStartTimestamp;
        for (const [key, tp] of transit.topicPartitions) this.topicPartitions.set(key, tp);
        break;
      case 'PrepareAbort':
      case 'PrepareCommit': { // EndTxn
        const v2 = transit.clientTransactionVersion >= TRANSACTION_VERSION_2;
        // version 2: an abort from Empty or a complete transaction starts at its own time
        const emptyAbort = to === 'PrepareAbort' && v2 && (this.state === 'Empty' || this.state === 'CompleteCommit' || this.state === 'CompleteAbort');
        if (
          !this.validProducerEpoch(transit) ||
          !sameKeys(this.topicPartitions, transit.topicPartitions) ||
          this.txnTimeoutMs !== transit.txnTimeoutMs ||
          (this.txnStartTimestamp !== transit.txnStartTimestamp && !emptyAbort)
        ) {
          this.failTransition(transit);
        }
        if (v2) {
          this.producerEpoch = transit.producerEpoch;
          this.lastProducerEpoch = transit.lastProducerEpoch;
          this.nextProducerId = transit.nextProducerId;
          this.txnStartTimestamp = transit.txnStartTimestamp;
        }
        break;
      }
      case 'CompleteAbort':
      case 'CompleteCommit': // markers written
        if (!this.validProducerEpoch(transit) || this.txnTimeoutMs !== transit.txnTimeoutMs || transit.txnStartTimestamp === -1) this.failTransition(transit);
        this.txnStartTimestamp = transit.txnStartTimestamp;
        this.topicPartitions.clear();
        if (transit.clientTransactionVersion >= TRANSACTION_VERSION_2) {
          this.producerEpoch = transit.producerEpoch;
          this.lastProducerEpoch = transit.lastProducerEpoch;
          this.lastProducerId = transit.lastProducerId;
          this.producerId = transit.producerId;
          this.nextProducerId = transit.nextProducerId;
        }
        break;
      case 'PrepareEpochFence':
        // never completed: the fence goes on to PrepareAbort with the bumped epoch
        this.failTransition(transit);
        break;
      case 'Dead':
        // never completed: an expired id is removed once its tombstone is written
        throw new TransactionStateError(`${this.transactionalId} cannot complete a transition to Dead: an expired id is removed`);
    }
    this.clientTransactionVersion = transit.clientTransactionVersion;
    this.txnLastUpdateTimestamp = transit.txnLastUpdateTimestamp;
    this.pendingState = undefined;
    this.state = to;
  }

  /**
   * The epoch fence of an ongoing transaction turns into its abort (Kafka's
   * endTransaction from PrepareEpochFence): the pending fence is dropped and
   * the bumped epoch taken, so the PrepareAbort record carries it.
   */
  applyEpochFence(fence: TxnTransitMetadata): void {
    if (this.pendingState !== 'PrepareEpochFence') throw new TransactionStateError(`${this.transactionalId} has no epoch fence pending`);
    this.pendingState = undefined;
    this.producerEpoch = fence.producerEpoch;
    this.lastProducerEpoch = NO_PRODUCER_EPOCH;
  }

  private prepareTransitionTo(
    newState: TransactionState,
    newProducerId: number,
    newEpoch: number,
    newLastEpoch: number,
    newTxnTimeoutMs: number,
    newTopicPartitions: ReadonlyMap<string, TopicPartition>,
    newTxnStartTimestamp: number,
    updateTimestamp: number,
    v2: { readonly nextProducerId: number; readonly clientTransactionVersion: number } = { nextProducerId: NO_PRODUCER_ID, clientTransactionVersion: 0 },
  ): TxnTransitMetadata {
    if (this.pendingState !== undefined) throw new TransactionStateError(`${this.transactionalId}: preparing a transition to ${newState} while one to ${this.pendingState} is pending`);
    if (newProducerId < 0) throw new TransactionStateError(`${this.transactionalId}: illegal new producer id ${newProducerId}`);
    if (newState !== 'Dead' && newEpoch < 0) throw new TransactionStateError(`${this.transactionalId}: illegal new producer epoch ${newEpoch}`);
    if (!isValidTransition(this.state, newState)) throw new TransactionStateError(`${this.transactionalId}: no transition from ${this.state} to ${newState}`);
    this.pendingState = newState;
    return {
      producerId: newProducerId,
      lastProducerId: this.producerId,
      nextProducerId: v2.nextProducerId,
      producerEpoch: newEpoch,
      lastProducerEpoch: newLastEpoch,
      txnTimeoutMs: newTxnTimeoutMs,
      txnState: newState,
      topicPartitions: new Map(newTopicPartitions),
      txnStartTimestamp: newTxnStartTimestamp,
      txnLastUpdateTimestamp: updateTimestamp,
      clientTransactionVersion: v2.clientTransactionVersion,
    };
  }

  /**
   * The transition keeps the producer (Kafka's validProducerEpoch): its epoch and id are the current ones;
   * with transaction version 2 a Prepare is checked by its last epoch (it bumped), and a Complete that moved to
   * a new producer id at epoch 0 by its last producer id and epoch.
   */
  private validProducerEpoch(t: TxnTransitMetadata): boolean {
    const v2 = t.clientTransactionVersion >= TRANSACTION_VERSION_2;
    const overflowComplete = v2 && (t.txnState === 'CompleteCommit' || t.txnState === 'CompleteAbort') && t.producerEpoch === 0 && t.producerId !== t.lastProducerId;
    const epoch = overflowComplete || (v2 && (t.txnState === 'PrepareCommit' || t.txnState === 'PrepareAbort')) ? t.lastProducerEpoch : t.producerEpoch;
    const producerId = overflowComplete ? t.lastProducerId : t.producerId;
    return epoch === this.producerEpoch && producerId === this.producerId;
  }

  private validProducerEpochBump(t: TxnTransitMetadata): boolean {
    return t.producerEpoch === this.producerEpoch + 1 || (t.producerEpoch === 0 && t.producerId !== this.producerId);
  }

  private failTransition(t: TxnTransitMetadata): never {
    throw new TransactionStateError(`${this.transactionalId} (${this.state}, producer ${this.producerId} epoch ${this.producerEpoch}) cannot complete the transition to ${t.txnState} (producer ${t.producerId} epoch ${t.producerEpoch})`);
  }
}

function isSubset(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  for (const key of a.keys()) if (!b.has(key)) return false;
  return true;
}

function sameKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  return a.size === b.size && isSubset(a, b);
}
