/**
 * The session of one client connection: who the client is, on which
 * listener, and what state the connection is in. Created when the server
 * accepts the connection; every request context carries it.
 *
 * States, and every transition between them (here and nowhere else):
 *
 *   authenticating ──authenticated()──▶ ready
 *         │                               │
 *         └────────close()──▶ closing ◀───┘
 *
 * - authenticating: a SASL listener's connection before SaslAuthenticate has
 *   succeeded; only ApiVersions, SaslHandshake and SaslAuthenticate are
 *   served (serves()), anything else closes the connection, as Kafka's
 *   SaslServerAuthenticator does.
 * - ready: requests are served as the principal.
 * - closing: the connection is closed or closing; nothing more is served.
 *
 * A PLAINTEXT listener's connection starts ready, as Kafka's
 * KafkaPrincipal.ANONYMOUS (type User, name ANONYMOUS); an SSL listener's
 * starts ready as the principal of its client certificate (ANONYMOUS without
 * one). SASL and the authorizer plug in here: the listener's security protocol
 * picks the start state, SaslHandshake/SaslAuthenticate keep their exchange in
 * `sasl` and end it with authenticated(principal).
 */
import { ApiKey } from '../protocol/index.js';

export type ConnectionState = 'authenticating' | 'ready' | 'closing';

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

/** The SASL exchange in progress (SaslHandshake chose a mechanism; SaslAuthenticate rounds follow). */
export interface SaslState {
  readonly mechanism: string;
}

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  authenticating: ['ready', 'closing'],
  ready: ['closing'],
  closing: [],
};

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
  /** The SASL exchange, while one is in progress (the security issue fills it in). */
  sasl: SaslState | undefined = undefined;

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

  /** Whether a request of this API is served in the current state. */
  serves(apiKey: number): boolean {
    return this.current === 'ready' || (this.current === 'authenticating' && BEFORE_AUTHENTICATION.has(apiKey));
  }

  /** Authentication succeeded: requests are served as `principal` from now on. */
  authenticated(principal: KafkaPrincipal): void {
    this.moveTo('ready');
    this.who = principal;
    this.sasl = undefined;
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
