/**
 * SaslAuthenticate: v0-2.
 * Behavior: Gregor's listener is plaintext, without SASL: as Kafka 3.9 on such
 * a listener, ILLEGAL_SASL_STATE "SaslAuthenticate request received after
 * successful authentication" with empty auth bytes; the connection stays open.
 * Version notes: v1+ session_lifetime_ms (0); v2 flexible.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const saslAuthenticateHandler = defineHandler({
  api: apiByKey(ApiKey.SaslAuthenticate)!,
  request: schemas.saslAuthenticateRequest,
  response: schemas.saslAuthenticateResponse,
  handle() {
    return {
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      errorMessage: 'SaslAuthenticate request received after successful authentication',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    };
  },
});
