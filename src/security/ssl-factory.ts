/**
 * The TLS side of one SSL or SASL_SSL listener (Kafka's SslFactory and SslTransportLayer): the handshake
 * of every connection the listener admits, the principal of its client certificate, and the settings
 * replaced at runtime (a dynamic config change: new connections get them, open ones keep theirs).
 *
 * Each admitted TCP socket goes through a node:tls server that listens on nothing: it is handed the
 * socket (the 'connection' event, the documented way to give a server a socket), makes its TLSSocket and
 * runs the handshake with the listener's secure context. Then:
 * - ssl.client.auth=required: a client without a certificate fails the handshake (a certificate_required
 *   alert); one whose certificate does not chain to the trust store is closed once the handshake is done.
 * - requested: a certificate is asked for; one sent must be trusted, else the connection is closed (as
 *   Java refuses an untrusted certificate it asked for); without one the principal is User:ANONYMOUS.
 * - none: no certificate is asked for; User:ANONYMOUS.
 * A handshake that fails (garbage instead of a ClientHello, TLS 1.1, no shared cipher, a missing or
 * untrusted certificate, a client gone) or does not end within the handshake timeout closes the socket,
 * is counted (handshakeFailures) and logged at info with its reason; the broker goes on. A certificate
 * whose subject no ssl.principal.mapping.rules rule maps fails the connection too (Kafka's
 * NoMatchingRule).
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logger.js';
import type { KafkaPrincipal, Listener } from '../session.js';
import { ANONYMOUS } from '../session.js';
import { subjectDistinguishedName } from './distinguished-name.js';
import type { TlsSettings } from './tls-context.js';

/** A connection whose handshake succeeded. */
export interface SecuredConnection {
  readonly socket: tls.TLSSocket;
  /** The principal of its client certificate (SSL listeners), or ANONYMOUS. */
  readonly principal: KafkaPrincipal;
  readonly protocol: string | null;
  readonly cipher: string;
}

type Secured = (connection: SecuredConnection) => void;

export class SslFactory {
  private server: tls.Server;
  private current: TlsSettings;
  /** Handshakes in progress: the raw socket, and what to do once it is secured. */
  private readonly pending = new Map<net.Socket, Secured>();
  /** Handshakes that failed since start (gregor_tls_handshake_failures_total). */
  handshakeFailures = 0;
  /** Handshakes that succeeded since start. */
  handshakes = 0;

  constructor(
    private readonly listener: Listener,
    settings: TlsSettings,
    private readonly opts: { readonly handshakeTimeoutMs: number; readonly logger: Logger },
  ) {
    this.current = settings;
    this.server = this.serverFor(settings);
  }

  /** The settings new connections get. */
  get settings(): TlsSettings {
    return this.current;
  }

  /** New connections get `settings` (a dynamic change); handshakes already started keep the old ones. */
  reconfigure(settings: TlsSettings): void {
    this.current = settings;
    this.server = this.serverFor(settings);
  }

  /** Runs the handshake of an admitted socket: `secured` once it succeeded; a failure closes the socket. */
  handshake(raw: net.Socket, secured: Secured): void {
    this.pending.set(raw, secured);
    raw.once('close', () => {
      if (this.pending.delete(raw)) this.failed(raw, undefined, 'connection closed during the TLS handshake');
    });
    this.server.emit('connection', raw);
  }

  private serverFor(settings: TlsSettings): tls.Server {
    const server = tls.createServer({
      ...settings.context,
      requestCert: settings.clientAuth !== 'none',
      // required: no certificate fails the handshake itself (an alert the client can report)
      rejectUnauthorized: settings.clientAuth === 'required',
      handshakeTimeout: this.opts.handshakeTimeoutMs > 0 ? this.opts.handshakeTimeoutMs : 0,
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => this.onSecure(socket, settings));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      const raw = rawOf(socket);
      if (raw !== undefined && this.pending.delete(raw)) this.failed(raw, socket, err.code ?? err.message, err.message);
      else socket.destroy();
    });
    return server;
  }

  private onSecure(socket: tls.TLSSocket, settings: TlsSettings): void {
    const raw = rawOf(socket);
    const secured = raw === undefined ? undefined : this.pending.get(raw);
    if (raw === undefined || secured === undefined) {
      socket.destroy();
      return;
    }
    this.pending.delete(raw);
    const peer = settings.clientAuth === 'none' ? undefined : socket.getPeerCertificate();
    const hasCertificate = peer !== undefined && peer.raw !== undefined;
    if (hasCertificate && !socket.authorized) {
      this.failed(raw, socket, `client certificate not trusted: ${String(socket.authorizationError)}`);
      return;
    }
    let principal: KafkaPrincipal = ANONYMOUS;
    if (hasCertificate && this.listener.securityProtocol === 'SSL') {
      try {
        principal = { principalType: 'User', name: settings.principalMapper.name(subjectDistinguishedName(peer.raw)) };
      } catch (err) {
        this.failed(raw, socket, `no principal for the client certificate: ${(err as Error).message}`);
        return;
      }
    }
    this.handshakes++;
    const cipher = socket.getCipher();
    secured({ socket, principal, protocol: socket.getProtocol(), cipher: cipher.standardName ?? cipher.name });
  }

  /**
   * Counts, logs and closes a failed handshake. The TLS socket, once there is one, is what is destroyed:
   * destroying the TCP socket under it and then the TLS socket crashes Node (20.x).
   */
  private failed(raw: net.Socket, socket: tls.TLSSocket | undefined, reason: string, detail?: string): void {
    this.handshakeFailures++;
    this.opts.logger.info({ listener: this.listener.name, remote: `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`, reason, ...(detail === undefined ? {} : { detail }) }, 'TLS handshake failed; connection closed');
    if (socket !== undefined) socket.destroy();
    else raw.destroy();
  }

  /** Closes the connections whose handshake is still going on (shutdown). */
  close(): void {
    for (const raw of [...this.pending.keys()]) raw.destroy();
  }
}

/**
 * The TCP socket under a server-side TLSSocket. Node keeps it as `_parent` (set when a TLSSocket wraps a
 * socket, since Node 0.x); no public accessor exists.
 */
function rawOf(socket: tls.TLSSocket): net.Socket | undefined {
  return (socket as unknown as { _parent?: net.Socket })._parent;
}
