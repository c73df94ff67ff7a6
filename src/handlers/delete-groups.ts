/**
 * DeleteGroups: v0-2.
 * Behavior: deletes Empty groups with all their committed offsets, writing
 * tombstones for the offsets and the group metadata to `__consumer_offsets`;
 * consumer groups (KIP-848) once they have no members; share groups (KIP-932)
 * once they have no members, their share-partitions' state first (deleted at
 * the share coordinator, so that a group of the same id starts afresh; its
 * error, if any, is the group's and the group stays).
 * Per-group errors: GROUP_ID_NOT_FOUND (unknown group), NON_EMPTY_GROUP (the
 * group has members), COORDINATOR_LOAD_IN_PROGRESS,
 * COORDINATOR_NOT_AVAILABLE.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DELETE on each
 * group, else GROUP_AUTHORIZATION_FAILED for it (nothing deleted).
 * Version notes: v2+ flexible; all versions behave the same.
 */
import { apiByKey, ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const deleteGroupsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteGroups)!,
  request: schemas.deleteGroupsRequest,
  response: schemas.deleteGroupsResponse,
  async handle(ctx, req) {
    const deletable = authorizedNames(ctx, 'DELETE', 'GROUP', req.groupsNames);
    const results = await ctx.services.groups.deleteGroups(req.groupsNames.filter((g) => deletable.has(g)));
    return {
      throttleTimeMs: 0,
      results: req.groupsNames.map((groupId) => ({ groupId, errorCode: deletable.has(groupId) ? results.get(groupId)! : ErrorCode.GROUP_AUTHORIZATION_FAILED })),
    };
  },
});
