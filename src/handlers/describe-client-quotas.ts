/**
 * DescribeClientQuotas: v0-1.
 * Behavior: the client quotas set with AlterClientQuotas (security/quota/)
 * whose entity matches the filter: each component names an entity type
 * (user, client-id, ip) and matches its exact name (match type 0), its
 * default entity (1) or any name (2); strict leaves out entities with other
 * types. Each entry lists the entity (a null name: the default) and its
 * values. A filter Kafka refuses answers a top-level error with Kafka's
 * message and null entries: INVALID_REQUEST (an empty or repeated entity
 * type, a match string where none belongs or none where one does, an unknown
 * match type, ip with user or client-id), UNSUPPORTED_VERSION (another entity
 * type).
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE_CONFIGS on
 * the cluster, else CLUSTER_AUTHORIZATION_FAILED with Kafka's message and
 * null entries.
 * Version notes: v1 flexible.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import { apiErrorOf, isKnownError } from '../errors.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const describeClientQuotasHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeClientQuotas)!,
  request: schemas.describeClientQuotasRequest,
  response: schemas.describeClientQuotasResponse,
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE_CONFIGS')) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, errorCode, errorMessage: errorInfo(errorCode).message, entries: null };
    }
    let found;
    try {
      found = ctx.services.quotas.describe(req.components, req.strict);
    } catch (err) {
      if (!isKnownError(err)) throw err;
      return { throttleTimeMs: 0, ...apiErrorOf(err), entries: null };
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      // Kafka leaves the field at its generated default, an empty string
      errorMessage: '',
      entries: found.map((e) => ({
        entity: [...e.entity].map(([entityType, entityName]) => ({ entityType, entityName })),
        values: [...e.values].map(([key, value]) => ({ key, value })),
      })),
    };
  },
});
