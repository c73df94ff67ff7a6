/**
 * SaslAuthenticate: v0-2.
 * Behavior: one SASL token of the connection's exchange (after SaslHandshake
 * v1, security/sasl/sasl-server-authenticator.ts, as Kafka's
 * SaslServerAuthenticator): the mechanism's answer in auth_bytes. A failed
 * authentication is SASL_AUTHENTICATION_FAILED with Kafka's message (the
 * mechanism's own, or "Authentication failed during authentication due to
 * invalid credentials with SASL mechanism <M>"), sent after
 * connection.failed.authentication.delay.ms, and the connection closes.
 * Success makes the connection's principal User:<name>. Without an exchange
 * in progress (a PLAINTEXT or SSL listener, or an authenticated connection)
 * the API layer answers, as Kafka's KafkaApis, ILLEGAL_SASL_STATE "SaslAuthenticate
 * request received after successful authentication" with empty auth bytes;
 * the connection stays open.
 * Version notes: v1+ session_lifetime_ms (KIP-368): connections.max.reauth.ms
 * for the mechanism, bounded by the credential's expiry, 0 when neither
 * applies; v2 flexible.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const saslAuthenticateHandler = defineHandler({
  api: apiByKey(ApiKey.SaslAuthenticate)!,
  request: schemas.saslAuthenticateRequest,
  response: schemas.saslAuthenticateResponse,
  async handle(ctx, req) {
    const exchange = ctx.session.sasl;
    if (exchange === undefined) {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate request received after successful authentication',
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
      };
    }
    const step = await exchange.authenticate(ctx.version, req.authBytes);
    if (step.close) {
      if (step.answer === undefined) ctx.connection.close('SASL authentication failed');
      else ctx.connection.closeAfterResponse('SASL authentication failed');
    }
    return step.answer;
  },
});
