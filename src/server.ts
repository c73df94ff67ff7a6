/**
 * The TCP listener: admits connections within max.connections and max.connections.per.ip, and hands each
 * admitted socket to a Connection with a new Session for the listener (session.ts: PLAINTEXT starts ready,
 * as ANONYMOUS).
 *
 * The limits, as Kafka's Acceptor and ConnectionQuotas apply them:
 *
 * 1. max.connections: at the limit Kafka's acceptor thread blocks (ConnectionQuotas.inc waits for a slot)
 *    with the socket it has just accepted, and the connections behind it wait in the kernel's listen
 *    backlog (socket.listen.backlog.size, default 50) until one closes; a client sees its TCP connection
 *    established and its requests unanswered, not a close. Node cannot stop accepting: libuv accepts every
 *    pending connection as soon as the listening socket is readable, net.Server has no pause, and
 *    `server.maxConnections` closes what is over the limit; closing and reopening the listener would
 *    refuse (RST) the connections in the backlog, worse than Kafka. So Gregor keeps the accepted socket
 *    unread (paused, no Connection, nothing answered) in a queue of at most socket.listen.backlog.size
 *    connections, the listen backlog Kafka would have (also given to listen()), and admits them in arrival order as connections close. Only a
 *    connection arriving when that queue is full is closed at once (where Kafka's kernel would drop it),
 *    and counted as rejected.
 * 2. max.connections.per.ip: checked when a connection is admitted (after its wait, as Kafka's
 *    ConnectionQuotas.inc does); one over its address's limit is closed at once (Kafka closes it too,
 *    TooManyConnectionsException), and counted as rejected.
 *
 * A waiting socket the client closes leaves the queue; waiting ones are closed at shutdown.
 */
import net from 'node:net';
import { Connection, type ConnectionLimits } from './connection.js';
import type { BrokerServices } from './services.js';
import { Session, type Listener } from './session.js';

export interface ServerLimits extends ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** socket.listen.backlog.size: the kernel's listen backlog, and how many connections wait at max.connections. */
  readonly listenBacklog: number;
}

export class Server {
  private readonly server: net.Server;
  readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  /** Accepted sockets waiting for a slot under max.connections, in arrival order. */
  private readonly queue: { socket: net.Socket; stopWaiting: () => void }[] = [];
  private closing = false;
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly services: BrokerServices,
    private readonly listener: Listener,
    private readonly limits: ServerLimits,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.onSocket(socket));
  }

  /** Connections accepted by the kernel and held unread at max.connections. */
  get waiting(): number {
    return this.queue.length;
  }

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
    if (this.queue.length === 0 && this.connections.size < this.limits.maxConnections) {
      this.admit(socket);
      return;
    }
    if (this.queue.length >= this.limits.listenBacklog) {
      this.reject(socket, 'connection limit reached and the backlog is full; closing connection');
      return;
    }
    // held unread until a slot frees (see the top of this file)
    socket.pause();
    const ignore = (): void => undefined;
    const leave = (): void => {
      const i = this.queue.findIndex((w) => w.socket === socket);
      if (i >= 0) this.queue.splice(i, 1);
    };
    socket.on('error', ignore);
    socket.once('close', leave);
    this.queue.push({ socket, stopWaiting: () => socket.off('error', ignore).off('close', leave) });
    if (this.queue.length === 1) this.services.logger.warn({ open: this.connections.size }, 'max.connections reached; new connections wait until one closes');
  }

  /** A slot under max.connections: the per-address limit, then a Connection. */
  private admit(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? '';
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.limits.maxConnectionsPerIp) {
      this.reject(socket, 'max.connections.per.ip reached; closing connection', { ip, fromIp });
      return;
    }
    this.accepted++;
    this.perIp.set(ip, fromIp + 1);
    const conn = new Connection(socket, this.services, new Session(this.listener), this.limits, (c) => {
      this.connections.delete(c);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
      this.admitWaiting();
    });
    this.connections.add(conn);
  }

  /** Admits waiting sockets while there are slots, in arrival order. */
  private admitWaiting(): void {
    while (!this.closing && this.queue.length > 0 && this.connections.size < this.limits.maxConnections) {
      const { socket, stopWaiting } = this.queue.shift()!;
      stopWaiting();
      if (socket.destroyed) continue;
      // flowing again from the next tick, by when the Connection listens
      socket.resume();
      this.admit(socket);
    }
  }

  private reject(socket: net.Socket, message: string, fields: Record<string, unknown> = {}): void {
    this.rejected++;
    this.services.logger.warn({ ip: socket.remoteAddress, open: this.connections.size, waiting: this.queue.length, ...fields }, message);
    socket.destroy();
  }

  /** Stops accepting, closes waiting sockets, lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const { socket } of this.queue.splice(0)) socket.destroy();
    await Promise.all([...this.connections].map((c) => c.idle()));
    for (const c of this.connections) c.close('broker shutting down');
    await closed;
  }
}
