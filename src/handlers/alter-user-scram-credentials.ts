/**
 * AlterUserScramCredentials: v0 (KIP-554).
 * Behavior: deletes and upserts users' SCRAM credentials
 * (security/sasl/scram-credential-store.ts, as Kafka's
 * ScramControlManager.alterCredentials): an upsertion carries the salt and the
 * salted password the client computed, from which the stored key and server
 * key are derived and kept (the salted password is not). The accepted
 * changes are written durably together before the answer, and the next login
 * uses them. One result per user: deletions, upsertions, then refusals.
 * Errors per user: DUPLICATE_RESOURCE (a user altered twice in the request,
 * whatever the mechanisms), UNACCEPTABLE_CREDENTIAL ("Username must not be
 * empty", "Too few iterations" below 4096, "Too many iterations" above
 * 16384), UNSUPPORTED_SASL_MECHANISM ("Unknown SCRAM mechanism"),
 * RESOURCE_NOT_FOUND ("Attempt to delete a user credential that does not
 * exist"); UNKNOWN_SERVER_ERROR for every user when the write fails (a full
 * disk): nothing changed.
 * Authorization (an authorizer's, as Kafka's ControllerApis): ALTER on the
 * cluster, else CLUSTER_AUTHORIZATION_FAILED for every user named (sorted,
 * once each; the message says the request needs ALTER, as Kafka's), nothing
 * checked or changed.
 * Version notes: v0 only, flexible.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const alterUserScramCredentialsHandler = defineHandler({
  api: apiByKey(ApiKey.AlterUserScramCredentials)!,
  request: schemas.alterUserScramCredentialsRequest,
  response: schemas.alterUserScramCredentialsResponse,
  async handle(ctx, req) {
    if (!authorizeCluster(ctx, 'ALTER')) {
      const users = [...new Set([...req.deletions, ...req.upsertions].map((c) => c.name))].sort();
      const errorMessage = 'Request AlterUserScramCredentials needs ALTER permission.';
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage })) };
    }
    try {
      const results = await ctx.services.sasl.credentials.alter(req.deletions, req.upsertions);
      return { throttleTimeMs: 0, results };
    } catch (err) {
      ctx.services.logger.error({ err }, 'AlterUserScramCredentials: writing the SCRAM credentials failed');
      const users = [...new Set([...req.deletions, ...req.upsertions].map((c) => c.name))];
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'The SCRAM credentials could not be written' })) };
    }
  },
});
