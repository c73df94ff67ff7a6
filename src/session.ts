/**
 * The session of one client connection: who the client is, on which
 * listener, and what state the connection is in. Created when the server
 * accepts the connection; every request context carries it.
 *
 * States, and every transition between them (here and nowhere else):
 *
 *                          ┌──reauthenticate()──▶ reauthenticating
 *                          │                         │
 *   authenticating ──authenticated()──▶ ready ◀──authenticated()
 *         │                               │          │
 *         └────────close()──▶ closing ◀───┴──────────┘
 *
 * - authenticating: a SASL listener's connection before its SASL exchange
 *   has succeeded; the exchange (`sasl`, security/sasl's
 *   SaslServerAuthenticator) admits only what Kafka's SaslServerAuthenticator
 *   accepts in its state (ApiVersions once, then SaslHandshake, then
 *   SaslAuthenticate or, after SaslHandshake v0, raw SASL tokens); anything
 *   else closes the connection.
 * - ready: requests are served as the principal. A SASL session may have an
 *   expiry (KIP-368, connections.max.reauth.ms or the credential's own):
 *   past it, any request but a re-authentication's SaslHandshake closes the
 *   connection, as Kafka's SocketServer does.
 * - reauthenticating: a SaslHandshake on a ready session with an expiry (at
 *   most one a second) started a new exchange; only its SaslAuthenticate
 *   requests are served, and the principal must stay the same.
 * - closing: the connection is closed or closing; nothing more is served.
 *
 * A PLAINTEXT listener's connection starts ready, as Kafka's
 * KafkaPrincipal.ANONYMOUS (type User, name ANONYMOUS); an SSL listener's
 * starts ready as the principal of its client certificate (ANONYMOUS without
 * one). The listener's security protocol picks the start state; a SASL
 * listener's SASL exchange ends with authenticated(principal, …).
 */
import { ApiKey } from '../protocol/index.js';

export type ConnectionState = 'authenticating' | 'ready' | 'reauthenticating' | 'closing';

/** Kafka's SecurityProtocol names. */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

/** Kafka's KafkaPrincipal: what ACLs name ("User:alice"). */
export interface KafkaPrincipal {
  readonly principalType: string;
  readonly name: string;
}

/** The principal of an unauthenticated connection (Kafka's KafkaPrincipal.ANONYMOUS). */
export const ANONYMOUS: KafkaPrincipal = Object.freeze({ principalType: 'User', name: 'ANONYMOUS' });

/** The listener a connection was accepted on. */
export interface Listener {
  /** The listener name of `listeners` (PLAINTEXT). */
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
}

/**
 * A SASL exchange in progress on a session (security/sasl/sasl-server-authenticator.ts implements it): the
 * authentication of a SASL listener's connection, or a re-authentication. Each step resolves with what to
 * answer (nothing: no answer) and whether the connection closes once that is written; a failed step has
 * waited connection.failed.authentication.delay.ms already.
 */
export interface SaslExchange {
  /** SaslHandshake v0 chose the mechanism: the next frames are raw SASL tokens, without Kafka headers. */
  readonly rawTokens: boolean;
  /** sasl.server.max.receive.size: the largest frame accepted while the exchange goes on. */
  readonly maxReceiveBytes: number;
  /** Whether a request of this API may come now (may take a step: ApiVersions is accepted once, before SaslHandshake). */
  admit(apiKey: number): boolean;
  handshake(version: number, mechanism: string): Promise<SaslStep<SaslHandshakeAnswer>>;
  authenticate(version: number, authBytes: Buffer): Promise<SaslStep<SaslAuthenticateAnswer>>;
  /** A raw token (after SaslHandshake v0); the answer is the token to send back, size-prefixed. */
  rawToken(token: Buffer): Promise<SaslStep<Buffer>>;
}

export interface SaslStep<T> {
  readonly answer: T | undefined;
  /** Close the connection once the answer (if any) is written. */
  readonly close: boolean;
}

export interface SaslHandshakeAnswer {
  readonly errorCode: number;
  readonly mechanisms: string[];
}

export interface SaslAuthenticateAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly authBytes: Buffer;
  readonly sessionLifetimeMs: bigint;
}

/** How a SASL authentication ended well: the mechanism, and when the session expires (KIP-368). */
export interface SaslSession {
  readonly mechanism: string;
  /** performance.now() after which the session has expired; undefined when it does not. */
  readonly expiresAt: number | undefined;
}

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  authenticating: ['ready', 'closing'],
  ready: ['reauthenticating', 'closing'],
  reauthenticating: ['ready', 'closing'],
  closing: [],
};

/** Kafka's KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS, in ms. */
const MIN_REAUTHENTICATION_INTERVAL_MS = 1000;

/** What a connection still authenticating may send. */
const BEFORE_AUTHENTICATION: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

export class Session {
  private current: ConnectionState;
  private who: KafkaPrincipal;
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** The client id of the latest request header (null when the client sent none). */
  clientId: string | null = null;
  /** What the client reported in ApiVersions v3+ (null before or without it). */
  clientSoftwareName: string | null = null;
  clientSoftwareVersion: string | null = null;
  /** The SASL exchange, while one is in progress (authenticating, reauthenticating). */
  sasl: SaslExchange | undefined = undefined;
  /** The mechanism of the last successful SASL authentication. */
  saslMechanism: string | undefined = undefined;
  /** performance.now() after which the authentication has expired (KIP-368); undefined when it does not. */
  expiresAt: number | undefined = undefined;
  /** performance.now() of the last re-authentication's start. */
  private lastReauthenticationStart: number | undefined;

  /**
   * The session of a connection just accepted on `listener`; `principal` is the one its TLS handshake
   * established (an SSL listener's client certificate), ANONYMOUS otherwise.
   */
  constructor(listener: Listener, principal: KafkaPrincipal = ANONYMOUS) {
    this.listenerName = listener.name;
    this.securityProtocol = listener.securityProtocol;
    this.who = principal;
    this.current = listener.securityProtocol === 'PLAINTEXT' || listener.securityProtocol === 'SSL' ? 'ready' : 'authenticating';
  }

  get state(): ConnectionState {
    return this.current;
  }

  get principal(): KafkaPrincipal {
    return this.who;
  }

  /** Whether a request of this API may be served in the current state (without a SASL exchange's ordering). */
  serves(apiKey: number): boolean {
    return this.current === 'ready' || (this.current === 'authenticating' && BEFORE_AUTHENTICATION.has(apiKey));
  }

  /**
   * The gate of every request (dispatch.ts), at `now` (performance.now()): whether a request of this API is
   * served now; false closes the connection. A SASL exchange in progress decides (and may take a step);
   * a ready session past its expiry admits only the SaslHandshake that re-authenticates it.
   */
  admit(apiKey: number, now: number): boolean {
    switch (this.current) {
      case 'ready':
        return this.expiresAt === undefined || now <= this.expiresAt || (apiKey === ApiKey.SaslHandshake && this.mayReauthenticate(now));
      case 'authenticating':
      case 'reauthenticating':
        return this.sasl === undefined ? this.serves(apiKey) : this.sasl.admit(apiKey);
      default:
        return false;
    }
  }

  /** Whether a SaslHandshake now starts a re-authentication (Kafka's KafkaChannel.maybeBeginServerReauthentication). */
  mayReauthenticate(now: number): boolean {
    return (
      this.current === 'ready' &&
      this.expiresAt !== undefined &&
      (this.lastReauthenticationStart === undefined || now - this.lastReauthenticationStart >= MIN_REAUTHENTICATION_INTERVAL_MS)
    );
  }

  /** A SASL listener's connection starts its exchange. */
  startAuthentication(exchange: SaslExchange): void {
    if (this.current !== 'authenticating') throw new Error(`connection state ${this.current} cannot start authenticating`);
    this.sasl = exchange;
  }

  /** A re-authentication starts (the SaslHandshake of a ready session that may re-authenticate). */
  reauthenticate(exchange: SaslExchange, now: number): void {
    this.moveTo('reauthenticating');
    this.sasl = exchange;
    this.lastReauthenticationStart = now;
  }

  /**
   * Authentication (or re-authentication) succeeded: requests are served as `principal` from now on, until
   * the SASL session expires.
   */
  authenticated(principal: KafkaPrincipal, sasl?: SaslSession): void {
    this.moveTo('ready');
    this.who = principal;
    this.sasl = undefined;
    this.saslMechanism = sasl?.mechanism;
    this.expiresAt = sasl?.expiresAt;
  }

  /** The connection closes (by us or by the client); closing twice is closing once. */
  close(): void {
    if (this.current !== 'closing') this.moveTo('closing');
  }

  private moveTo(next: ConnectionState): void {
    if (!TRANSITIONS[this.current].includes(next)) throw new Error(`connection state ${this.current} cannot become ${next}`);
    this.current = next;
  }
}
