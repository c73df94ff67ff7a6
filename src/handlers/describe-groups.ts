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
 * Version notes: v3+ authorized operations when asked: without an
 * authorizer every operation a group supports (READ, DELETE, DESCRIBE =
 * 328), else the "not requested" sentinel; v4+ group instance ids; v5+
 * flexible; v6 error messages and GROUP_ID_NOT_FOUND.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

/** Bit field of READ (3), DELETE (6) and DESCRIBE (8): Kafka's answer for groups without an authorizer. */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OPERATIONS_NOT_REQUESTED = -2147483648;
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
          authorizedOperations: withOperations ? GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED,
        };
      }),
    };
  },
});
