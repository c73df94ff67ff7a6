/**
 * What a SASL mechanism is on the broker: Kafka's SaslServer as its
 * mechanisms use it. One SaslServer per authentication exchange (a
 * connection's first authentication, or a re-authentication), fed the
 * client's tokens one at a time; no sockets here (the authenticator,
 * sasl-server-authenticator.ts, frames the tokens).
 *
 * Two kinds of failure, as Kafka's:
 * - SaslAuthenticationError (Kafka's SaslAuthenticationException): its
 *   message is for the client, and goes into SaslAuthenticate's
 *   error_message ("Authentication failed: Invalid username or password").
 * - SaslError (Kafka's SaslException): the reason stays on the broker; the
 *   client gets the generic "Authentication failed during authentication due
 *   to invalid credentials with SASL mechanism <M>", so that nothing tells it
 *   whether a user exists.
 * Neither message ever holds a secret (a password, a proof, a token): the
 * broker logs the reason of a failed login.
 */

export interface SaslServer {
  /** The mechanism's name, as SaslHandshake carries it (PLAIN, SCRAM-SHA-256, ...). */
  readonly mechanism: string;
  /**
   * Evaluates the client's next token and returns the server's answer (empty when it has none to give).
   * Throws SaslAuthenticationError or SaslError when authentication fails.
   */
  evaluate(clientToken: Buffer): Buffer;
  /** The exchange has succeeded: no more tokens are expected. */
  readonly complete: boolean;
  /** Who authenticated (Kafka's authorization id: the principal's name), once complete. */
  authorizationId(): string;
  /**
   * When the credential stops being valid (ms since the epoch; Kafka's CREDENTIAL_LIFETIME_MS negotiated
   * property: an OAUTHBEARER token's expiry), undefined when it does not expire. Bounds the session lifetime.
   */
  credentialExpiresAtMs(): number | undefined;
  /** Why the last token was refused, when the refusal's message does not say (for the broker's log; never a secret). */
  readonly rejectionReason?: string | undefined;
}

/** Authentication failed; the message is for the client (Kafka's SaslAuthenticationException). */
export class SaslAuthenticationError extends Error {
  override readonly name = 'SaslAuthenticationError';
}

/** Authentication failed; the message is for the broker's log only (Kafka's SaslException). */
export class SaslError extends Error {
  override readonly name = 'SaslError';
}
