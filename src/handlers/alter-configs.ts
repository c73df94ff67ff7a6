/**
 * AlterConfigs: v0-2.
 * Behavior: replaces the whole config set of each resource, as Kafka does
 * (the API is deprecated in favour of IncrementalAlterConfigs for exactly
 * this reason): a topic's overrides not named are removed, so the topic
 * follows the broker's value again; a broker's dynamic configs of that level
 * (this node's id, or "" for the cluster-wide defaults) not named are removed;
 * a group's configs (GROUP) not named go back to the broker's.
 * Checks (ALTER_CONFIGS authorization included), errors, storage and live
 * application: config/alter-config-resources.ts.
 * BROKER_LOGGER is refused (INVALID_REQUEST "Unknown resource type 8"), as in
 * Kafka. validate_only runs every check and changes nothing.
 * Version notes: v1+ throttle time; v2 flexible.
 */
import { ApiKey, apiByKey, schemas } from '../../protocol/index.js';
import { alterConfigResources, ConfigOp } from '../config/alter-config-resources.js';
import { authorize } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const alterConfigsHandler = defineHandler({
  api: apiByKey(ApiKey.AlterConfigs)!,
  request: schemas.alterConfigsRequest,
  response: schemas.alterConfigsResponse,
  async handle(ctx, req) {
    const resources = req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configs: r.configs.map((c) => ({ name: c.name, op: ConfigOp.SET, value: c.value })),
    }));
    const responses = await alterConfigResources(ctx.services, resources, { replace: true, validateOnly: req.validateOnly, authorize: (type, name) => authorize(ctx, 'ALTER_CONFIGS', type, name) });
    return { throttleTimeMs: 0, responses };
  },
});
