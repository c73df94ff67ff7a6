/**
 * SaslHandshake: v0-1.
 * Behavior: Gregor's listener is plaintext, without SASL. Kafka 3.9 answers a
 * SaslHandshake on such a listener from KafkaApis (the request never meets a
 * SASL authenticator there) with ILLEGAL_SASL_STATE and an empty mechanism
 * list, and keeps the connection open; so does Gregor. A client configured
 * for SASL therefore fails its handshake with a clear error.
 * Version notes: v1 announces that SaslAuthenticate carries the tokens.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const saslHandshakeHandler = defineHandler({
  api: apiByKey(ApiKey.SaslHandshake)!,
  request: schemas.saslHandshakeRequest,
  response: schemas.saslHandshakeResponse,
  handle() {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  },
});
