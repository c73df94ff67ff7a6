/**
 * InitProducerId: v0-5.
 * Behavior: without a transactional id (idempotent producers) every request
 * gets a new producer id with epoch 0 — what Kafka 3.9's transaction
 * coordinator does for a null transactional id ("blindly accept"): it never
 * bumps the epoch of a producer id a v3+ request names (KIP-360 epoch bumps
 * are done by idempotent clients themselves, or they ask for a new id, which
 * is what they get here). Producer ids come from blocks reserved durably in
 * the log dir (src/produce/producer-ids.ts) and never repeat, across restarts
 * and crashes. A request naming exactly one of producer_id/producer_epoch
 * (the other -1) gets INVALID_REQUEST, as Kafka's KafkaApis checks before the
 * coordinator. With a transactional id the transaction coordinator answers
 * (coordinator/transaction/transaction-coordinator.ts: epoch bumps, KIP-360's
 * expected producer id and epoch, fencing and aborting an ongoing
 * transaction with CONCURRENT_TRANSACTIONS for the client to retry,
 * INVALID_TRANSACTION_TIMEOUT, an empty id INVALID_REQUEST,
 * COORDINATOR_LOAD_IN_PROGRESS). A producer id block
 * that cannot be reserved (disk failure) gets COORDINATOR_LOAD_IN_PROGRESS,
 * Kafka's retriable answer when no id block is available. Errors carry
 * producer id -1 and epoch -1.
 * Authorization (an authorizer's, as Kafka's KafkaApis, before anything
 * else): a transactional id needs WRITE on it (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an idempotent producer needs
 * IDEMPOTENT_WRITE on the cluster or WRITE on some topic (Kafka's
 * authorizeByResourceType), else CLUSTER_AUTHORIZATION_FAILED.
 * Version notes: v1 same as v0; v2+ flexible; v3+ producer_id and
 * producer_epoch; v4 allows PRODUCER_FENCED (v0-3 get INVALID_PRODUCER_EPOCH
 * instead, KIP-588) and v5 TRANSACTION_ABORTABLE (Kafka 3.9 never sends it
 * here: only verification answers it, KIP-890 part 2 comes later; neither
 * does Gregor).
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { authorize, authorizeByResourceType, authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';
import { fencedForVersion } from './txn-errors.js';

type Request = MessageValue<typeof schemas.initProducerIdRequest>;
type Response = MessageInput<typeof schemas.initProducerIdResponse>;

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

function error(errorCode: number): Response {
  return { throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

export const initProducerIdHandler = defineHandler({
  api: apiByKey(ApiKey.InitProducerId)!,
  request: schemas.initProducerIdRequest,
  response: schemas.initProducerIdResponse,
  async handle(ctx, req: Request): Promise<Response> {
    const services = ctx.services;
    if (req.transactionalId !== null) {
      if (!authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', req.transactionalId)) return error(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    } else if (!authorizeCluster(ctx, 'IDEMPOTENT_WRITE', false) && !authorizeByResourceType(ctx, 'WRITE', 'TOPIC')) {
      return error(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    if ((req.producerId === NO_PRODUCER_ID) !== (req.producerEpoch === NO_PRODUCER_EPOCH)) return error(ErrorCode.INVALID_REQUEST);
    const transactions = services.transactions;
    if (req.transactionalId !== null) {
      const expected = req.producerId === NO_PRODUCER_ID ? undefined : { producerId: Number(req.producerId), producerEpoch: req.producerEpoch };
      let r;
      try {
        r = await transactions.initProducerId({ transactionalId: req.transactionalId, transactionTimeoutMs: req.transactionTimeoutMs, ...(expected === undefined ? {} : { expected }) });
      } catch (err) {
        services.logger.error({ err }, 'InitProducerId: cannot reserve a producer id block');
        return error(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      }
      if (r.errorCode !== ErrorCode.NONE) return error(fencedForVersion(r.errorCode, ctx.version, 4));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(r.producerId), producerEpoch: r.producerEpoch };
    }
    let producerId: number;
    try {
      producerId = await services.producerIds.nextId();
    } catch (err) {
      services.logger.error({ err }, 'InitProducerId: cannot reserve a producer id block');
      return error(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(producerId), producerEpoch: 0 };
  },
});
