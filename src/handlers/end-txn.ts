/**
 * EndTxn: v0-5.
 * Behavior: the transaction coordinator commits or aborts the producer's
 * ongoing transaction: the PrepareCommit/PrepareAbort record is written, the
 * answer sent, then the markers go to every partition of the transaction and
 * the transaction completes (coordinator/transaction/transaction-coordinator.ts
 * has the rules and errors: INVALID_PRODUCER_ID_MAPPING, INVALID_TXN_STATE,
 * CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, ...). A retry of an
 * end already done answers NONE.
 * Authorization (an authorizer's, as Kafka's KafkaApis): WRITE on the
 * transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 * Version notes: v0-1 get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED; v3+
 * flexible; v4 may get TRANSACTION_ABORTABLE (Kafka 3.9 never sends it here: only
 * verification answers it; neither does Gregor). v5 is a transaction version
 * 2 client (KIP-890 part 2, as Kafka decides by the request version): with
 * transaction.version 2 finalized (src/features.ts) the end bumps the epoch
 * (the coordinator's endTxnV2: the markers carry the bumped epoch, an
 * exhausted epoch moves to a new producer id) and the answer carries the
 * producer id and epoch of the client's next transaction; errors answer -1
 * for both. With a lower finalized level (no client sends v5 then) v5 is
 * served as v4, answering -1 and -1.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { TRANSACTION_VERSION_2 } from '../coordinator/transaction/transaction-metadata.js';
import { finalizedTransactionVersion } from '../features.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';
import { fencedForVersion } from './txn-errors.js';

/** The first EndTxn version of transaction version 2 clients. */
const TRANSACTION_V2_VERSION = 5;

export const endTxnHandler = defineHandler({
  api: apiByKey(ApiKey.EndTxn)!,
  request: schemas.endTxnRequest,
  response: schemas.endTxnResponse,
  async handle(ctx, req) {
    const transactions = ctx.services.transactions;
    if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
    const producer = { transactionalId: req.transactionalId, producerId: Number(req.producerId), producerEpoch: req.producerEpoch };
    const result = req.committed ? 'commit' : 'abort';
    if (ctx.version >= TRANSACTION_V2_VERSION && finalizedTransactionVersion(ctx.services.config) >= TRANSACTION_VERSION_2) {
      const next = await transactions.endTxnV2(producer, result);
      const ok = next.errorCode === ErrorCode.NONE;
      return { throttleTimeMs: 0, errorCode: next.errorCode, producerId: BigInt(ok ? next.producerId : -1), producerEpoch: ok ? next.producerEpoch : -1 };
    }
    const errorCode = await transactions.endTxn(producer, result);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, ctx.version, 2) };
  },
});
