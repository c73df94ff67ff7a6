/**
 * The broker's TransactionMarkerWriter (transaction-marker-writer.ts): on one
 * node the coordinator appends the markers itself, through the producer state
 * (ProducerStateManager.appendTxnMarker), which is what a partition leader
 * does on WriteTxnMarkers in Kafka.
 *
 * - Each partition's marker is appended on its own (they run concurrently):
 *   one failing partition does not hold the others back.
 * - Answers, per partition: NONE once the marker is in the log (after its
 *   fdatasync when `syncWrites`); UNKNOWN_TOPIC_OR_PARTITION for a partition
 *   this broker no longer has (its topic was deleted: the coordinator drops
 *   it); the producer state's refusals as they are (INVALID_PRODUCER_EPOCH,
 *   TRANSACTION_COORDINATOR_FENCED); a storage failure KAFKA_STORAGE_ERROR;
 *   never a rejection.
 * - `__consumer_offsets` partitions get their marker like any other; the
 *   transaction's pending offsets (TxnOffsetCommit) are then applied or
 *   dropped by the group coordinator through `offsetsCompleted`.
 */
import { ErrorCode } from '../../../protocol/index.js';
import type { PartitionLog } from '../../../storage/index.js';
import { errorCodeOf } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { TxnMarker, TxnMarkerAppendInfo, TxnMarkerAppendOptions } from '../../produce/producer-state-manager.js';
import type { MarkerWriteResult, TransactionMarkers, TransactionMarkerWriter } from './transaction-marker-writer.js';
import type { TopicPartition } from './transaction-metadata.js';

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

/** What the writer uses of the broker. */
export interface LogMarkerWriterDeps {
  /** The partition as this broker serves it, or undefined when it has none. */
  partition(topic: string, partition: number): { readonly log: PartitionLog; readonly leaderEpoch: number } | undefined;
  /** The producer state's marker append (ProducerStateManager). */
  readonly producerStates: { appendTxnMarker(log: PartitionLog, marker: TxnMarker, opts: TxnMarkerAppendOptions): Promise<TxnMarkerAppendInfo> };
  /** Whether a marker is answered only after its fdatasync (gregor.flush.acks.all). */
  readonly syncWrites: boolean;
  readonly logger: Logger;
  /**
   * The group coordinator's side of a marker on a `__consumer_offsets` partition: the producer's pending
   * transactional offsets of that partition are applied (commit) or dropped (abort). Absent: none are kept.
   */
  offsetsCompleted?(partition: number, producerId: number, commit: boolean): Promise<void> | void;
}

export class LogMarkerWriter implements TransactionMarkerWriter {
  constructor(private readonly deps: LogMarkerWriterDeps) {}

  writeMarkers(markers: TransactionMarkers): Promise<readonly MarkerWriteResult[]> {
    return Promise.all(markers.partitions.map((tp) => this.writeOne(markers, tp)));
  }

  private async writeOne(markers: TransactionMarkers, tp: TopicPartition): Promise<MarkerWriteResult> {
    const { topic, partition } = tp;
    const served = this.deps.partition(topic, partition);
    if (served === undefined) return { topic, partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    const commit = markers.result === 'commit';
    try {
      await this.deps.producerStates.appendTxnMarker(
        served.log,
        { commit, producerId: markers.producerId, producerEpoch: markers.producerEpoch, coordinatorEpoch: markers.coordinatorEpoch },
        { leaderEpoch: served.leaderEpoch, sync: this.deps.syncWrites },
      );
      if (topic === CONSUMER_OFFSETS_TOPIC) await this.deps.offsetsCompleted?.(partition, markers.producerId, commit);
      return { topic, partition, errorCode: ErrorCode.NONE };
    } catch (err) {
      const errorCode = errorCodeOf(err);
      // a partition deleted while its marker was being written
      const gone = this.deps.partition(topic, partition)?.log !== served.log;
      if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR) this.deps.logger.error({ err, topic, partition }, 'writing a transaction marker failed');
      else this.deps.logger.warn({ topic, partition, error: errorCode, msg: (err as Error).message }, 'transaction marker not written');
      return { topic, partition, errorCode: gone ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : errorCode };
    }
  }
}
