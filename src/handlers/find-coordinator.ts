/**
 * FindCoordinator: v0-6.
 * Behavior: key type 0 (group): this broker coordinates every group; the
 * answer is its advertised endpoint on the listener the client is connected
 * to (COORDINATOR_NOT_AVAILABLE when that listener is not advertised, as
 * Kafka answers when the coordinator has no endpoint for the listener). The
 * first group lookup creates
 * `__consumer_offsets` (offsets.topic.num.partitions partitions, compacted),
 * as Kafka creates it on demand, but waits for the creation instead of
 * answering COORDINATOR_NOT_AVAILABLE first; a failed creation answers
 * COORDINATOR_NOT_AVAILABLE. Key type 1 (transaction): this broker, the
 * first lookup creating `__transaction_state`
 * (transaction.state.log.num.partitions partitions, compacted) the same way,
 * an empty id INVALID_REQUEST. Key type 2 (share) and unknown key types:
 * INVALID_REQUEST. Errors carry node id -1, host "" and port -1. With an
 * authorizer, a group key needs DESCRIBE on the group
 * (GROUP_AUTHORIZATION_FAILED), a transaction key DESCRIBE on the
 * transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), checked first.
 * Version notes: v0 has no key type (group); v1-3 add the error message
 * ("NONE" on success, as Kafka sends); v4+ take a batch of keys and answer
 * one coordinator entry per key, each with its own error.
 */
import { apiByKey, ApiKey, errorInfo, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize, type AuthContext } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

interface Found {
  readonly errorCode: number;
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

async function findCoordinator(ctx: AuthContext, keyType: number, key: string): Promise<Found> {
  const { services } = ctx;
  const none = (errorCode: number): Found => ({ errorCode, nodeId: -1, host: '', port: -1 });
  // DESCRIBE on the group or the transactional id, before anything else (Kafka's getCoordinator)
  if (keyType === KEY_TYPE_GROUP && !authorize(ctx, 'DESCRIBE', 'GROUP', key)) return none(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (keyType === KEY_TYPE_TRANSACTION && !authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', key)) return none(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  let topic;
  if (keyType === KEY_TYPE_TRANSACTION) {
    if (key === '') return none(ErrorCode.INVALID_REQUEST);
    topic = services.transactions.stateTopic;
  } else if (keyType === KEY_TYPE_GROUP) {
    topic = services.groups.offsetsTopic;
  } else {
    return none(ErrorCode.INVALID_REQUEST);
  }
  try {
    await topic.ensureCreated();
  } catch (err) {
    services.logger.warn({ err, topic: topic.name }, 'cannot create a coordinator topic');
    return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
  const advertised = services.identity.advertisedListener(ctx.session.listenerName);
  if (advertised === undefined) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  return { errorCode: ErrorCode.NONE, nodeId: services.identity.nodeId, host: advertised.host, port: advertised.port };
}

export const findCoordinatorHandler = defineHandler({
  api: apiByKey(ApiKey.FindCoordinator)!,
  request: schemas.findCoordinatorRequest,
  response: schemas.findCoordinatorResponse,
  async handle(ctx, req) {
    const keyType = ctx.version >= 1 ? req.keyType : KEY_TYPE_GROUP;
    if (ctx.version >= 4) {
      const coordinators = [];
      for (const key of req.coordinatorKeys) {
        const found = await findCoordinator(ctx, keyType, key);
        coordinators.push({ key, ...found });
      }
      return { throttleTimeMs: 0, coordinators };
    }
    const found = await findCoordinator(ctx, keyType, req.key);
    const errorMessage = found.errorCode === ErrorCode.NONE ? 'NONE' : errorInfo(found.errorCode).message;
    return { throttleTimeMs: 0, errorMessage, ...found };
  },
});
