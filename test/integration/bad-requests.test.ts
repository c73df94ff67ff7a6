/**
 * Requests a broker cannot serve, sent over a raw socket: Kafka's answer is a
 * closed connection (unknown API key, unsupported version, oversized or
 * malformed frames), except ApiVersions at a version above ours, which gets a
 * v0 answer with UNSUPPORTED_VERSION so the client can downgrade.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIS, decodeResponseFrame, encodeRequestFrame, ErrorCode, schemas } from '../../protocol/index.js';
import { supportedApis, versionsFor } from '../../src/handlers/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';

/** A socket that records everything the broker sends and when it closes. */
class Probe {
  private received: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<Probe> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.off('error', reject);
        resolve(new Probe(socket));
      });
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves once the broker closed the connection; returns what it sent before. */
  async untilClosed(): Promise<Buffer> {
    while (!this.closed) await this.next();
    return this.received;
  }

  /** Resolves with the next whole response frame (without its size prefix). */
  async frame(): Promise<Buffer> {
    for (;;) {
      if (this.received.length >= 4) {
        const size = this.received.readInt32BE(0);
        if (this.received.length >= 4 + size) {
          const frame = this.received.subarray(4, 4 + size);
          this.received = this.received.subarray(4 + size);
          return frame;
        }
      }
      if (this.closed) throw new Error('connection closed before a whole response arrived');
      await this.next();
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A request frame with header v1 (api key, version, correlation id, client id) and the given body bytes. */
function rawRequest(apiKey: number, apiVersion: number, correlationId: number, body: Buffer = Buffer.alloc(0), flexible = false): Buffer {
  const clientId = Buffer.from('probe');
  const header = Buffer.alloc(10 + clientId.length + (flexible ? 1 : 0));
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

function concat(chunks: Buffer[]): Buffer {
  return Buffer.concat(chunks);
}

describe('requests the broker cannot serve', () => {
  let broker: RunningBroker;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'socket.request.max.bytes': 4096 } });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('closes the connection on an unknown API key without answering', async () => {
    const probe = await Probe.connect(broker.port);
    probe.write(rawRequest(1234, 0, 7));
    expect((await probe.untilClosed()).length).toBe(0);
  });

  it('closes the connection on a known API at a version it does not serve, without answering', async () => {
    const probe = await Probe.connect(broker.port);
    // Metadata v14 does not exist (Kafka 4.3's newest is v13)
    probe.write(rawRequest(3, 14, 8, Buffer.alloc(8), true));
    expect((await probe.untilClosed()).length).toBe(0);
  });

  it('closes the connection on a Kafka API that ApiVersions does not list', async () => {
    const listed = new Set(supportedApis().map((a) => a.apiKey));
    // (an API served unlisted, as the telemetry APIs, is answered: not one of these)
    const unlisted = [...APIS.values()].find((api) => !listed.has(api.key) && versionsFor(api.key) === undefined);
    // once every Kafka API is implemented, an unknown key is the only unlisted one
    const key = unlisted?.key ?? 1234;
    const probe = await Probe.connect(broker.port);
    probe.write(rawRequest(key, unlisted?.minVersion ?? 0, 9, Buffer.alloc(8)));
    expect((await probe.untilClosed()).length).toBe(0);
  });

  it('answers ApiVersions v99 with a v0 body: UNSUPPORTED_VERSION and only the ApiVersions range', async () => {
    const probe = await Probe.connect(broker.port);
    probe.write(rawRequest(18, 99, 42, Buffer.from([0, 0, 0]), true));
    const res = decodeResponseFrame(schemas.apiVersionsResponse, 0, await probe.frame());
    expect(res.correlationId).toBe(42);
    expect(res.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(res.body.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
    // the connection stays usable: the client retries at a version we serve
    probe.write(concat(encodeRequestFrame(schemas.apiVersionsRequest, 3, 43, 'probe', { clientSoftwareName: 'probe', clientSoftwareVersion: '1.0' })));
    const retry = decodeResponseFrame(schemas.apiVersionsResponse, 3, await probe.frame());
    expect(retry.correlationId).toBe(43);
    expect(retry.body.errorCode).toBe(ErrorCode.NONE);
    expect(retry.body.apiKeys.map((k) => k.apiKey)).toEqual(expect.arrayContaining([3, 18, 19, 20]));
    expect(probe.closed).toBe(false);
    probe.close();
  });

  it('closes the connection when the size prefix exceeds socket.request.max.bytes, before the body arrives', async () => {
    const probe = await Probe.connect(broker.port);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(4097, 0);
    probe.write(prefix);
    expect((await probe.untilClosed()).length).toBe(0);
  });

  it('closes the connection on a 2 GiB or negative size prefix', async () => {
    for (const size of [0x7fffffff, -1]) {
      const probe = await Probe.connect(broker.port);
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size, 0);
      probe.write(prefix);
      expect((await probe.untilClosed()).length, String(size)).toBe(0);
    }
  });

  it('closes the connection on a truncated request body', async () => {
    const probe = await Probe.connect(broker.port);
    // CreateTopics v0 whose topic array claims 5 entries and stops
    probe.write(rawRequest(19, 0, 10, Buffer.from([0, 0, 0, 5, 0, 3, 0x61])));
    expect((await probe.untilClosed()).length).toBe(0);
  });

  it('closes the connection on a frame shorter than a request header', async () => {
    const probe = await Probe.connect(broker.port);
    probe.write(Buffer.from([0, 0, 0, 3, 0, 3, 0]));
    expect((await probe.untilClosed()).length).toBe(0);
  });

  it('keeps serving other connections after closing a bad one', async () => {
    const bad = await Probe.connect(broker.port);
    bad.write(rawRequest(999, 0, 1));
    await bad.untilClosed();
    const good = await Probe.connect(broker.port);
    good.write(concat(encodeRequestFrame(schemas.metadataRequest, 1, 5, 'probe', { topics: null })));
    const res = decodeResponseFrame(schemas.metadataResponse, 1, await good.frame());
    expect(res.body.brokers).toEqual([{ nodeId: 1, host: 'localhost', port: broker.port, rack: null }]);
    good.close();
  });
});
