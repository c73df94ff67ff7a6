/**
 * TxnOffsetCommit: v0-4.
 * Behavior: the offsets are written to the group's `__consumer_offsets`
 * partition as OffsetCommit records in the producer's transactional batch
 * (that partition must be in the producer's ongoing transaction, added by
 * AddOffsetsToTxn: else INVALID_TXN_STATE, the KIP-890 check). They stay
 * invisible to OffsetFetch (require_stable answers UNSTABLE_OFFSET_COMMIT)
 * until the transaction's COMMIT marker applies them; its ABORT drops them.
 * Errors per partition: the group's (INVALID_GROUP_ID,
 * COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID),
 * OFFSET_METADATA_TOO_LARGE, or the write's as OffsetCommit maps it.
 * Version notes: v2+ carry the committed leader epoch; v3+ are flexible and
 * carry generation id, member id and group instance id, checked as
 * OffsetCommit checks them (older versions: no member checks).
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
    let codes: number[];
    if (req.groupId !== '' && !transactions.verifyTransaction({ topic: groups.offsetsTopic.name, partition: groups.partitionFor(req.groupId) }, producerId, req.producerEpoch)) {
      codes = offsets.map(() => ErrorCode.INVALID_TXN_STATE);
    } else {
      codes = await groups.commitTransactionalOffsets({
        groupId: req.groupId,
        producerId,
        producerEpoch: req.producerEpoch,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: req.groupInstanceId,
        offsets,
      });
    }
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
