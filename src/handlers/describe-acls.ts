/**
 * DescribeAcls: v0-3.
 * Behavior: Gregor has no authorizer (plaintext only, every operation is
 * allowed), so it answers as Kafka without authorizer.class.name:
 * SECURITY_DISABLED "No Authorizer is configured on the broker" and no
 * resources.
 * Version notes: v1+ pattern types; v2+ flexible; v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const describeAclsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeAcls)!,
  request: schemas.describeAclsRequest,
  response: schemas.describeAclsResponse,
  handle() {
    return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: [] };
  },
});
