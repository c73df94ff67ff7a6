/**
 * One client connection: size-prefixed frames in, responses out.
 *
 * Requests on a connection are executed one at a time in arrival order and
 * answered in the same order, as Kafka does (idempotent producers pipeline up
 * to five Produce requests and rely on it). A frame larger than
 * socket.request.max.bytes, an unknown API key or an unsupported version
 * closes the connection before anything is allocated for it. Response chunks
 * (record sections included) are written with cork/uncork, never
 * concatenated. While responses wait for the socket to drain, or queued
 * request bytes exceed the limit, the socket is paused.
 */
import type { Socket } from 'node:net';
import {
  ApiKey,
  apiByKey,
  encodeResponseFrame,
  ErrorCode,
  peekRequestHeader,
  ProtocolError,
  Reader,
  readRequestHeader,
  decodeFrom,
  schemas,
} from '../protocol/index.js';
import type { Broker } from './broker.js';
import { handlerFor } from './handlers/index.js';
import type { Logger } from './logger.js';

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  clientId: string | null;
  clientSoftwareName: string | null;
  clientSoftwareVersion: string | null;
  /** Closes the connection (e.g. a failed Produce with acks=0, which gets no response). */
  close(reason: string): void;
}

export interface ConnectionLimits {
  /** socket.request.max.bytes */
  readonly maxRequestBytes: number;
  /** Queued (received, not yet handled) request bytes above which reading pauses. */
  readonly maxQueuedBytes: number;
  /** connections.max.idle.ms */
  readonly idleMs: number;
}

let nextId = 1;

export class Connection implements ConnectionInfo {
  readonly id = nextId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  clientId: string | null = null;
  clientSoftwareName: string | null = null;
  clientSoftwareVersion: string | null = null;

  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly queue: Buffer[] = [];
  /** performance.now() at the arrival of each queued frame (request queue time). */
  private readonly arrivals: number[] = [];
  private queuedBytes = 0;
  private processing = false;
  private closed = false;
  private readonly log: Logger;

  constructor(
    private readonly socket: Socket,
    private readonly broker: Broker,
    private readonly limits: ConnectionLimits,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.log = broker.logger.child({ conn: this.id, remote: `${this.remoteAddress}:${this.remotePort}` });
    socket.setNoDelay(true);
    if (limits.idleMs > 0) {
      socket.setTimeout(limits.idleMs, () => this.close('idle timeout'));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.onClose(this);
    });
  }

  /** Closes the connection (Kafka's answer to a request it cannot parse or serve). */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.log.debug({ reason }, 'closing connection');
    this.socket.destroy();
  }

  /** Requests received and not yet answered (metrics). */
  get inFlight(): number {
    return this.queue.length + (this.processing ? 1 : 0);
  }

  /** Resolves once the request in progress (if any) has been answered. */
  async idle(): Promise<void> {
    while (this.processing) await new Promise((r) => setTimeout(r, 5));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.extractFrames();
    if (this.queuedBytes > this.limits.maxQueuedBytes) this.socket.pause();
    void this.processQueue();
  }

  private extractFrames(): void {
    while (this.pendingBytes >= 4) {
      const size = this.peekInt32();
      if (size < 0 || size > this.limits.maxRequestBytes) {
        this.log.warn({ size, max: this.limits.maxRequestBytes }, 'request size out of bounds; closing connection');
        this.close('request size out of bounds');
        return;
      }
      if (this.pendingBytes < 4 + size) return;
      this.consume(4);
      const frame = this.consume(size);
      this.queue.push(frame);
      this.arrivals.push(performance.now());
      this.queuedBytes += frame.length;
    }
  }

  private peekInt32(): number {
    const first = this.pending[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.pending, 4);
    return head.readInt32BE(0);
  }

  /** Takes n bytes from the pending chunks: a slice when they lie in one chunk, else one copy. */
  private consume(n: number): Buffer {
    const first = this.pending[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.pending[0]!;
        const take = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, take);
        filled += take;
        if (take === c.length) this.pending.shift();
        else this.pending[0] = c.subarray(take);
      }
    }
    this.pendingBytes -= n;
    return out;
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift()!;
        const arrivedAt = this.arrivals.shift()!;
        this.queuedBytes -= frame.length;
        if (this.socket.isPaused() && this.queuedBytes <= this.limits.maxQueuedBytes && !this.socket.writableNeedDrain) {
          this.socket.resume();
        }
        await this.handleFrame(frame, arrivedAt);
        if (this.socket.writableNeedDrain && !this.closed) {
          this.socket.pause();
          await new Promise<void>((resolve) => {
            const done = (): void => {
              this.socket.off('drain', done);
              this.socket.off('close', done);
              resolve();
            };
            this.socket.on('drain', done);
            this.socket.on('close', done);
          });
          if (!this.closed && this.queuedBytes <= this.limits.maxQueuedBytes) this.socket.resume();
        }
      }
    } finally {
      this.processing = false;
    }
  }

  private async handleFrame(frame: Buffer, arrivedAt: number): Promise<void> {
    const metrics = this.broker.metrics;
    const dequeuedAt = metrics ? performance.now() : 0;
    let peek;
    try {
      peek = peekRequestHeader(frame);
    } catch {
      return this.close('request shorter than a header');
    }
    const handler = handlerFor(peek.apiKey);
    if (peek.apiKey === ApiKey.ApiVersions && handler && peek.apiVersion > handler.maxVersion) {
      // KIP-511: answer with a v0 body listing only our ApiVersions range, so the client downgrades.
      return this.send(
        encodeResponseFrame(schemas.apiVersionsResponse, 0, peek.correlationId, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: handler.minVersion, maxVersion: handler.maxVersion }],
        }),
      );
    }
    if (!handler || peek.apiVersion < handler.minVersion || peek.apiVersion > handler.maxVersion) {
      const name = apiByKey(peek.apiKey)?.name ?? `unknown api key ${peek.apiKey}`;
      this.log.info({ apiKey: peek.apiKey, apiVersion: peek.apiVersion }, `unsupported request ${name} v${peek.apiVersion}; closing connection`);
      return this.close('unsupported api or version');
    }
    let header;
    let body;
    try {
      const r = new Reader(frame);
      header = readRequestHeader(r);
      body = decodeFrom(handler.request, peek.apiVersion, r);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.log.info({ apiKey: peek.apiKey, apiVersion: peek.apiVersion, err: err.message }, 'malformed request; closing connection');
        return this.close('malformed request');
      }
      throw err;
    }
    this.clientId = header.clientId;
    let response;
    try {
      response = await handler.handle({ broker: this.broker, connection: this, header, version: peek.apiVersion }, body);
    } catch (err) {
      this.log.error({ err, api: handler.api.name, apiVersion: peek.apiVersion }, 'request handler failed; closing connection');
      return this.close('handler failure');
    }
    if (response === undefined) {
      metrics?.requestHandled(handler.api, peek.apiVersion, (dequeuedAt - arrivedAt) / 1000, (performance.now() - dequeuedAt) / 1000, undefined);
    }
    if (response === undefined || this.closed) return;
    let frameChunks;
    try {
      frameChunks = encodeResponseFrame(handler.response, peek.apiVersion, peek.correlationId, response);
    } catch (err) {
      this.log.error({ err, api: handler.api.name, apiVersion: peek.apiVersion }, 'response cannot be encoded; closing connection');
      return this.close('response encoding failure');
    }
    if (!metrics) return this.send(frameChunks);
    const encodedAt = performance.now();
    metrics.requestHandled(handler.api, peek.apiVersion, (dequeuedAt - arrivedAt) / 1000, (encodedAt - dequeuedAt) / 1000, response);
    this.send(frameChunks, () => {
      const sentAt = performance.now();
      metrics.responseSent(handler.api, (sentAt - encodedAt) / 1000, (sentAt - arrivedAt) / 1000);
    });
  }

  /** Writes a response; `onSent` runs once the kernel has taken all of it (or the write failed). */
  private send(chunks: Buffer[], onSent?: () => void): void {
    if (this.closed) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!, onSent);
      return;
    }
    this.socket.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]!);
    this.socket.write(chunks[last]!, onSent);
    this.socket.uncork();
  }
}
