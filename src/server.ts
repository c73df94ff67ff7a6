/**
 * The TCP listener: accepts connections within max.connections and
 * max.connections.per.ip, and hands each socket to a Connection with a new
 * Session for the listener (session.ts: PLAINTEXT starts ready, as ANONYMOUS).
 */
import net from 'node:net';
import { Connection, type ConnectionLimits } from './connection.js';
import type { BrokerServices } from './services.js';
import { Session, type Listener } from './session.js';

export interface ServerLimits extends ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

export class Server {
  private readonly server: net.Server;
  readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly services: BrokerServices,
    private readonly listener: Listener,
    private readonly limits: ServerLimits,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: host === '' ? undefined : host, port }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? '';
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.connections.size >= this.limits.maxConnections || fromIp >= this.limits.maxConnectionsPerIp) {
      this.rejected++;
      this.services.logger.warn({ ip, open: this.connections.size, fromIp }, 'connection limit reached; rejecting connection');
      socket.destroy();
      return;
    }
    this.accepted++;
    this.perIp.set(ip, fromIp + 1);
    const conn = new Connection(socket, this.services, new Session(this.listener), this.limits, (c) => {
      this.connections.delete(c);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
    });
    this.connections.add(conn);
  }

  /** Stops accepting, lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.idle()));
    for (const c of this.connections) c.close('broker shutting down');
    await closed;
  }
}
