/**
 * CreateAcls: v0-3.
 * Behavior: Gregor has no authorizer (plaintext only), so, as Kafka without
 * authorizer.class.name, every creation gets SECURITY_DISABLED "No Authorizer
 * is configured." and nothing is stored.
 * Version notes: v1+ pattern types; v2+ flexible; v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const createAclsHandler = defineHandler({
  api: apiByKey(ApiKey.CreateAcls)!,
  request: schemas.createAclsRequest,
  response: schemas.createAclsResponse,
  handle(_ctx, req) {
    return {
      throttleTimeMs: 0,
      results: req.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' })),
    };
  },
});
