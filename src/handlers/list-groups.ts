/**
 * ListGroups: v0-5.
 * Behavior: every group the coordinator holds (all protocol types), with its
 * protocol type; consumer groups (KIP-848) with protocol type "consumer",
 * share groups (KIP-932) with protocol type "share" (states Empty, Stable).
 * Error COORDINATOR_LOAD_IN_PROGRESS (with the groups loaded so far) while
 * `__consumer_offsets` loads, COORDINATOR_NOT_AVAILABLE while shutting down.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on the
 * cluster lists every group; otherwise only the groups the session may
 * DESCRIBE (no error).
 * Version notes: v4+ state filter (case-insensitive, trimmed; empty = all)
 * and each group's state; v5+ type filter ("classic", "consumer", "share";
 * case-insensitive; empty = all; an unknown type matches none) and each
 * group's type.
 */
import { apiByKey, ApiKey, schemas } from '../../protocol/index.js';
import { authorize, authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const listGroupsHandler = defineHandler({
  api: apiByKey(ApiKey.ListGroups)!,
  request: schemas.listGroupsRequest,
  response: schemas.listGroupsResponse,
  handle(ctx, req) {
    const v = ctx.version;
    const { errorCode, groups } = ctx.services.groups.list(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
    const everyGroup = authorizeCluster(ctx, 'DESCRIBE', false);
    return {
      throttleTimeMs: 0,
      errorCode,
      groups: (everyGroup ? groups : groups.filter((g) => authorize(ctx, 'DESCRIBE', 'GROUP', g.groupId, false))).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.groupType ?? 'classic' })),
    };
  },
});
