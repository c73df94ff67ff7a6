/**
 * AddOffsetsToTxn: v0-4.
 * Behavior: the `__consumer_offsets` partition of the group joins the
 * producer's transaction (which becomes Ongoing), so that its end writes a
 * marker there too; the offsets themselves come with TxnOffsetCommit. Errors as AddPartitionsToTxn's (INVALID_PRODUCER_ID_MAPPING,
 * CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, ...).
 * Authorization (an authorizer's, as Kafka's KafkaApis): WRITE on the
 * transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then READ on
 * the group (else GROUP_AUTHORIZATION_FAILED).
 * Version notes: v0-1 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED; v3+
 * flexible; v4 may get TRANSACTION_ABORTABLE (Kafka 3.9 never sends it here: only
 * verification answers it, KIP-890 part 2 comes later; neither does Gregor).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';
import { fencedForVersion } from './txn-errors.js';

export const addOffsetsToTxnHandler = defineHandler({
  api: apiByKey(ApiKey.AddOffsetsToTxn)!,
  request: schemas.addOffsetsToTxnRequest,
  response: schemas.addOffsetsToTxnResponse,
  async handle(ctx, req) {
    const transactions = ctx.services.transactions;
    if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!authorize(ctx, 'READ', 'GROUP', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = await transactions.addOffsets({ transactionalId: req.transactionalId, producerId: Number(req.producerId), producerEpoch: req.producerEpoch }, req.groupId);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, ctx.version, 2) };
  },
});
