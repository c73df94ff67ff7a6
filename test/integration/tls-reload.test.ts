/**
 * Certificate rotation without a restart, as Kafka does it: a dynamic change of a listener's key store
 * (listener.name.<listener>.ssl.keystore.*, by AlterConfigs or IncrementalAlterConfigs on the broker) is
 * validated (same subject and subject alternative names unless allowed), stored, and used by new
 * connections; open connections keep theirs; a key store file rewritten at the same path is read again
 * when the location is set again; the rotated certificate survives a restart.
 */
import { copyFileSync, utimesSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import tls from 'node:tls';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { makeTempDataDir } from '../../src/broker.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { TestPki, type Issued } from '../helpers/certificates.js';
import { RawClient } from '../helpers/raw-client.js';

const BROKER = 4;
const SET = 0;
const DELETE = 1;

let pki: TestPki;
let first: Issued;
let second: Issued;
let otherName: Issued;
let fewerNames: Issued;

beforeAll(async () => {
  pki = await TestPki.create();
  const san = 'DNS:localhost,IP:127.0.0.1';
  first = pki.issue('first', '/O=Gregor Test/CN=localhost', { san });
  second = pki.issue('second', '/O=Gregor Test/CN=localhost', { san });
  otherName = pki.issue('other', '/O=Gregor Test/CN=broker.example.com', { san });
  fewerNames = pki.issue('fewer', '/O=Gregor Test/CN=localhost', { san: 'DNS:localhost' });
}, 60_000);

afterAll(async () => {
  await pki?.remove();
});

const fingerprint = (issued: Issued): string => new X509Certificate(issued.certText).fingerprint256;

/** The certificate a new TLS connection to the port is given. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca: pki.caCertText, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

async function incrementalAlter(port: number, configs: Array<{ name: string; op: number; value: string | null }>, validateOnly = false): Promise<{ errorCode: number; errorMessage: string | null }> {
  const c = await RawClient.connect(port);
  try {
    const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
      resources: [{ resourceType: BROKER, resourceName: '1', configs: configs.map((x) => ({ name: x.name, configOperation: x.op, value: x.value })) }],
      validateOnly,
    });
    return res.responses[0]!;
  } finally {
    c.close();
  }
}

describe('certificate rotation', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const sslPort = (): number => broker.broker.boundPorts.get('SSL')!;
  const plainPort = (): number => broker.broker.boundPorts.get('PLAINTEXT')!;
  const start = async (): Promise<RunningBroker> =>
    startBroker({
      dataDir,
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PEM',
        'listener.name.ssl.ssl.keystore.location': first.pem,
      },
    });

  beforeAll(async () => {
    dataDir = await makeTempDataDir();
    broker = await start();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves a new key store set with kafkajs alterConfigs to new connections; open connections keep theirs', async () => {
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(first));
    const open = await RawClient.connectTls(sslPort(), { ca: pki.caCertText });
    const admin = new Kafka({ clientId: 'rotate', brokers: [`127.0.0.1:${sslPort()}`], ssl: { ca: [pki.caCertText], servername: 'localhost' }, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'listener.name.ssl.ssl.keystore.location', value: second.pem }] }],
      });
      expect(await servedFingerprint(sslPort())).toBe(fingerprint(second));
      // the admin's own connection, and one opened before, go on
      expect((await admin.describeCluster()).brokers).toHaveLength(1);
      expect((await open.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})).errorCode).toBe(ErrorCode.NONE);
    } finally {
      await admin.disconnect();
      open.close();
    }
  });

  it('refuses a key store with another subject or fewer subject alternative names, as Kafka: INVALID_REQUEST "Invalid dynamic configuration"', async () => {
    for (const refused of [otherName, fewerNames]) {
      for (const validateOnly of [true, false]) {
        expect(await incrementalAlter(plainPort(), [{ name: 'listener.name.ssl.ssl.keystore.location', op: SET, value: refused.pem }], validateOnly)).toEqual(
          expect.objectContaining({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid dynamic configuration' }),
        );
      }
    }
    // a key store that does not load is refused the same way
    expect(await incrementalAlter(plainPort(), [{ name: 'listener.name.ssl.ssl.keystore.location', op: SET, value: '/nonexistent/ks.pem' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Invalid dynamic configuration',
    });
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(second));
  });

  it('refuses an unprefixed key store change (Kafka: per listener only)', async () => {
    expect(await incrementalAlter(plainPort(), [{ name: 'ssl.keystore.location', op: SET, value: second.pem }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)',
    });
  });

  it('reads a key store file rewritten at the same path again when its location is set again', async () => {
    const rotating = join(pki.dir, 'rotating.pem');
    copyFileSync(first.pem, rotating);
    expect((await incrementalAlter(plainPort(), [{ name: 'listener.name.ssl.ssl.keystore.location', op: SET, value: rotating }])).errorCode).toBe(ErrorCode.NONE);
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(first));
    copyFileSync(second.pem, rotating);
    const later = new Date(Date.now() + 60_000);
    utimesSync(rotating, later, later);
    expect((await incrementalAlter(plainPort(), [{ name: 'listener.name.ssl.ssl.keystore.location', op: SET, value: rotating }])).errorCode).toBe(ErrorCode.NONE);
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(second));
  });

  it('keeps the rotated certificate across a restart (dynamic configs are stored)', async () => {
    await broker.close();
    broker = await start();
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(second));
    expect((await incrementalAlter(plainPort(), [{ name: 'listener.name.ssl.ssl.keystore.location', op: SET, value: first.pem }])).errorCode).toBe(ErrorCode.NONE);
    await broker.close();
    broker = await start();
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(first));
    // deleting the dynamic value goes back to the static one
    expect((await incrementalAlter(plainPort(), [{ name: 'listener.name.ssl.ssl.keystore.location', op: DELETE, value: null }])).errorCode).toBe(ErrorCode.NONE);
    expect(await servedFingerprint(sslPort())).toBe(fingerprint(first));
  });
});

describe('an inline PEM key store', () => {
  it('is rotated with new ssl.keystore.key and certificate chain values, and described without its secrets', async () => {
    const broker = await startBroker({
      config: { listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PEM', 'ssl.keystore.key': first.keyText, 'ssl.keystore.certificate.chain': first.certText },
    });
    try {
      const port = broker.broker.boundPorts.get('SSL')!;
      expect(await servedFingerprint(port)).toBe(fingerprint(first));
      const c = await RawClient.connectTls(port, { ca: pki.caCertText });
      try {
        const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
          resources: [
            {
              resourceType: BROKER,
              resourceName: '1',
              configs: [
                { name: 'listener.name.ssl.ssl.keystore.key', configOperation: SET, value: second.keyText },
                { name: 'listener.name.ssl.ssl.keystore.certificate.chain', configOperation: SET, value: second.certText },
              ],
            },
          ],
          validateOnly: false,
        });
        expect(res.responses[0]).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
        expect(await servedFingerprint(port)).toBe(fingerprint(second));
        const described = await c.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, 4, {
          resources: [{ resourceType: BROKER, resourceName: '1', configurationKeys: ['listener.name.ssl.ssl.keystore.key', 'listener.name.ssl.ssl.keystore.certificate.chain', 'ssl.keystore.key'] }],
          includeSynonyms: true,
          includeDocumentation: false,
        });
        const configs = described.results[0]!.configs;
        expect(configs.map((e) => [e.name, e.value, e.isSensitive]).sort()).toEqual([
          ['listener.name.ssl.ssl.keystore.certificate.chain', null, true],
          ['listener.name.ssl.ssl.keystore.key', null, true],
          ['ssl.keystore.key', null, true],
        ]);
        expect(JSON.stringify(configs)).not.toContain('BEGIN');
      } finally {
        c.close();
      }
    } finally {
      await broker.close();
    }
  });
});

describe('ssl.allow.dn.changes', () => {
  it('lets a key store with another subject replace the current one', async () => {
    const broker = await startBroker({
      config: { listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': first.pem, 'ssl.allow.dn.changes': true },
    });
    try {
      const port = broker.broker.boundPorts.get('SSL')!;
      const c = await RawClient.connectTls(port, { ca: pki.caCertText });
      const res = await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
        resources: [{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'listener.name.ssl.ssl.keystore.location', configOperation: SET, value: otherName.pem }] }],
        validateOnly: false,
      });
      c.close();
      expect(res.responses[0]!.errorCode).toBe(ErrorCode.NONE);
      const served = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', ca: pki.caCertText, servername: 'localhost' }, () => {
          resolve(socket.getPeerCertificate().subject.CN as string);
          socket.end();
        });
        socket.once('error', reject);
      });
      expect(served).toBe('broker.example.com');
    } finally {
      await broker.close();
    }
  });
});
