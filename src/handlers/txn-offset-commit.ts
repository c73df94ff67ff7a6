/**
 * TxnOffsetCommit: v0-5.
 * Behavior: the offsets are written to the group's `__consumer_offsets`
 * partition as OffsetCommit records in the producer's transactional batch.
 * They stay invisible to OffsetFetch (require_stable answers
 * UNSTABLE_OFFSET_COMMIT) until the transaction's COMMIT marker applies
 * them; its ABORT drops them.
 * The group's partition must be in the producer's transaction (added by
 * AddOffsetsToTxn): after the group id and partition checks, the
 * coordinator verifies it as Kafka's handleTxnCommitOffsets does (the
 * verify-only AddPartitionsToTxn of KIP-890, mapped as Kafka's
 * AddPartitionsToTxnManager maps it): a partition not in the transaction
 * TRANSACTION_ABORTABLE (v4+) or INVALID_TXN_STATE (v0-3); a fenced epoch
 * INVALID_PRODUCER_EPOCH; another producer id (or an unknown transactional
 * id) INVALID_PRODUCER_ID_MAPPING; a transaction being committed or aborted
 * CONCURRENT_TRANSACTIONS; an empty transactional id INVALID_REQUEST.
 * Errors per partition: the group's (INVALID_GROUP_ID,
 * COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID), the
 * verification's, OFFSET_METADATA_TOO_LARGE, or the write's as OffsetCommit
 * maps it.
 * Authorization (an authorizer's, as Kafka's KafkaApis, first): WRITE on the
 * transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every
 * partition; READ on the group, else GROUP_AUTHORIZATION_FAILED on every
 * partition; READ on each topic, else TOPIC_AUTHORIZATION_FAILED on its
 * partitions (the others are committed; none left: nothing is verified).
 * Version notes: v0-1 get COORDINATOR_NOT_AVAILABLE for
 * COORDINATOR_LOAD_IN_PROGRESS (as Kafka, for pre-2.0 clients); v2+ carry
 * the committed leader epoch; v3+ are flexible and carry generation id,
 * member id and group instance id, checked as OffsetCommit checks them
 * (older versions: no member checks; a consumer group's member as OffsetCommit
 * checks it, with ILLEGAL_GENERATION for STALE_MEMBER_EPOCH, as Kafka 4.3);
 * v4 may get TRANSACTION_ABORTABLE.
 * v5 is v4 on the wire and a transaction version 2 client (KIP-890 part 2,
 * as Kafka decides by the request version): with transaction.version 2
 * finalized (src/features.ts) the group's offsets partition is added to the
 * transaction in place of the verification (the coordinator's addPartitions
 * with client transaction version 2, as Kafka's AddPartitionsToTxn v5 from
 * the group coordinator), so no AddOffsetsToTxn is needed; its errors are
 * mapped as the verification's, and a transaction still completing or a
 * transaction coordinator not available answers COORDINATOR_NOT_AVAILABLE,
 * which clients retry (as Kafka's leader turns them into NOT_ENOUGH_REPLICAS
 * and its group coordinator that into COORDINATOR_NOT_AVAILABLE). Below
 * level 2, v5 is served as v4.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { TRANSACTION_VERSION_2 } from '../coordinator/transaction/transaction-metadata.js';
import { finalizedTransactionVersion } from '../features.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** The first version of transaction version 2 clients, whose commit adds the offsets partition (KIP-890 part 2). */
const TRANSACTION_V2_VERSION = 5;

export const txnOffsetCommitHandler = defineHandler({
  api: apiByKey(ApiKey.TxnOffsetCommit)!,
  request: schemas.txnOffsetCommitRequest,
  response: schemas.txnOffsetCommitResponse,
  async handle(ctx, req) {
    const { groups, transactions } = ctx.services;
    const refuseAll = (errorCode: number) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    });
    if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) return refuseAll(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return refuseAll(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const readable = authorizedNames(ctx, 'READ', 'TOPIC', req.topics.map((t) => t.name));
    if (req.topics.length > 0 && readable.size === 0) return refuseAll(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const offsets = req.topics.filter((t) => readable.has(t.name)).flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: Number(p.committedOffset),
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata,
        commitTimestamp: -1,
      })),
    );
    const producerId = Number(req.producerId);
    const addsPartition = ctx.version >= TRANSACTION_V2_VERSION && finalizedTransactionVersion(ctx.services.config) >= TRANSACTION_VERSION_2;
    const verifyTransaction = async (): Promise<number> => {
      const producer = { transactionalId: req.transactionalId, producerId, producerEpoch: req.producerEpoch };
      const offsetsPartition = { topic: groups.offsetsTopic.name, partition: groups.partitionFor(req.groupId) };
      if (addsPartition) return addError(await transactions.addPartitions(producer, [offsetsPartition], TRANSACTION_VERSION_2));
      return verificationError(transactions.verifyPartitions(producer, [offsetsPartition])[0] ?? ErrorCode.UNKNOWN_SERVER_ERROR, ctx.version);
    };
    const committed = await groups.commitTransactionalOffsets({
      groupId: req.groupId,
      producerId,
      producerEpoch: req.producerEpoch,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      offsets,
      verifyTransaction,
    });
    // clients before 2.0 may fail on COORDINATOR_LOAD_IN_PROGRESS here (KAFKA-7296)
    const codes = ctx.version < 2 ? committed.map((code) => (code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? ErrorCode.COORDINATOR_NOT_AVAILABLE : code)) : committed;
    let i = 0;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: readable.has(t.name) ? (codes[i++] ?? ErrorCode.UNKNOWN_SERVER_ERROR) : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        })),
      })),
    };
  },
});

/**
 * The coordinator's verification answer as the offset commit reports it (Kafka's AddPartitionsToTxnManager
 * with the request's version: TRANSACTION_ABORTABLE only from v4, KIP-890; PRODUCER_FENCED as
 * INVALID_PRODUCER_EPOCH, which producers expect here).
 */
function verificationError(errorCode: number, version: number): number {
  if (errorCode === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
  if (errorCode === ErrorCode.TRANSACTION_ABORTABLE && version < 4) return ErrorCode.INVALID_TXN_STATE;
  return errorCode;
}

/** The coordinator's answer to a transaction version 2 commit's add (v5+), as the offset commit reports it. */
function addError(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    default:
      return verificationError(errorCode, TRANSACTION_V2_VERSION);
  }
}
