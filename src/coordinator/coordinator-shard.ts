/**
 * What a coordinator implements to run on the coordinator runtime
 * (coordinator-runtime.ts explains the cycle): a shard holding the state of
 * one partition of its internal topic, the translation of its records to and
 * from key/value bytes, and the result of a write. Kafka's names:
 * CoordinatorShard, CoordinatorPlayback.replay, CoordinatorResult, Serde.
 */
import type { CoordinatorTimer } from './coordinator-timer.js';
import type { InternalRecord, TransactionalProducer } from './internal-topic.js';

/** The state machine of one partition of an internal topic. `R` is its record type. */
export interface CoordinatorShard<R> {
  /**
   * Applies one record to the state: while loading, every record of the
   * partition in log order; once loaded, the records of the shard's own
   * writes, once appended (unless the write said replayRecords: false).
   * `offset` is the record's offset in the partition. `openTransaction`
   * (loading only): the record belongs to this producer's transaction, still
   * open at the end of the partition (its marker is yet to come).
   */
  replay(record: R, offset: number, openTransaction?: number): void;
  /** Loading is done (or the partition had nothing to load): start timers, serve. */
  onLoaded(): void;
  /**
   * The shard is unloaded (broker shutdown): answer what is parked, drop the
   * state. Its timers are already cancelled; writes still in flight are
   * answered, but not replayed.
   */
  onUnloaded(): void;
}

/** Records as the shard knows them ⇄ key/value bytes in the topic. */
export interface RecordSerde<R> {
  serialize(record: R): InternalRecord;
  /**
   * The record, or undefined for a kind this coordinator does not know (it
   * is skipped, as Kafka skips record types of newer versions). Throws for
   * bytes that do not decode (the loader logs and skips the record). The
   * bytes may lie in a read buffer the log reuses: copy what is kept.
   */
  deserialize(record: InternalRecord): R | undefined;
}

/** What a write operation computed against the shard's state. */
export interface CoordinatorResult<T, R> {
  /** Appended as one batch; none: answered at once. */
  readonly records: readonly R[];
  /** Handed back with the append's outcome. */
  readonly response: T;
  /**
   * Replay the records into the shard once appended (default true). false:
   * the operation already changed the state they describe (Kafka's classic
   * groups, whose in-memory group is the authority and whose metadata
   * record is a snapshot of it).
   */
  readonly replayRecords?: boolean;
  /** Answer only after fdatasync (the owner's choice, e.g. gregor.flush.acks.all). */
  readonly sync?: boolean;
  /** The producer whose transaction the records belong to: appended as its transactional batch. */
  readonly transaction?: TransactionalProducer;
}

/** A write's outcome: NONE, or the error code of the failed append (then nothing was replayed). */
export interface WriteOutcome<T> {
  readonly errorCode: number;
  readonly response: T;
}

/** What the runtime gives a shard: its partition, its timers, and its door to the log. */
export interface ShardContext<R> {
  readonly partition: number;
  readonly timer: CoordinatorTimer;
  /**
   * Appends the records, replays them (in log order, after every earlier
   * write of this shard) and resolves with the outcome. Never rejects.
   */
  write<T>(result: CoordinatorResult<T, R>): Promise<WriteOutcome<T>>;
}
