/**
 * Fuzzing a TLS listener's handshake over raw loopback sockets: garbage instead of a ClientHello, a real
 * ClientHello mutated (bit flips, truncations, overwritten lengths), a truncated one left hanging, a TLS
 * record that announces 64 KiB and never comes, a Kafka request in the clear, and after a good handshake
 * garbage records and an out-of-bounds request size. Every connection is closed by the broker (a
 * hanging one within the handshake timeout, gregor.request.read.timeout.ms), every failed handshake is
 * counted, no connection slot leaks (max.connections is small), and the broker then serves TLS clients
 * as before.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { seededRng } from '../unit/protocol-values.js';
import { TestPki } from '../helpers/certificates.js';
import { parseExposition, samplesOf } from '../helpers/prometheus-text.js';
import { RawClient } from '../helpers/raw-client.js';

const HANDSHAKE_TIMEOUT_MS = 1500;
const CLOSE_DEADLINE_MS = 10_000;
const PING = Buffer.from([0, 0, 0, 14, 0, 18, 0, 0, 0, 0, 0, 7, 0, 4, 0x66, 0x75, 0x7a, 0x7a]);

let pki: TestPki;
let broker: RunningBroker;
let clientHello: Buffer;
const port = (): number => broker.broker.boundPorts.get('SSL')!;
const failures = (): number => broker.broker.listenerStats().find((l) => l.name === 'SSL')!.tls!.failures;

/** The first bytes a TLS client sends: its ClientHello, captured by a server that answers nothing. */
async function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
      c.on('error', () => undefined);
    });
    server.on('error', reject);
  });
}

/** Sends `bytes` on a fresh TCP connection (half-closing it unless `hold`) and resolves once the broker closed it. */
function sendAndWaitForClose(bytes: Buffer, hold: boolean): Promise<'closed' | 'still open'> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: port(), host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('still open');
    }, CLOSE_DEADLINE_MS);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (!hold) socket.end();
    });
  });
}

function mutations(hello: Buffer, n: number, seed: number): Buffer[] {
  const next = seededRng(seed);
  const rng = { int: (below: number): number => Math.floor(next() * below) };
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.from(hello);
    switch (i % 4) {
      case 0:
        for (let k = 0; k < 1 + rng.int(8); k++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        out.push(b);
        break;
      case 1:
        out.push(b.subarray(0, 1 + rng.int(b.length - 1)));
        break;
      case 2: {
        // the record and handshake length fields overwritten with boundary values
        const at = [3, 4, 6, 7, 8][rng.int(5)]!;
        b[at] = [0x00, 0x01, 0x7f, 0x80, 0xff][rng.int(5)]!;
        out.push(b);
        break;
      }
      default:
        out.push(Buffer.from(Array.from({ length: 1 + rng.int(600) }, () => rng.int(256))));
    }
  }
  return out;
}

beforeAll(async () => {
  pki = await TestPki.create();
  const server = pki.issue('server', '/CN=localhost', { san: 'DNS:localhost,IP:127.0.0.1' });
  broker = await startBroker({
    logLevel: 'warn',
    metrics: true,
    config: {
      listeners: 'SSL://127.0.0.1:0',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': server.pem,
      'gregor.request.read.timeout.ms': HANDSHAKE_TIMEOUT_MS,
      'max.connections': 20,
      'socket.request.max.bytes': 1024 * 1024,
    },
  });
  clientHello = await captureClientHello();
}, 60_000);

afterAll(async () => {
  await broker?.close();
  await pki?.remove();
});

describe('TLS handshake fuzzing', () => {
  it('closes every connection that sends garbage or a mutated ClientHello, counting the failures', async () => {
    const cases = mutations(clientHello, 400, 20_261_207);
    const before = failures();
    const outcomes: string[] = [];
    // a few at a time, each half-closed after its bytes
    for (let i = 0; i < cases.length; i += 10) {
      outcomes.push(...(await Promise.all(cases.slice(i, i + 10).map((c) => sendAndWaitForClose(c, false)))));
    }
    expect(outcomes.filter((o) => o !== 'closed')).toEqual([]);
    // each case is a handshake that did not complete: the broker counts every one
    await expect.poll(() => failures() - before, { timeout: 10_000 }).toBe(cases.length);
  }, 120_000);

  it('closes a connection left hanging in its handshake within the handshake timeout', async () => {
    const before = failures();
    const hanging = [
      clientHello.subarray(0, 40),
      // a record header announcing 64 KiB that never come
      Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01]),
      Buffer.alloc(0),
    ];
    const outcomes = await Promise.all(hanging.map((bytes) => sendAndWaitForClose(bytes, true)));
    expect(outcomes).toEqual(['closed', 'closed', 'closed']);
    await expect.poll(() => failures() - before, { timeout: 10_000 }).toBe(hanging.length);
  }, 60_000);

  it('closes a connection that speaks Kafka in the clear to the TLS listener', async () => {
    expect(await sendAndWaitForClose(PING, true)).toBe('closed');
  });

  it('closes a secured connection that then sends garbage records, or a request larger than socket.request.max.bytes', async () => {
    // garbage after the handshake, on the TCP socket under the TLS session
    const garbled = await new Promise<string>((resolve) => {
      const raw = net.connect({ port: port(), host: '127.0.0.1' });
      raw.on('error', () => undefined);
      const secured = tls.connect({ socket: raw, servername: 'localhost', ca: pki.caCertText }, () => raw.write(Buffer.from([0x17, 0x03, 0x03, 0x00, 0x10, ...Buffer.alloc(16, 0xab)])));
      secured.on('error', () => undefined);
      secured.on('close', () => resolve('closed'));
      setTimeout(() => resolve('still open'), CLOSE_DEADLINE_MS).unref();
    });
    expect(garbled).toBe('closed');
    const c = await RawClient.connectTls(port(), { ca: pki.caCertText });
    c.sendRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await c.closed;
  });

  it('goes on serving TLS clients, with no connection slot left taken (max.connections=20)', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connectTls(port(), { ca: pki.caCertText })));
    for (const c of clients) expect((await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})).errorCode).toBe(ErrorCode.NONE);
    for (const c of clients) c.close();
    expect(broker.broker.isReady).toBe(true);
  });

  it('exposes the handshakes, their failures and the connections of each listener as metrics', async () => {
    const c = await RawClient.connectTls(port(), { ca: pki.caCertText });
    await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {});
    const res = await fetch(`http://127.0.0.1:${broker.metricsPort!}/metrics`);
    const samples = parseExposition(await res.text());
    c.close();
    expect(samplesOf(samples, 'gregor_tls_handshake_failures_total', { listener: 'SSL' })[0]!.value).toBe(failures());
    expect(samplesOf(samples, 'gregor_tls_handshake_failures_total', { listener: 'SSL' })[0]!.value).toBeGreaterThanOrEqual(400);
    expect(samplesOf(samples, 'gregor_tls_handshakes_total', { listener: 'SSL' })[0]!.value).toBeGreaterThanOrEqual(22);
    expect(samplesOf(samples, 'gregor_listener_connections', { listener: 'SSL', security_protocol: 'SSL' })[0]!.value).toBe(1);
  });
});
