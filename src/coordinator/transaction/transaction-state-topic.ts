/**
 * The internal topic `__transaction_state` as the transaction coordinator has
 * it created (src/coordinator/internal-topic.ts does the rest): lazily, on
 * first use (Kafka creates it on the first FindCoordinator for a transactional
 * id; a broker that never sees a transaction never has it), with
 * transaction.state.log.num.partitions partitions (50), replication factor 1
 * (one node; Kafka's default of 3 cannot be met here), cleanup.policy=compact,
 * segment.bytes = transaction.state.log.segment.bytes and
 * compression.type=producer (the runtime writes uncompressed batches, as Kafka
 * enforces for these records).
 *
 * A transactional id lives in partition `abs(javaHashCode(id)) % partitions`,
 * as Kafka's TransactionStateManager.partitionFor.
 */
import { groupPartition } from '../../group/group-partition.js';
import type { Logger } from '../../logger.js';
import { InternalTopic, type InternalTopicHost } from '../internal-topic.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** The settings of the topic, read when it is created. */
export interface TransactionStateTopicSettings {
  /** transaction.state.log.num.partitions */
  partitions(): number;
  /** transaction.state.log.segment.bytes */
  segmentBytes(): number;
}

export function transactionStateTopic(settings: TransactionStateTopicSettings, topics: InternalTopicHost, logger: Logger): InternalTopic {
  return new InternalTopic(
    {
      name: TRANSACTION_STATE_TOPIC,
      partitions: () => settings.partitions(),
      replicationFactor: () => 1,
      configs: () => ({
        'cleanup.policy': 'compact',
        'segment.bytes': String(settings.segmentBytes()),
        'compression.type': 'producer',
      }),
    },
    topics,
    logger,
  );
}

/** The partition of `__transaction_state` that holds a transactional id (the same hash as a group's). */
export function transactionPartition(transactionalId: string, partitionCount: number): number {
  return groupPartition(transactionalId, partitionCount);
}
