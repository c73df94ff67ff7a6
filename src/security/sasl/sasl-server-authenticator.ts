/**
 * One connection's SASL exchange, as Kafka's SaslServerAuthenticator runs it
 * (the session's SaslExchange, session.ts). No socket here: dispatch.ts
 * gives it the requests the session admits, the SaslHandshake and
 * SaslAuthenticate handlers their bodies, and dispatch the raw tokens.
 *
 * States (Kafka's SaslState), for a first authentication:
 *
 *   initial ──ApiVersions──▶ handshake ──SaslHandshake──▶ authenticate ──▶ complete
 *      └──────────────SaslHandshake──────────────┘              │
 *                                                               └──▶ failed
 *
 * 1. Before SaslHandshake only ApiVersions (once) and SaslHandshake are
 *    admitted; anything else closes the connection without an answer (a
 *    client of the wrong security protocol, or not a Kafka client).
 * 2. SaslHandshake names an enabled mechanism: NONE and the enabled list, and
 *    a new SaslServer for the mechanism. Any other: UNSUPPORTED_SASL_MECHANISM
 *    with the enabled list, and the connection closes.
 * 3. SaslHandshake v1+: each token comes in a SaslAuthenticate request and its
 *    answer in the response; another SaslHandshake is ILLEGAL_SASL_STATE and
 *    closes, anything else closes. SaslHandshake v0: the next frames are raw
 *    tokens (size-prefixed, no header) answered by raw tokens.
 * 4. A failure (SaslAuthenticationError: its message; SaslError: "Authentication
 *    failed during authentication due to invalid credentials with SASL
 *    mechanism <M>") is answered with SASL_AUTHENTICATION_FAILED after
 *    connection.failed.authentication.delay.ms, then the connection closes.
 *    With raw tokens there is no answer: the connection closes, after the
 *    delay for a SaslAuthenticationError, at once for a SaslError (Kafka's
 *    IOException path).
 * 5. Complete: the principal is User:<authorization id>; the session lifetime
 *    (KIP-368) is connections.max.reauth.ms for the mechanism, bounded by the
 *    credential's expiry (an OAUTHBEARER token's), 0 when neither is set; it
 *    goes back in SaslAuthenticate v1+'s session_lifetime_ms.
 *
 * A re-authentication (KIP-368) is a new exchange that starts at the
 * SaslHandshake of a ready session: the same mechanism continues as above
 * (another enabled one is answered NONE, then its next request fails with
 * "SASL mechanism 'X' requested by client is not supported for
 * re-authentication of mechanism 'Y'"), and the principal must stay the same
 * ("Cannot change principals during re-authentication from User.alice:
 * User.bob"). Messages say "re-authentication" for it.
 *
 * Every end is counted (sasl-stats.ts) and a failure logged at info with the
 * broker-side reason, which never holds a secret.
 */
import { ApiKey, ErrorCode } from '../../../protocol/index.js';
import type { Logger } from '../../logger.js';
import type { KafkaPrincipal, SaslAuthenticateAnswer, SaslExchange, SaslHandshakeAnswer, SaslStep, Session } from '../../session.js';
import { SaslAuthenticationError, SaslError, type SaslServer } from './sasl-server.js';
import type { SaslStats } from './sasl-stats.js';

/** What a SASL listener offers (sasl-listener-settings.ts builds it from the config). */
export interface SaslListenerSettings {
  readonly listener: string;
  /** sasl.enabled.mechanisms of the listener, in their order. */
  readonly enabledMechanisms: readonly string[];
  /** connection.failed.authentication.delay.ms */
  readonly failedAuthenticationDelayMs: number;
  /** sasl.server.max.receive.size */
  readonly maxReceiveBytes: number;
  /** A new server of an enabled mechanism, for one exchange. */
  newServer(mechanism: string): SaslServer;
  /** connections.max.reauth.ms for the mechanism (0: not set). */
  maxReauthMs(mechanism: string): number;
}

/** What the authenticator reports to and logs with. */
export interface AuthenticatorContext {
  readonly settings: SaslListenerSettings;
  readonly stats: SaslStats;
  readonly log: Logger;
  /** The client's address, for the log. */
  readonly remote: string;
}

type State = 'initial' | 'handshake' | 'authenticate' | 'complete' | 'failed' | 'reauth-handshake' | 'reauth-bad-mechanism';

/** The mechanism and principal a re-authentication must keep. */
interface Previous {
  readonly mechanism: string;
  readonly principal: KafkaPrincipal;
}

const NO_BYTES = Buffer.alloc(0);

export class SaslServerAuthenticator implements SaslExchange {
  private state: State;
  private server: SaslServer | undefined;
  private mechanism: string | undefined;
  /** SaslHandshake v1+: tokens come in SaslAuthenticate requests. */
  private kafkaHeaders = false;
  private badMechanismMessage = '';

  private constructor(
    private readonly session: Session,
    private readonly ctx: AuthenticatorContext,
    private readonly previous: Previous | undefined,
  ) {
    this.state = previous === undefined ? 'initial' : 'reauth-handshake';
  }

  /** The exchange of a SASL listener's new connection. */
  static authentication(session: Session, ctx: AuthenticatorContext): SaslServerAuthenticator {
    return new SaslServerAuthenticator(session, ctx, undefined);
  }

  /** The exchange of a re-authentication of a ready session. */
  static reauthentication(session: Session, ctx: AuthenticatorContext): SaslServerAuthenticator {
    return new SaslServerAuthenticator(session, ctx, { mechanism: session.saslMechanism ?? '', principal: session.principal });
  }

  get rawTokens(): boolean {
    return this.state === 'authenticate' && !this.kafkaHeaders;
  }

  get maxReceiveBytes(): number {
    return this.ctx.settings.maxReceiveBytes;
  }

  private get reauthenticating(): boolean {
    return this.previous !== undefined;
  }

  private get text(): string {
    return this.reauthenticating ? 're-authentication' : 'authentication';
  }

  admit(apiKey: number): boolean {
    switch (this.state) {
      case 'initial':
        if (apiKey === ApiKey.ApiVersions) {
          this.state = 'handshake';
          return true;
        }
        return apiKey === ApiKey.SaslHandshake;
      case 'handshake':
      case 'reauth-handshake':
        return apiKey === ApiKey.SaslHandshake;
      case 'authenticate':
        return apiKey === ApiKey.SaslAuthenticate || apiKey === ApiKey.SaslHandshake;
      case 'reauth-bad-mechanism':
        return apiKey === ApiKey.SaslAuthenticate;
      default:
        return false;
    }
  }

  async handshake(version: number, mechanism: string): Promise<SaslStep<SaslHandshakeAnswer>> {
    const enabled = [...this.ctx.settings.enabledMechanisms];
    if (this.state === 'authenticate') {
      // a second SaslHandshake: Kafka's IllegalSaslStateException, answered in the request's form
      return this.fail(mechanism, 'Unexpected Kafka request of type SASL_HANDSHAKE during SASL authentication.', { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
    }
    this.kafkaHeaders = version >= 1;
    if (!enabled.includes(mechanism)) {
      return this.fail(mechanism, `Unsupported SASL mechanism ${mechanism}`, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled });
    }
    this.mechanism = mechanism;
    if (this.previous !== undefined && this.previous.mechanism !== mechanism) {
      this.badMechanismMessage = `SASL mechanism '${mechanism}' requested by client is not supported for re-authentication of mechanism '${this.previous.mechanism}'`;
      this.state = 'reauth-bad-mechanism';
    } else {
      this.server = this.ctx.settings.newServer(mechanism);
      this.state = 'authenticate';
    }
    return { answer: { errorCode: ErrorCode.NONE, mechanisms: enabled }, close: false };
  }

  async authenticate(_version: number, authBytes: Buffer): Promise<SaslStep<SaslAuthenticateAnswer>> {
    if (this.state === 'reauth-bad-mechanism') return this.fail<SaslAuthenticateAnswer>(this.mechanism!, this.badMechanismMessage, undefined);
    const mechanism = this.mechanism!;
    let token: Buffer;
    let lifetimeMs = 0;
    try {
      token = this.server!.evaluate(authBytes);
      if (this.server!.complete) lifetimeMs = this.succeed();
    } catch (err) {
      const message = this.clientMessage(err, mechanism);
      if (message === undefined) return this.broken(err);
      return this.fail(mechanism, reasonOf(err, this.server), failed(message));
    }
    return { answer: { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: token, sessionLifetimeMs: BigInt(lifetimeMs) }, close: false };
  }

  async rawToken(token: Buffer): Promise<SaslStep<Buffer>> {
    const mechanism = this.mechanism!;
    let answer: Buffer;
    try {
      answer = this.server!.evaluate(token);
      if (this.server!.complete) this.succeed();
    } catch (err) {
      if (err instanceof SaslAuthenticationError) return this.fail<Buffer>(mechanism, err.message, undefined);
      if (err instanceof SaslError) return this.fail<Buffer>(mechanism, reasonOf(err, this.server), undefined, false);
      return this.broken(err);
    }
    return { answer, close: false };
  }

  /** The exchange succeeded: the session becomes ready as its principal; returns the session lifetime. */
  private succeed(): number {
    const server = this.server!;
    const principal: KafkaPrincipal = { principalType: 'User', name: server.authorizationId() };
    const previous = this.previous?.principal;
    if (previous !== undefined && (previous.principalType !== principal.principalType || previous.name !== principal.name)) {
      throw new SaslAuthenticationError(
        `Cannot change principals during re-authentication from ${previous.principalType}.${previous.name}: ${principal.principalType}.${principal.name}`,
      );
    }
    const credentialExpiresAt = server.credentialExpiresAtMs();
    const maxReauth = this.ctx.settings.maxReauthMs(server.mechanism);
    let lifetimeMs = 0;
    let expiresAt: number | undefined;
    if (credentialExpiresAt !== undefined || maxReauth > 0) {
      const untilExpiry = credentialExpiresAt === undefined ? undefined : credentialExpiresAt - Date.now();
      lifetimeMs = Math.max(0, untilExpiry === undefined ? maxReauth : maxReauth > 0 ? Math.min(untilExpiry, maxReauth) : untilExpiry);
      expiresAt = performance.now() + lifetimeMs;
    }
    this.state = 'complete';
    this.server = undefined;
    this.session.authenticated(principal, { mechanism: server.mechanism, expiresAt });
    this.ctx.stats.record(this.ctx.settings.listener, server.mechanism, 'success', this.reauthenticating);
    this.ctx.log.debug({ remote: this.ctx.remote, principal: `${principal.principalType}:${principal.name}`, mechanism: server.mechanism, sessionLifetimeMs: lifetimeMs }, `successful ${this.text}`);
    return lifetimeMs;
  }

  /**
   * The message a SaslAuthenticate answer gives the client for `err`: its own for a
   * SaslAuthenticationError, the generic one for a SaslError, undefined for anything else (a bug).
   */
  private clientMessage(err: unknown, mechanism: string): string | undefined {
    if (err instanceof SaslAuthenticationError) return err.message;
    if (err instanceof SaslError) return `Authentication failed during ${this.text} due to invalid credentials with SASL mechanism ${mechanism}`;
    return undefined;
  }

  /**
   * A failed exchange: counted, logged, answered after connection.failed.authentication.delay.ms (unless
   * `delayed` is false), then the connection closes.
   */
  private async fail<T>(mechanism: string, reason: string, answer: T | undefined, delayed = true): Promise<SaslStep<T>> {
    this.state = 'failed';
    this.server = undefined;
    this.ctx.stats.record(this.ctx.settings.listener, mechanism, 'failure', this.reauthenticating);
    this.ctx.log.info({ remote: this.ctx.remote, listener: this.ctx.settings.listener, mechanism }, `failed ${this.text} (${reason})`);
    const delay = this.ctx.settings.failedAuthenticationDelayMs;
    if (delayed && delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return { answer, close: true };
  }

  /** A mechanism failed otherwise than by refusing the client: a bug; closed at once, without an answer. */
  private broken<T>(err: unknown): SaslStep<T> {
    this.state = 'failed';
    this.server = undefined;
    this.ctx.log.error({ err, remote: this.ctx.remote }, `unexpected error during SASL ${this.text}; closing connection`);
    return { answer: undefined, close: true };
  }
}

function failed(errorMessage: string): SaslAuthenticateAnswer {
  return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage, authBytes: NO_BYTES, sessionLifetimeMs: 0n };
}

/** What the log says of a refusal: the mechanism's own reason (never a secret), or why the token was refused. */
function reasonOf(err: unknown, server: SaslServer | undefined): string {
  const why = server?.rejectionReason;
  const message = (err as Error).message;
  return why !== undefined && why !== message ? `${message}: ${why}` : message;
}
