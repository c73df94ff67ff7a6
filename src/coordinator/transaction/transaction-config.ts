/**
 * Every broker setting the transaction coordinator reads, in one place (Kafka's
 * TransactionConfig): timeouts, expiration, the intervals of its periodic
 * tasks, whether its writes wait for fdatasync, and how `__transaction_state`
 * is created. Read once at start, except the topic's settings, read when it is
 * created.
 */

/** The typed getters of the broker configuration the coordinator uses (BrokerConfig has them). */
export interface TransactionConfigView {
  int(name: string): number;
  bool(name: string): boolean;
}

export interface TransactionConfig {
  /** transaction.max.timeout.ms: a larger transaction.timeout.ms gets INVALID_TRANSACTION_TIMEOUT. */
  readonly maxTimeoutMs: number;
  /** transactional.id.expiration.ms: an id without a transaction update for this long is removed. */
  readonly transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly abortTimedOutTransactionsIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  readonly removeExpiredTransactionalIdsIntervalMs: number;
  /** gregor.flush.acks.all: transaction records are answered after fdatasync (Kafka writes them with acks=-1). */
  readonly syncWrites: boolean;
  /** Delay before markers that failed with a retriable error are written again. */
  readonly markerRetryBackoffMs: number;
}

/** Kafka's defaults (and Gregor's flush default). */
export const DEFAULT_TRANSACTION_CONFIG: TransactionConfig = {
  maxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortTimedOutTransactionsIntervalMs: 10_000,
  removeExpiredTransactionalIdsIntervalMs: 3_600_000,
  syncWrites: true,
  markerRetryBackoffMs: 100,
};

export function transactionConfigOf(config: TransactionConfigView): TransactionConfig {
  return {
    maxTimeoutMs: config.int('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: config.int('transactional.id.expiration.ms'),
    abortTimedOutTransactionsIntervalMs: config.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    removeExpiredTransactionalIdsIntervalMs: config.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
    syncWrites: config.bool('gregor.flush.acks.all'),
    markerRetryBackoffMs: DEFAULT_TRANSACTION_CONFIG.markerRetryBackoffMs,
  };
}
