/**
 * DeleteAcls: v0-3.
 * Behavior: Gregor has no authorizer (plaintext only), so, as Kafka without
 * authorizer.class.name, every filter gets SECURITY_DISABLED "No Authorizer is
 * configured." and no matching ACLs.
 * Version notes: v1+ pattern types; v2+ flexible; v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const deleteAclsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteAcls)!,
  request: schemas.deleteAclsRequest,
  response: schemas.deleteAclsResponse,
  handle(_ctx, req) {
    return {
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.', matchingAcls: [] })),
    };
  },
});
