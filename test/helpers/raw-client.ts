/**
 * A Kafka client on our own codecs, for tests that need exact control over
 * request versions and fields: one socket, requests framed with
 * encodeRequestFrame, responses decoded with decodeResponseFrame and matched
 * by correlation id (pipelining allowed, answers come in order).
 *
 *   const c = await RawClient.connect(port);
 *   const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, { ... });
 *   c.close();
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  decodeResponseFrame,
  encodeRequestFrame,
  type MessageDef,
  type MessageInput,
  type MessageValue,
} from '../../protocol/index.js';

interface Pending {
  correlationId: number;
  decode: (frame: Buffer) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

export class RawClient {
  private nextCorrelationId = 1;
  private readonly pending: Pending[] = [];
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private closedFlag = false;
  /** Resolves when the socket has closed (by either side). */
  readonly closed: Promise<void>;
  /** Response frames that arrived with no request waiting for them. */
  readonly unexpected: Buffer[] = [];

  private constructor(
    private readonly socket: net.Socket,
    readonly clientId: string | null,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closedFlag = true;
        for (const p of this.pending.splice(0)) p.reject(new ConnectionClosedError('connection closed before the response arrived'));
        resolve();
      });
    });
  }

  static connect(port: number, host = '127.0.0.1', clientId: string | null = 'raw-client'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket, clientId));
      });
    });
  }

  /** The same over TLS (an SSL or SASL_SSL listener); rejects when the handshake fails. */
  static connectTls(port: number, options: tls.ConnectionOptions = {}, host = '127.0.0.1', clientId: string | null = 'raw-client'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host, servername: 'localhost', ...options });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket, clientId));
      });
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Sends a request and resolves with the decoded response body. */
  request<Req extends MessageDef, Res extends MessageDef>(
    request: Req,
    response: Res,
    version: number,
    body: MessageInput<Req>,
  ): Promise<MessageValue<Res>> {
    const correlationId = this.nextCorrelationId++;
    const chunks = encodeRequestFrame(request, version, correlationId, this.clientId, body);
    return new Promise<MessageValue<Res>>((resolve, reject) => {
      if (this.closedFlag) {
        reject(new ConnectionClosedError('connection is closed'));
        return;
      }
      this.pending.push({
        correlationId,
        decode: (frame) => {
          const decoded = decodeResponseFrame(response, version, frame);
          if (decoded.correlationId !== correlationId) {
            throw new Error(`response correlation id ${decoded.correlationId}, expected ${correlationId}`);
          }
          return decoded.body;
        },
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.write(chunks);
    });
  }

  /** Sends a request that gets no response (Produce with acks=0); returns its correlation id. */
  send<Req extends MessageDef>(request: Req, version: number, body: MessageInput<Req>): number {
    const correlationId = this.nextCorrelationId++;
    this.write(encodeRequestFrame(request, version, correlationId, this.clientId, body));
    return correlationId;
  }

  /**
   * Sends `payload` as one frame without a Kafka header (its size prefix added) and resolves with the next
   * frame as it is: the raw tokens of a SASL exchange after SaslHandshake v0.
   */
  rawExchange(payload: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.closedFlag) {
        reject(new ConnectionClosedError('connection is closed'));
        return;
      }
      this.pending.push({ correlationId: -1, decode: (frame) => Buffer.from(frame), resolve: resolve as (value: unknown) => void, reject });
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length, 0);
      this.write([size, payload]);
    });
  }

  /** Writes bytes as they are (malformed or hand-built frames). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }

  private write(chunks: Buffer[]): void {
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    for (;;) {
      if (this.chunkBytes < 4) return;
      if (this.chunks[0]!.length < 4) this.merge();
      const size = this.chunks[0]!.readInt32BE(0);
      if (this.chunkBytes < 4 + size) return;
      if (this.chunks[0]!.length < 4 + size) this.merge();
      const head = this.chunks[0]!;
      const frame = head.subarray(4, 4 + size);
      if (head.length === 4 + size) this.chunks.shift();
      else this.chunks[0] = head.subarray(4 + size);
      this.chunkBytes -= 4 + size;
      const p = this.pending.shift();
      if (!p) {
        this.unexpected.push(frame);
        continue;
      }
      try {
        p.resolve(p.decode(frame));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  /** Joins the received chunks into one (once per frame that spans chunks). */
  private merge(): void {
    this.chunks = [Buffer.concat(this.chunks, this.chunkBytes)];
  }
}
