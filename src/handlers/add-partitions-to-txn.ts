/**
 * AddPartitionsToTxn: v0-5 (Kafka's KafkaApis.handleAddPartitionsToTxnRequest).
 * Behavior: v0-3 are the client form, one transaction: its partitions join
 * the producer's transaction, which becomes Ongoing; from then on the
 * producer's transactional batches are accepted on them (KIP-890 part 1).
 * v4+ are the brokers' batched form: a list of transactions, each answered
 * on its own under its transactional id (resultsByTransaction), and each
 * either added exactly as the client form adds (verify_only false) or only
 * checked (verify_only true, Kafka's handleVerifyPartitionsInTransaction,
 * nothing changed): NONE for a partition in the producer's transaction,
 * TRANSACTION_ABORTABLE for one that is not, or for every partition
 * INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS
 * (committing or aborting), INVALID_REQUEST (empty id),
 * COORDINATOR_LOAD_IN_PROGRESS.
 * In every version, a transaction naming a partition this broker does not
 * have answers UNKNOWN_TOPIC_OR_PARTITION for it and OPERATION_NOT_ATTEMPTED
 * for its other partitions, nothing added; otherwise the coordinator's
 * answer (NONE, INVALID_PRODUCER_ID_MAPPING, CONCURRENT_TRANSACTIONS,
 * INVALID_TXN_STATE, COORDINATOR_LOAD_IN_PROGRESS, ...) is every partition's.
 * Authorization, as Kafka's KafkaApis: v4+ come from brokers and need
 * CLUSTER_ACTION on the cluster (else the top-level error_code
 * CLUSTER_AUTHORIZATION_FAILED and no results; always allowed without an
 * authorizer). v0-3 come from clients: WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition), and WRITE on
 * each topic, checked before the topics are looked for: a topic not allowed
 * gets TOPIC_AUTHORIZATION_FAILED (and the other partitions
 * OPERATION_NOT_ATTEMPTED); an internal topic (`__consumer_offsets`,
 * `__transaction_state`) is never allowed here, even without an authorizer,
 * as Kafka (AddOffsetsToTxn adds the group's offsets partition).
 * Version notes: v0-1 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED; v3
 * flexible; v4 the batched form with verify_only and the top-level
 * error_code; v5 is v4 for brokers that know TRANSACTION_ABORTABLE (Kafka
 * 3.9 answers it to v4 as well). A v4+ request with no transactions gets an
 * empty result list (Kafka 3.9 never answers one).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { INTERNAL_TOPICS } from '../metadata/topic-names.js';
import { authorize, authorizeCluster, authorizedNames, type AuthContext } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';
import { fencedForVersion } from './txn-errors.js';

interface RequestedTopic {
  readonly name: string;
  readonly partitions: readonly number[];
}

interface RequestedTransaction {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly verifyOnly: boolean;
  readonly topics: readonly RequestedTopic[];
}

/** One transaction's answer: an error code per requested partition, in the request's shape. */
async function answerTransaction(ctx: AuthContext, version: number, txn: RequestedTransaction) {
  const { transactions, topics } = ctx.services;
  const resultOf = (codeOf: (topic: string, partition: number, index: number) => number) => {
    let index = 0;
    return txn.topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: codeOf(t.name, p, index++) })),
    }));
  };
  const fromClient = version < 4;
  if (fromClient && !authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', txn.transactionalId)) return resultOf(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const writable = fromClient ? authorizedNames(ctx, 'WRITE', 'TOPIC', txn.topics.map((t) => t.name).filter((name) => !INTERNAL_TOPICS.has(name))) : undefined;
  const refused = (topic: string): boolean => writable !== undefined && !writable.has(topic);
  const unknown = (topic: string, partition: number): boolean => topics.partition(topic, partition) === undefined;
  if (txn.topics.some((t) => refused(t.name) || t.partitions.some((p) => unknown(t.name, p)))) {
    const codeOf = (topic: string, partition: number): number =>
      refused(topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : unknown(topic, partition) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED;
    return resultOf(codeOf);
  }
  const producer = { transactionalId: txn.transactionalId, producerId: Number(txn.producerId), producerEpoch: txn.producerEpoch };
  const partitions = txn.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  if (txn.verifyOnly) {
    const codes = transactions.verifyPartitions(producer, partitions);
    return resultOf((_topic, _partition, index) => codes[index] ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  }
  const code = fencedForVersion(await transactions.addPartitions(producer, partitions), version, 2);
  return resultOf(() => code);
}

export const addPartitionsToTxnHandler = defineHandler({
  api: apiByKey(ApiKey.AddPartitionsToTxn)!,
  request: schemas.addPartitionsToTxnRequest,
  response: schemas.addPartitionsToTxnResponse,
  async handle(ctx, req) {
    if (ctx.version < 4) {
      const resultsByTopicV3AndBelow = await answerTransaction(ctx, ctx.version, {
        transactionalId: req.v3AndBelowTransactionalId,
        producerId: req.v3AndBelowProducerId,
        producerEpoch: req.v3AndBelowProducerEpoch,
        verifyOnly: false,
        topics: req.v3AndBelowTopics,
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: [], resultsByTopicV3AndBelow };
    }
    if (!authorizeCluster(ctx, 'CLUSTER_ACTION')) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [], resultsByTopicV3AndBelow: [] };
    const resultsByTransaction = await Promise.all(
      req.transactions.map(async (txn) => ({ transactionalId: txn.transactionalId, topicResults: await answerTransaction(ctx, ctx.version, txn) })),
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction, resultsByTopicV3AndBelow: [] };
  },
});
