/**
 * The transaction coordinator's record as its shard knows it, and its serde
 * to the bytes of `__transaction_state` (transaction-log.ts has the layout):
 * one record per transactional id, key the id, value the whole state after a
 * transition (Kafka's TxnTransitMetadata), or null (the tombstone of an
 * expired id). Every record sets its key's whole state, so loading may keep
 * the latest record of each key only.
 *
 * The value's partitions are grouped by topic, in the order the transaction
 * added them; an Empty transaction writes them as null, as Kafka. Version 0
 * has no last producer id or epoch: a loaded transaction has none (-1), as in
 * Kafka 3.9. A transition of a transaction version 2 client is written as
 * version 1 (the flexible value, which Kafka 4 writes once transaction.version
 * 1+ is finalized), with its client transaction version and its previous and
 * next producer ids in the tagged fields, so a restart between a Prepare that
 * overflowed the epoch and its Complete still moves to the new producer id;
 * the others as version 0, as before.
 */
import type { RecordSerde } from '../coordinator-shard.js';
import type { InternalRecord } from '../internal-topic.js';
import { parseTransactionLogKey, parseTransactionLogValue, transactionLogKey, transactionLogValue, type TransactionLogPartitions } from './transaction-log.js';
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TRANSACTION_VERSION_2, TransactionMetadata, topicPartitionKey, type TopicPartition, type TxnTransitMetadata } from './transaction-metadata.js';
import { transactionStateId, transactionStateOf } from './transaction-state.js';

export interface TransactionLogRecord {
  readonly transactionalId: string;
  /** null: the tombstone of the transactional id. */
  readonly value: TxnTransitMetadata | null;
}

function partitionsByTopic(partitions: ReadonlyMap<string, TopicPartition>): TransactionLogPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions.values()) {
    let ids = byTopic.get(topic);
    if (!ids) byTopic.set(topic, (ids = []));
    ids.push(partition);
  }
  return [...byTopic].map(([topic, partitionIds]) => ({ topic, partitionIds }));
}

export const transactionRecordSerde: RecordSerde<TransactionLogRecord> = {
  serialize({ transactionalId, value }: TransactionLogRecord): InternalRecord {
    if (value === null) return { key: transactionLogKey(transactionalId), value: null };
    if (value.txnState === 'Empty' && value.topicPartitions.size > 0) throw new Error(`an Empty transaction ${transactionalId} with partitions`);
    const v2 = value.clientTransactionVersion >= TRANSACTION_VERSION_2;
    return {
      key: transactionLogKey(transactionalId),
      value: transactionLogValue({
        producerId: value.producerId,
        previousProducerId: v2 ? value.lastProducerId : NO_PRODUCER_ID,
        nextProducerId: v2 ? value.nextProducerId : NO_PRODUCER_ID,
        producerEpoch: value.producerEpoch,
        transactionTimeoutMs: value.txnTimeoutMs,
        transactionStatus: transactionStateId(value.txnState),
        transactionPartitions: value.txnState === 'Empty' ? null : partitionsByTopic(value.topicPartitions),
        transactionLastUpdateTimestampMs: value.txnLastUpdateTimestamp,
        transactionStartTimestampMs: value.txnStartTimestamp,
        clientTransactionVersion: v2 ? value.clientTransactionVersion : 0,
      }, v2 ? 1 : 0),
    };
  },

  deserialize({ key, value }: InternalRecord): TransactionLogRecord | undefined {
    const k = parseTransactionLogKey(key);
    if (k.kind === 'unknown') return undefined;
    if (value === null) return { transactionalId: k.transactionalId, value: null };
    const v = parseTransactionLogValue(value);
    const txnState = transactionStateOf(v.transactionStatus);
    const topicPartitions = new Map<string, TopicPartition>();
    if (txnState !== 'Empty') {
      for (const { topic, partitionIds } of v.transactionPartitions ?? []) {
        for (const partition of partitionIds) topicPartitions.set(topicPartitionKey({ topic, partition }), { topic, partition });
      }
    }
    return {
      transactionalId: k.transactionalId,
      value: {
        producerId: v.producerId,
        lastProducerId: v.previousProducerId,
        nextProducerId: v.nextProducerId,
        producerEpoch: v.producerEpoch,
        lastProducerEpoch: NO_PRODUCER_EPOCH,
        txnTimeoutMs: v.transactionTimeoutMs,
        txnState,
        topicPartitions,
        txnStartTimestamp: v.transactionStartTimestampMs,
        txnLastUpdateTimestamp: v.transactionLastUpdateTimestampMs,
        clientTransactionVersion: v.clientTransactionVersion,
      },
    };
  },
};

/** The metadata a loaded record describes. */
export function metadataOf(transactionalId: string, v: TxnTransitMetadata): TransactionMetadata {
  return new TransactionMetadata({
    transactionalId,
    producerId: v.producerId,
    lastProducerId: v.lastProducerId,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: v.lastProducerEpoch,
    txnTimeoutMs: v.txnTimeoutMs,
    state: v.txnState,
    topicPartitions: v.topicPartitions.values(),
    txnStartTimestamp: v.txnStartTimestamp,
    txnLastUpdateTimestamp: v.txnLastUpdateTimestamp,
    nextProducerId: v.nextProducerId,
    clientTransactionVersion: v.clientTransactionVersion,
  });
}
