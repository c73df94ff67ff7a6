/**
 * The transaction coordinator's one door to the partitions of a transaction
 * (Kafka's TransactionMarkerChannelManager sends WriteTxnMarkers to each
 * partition's leader; on one node the broker appends them itself): "write the
 * COMMIT (or ABORT) marker of this producer to these partitions".
 *
 * The log side implements it (an append of a control batch per partition:
 * producer id and epoch, the control record COMMIT or ABORT with the
 * coordinator epoch, as WriteTxnMarkers would; the partition's producer state
 * ends the producer's transaction, the LSO moves, an ABORT goes to the
 * aborted-transaction index). For `__consumer_offsets` partitions the group
 * coordinator applies (COMMIT) or drops (ABORT) the transaction's pending
 * offsets as well.
 *
 * The answer is an error code per partition, as WriteTxnMarkers answers:
 * NONE: written (durably when the log flushes on acks=all); a partition whose
 * topic is gone answers UNKNOWN_TOPIC_OR_PARTITION and the coordinator drops it
 * from the transaction (Kafka does); any other code is retried after a
 * backoff until the marker is written or the coordinator unloads (a restart
 * resumes from the PrepareCommit/PrepareAbort record). Writing a marker twice
 * must be harmless: a retry after a crash may do it.
 */
import type { TopicPartition } from './transaction-metadata.js';

export type TransactionResult = 'commit' | 'abort';

export interface TransactionMarkers {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** The epoch of the coordinator that writes them (the `__transaction_state` partition's leader epoch). */
  readonly coordinatorEpoch: number;
  readonly result: TransactionResult;
  readonly partitions: readonly TopicPartition[];
}

export interface MarkerWriteResult extends TopicPartition {
  readonly errorCode: number;
}

export interface TransactionMarkerWriter {
  /** Writes the markers, one per partition; never rejects: a failure is the partition's error code. */
  writeMarkers(markers: TransactionMarkers): Promise<readonly MarkerWriteResult[]>;
}
