/**
 * One listener (Kafka's Acceptor): a TCP server on the listener's address that offers every socket it
 * accepts to the broker-wide ConnectionQuotas (connection-quotas.ts: max.connections,
 * max.connections.per.ip), and hands each admitted socket to a Connection with a new Session for the
 * listener (session.ts: PLAINTEXT and SSL start ready, as ANONYMOUS; SASL_PLAINTEXT and SASL_SSL start
 * authenticating).
 *
 * An SSL or SASL_SSL listener first runs the TLS handshake of each admitted socket (security/
 * ssl-factory.ts): the Connection gets the TLS socket once it is secured, an SSL listener's Session the
 * principal of the client certificate; a socket whose handshake fails is closed. Response writes go
 * through the TLS socket like any other (response-writer.ts writes buffers, never file descriptors).
 *
 * The broker runs one Server per listener of `listeners` (config/listeners.ts); each knows its own
 * connections (metrics per listener), the quotas count them all.
 */
import net from 'node:net';
import { Connection, type ConnectionLimits } from './connection.js';
import type { ConnectionQuotas } from './connection-quotas.js';
import type { SslFactory } from './security/ssl-factory.js';
import type { BrokerServices } from './services.js';
import { Session, type Listener } from './session.js';

export interface ServerLimits extends ConnectionLimits {
  /** socket.listen.backlog.size: the kernel's listen backlog. */
  readonly listenBacklog: number;
}

export class Server {
  private readonly server: net.Server;
  /** This listener's open connections. */
  readonly connections = new Set<Connection>();
  private closing = false;

  constructor(
    private readonly services: BrokerServices,
    readonly listener: Listener,
    private readonly limits: ServerLimits,
    private readonly quotas: ConnectionQuotas,
    /** The TLS handshakes of an SSL or SASL_SSL listener. */
    readonly ssl?: SslFactory,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.onSocket(socket));
  }

  /** Binds the listener's address; resolves with the bound port (the one chosen when asked for 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: host === '' ? undefined : host, port, backlog: this.limits.listenBacklog }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  private onSocket(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.quotas.offer(socket, () => this.admit(socket));
  }

  /** An admitted socket becomes a Connection of this listener (after its TLS handshake on a TLS listener). */
  private admit(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.ssl === undefined) {
      this.connect(socket, new Session(this.listener));
      return;
    }
    this.ssl.handshake(socket, ({ socket: secured, principal, protocol, cipher }) => {
      if (this.closing) {
        secured.destroy();
        return;
      }
      const conn = this.connect(secured, new Session(this.listener, principal));
      this.services.logger.debug({ conn: conn.id, listener: this.listener.name, protocol, cipher, principal: `${principal.principalType}:${principal.name}` }, 'TLS connection');
    });
  }

  private connect(socket: net.Socket, session: Session): Connection {
    // a SASL listener's connection starts its exchange (security/sasl)
    if (session.state === 'authenticating') session.startAuthentication(this.services.sasl.listeners.authentication(session, `${socket.remoteAddress}:${socket.remotePort}`));
    const conn = new Connection(socket, this.services, session, this.limits, (c) => this.connections.delete(c));
    this.connections.add(conn);
    return conn;
  }

  /** Stops accepting, lets in-flight requests finish, then closes every connection of this listener. */
  async close(): Promise<void> {
    this.closing = true;
    this.ssl?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.idle()));
    for (const c of this.connections) c.close('broker shutting down');
    await closed;
  }
}
