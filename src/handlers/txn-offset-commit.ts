/**
 * TxnOffsetCommit: v0-4.
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
 * Version notes: v0-1 get COORDINATOR_NOT_AVAILABLE for
 * COORDINATOR_LOAD_IN_PROGRESS (as Kafka, for pre-2.0 clients); v2+ carry
 * the committed leader epoch; v3+ are flexible and carry generation id,
 * member id and group instance id, checked as OffsetCommit checks them
 * (older versions: no member checks); v4 may get TRANSACTION_ABORTABLE.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const txnOffsetCommitHandler = defineHandler({
  api: apiByKey(ApiKey.TxnOffsetCommit)!,
  request: schemas.txnOffsetCommitRequest,
  response: schemas.txnOffsetCommitResponse,
  async handle(ctx, req) {
    const { groups, transactions } = ctx.services;
    const offsets = req.topics.flatMap((t) =>
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
    const verifyTransaction = (): number => {
      const producer = { transactionalId: req.transactionalId, producerId, producerEpoch: req.producerEpoch };
      const offsetsPartition = { topic: groups.offsetsTopic.name, partition: groups.partitionFor(req.groupId) };
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
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes[i++] ?? ErrorCode.UNKNOWN_SERVER_ERROR })),
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
