/**
 * AddPartitionsToTxn: v0-3.
 * Behavior: the client form: the partitions join the producer's transaction,
 * which becomes Ongoing; from then on the producer's transactional batches
 * are accepted on them (KIP-890 part 1). A partition this broker does not
 * have answers UNKNOWN_TOPIC_OR_PARTITION and every other partition of the
 * request OPERATION_NOT_ATTEMPTED, nothing added (as Kafka); otherwise the
 * coordinator's answer (NONE, INVALID_PRODUCER_ID_MAPPING,
 * CONCURRENT_TRANSACTIONS, INVALID_TXN_STATE, COORDINATOR_LOAD_IN_PROGRESS,
 * ...) is every partition's.
 * Version notes: v0-1 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED; v3
 * flexible. v4-5 (the brokers' batched and verify-only form) are not served
 * yet.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';
import { fencedForVersion } from './txn-errors.js';

export const addPartitionsToTxnHandler = defineHandler({
  api: apiByKey(ApiKey.AddPartitionsToTxn)!,
  request: schemas.addPartitionsToTxnRequest,
  response: schemas.addPartitionsToTxnResponse,
  maxVersion: 3,
  async handle(ctx, req) {
    const { transactions, topics } = ctx.services;
    const requested = req.v3AndBelowTopics;
    const answer = (codeOf: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: requested.map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: codeOf(t.name, p) })),
      })),
    });
    const unknown = (topic: string, partition: number): boolean => topics.partition(topic, partition) === undefined;
    if (requested.some((t) => t.partitions.some((p) => unknown(t.name, p)))) {
      return answer((topic, partition) => (unknown(topic, partition) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
    }
    const errorCode = await transactions.addPartitions(
      { transactionalId: req.v3AndBelowTransactionalId, producerId: Number(req.v3AndBelowProducerId), producerEpoch: req.v3AndBelowProducerEpoch },
      requested.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition }))),
    );
    const code = fencedForVersion(errorCode, ctx.version, 2);
    return answer(() => code);
  },
});
