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
 * 2. max.connection.creation.rate (broker-wide, security/quota/connection-quotas.ts): a connection that
 *    goes over the rate is held first in that queue for its throttle time, and the acceptor takes no other
 *    meanwhile (Kafka's acceptor waits with it: waitForConnectionSlot).
 * 3. connection_creation_rate of the client's address (an ip client quota): a connection over it is not
 *    admitted; it is held unread and closed once its throttle time has passed (Kafka's
 *    ConnectionThrottledException and delayed close).
 * 4. max.connections.per.ip: checked when a connection is admitted (after its wait, as Kafka's
 *    ConnectionQuotas.inc does); one over its address's limit is closed at once (Kafka closes it too,
 *    TooManyConnectionsException), and counted as rejected.
 *
 * A waiting socket the client closes leaves the queue; waiting and throttled ones are closed at shutdown.
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
  /** Accepted sockets waiting for a slot under max.connections, in arrival order (`rated`: counted in the connection rate). */
  private readonly queue: { socket: net.Socket; stopWaiting: () => void; rated: boolean }[] = [];
  /** max.connection.creation.rate: nothing is admitted before this time (Date.now()). */
  private acceptBlockedUntil = 0;
  private acceptTimer: NodeJS.Timeout | undefined;
  /** Connections over their address's connection_creation_rate, closed when their timer fires. */
  private readonly throttled = new Map<net.Socket, NodeJS.Timeout>();
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
    if (this.queue.length === 0 && this.canAdmit()) {
      this.admit(socket, false);
      return;
    }
    if (this.queue.length >= this.limits.listenBacklog) {
      this.reject(socket, 'connection limit reached and the backlog is full; closing connection');
      return;
    }
    this.hold(socket, false);
    if (this.queue.length === 1 && this.connections.size >= this.limits.maxConnections) {
      this.services.logger.warn({ open: this.connections.size }, 'max.connections reached; new connections wait until one closes');
    }
  }

  /** Whether a connection may be admitted now: a slot under max.connections, and the acceptor not waiting out the connection rate. */
  private canAdmit(): boolean {
    return this.connections.size < this.limits.maxConnections && Date.now() >= this.acceptBlockedUntil;
  }

  /** Holds an accepted socket unread in the queue (see the top of this file): at its end, or first (`rated`: it waits out the rate). */
  private hold(socket: net.Socket, rated: boolean): void {
    socket.pause();
    const ignore = (): void => undefined;
    const leave = (): void => {
      const i = this.queue.findIndex((w) => w.socket === socket);
      if (i >= 0) this.queue.splice(i, 1);
    };
    socket.on('error', ignore);
    socket.once('close', leave);
    const waiting = { socket, stopWaiting: () => socket.off('error', ignore).off('close', leave), rated };
    if (rated) this.queue.unshift(waiting);
    else this.queue.push(waiting);
  }

  /** A slot under max.connections: the connection rates, the per-address limit, then a Connection. */
  private admit(socket: net.Socket, rated: boolean): void {
    const quotas = this.services.quotas.connections;
    if (!rated) {
      const delayMs = quotas.recordConnection(Date.now());
      if (delayMs > 0) {
        // Kafka's acceptor waits with this connection, and takes no other meanwhile
        this.hold(socket, true);
        this.acceptBlockedUntil = Date.now() + delayMs;
        clearTimeout(this.acceptTimer);
        this.acceptTimer = setTimeout(() => {
          this.acceptBlockedUntil = 0;
          this.admitWaiting();
        }, delayMs);
        return;
      }
    }
    const ip = socket.remoteAddress ?? '';
    const throttleMs = quotas.recordIpConnection(ip, Date.now());
    if (throttleMs > 0) {
      // over its address's connection_creation_rate: not admitted, closed once the throttle time has passed
      socket.pause();
      socket.on('error', () => undefined);
      const timer = setTimeout(() => {
        this.throttled.delete(socket);
        socket.destroy();
      }, throttleMs);
      this.throttled.set(socket, timer);
      this.services.logger.debug({ ip, throttleMs }, 'connection_creation_rate of the address exceeded; closing the connection after its throttle time');
      return;
    }
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
    while (!this.closing && this.queue.length > 0 && this.canAdmit()) {
      const { socket, stopWaiting, rated } = this.queue.shift()!;
      stopWaiting();
      if (socket.destroyed) continue;
      // flowing again from the next tick, by when the Connection listens
      socket.resume();
      this.admit(socket, rated);
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
    clearTimeout(this.acceptTimer);
    for (const [socket, timer] of this.throttled) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.throttled.clear();
    await Promise.all([...this.connections].map((c) => c.idle()));
    for (const c of this.connections) c.close('broker shutting down');
    await closed;
  }
}
