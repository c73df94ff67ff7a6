/**
 * IncrementalAlterConfigs: v0-1.
 * Behavior: applies operations to the current configs of each resource: SET,
 * DELETE (back to the broker's or the default value), and APPEND / SUBTRACT on
 * list configs (cleanup.policy, ...; starting from the default when not set).
 * Resources: a topic; a group (its group configs, group/group-configs.ts);
 * this node's id or "" (cluster-wide defaults) for the
 * dynamic broker configs; this node's id for BROKER_LOGGER (the root log
 * level, not stored, as in Kafka). Checks (ALTER_CONFIGS authorization
 * included), errors, storage and live application:
 * config/alter-config-resources.ts. validate_only runs every
 * check and changes nothing.
 * Version notes: v1 flexible.
 */
import { ApiKey, apiByKey, schemas } from '../../protocol/index.js';
import { alterConfigResources } from '../config/alter-config-resources.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const incrementalAlterConfigsHandler = defineHandler({
  api: apiByKey(ApiKey.IncrementalAlterConfigs)!,
  request: schemas.incrementalAlterConfigsRequest,
  response: schemas.incrementalAlterConfigsResponse,
  async handle(ctx, req) {
    const resources = req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configs: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })),
    }));
    const responses = await alterConfigResources(ctx.services, resources, { replace: false, validateOnly: req.validateOnly, authorize: (type, name) => authorize(ctx, 'ALTER_CONFIGS', type, name) });
    return { throttleTimeMs: 0, responses };
  },
});
