/**
 * Broker-wide admission of connections, over every listener (Kafka's ConnectionQuotas): max.connections
 * and max.connections.per.ip. Each listener's Server (server.ts) offers the sockets it accepts; a socket
 * admitted holds its slot until it closes, whatever happens to it meanwhile (a TLS handshake, a Connection).
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
 * 2. max.connections.per.ip: checked when a connection is admitted (after its wait, as Kafka's
 *    ConnectionQuotas.inc does); one over its address's limit is closed at once (Kafka closes it too,
 *    TooManyConnectionsException), and counted as rejected.
 *
 * A waiting socket the client closes leaves the queue; waiting ones are closed at shutdown.
 */
import type net from 'node:net';
import type { Logger } from './logger.js';

export interface QuotaLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** socket.listen.backlog.size: the kernel's listen backlog, and how many connections wait at max.connections. */
  readonly listenBacklog: number;
}

interface Waiting {
  readonly socket: net.Socket;
  readonly admit: () => void;
  readonly stopWaiting: () => void;
}

export class ConnectionQuotas {
  /** Sockets admitted and not yet closed. */
  private open = 0;
  private readonly perIp = new Map<string, number>();
  /** Accepted sockets waiting for a slot under max.connections, in arrival order. */
  private readonly queue: Waiting[] = [];
  private closing = false;
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly limits: QuotaLimits,
    private readonly logger: Logger,
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
    if (this.queue.length === 0 && this.open < this.limits.maxConnections) {
      this.admit(socket, admit);
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
    this.queue.push({ socket, admit, stopWaiting: () => socket.off('error', ignore).off('close', leave) });
    if (this.queue.length === 1) this.logger.warn({ open: this.open }, 'max.connections reached; new connections wait until one closes');
  }

  /** A slot under max.connections: the per-address limit, then the listener's admission. */
  private admit(socket: net.Socket, admit: () => void): void {
    const ip = socket.remoteAddress ?? '';
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
    while (!this.closing && this.queue.length > 0 && this.open < this.limits.maxConnections) {
      const { socket, admit, stopWaiting } = this.queue.shift()!;
      stopWaiting();
      if (socket.destroyed) continue;
      // flowing again from the next tick, by when the listener reads it
      socket.resume();
      this.admit(socket, admit);
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
  }
}
