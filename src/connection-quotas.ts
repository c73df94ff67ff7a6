/**
 * Broker-wide admission of connections, over every listener (Kafka's ConnectionQuotas): max.connections,
 * max.connection.creation.rate, connection_creation_rate per address and max.connections.per.ip. Each
 * listener's Server (server.ts) offers the sockets it accepts; a socket admitted holds its slot until it
 * closes, whatever happens to it meanwhile (a TLS handshake, a Connection).
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
 *    unread (paused, nothing answered, no handshake) in a queue of at most socket.listen.backlog.size
 *    connections, the listen backlog Kafka would have (also given to listen()), and admits them in arrival
 *    order as connections close, whichever listener they came on. Only a connection arriving when that
 *    queue is full is closed at once (where Kafka's kernel would drop it), and counted as rejected.
 * 2. max.connection.creation.rate (broker-wide, security/quota/connection-rates.ts): a connection that
 *    goes over the rate is held first in that queue for its throttle time, and no other is admitted
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
import type net from 'node:net';
import type { Logger } from './logger.js';

export interface QuotaLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** socket.listen.backlog.size: the kernel's listen backlog, and how many connections wait at max.connections. */
  readonly listenBacklog: number;
}

/** The connection creation rates (security/quota/connection-rates.ts): each returns the delay a new connection gets (0: none). */
export interface ConnectionRateLimits {
  /** max.connection.creation.rate: how long the acceptor waits before it admits this connection and those behind it. */
  recordConnection(now: number): number;
  /** The address's connection_creation_rate: after how long this connection is closed unadmitted (0: admitted). */
  recordIpConnection(ip: string, now: number): number;
}

interface Waiting {
  readonly socket: net.Socket;
  readonly admit: () => void;
  readonly stopWaiting: () => void;
  /** Counted in the broker-wide connection rate already (it waits out that rate's throttle time). */
  readonly rated: boolean;
}

export class ConnectionQuotas {
  /** Sockets admitted and not yet closed. */
  private open = 0;
  private readonly perIp = new Map<string, number>();
  /** Accepted sockets waiting for a slot under max.connections, in arrival order. */
  private readonly queue: Waiting[] = [];
  /** max.connection.creation.rate: nothing is admitted before this time (Date.now()). */
  private acceptBlockedUntil = 0;
  private acceptTimer: NodeJS.Timeout | undefined;
  /** Connections over their address's connection_creation_rate, closed when their timer fires. */
  private readonly throttled = new Map<net.Socket, NodeJS.Timeout>();
  private closing = false;
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly limits: QuotaLimits,
    private readonly logger: Logger,
    private readonly rates: ConnectionRateLimits,
  ) {}

  /** Connections accepted by the kernel and held unread at max.connections. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A socket a listener accepted: `admit` runs once it has a slot (now, or when one frees); the slot is
   * given back when the socket closes. Over the limits it is closed (see the top of this file).
   */
  offer(socket: net.Socket, admit: () => void): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.queue.length === 0 && this.canAdmit()) {
      this.admit(socket, admit, false);
      return;
    }
    if (this.queue.length >= this.limits.listenBacklog) {
      this.reject(socket, 'connection limit reached and the backlog is full; closing connection');
      return;
    }
    this.hold(socket, admit, false);
    if (this.queue.length === 1 && this.open >= this.limits.maxConnections) this.logger.warn({ open: this.open }, 'max.connections reached; new connections wait until one closes');
  }

  /** Whether a connection may be admitted now: a slot under max.connections, and the acceptor not waiting out the connection rate. */
  private canAdmit(): boolean {
    return this.open < this.limits.maxConnections && Date.now() >= this.acceptBlockedUntil;
  }

  /** Holds an accepted socket unread in the queue (see the top of this file): at its end, or first (`rated`: it waits out the rate). */
  private hold(socket: net.Socket, admit: () => void, rated: boolean): void {
    socket.pause();
    const ignore = (): void => undefined;
    const leave = (): void => {
      const i = this.queue.findIndex((w) => w.socket === socket);
      if (i >= 0) this.queue.splice(i, 1);
    };
    socket.on('error', ignore);
    socket.once('close', leave);
    const waiting = { socket, admit, stopWaiting: () => socket.off('error', ignore).off('close', leave), rated };
    if (rated) this.queue.unshift(waiting);
    else this.queue.push(waiting);
  }

  /** A slot under max.connections: the connection rates, the per-address limit, then the listener's admission. */
  private admit(socket: net.Socket, admit: () => void, rated: boolean): void {
    if (!rated) {
      const delayMs = this.rates.recordConnection(Date.now());
      if (delayMs > 0) {
        // Kafka's acceptor waits with this connection, and takes no other meanwhile
        this.hold(socket, admit, true);
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
    const throttleMs = this.rates.recordIpConnection(ip, Date.now());
    if (throttleMs > 0) {
      // over its address's connection_creation_rate: not admitted, closed once the throttle time has passed
      socket.pause();
      socket.on('error', () => undefined);
      const timer = setTimeout(() => {
        this.throttled.delete(socket);
        socket.destroy();
      }, throttleMs);
      this.throttled.set(socket, timer);
      this.logger.debug({ ip, throttleMs }, 'connection_creation_rate of the address exceeded; closing the connection after its throttle time');
      return;
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.limits.maxConnectionsPerIp) {
      this.reject(socket, 'max.connections.per.ip reached; closing connection', { ip, fromIp });
      return;
    }
    this.accepted++;
    this.open++;
    this.perIp.set(ip, fromIp + 1);
    socket.once('close', () => {
      this.open--;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
      this.admitWaiting();
    });
    admit();
  }

  /** Admits waiting sockets while there are slots, in arrival order. */
  private admitWaiting(): void {
    while (!this.closing && this.queue.length > 0 && this.canAdmit()) {
      const { socket, admit, stopWaiting, rated } = this.queue.shift()!;
      stopWaiting();
      if (socket.destroyed) continue;
      // flowing again from the next tick, by when the listener reads it
      socket.resume();
      this.admit(socket, admit, rated);
    }
  }

  private reject(socket: net.Socket, message: string, fields: Record<string, unknown> = {}): void {
    this.rejected++;
    this.logger.warn({ ip: socket.remoteAddress, open: this.open, waiting: this.queue.length, ...fields }, message);
    socket.destroy();
  }

  /** Admits nothing more and closes the waiting sockets (shutdown). */
  close(): void {
    this.closing = true;
    for (const { socket } of this.queue.splice(0)) socket.destroy();
    clearTimeout(this.acceptTimer);
    for (const [socket, timer] of this.throttled) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.throttled.clear();
  }
}
