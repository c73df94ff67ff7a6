/**
 * DescribeUserScramCredentials: v0 (KIP-554).
 * Behavior: the SCRAM credentials of the named users, or of every user when
 * the list is null or empty (security/sasl/scram-credential-store.ts, as
 * Kafka's ScramImage.describe): per user, the mechanism and iteration count
 * of each credential, never a salt or a key.
 * Errors per user: RESOURCE_NOT_FOUND "Attempt to describe a user credential
 * that does not exist: <user>"; DUPLICATE_RESOURCE "Cannot describe SCRAM
 * credentials for the same user twice in a single request: <user>". The
 * top-level error is NONE.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on the
 * cluster, else CLUSTER_AUTHORIZATION_FAILED at the top level with Kafka's
 * message and, as Kafka's error response, one result of that error per user
 * named (its user name left empty).
 * Version notes: v0 only, flexible.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const describeUserScramCredentialsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeUserScramCredentials)!,
  request: schemas.describeUserScramCredentialsRequest,
  response: schemas.describeUserScramCredentialsResponse,
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE')) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      const errorMessage = errorInfo(errorCode).message;
      return { throttleTimeMs: 0, errorCode, errorMessage, results: (req.users ?? []).map(() => ({ user: '', errorCode, errorMessage, credentialInfos: [] })) };
    }
    const results = ctx.services.sasl.credentials.describe(req.users === null ? null : req.users.map((u) => u.name));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results: results.map((r) => ({ ...r, credentialInfos: [...r.credentialInfos] })) };
  },
});
