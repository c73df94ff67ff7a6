/**
 * A TCP proxy between real Kafka clients and a broker, for tests that need to see, or send again, exactly
 * what a client sent. Bytes are forwarded unchanged both ways; each direction is also split into
 * size-prefixed frames: every request is recorded (API key, version, correlation id, its exact bytes) with
 * the response frame matched to it by correlation id, and the proxy notes the most requests one connection
 * had outstanding at once (pipelining).
 *
 *   const proxy = await KafkaProxy.start(() => brokerPort);
 *   // advertise 127.0.0.1:proxy.port, so clients connect through the proxy after Metadata
 *   const [produce] = proxy.requestsOf(0);          // the Produce requests seen
 *   const again = await sendAgain(brokerPort, produce); // its response frame to the same bytes, sent again
 */
import net from 'node:net';
import { decodeRequestFrame } from '../../protocol/index.js';

export interface ProxiedRequest {
  readonly connection: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** The whole request as sent, size prefix included (write it to a socket to send it again). */
  readonly bytes: Buffer;
  /** The response frame (size prefix excluded), once it came; never for Produce with acks=0. */
  response?: Buffer;
}

/** Splits a byte stream into size-prefixed frames (each returned with its prefix). */
class FrameSplitter {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < 4 + size) break;
      frames.push(Buffer.from(this.pending.subarray(0, 4 + size)));
      this.pending = this.pending.subarray(4 + size);
    }
    return frames;
  }
}

export class KafkaProxy {
  readonly requests: ProxiedRequest[] = [];
  /** The most requests a single connection had sent and not yet seen answered. */
  maxInFlight = 0;
  private connections = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly target: () => number,
  ) {}

  /** Listens on a free loopback port and forwards each connection to 127.0.0.1:`target()`. */
  static start(target: () => number): Promise<KafkaProxy> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      const proxy = new KafkaProxy(server, target);
      server.on('connection', (client) => proxy.accept(client));
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(proxy));
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Requests of one API key, in the order they were sent. */
  requestsOf(apiKey: number): ProxiedRequest[] {
    return this.requests.filter((r) => r.apiKey === apiKey);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const id = ++this.connections;
    const upstream = net.connect({ port: this.target(), host: '127.0.0.1' });
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const outstanding = new Map<number, ProxiedRequest>();
    const fromClient = new FrameSplitter();
    const fromBroker = new FrameSplitter();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      for (const frame of fromClient.push(chunk)) {
        const apiKey = frame.readInt16BE(4);
        const request: ProxiedRequest = { connection: id, apiKey, apiVersion: frame.readInt16BE(6), correlationId: frame.readInt32BE(8), bytes: frame };
        this.requests.push(request);
        if (!(apiKey === 0 && producesWithoutAcks(frame))) outstanding.set(request.correlationId, request);
        this.maxInFlight = Math.max(this.maxInFlight, outstanding.size);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      for (const frame of fromBroker.push(chunk)) {
        const correlationId = frame.readInt32BE(4);
        const request = outstanding.get(correlationId);
        if (request === undefined) continue;
        outstanding.delete(correlationId);
        request.response = frame.subarray(4);
      }
    });
  }
}

/** True for a Produce request with acks=0 (no response comes). */
function producesWithoutAcks(frame: Buffer): boolean {
  return decodeRequestFrame(frame.subarray(4)).body.acks === 0;
}

/** Sends a recorded request again, byte for byte, on a new connection to 127.0.0.1:`port`; resolves with the response frame (no size prefix). */
export function sendAgain(port: number, request: ProxiedRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        socket.destroy();
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    });
    socket.on('close', () => reject(new Error('connection closed before the response')));
    socket.write(request.bytes);
  });
}
