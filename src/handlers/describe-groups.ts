/**
 * DescribeGroups: v0-6.
 * Behavior: per group: state ("Empty", "PreparingRebalance",
 * "CompletingRebalance", "Stable", "Dead"), protocol type, and the members
 * (member id, group instance id, client id, client host). The protocol and
 * each member's metadata and assignment are given only for a Stable group.
 * An unknown group is described as Dead with no error before v6; from v6
 * it gets GROUP_ID_NOT_FOUND with the message "Group <id> not found." and
 * nothing else (KIP-1043, as Kafka 4.3; a group is Dead here only once it
 * is gone). Per-group errors:
 * COORDINATOR_LOAD_IN_PROGRESS while its partition loads,
 * COORDINATOR_NOT_AVAILABLE while shutting down (state "").
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on each
 * group, else GROUP_AUTHORIZATION_FAILED for it.
 * Version notes: v3+ authorized operations when asked, for the groups
 * answered without error: the operations the session may do on the group
 * (without an authorizer every operation a group has: READ, DELETE, DESCRIBE,
 * DESCRIBE_CONFIGS, ALTER_CONFIGS = 3400, as Kafka 4), else the "not
 * requested" sentinel; v4+ group instance ids; v5+ flexible; v6 error
 * messages and GROUP_ID_NOT_FOUND.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorize, authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

/** From v6 an unknown group is an error (KIP-1043). */
const GROUP_ID_NOT_FOUND_VERSION = 6;

export const describeGroupsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeGroups)!,
  request: schemas.describeGroupsRequest,
  response: schemas.describeGroupsResponse,
  handle(ctx, req) {
    const withOperations = ctx.version >= 3 && req.includeAuthorizedOperations;
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((groupId) => {
        if (!authorize(ctx, 'DESCRIBE', 'GROUP', groupId)) {
          return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
        }
        const { errorCode, summary } = ctx.services.groups.describe(groupId);
        if (ctx.version >= GROUP_ID_NOT_FOUND_VERSION && errorCode === ErrorCode.NONE && summary.state === 'Dead') {
          return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.`, groupId, groupState: '', protocolType: '', protocolData: '', members: [] };
        }
        return {
          errorCode,
          groupId,
          groupState: summary.state,
          protocolType: summary.protocolType,
          protocolData: summary.protocol,
          members: summary.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: withOperations && errorCode === ErrorCode.NONE ? authorizedOperations(ctx, 'GROUP', groupId) : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});
