/**
 * AlterClientQuotas: v0-1.
 * Behavior: sets or removes quota values of user, client-id, (user,
 * client-id) and ip entities (a null name: the type's default entity), checked
 * as Kafka's controller checks them (security/quota/client-quota-control.ts:
 * INVALID_REQUEST with Kafka's message for an unknown entity type or key, an
 * empty entity or name, ip with user or client-id, an ip that is neither an
 * address nor a resolvable host, a value of 0 or less, a fractional or too
 * large whole value, a repeated entity or key). One result per distinct
 * entity; the entities that pass are stored durably (one write; a failed write
 * answers KAFKA_STORAGE_ERROR) and applied at once to the clients' quotas.
 * validate_only checks and changes nothing. controller_mutation_rate is
 * accepted and stored but not enforced.
 * Authorization (an authorizer's, as Kafka's ControllerApis): ALTER_CONFIGS
 * on the cluster, else every entry of the request answers
 * CLUSTER_AUTHORIZATION_FAILED with Kafka's message, nothing checked or
 * changed.
 * Version notes: v1 flexible.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const alterClientQuotasHandler = defineHandler({
  api: apiByKey(ApiKey.AlterClientQuotas)!,
  request: schemas.alterClientQuotasRequest,
  response: schemas.alterClientQuotasResponse,
  async handle(ctx, req) {
    if (!authorizeCluster(ctx, 'ALTER_CONFIGS')) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return {
        throttleTimeMs: 0,
        entries: req.entries.map((e) => ({
          errorCode,
          errorMessage: errorInfo(errorCode).message,
          entity: e.entity.map(({ entityType, entityName }) => ({ entityType, entityName })),
        })),
      };
    }
    const results = await ctx.services.quotas.alter(req.entries, req.validateOnly);
    return {
      throttleTimeMs: 0,
      entries: results.map((r) => ({
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        entity: [...r.entity].map(([entityType, entityName]) => ({ entityType, entityName })),
      })),
    };
  },
});
