/**
 * SaslHandshake: v0-1.
 * Behavior: on a SASL listener (SASL_PLAINTEXT, SASL_SSL) the connection's
 * SASL exchange answers (security/sasl/sasl-server-authenticator.ts, as
 * Kafka's SaslServerAuthenticator): an enabled mechanism gets NONE and the
 * listener's sasl.enabled.mechanisms; another gets UNSUPPORTED_SASL_MECHANISM
 * with that list, and the connection closes after
 * connection.failed.authentication.delay.ms. A SaslHandshake on an
 * authenticated connection whose session has a lifetime (KIP-368:
 * connections.max.reauth.ms, or an OAUTHBEARER token's expiry) starts a
 * re-authentication, at most once a second, with the same mechanism. Any
 * other SaslHandshake reaches the API layer, which answers, as Kafka's
 * KafkaApis, ILLEGAL_SASL_STATE with no mechanisms and keeps the connection
 * (so on a PLAINTEXT or SSL listener, a client configured for SASL fails its
 * handshake with a clear error); one in the middle of an exchange is
 * ILLEGAL_SASL_STATE and closes it.
 * Version notes: v0: the SASL tokens follow as raw frames without Kafka
 * headers (dispatch.ts); v1: they come in SaslAuthenticate requests.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const saslHandshakeHandler = defineHandler({
  api: apiByKey(ApiKey.SaslHandshake)!,
  request: schemas.saslHandshakeRequest,
  response: schemas.saslHandshakeResponse,
  async handle(ctx, req) {
    const { session, connection } = ctx;
    const now = performance.now();
    if (session.mayReauthenticate(now)) {
      session.reauthenticate(ctx.services.sasl.listeners.reauthentication(session, `${connection.remoteAddress}:${connection.remotePort}`), now);
    }
    const exchange = session.sasl;
    if (exchange === undefined) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const step = await exchange.handshake(ctx.version, req.mechanism);
    if (step.close) connection.closeAfterResponse('SASL handshake failed');
    return step.answer;
  },
});
