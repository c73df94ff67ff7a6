/**
 * ListTransactions: v0-2.
 * Behavior: every transactional id the coordinator holds (every served
 * `__transaction_state` partition), with its producer id and state name,
 * filtered (Kafka's TransactionStateManager.listTransactionStates): by state
 * (names Kafka does not know come back in unknown_state_filters and match
 * nothing), by producer id, and (v1) by duration: only transactions running
 * strictly longer than duration_filter ms (now - start > filter, as Kafka;
 * -1: no filter), and (v2) by transactional id pattern: only ids the regular
 * expression matches whole (null or empty: no filter). Empty filters match all.
 * Errors: COORDINATOR_LOAD_IN_PROGRESS while any partition loads (no ids
 * listed), COORDINATOR_NOT_AVAILABLE after close, INVALID_REGULAR_EXPRESSION
 * for a pattern that does not compile (nothing listed; Kafka throws
 * InvalidRegularExpression, which becomes the response's error code).
 * Authorization (an authorizer's, as Kafka's KafkaApis): only the
 * transactional ids the session may DESCRIBE are listed.
 * Version notes: v1 adds duration_filter (KIP-994); v2 (Kafka 4.1) adds
 * transactional_id_pattern (KIP-1152).
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const listTransactionsHandler = defineHandler({
  api: apiByKey(ApiKey.ListTransactions)!,
  request: schemas.listTransactionsRequest,
  response: schemas.listTransactionsResponse,
  handle(ctx, req) {
    const transactions = ctx.services.transactions;
    const listed = transactions.listTransactions({
      states: req.stateFilters,
      producerIds: req.producerIdFilters.map(Number),
      durationMs: Number(req.durationFilter),
      transactionalIdPattern: req.transactionalIdPattern,
    });
    return {
      throttleTimeMs: 0,
      errorCode: listed.errorCode,
      unknownStateFilters: listed.unknownStates,
      transactionStates: listed.transactions.filter((t) => authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', t.transactionalId)).map((t) => ({ transactionalId: t.transactionalId, producerId: BigInt(t.producerId), transactionState: t.state })),
    };
  },
});
