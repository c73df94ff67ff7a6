/**
 * EndTxn: v0-4.
 * Behavior: the transaction coordinator commits or aborts the producer's
 * ongoing transaction: the PrepareCommit/PrepareAbort record is written, the
 * answer sent, then the markers go to every partition of the transaction and
 * the transaction completes (coordinator/transaction/transaction-coordinator.ts
 * has the rules and errors: INVALID_PRODUCER_ID_MAPPING, INVALID_TXN_STATE,
 * CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, ...). A retry of an
 * end already done answers NONE.
 * Version notes: v0-1 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED; v3+
 * flexible; v4 may get TRANSACTION_ABORTABLE (Kafka 3.9 never sends it here: only
 * verification answers it, KIP-890 part 2 comes later; neither does Gregor).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';
import { fencedForVersion } from './txn-errors.js';

export const endTxnHandler = defineHandler({
  api: apiByKey(ApiKey.EndTxn)!,
  request: schemas.endTxnRequest,
  response: schemas.endTxnResponse,
  async handle(ctx, req) {
    const transactions = ctx.services.transactions;
    const errorCode = await transactions.endTxn(
      { transactionalId: req.transactionalId, producerId: Number(req.producerId), producerEpoch: req.producerEpoch },
      req.committed ? 'commit' : 'abort',
    );
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, ctx.version, 2) };
  },
});
