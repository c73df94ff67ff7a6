/**
 * DescribeTransactions: v0.
 * Behavior: for each transactional id, the coordinator's metadata as it is
 * now (Kafka's TransactionCoordinator.handleDescribeTransactions): state name
 * ("Ongoing", "PrepareCommit", ...), timeout, start time, producer id and
 * epoch, and the partitions of the transaction grouped by topic. While a
 * transaction is being committed or aborted (PrepareCommit/PrepareAbort)
 * these are the partitions still waiting for their marker: each leaves the
 * list once its marker is written (Kafka's TransactionMetadata.removePartition);
 * complete, the list is empty.
 * Errors per id (the other fields then keep the schema's defaults, 0 and
 * "", as Kafka leaves them): TRANSACTIONAL_ID_NOT_FOUND for an unknown (or Dead) id,
 * COORDINATOR_LOAD_IN_PROGRESS while its `__transaction_state` partition
 * loads, COORDINATOR_NOT_AVAILABLE after close.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on each
 * transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for it; the
 * partitions of topics the session may not DESCRIBE are left out.
 * Version notes: v0 only, flexible.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const describeTransactionsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeTransactions)!,
  request: schemas.describeTransactionsRequest,
  response: schemas.describeTransactionsResponse,
  handle(ctx, req) {
    const transactions = ctx.services.transactions;
    const none = (transactionalId: string, errorCode: number) => ({
      errorCode,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0n,
      producerId: 0n,
      producerEpoch: 0,
      topics: [],
    });
    const transactionStates = req.transactionalIds.map((id) => {
      if (!authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', id)) return none(id, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      const error = transactions.unavailable(id);
      if (error !== undefined) return none(id, error);
      const m = transactions.metadata(id);
      if (m === undefined || m.state === 'Dead') return none(id, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      const byTopic = new Map<string, number[]>();
      for (const tp of m.topicPartitions.values()) {
        let partitions = byTopic.get(tp.topic);
        if (!partitions) byTopic.set(tp.topic, (partitions = []));
        partitions.push(tp.partition);
      }
      return {
        errorCode: ErrorCode.NONE,
        transactionalId: id,
        transactionState: m.state,
        transactionTimeoutMs: m.txnTimeoutMs,
        transactionStartTimeMs: BigInt(m.txnStartTimestamp),
        producerId: BigInt(m.producerId),
        producerEpoch: m.producerEpoch,
        topics: [...byTopic].filter(([topic]) => authorize(ctx, 'DESCRIBE', 'TOPIC', topic)).map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
      };
    });
    return { throttleTimeMs: 0, transactionStates };
  },
});
