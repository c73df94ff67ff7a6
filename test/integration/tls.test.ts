/**
 * TLS listeners (SSL, SASL_SSL) with real clients over real sockets, certificates made at test time with
 * openssl: kafkajs, kcat (librdkafka) and confluent-kafka-python produce and consume over SSL; mutual TLS
 * gives the client certificate's principal (mapped by ssl.principal.mapping.rules); clients without a
 * trusted certificate, TLS 1.1 and garbage are refused and counted; fetch responses streamed from the
 * segment files go through the TLS socket.
 */
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { TestPki, type Issued } from '../helpers/certificates.js';
import { kcatConsume, kcatProduce } from '../helpers/kcat.js';
import { RawClient } from '../helpers/raw-client.js';
import { addScramUser } from '../helpers/sasl.js';
import { SCRAM_SHA_512 } from '../../src/security/sasl/scram-mechanism.js';

const run = promisify(execFile);

let pki: TestPki;
let serverCert: Issued;
let alice: Issued;
let stranger: Issued;
let broker: RunningBroker;
const port = (listener: string): number => broker.broker.boundPorts.get(listener)!;

function kafka(listener: string, ssl: KafkaConfig['ssl'], clientId = 'tls-test'): Kafka {
  return new Kafka({ clientId, brokers: [`127.0.0.1:${port(listener)}`], ssl, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

/** Waits until `check` holds (the broker counts a failed handshake once the socket has closed on its side). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function failures(listener: string): number {
  return broker.broker.listenerStats().find((l) => l.name === listener)!.tls!.failures;
}

beforeAll(async () => {
  pki = await TestPki.create();
  serverCert = pki.issue('server', '/CN=localhost/O=Gregor Test', { san: 'DNS:localhost,IP:127.0.0.1' });
  alice = pki.issue('alice', '/C=US/O=Example, Inc./OU=eng/CN=alice');
  stranger = (await pki.otherCa('untrusted')).issue('stranger', '/CN=stranger');
  const encrypted = pki.issue('sasl-server', '/CN=localhost/O=Gregor Test', { san: 'DNS:localhost,IP:127.0.0.1', keyPassword: 'k3y-s3cret', ec: true });
  broker = await startBroker({
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,MTLS://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,SASL_SSL:SASL_SSL',
      'ssl.keystore.type': 'PEM',
      'listener.name.ssl.ssl.keystore.location': serverCert.pem,
      'listener.name.mtls.ssl.keystore.location': serverCert.pem,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pki.caCert,
      'ssl.client.auth': 'requested',
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.mtls.ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=([^,]+),.*$/$1@$2/L,DEFAULT',
      // the SASL_SSL listener: its own key, inline and encrypted (as Kafka's PEM configs)
      'listener.name.sasl_ssl.ssl.keystore.key': encrypted.keyText,
      'listener.name.sasl_ssl.ssl.keystore.certificate.chain': encrypted.certText,
      'listener.name.sasl_ssl.ssl.key.password': 'k3y-s3cret',
      // and its SASL mechanisms (security/sasl)
      'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
      // fetches read the segment files (no batch cache): record sections are streamed through TLS
      'gregor.cache.bytes': 0,
      'num.partitions': 1,
    },
  });
}, 60_000);

afterAll(async () => {
  await broker?.close();
  await pki?.remove();
});

describe('SSL listener', () => {
  it('answers Metadata over TLS with the SSL listener\'s own endpoint', async () => {
    const c = await RawClient.connectTls(port('SSL'), { ca: pki.caCertText });
    try {
      const md = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null });
      expect(md.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: port('SSL'), rack: null }]);
      const plain = await RawClient.connect(port('PLAINTEXT'));
      const md2 = await plain.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null });
      expect(md2.brokers[0]!.port).toBe(port('PLAINTEXT'));
      plain.close();
    } finally {
      c.close();
    }
  });

  it('serves kafkajs: produce and consume over SSL, large records streamed from the segment files through TLS', async () => {
    const client = kafka('SSL', { ca: [pki.caCertText], servername: 'localhost' });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tls-kafkajs', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    const value = (i: number): Buffer => Buffer.alloc(64 * 1024, i % 251);
    const expected = createHash('sha256');
    for (let batch = 0; batch < 8; batch++) {
      const messages = Array.from({ length: 10 }, (_, j) => ({ key: String(batch * 10 + j), value: value(batch * 10 + j) }));
      for (const m of messages) expected.update(m.value);
      await producer.send({ topic: 'tls-kafkajs', messages });
    }
    await producer.disconnect();
    const consumer = client.consumer({ groupId: 'tls-kafkajs', maxBytes: 8 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'tls-kafkajs', fromBeginning: true });
    const got = createHash('sha256');
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.update(message.value!);
            if (++n === 80) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(got.digest('hex')).toBe(expected.digest('hex'));
  }, 60_000);

  it('serves kcat (librdkafka): produce and consume over SSL, verifying the broker certificate', async () => {
    const ssl = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caCert}`];
    await kcatProduce(port('SSL'), 'tls-kcat', ['k1:one', 'k2:two', 'k3:three'], ['-K:', ...ssl]);
    const records = await kcatConsume(port('SSL'), 'tls-kcat', 0, ssl);
    expect(records.map((r) => [r.key, r.payload])).toEqual([
      ['k1', 'one'],
      ['k2', 'two'],
      ['k3', 'three'],
    ]);
  }, 60_000);

  it('serves confluent-kafka-python: produce and consume over SSL', async () => {
    const script = `
import sys
from confluent_kafka import Producer, Consumer
conf = {'bootstrap.servers': sys.argv[1], 'security.protocol': 'SSL', 'ssl.ca.location': sys.argv[2]}
p = Producer(conf)
for i in range(50):
    p.produce('tls-python', key=str(i), value='value-%d' % i)
assert p.flush(30) == 0
c = Consumer(dict(conf, **{'group.id': 'tls-python', 'auto.offset.reset': 'earliest'}))
c.subscribe(['tls-python'])
seen = []
while len(seen) < 50:
    m = c.poll(30)
    if m is None:
        break
    if m.error():
        raise Exception(m.error())
    seen.append(m.value().decode())
c.close()
print(len(seen), seen[0], seen[-1])
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, `127.0.0.1:${port('SSL')}`, pki.caCert], { timeout: 90_000 });
    expect(stdout.trim()).toBe('50 value-0 value-49');
  }, 120_000);

  it('gives a connection without a client certificate the principal User:ANONYMOUS', async () => {
    const c = await RawClient.connectTls(port('SSL'), { ca: pki.caCertText }, '127.0.0.1', 'anonymous-client');
    try {
      await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'anon', clientSoftwareVersion: '1' });
      const session = [...broker.broker.connections].find((x) => x.session.clientSoftwareName === 'anon')!.session;
      expect(session.principal).toEqual({ principalType: 'User', name: 'ANONYMOUS' });
      expect(session.securityProtocol).toBe('SSL');
    } finally {
      c.close();
    }
  });

  it('refuses a client certificate it does not trust (ssl.client.auth=requested), and counts the failure', async () => {
    const before = failures('SSL');
    const c = await RawClient.connectTls(port('SSL'), { ca: pki.caCertText, key: stranger.keyText, cert: stranger.certText }).catch((err: Error) => err);
    if (c instanceof RawClient) {
      await expect(c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})).rejects.toThrow();
      await c.closed;
    }
    await until(() => failures('SSL') === before + 1, 'the failed handshake to be counted');
  });

  it('refuses TLS 1.1 (TLS 1.2 and 1.3 only) with a protocol_version alert', async () => {
    const before = failures('SSL');
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const socket = tls.connect({ port: port('SSL'), host: '127.0.0.1', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false });
      socket.once('secureConnect', () => reject(new Error(`TLS 1.1 was accepted (${socket.getProtocol()})`)));
      socket.once('error', resolve);
    });
    expect(err.code).toMatch(/ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ERR_SSL_UNSUPPORTED_PROTOCOL|ECONNRESET/);
    await until(() => failures('SSL') === before + 1, 'the failed handshake to be counted');
    // the listener goes on
    const c = await RawClient.connectTls(port('SSL'), { ca: pki.caCertText });
    expect((await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})).errorCode).toBe(ErrorCode.NONE);
    c.close();
  });

  it('negotiates TLS 1.3 by default and TLS 1.2 with a client that offers only it', async () => {
    for (const [maxVersion, expected] of [
      ['TLSv1.3', 'TLSv1.3'],
      ['TLSv1.2', 'TLSv1.2'],
    ] as const) {
      const protocol = await new Promise<string | null>((resolve, reject) => {
        const socket = tls.connect({ port: port('SSL'), host: '127.0.0.1', ca: pki.caCertText, servername: 'localhost', maxVersion }, () => {
          resolve(socket.getProtocol());
          socket.end();
        });
        socket.once('error', reject);
      });
      expect(protocol).toBe(expected);
    }
  });
});

describe('mutual TLS (ssl.client.auth=required)', () => {
  it('gives the connection the principal of the client certificate, mapped by ssl.principal.mapping.rules', async () => {
    const c = await RawClient.connectTls(port('MTLS'), { ca: pki.caCertText, key: alice.keyText, cert: alice.certText });
    try {
      await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'alice-client', clientSoftwareVersion: '1' });
      const session = [...broker.broker.connections].find((x) => x.session.clientSoftwareName === 'alice-client')!.session;
      // subject CN=alice,OU=eng,O=Example\, Inc.,C=US; RULE:^CN=([^,]+),OU=([^,]+),.*$/$1@$2/L
      expect(session.principal).toEqual({ principalType: 'User', name: 'alice@eng' });
      expect(session.listenerName).toBe('MTLS');
    } finally {
      c.close();
    }
  });

  it('the principal without rules that apply is the subject itself, in RFC 2253 (DEFAULT)', async () => {
    // on the SSL listener (DEFAULT rules), alice's certificate is accepted and named as Java names it
    const c = await RawClient.connectTls(port('SSL'), { ca: pki.caCertText, key: alice.keyText, cert: alice.certText });
    try {
      await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'alice-default', clientSoftwareVersion: '1' });
      const session = [...broker.broker.connections].find((x) => x.session.clientSoftwareName === 'alice-default')!.session;
      expect(session.principal).toEqual({ principalType: 'User', name: 'CN=alice,OU=eng,O=Example\\, Inc.,C=US' });
    } finally {
      c.close();
    }
  });

  it('serves kcat with a client certificate', async () => {
    const ssl = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caCert}`, '-X', `ssl.certificate.location=${alice.cert}`, '-X', `ssl.key.location=${alice.key}`];
    await kcatProduce(port('MTLS'), 'mtls-kcat', ['a', 'b'], ssl);
    expect((await kcatConsume(port('MTLS'), 'mtls-kcat', 0, ssl)).map((r) => r.payload)).toEqual(['a', 'b']);
  }, 60_000);

  it('serves kafkajs with a client certificate', async () => {
    const client = kafka('MTLS', { ca: [pki.caCertText], key: alice.keyText, cert: alice.certText, servername: 'localhost' });
    const admin = client.admin();
    await admin.connect();
    expect((await admin.describeCluster()).brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: port('MTLS') }]);
    await admin.disconnect();
  });

  it('refuses a client without a certificate (the handshake fails with certificate_required), and counts it', async () => {
    const before = failures('MTLS');
    const outcome = await RawClient.connectTls(port('MTLS'), { ca: pki.caCertText }).then(
      async (c) => {
        // TLS 1.3: the client's handshake ends before the server has checked its certificate; the alert follows
        const answer = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {}).then(
          () => 'answered',
          () => 'closed',
        );
        c.close();
        return answer;
      },
      () => 'handshake failed',
    );
    expect(outcome).not.toBe('answered');
    await until(() => failures('MTLS') === before + 1, 'the failed handshake to be counted');
    // nor does kcat get anything without its certificate
    await expect(kcatConsume(port('MTLS'), 'mtls-kcat', 0, ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caCert}`, '-m', '5'])).rejects.toThrow();
  }, 90_000);

  it('refuses a certificate from a CA it does not trust', async () => {
    const before = failures('MTLS');
    const c = await RawClient.connectTls(port('MTLS'), { ca: pki.caCertText, key: stranger.keyText, cert: stranger.certText }).catch((err: Error) => err);
    if (c instanceof RawClient) {
      await expect(c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {})).rejects.toThrow();
    }
    await until(() => failures('MTLS') === before + 1, 'the failed handshake to be counted');
  });
});

describe('SASL_SSL listener', () => {
  it('serves TLS with its own encrypted key (listener-prefixed, inline), then only what authentication needs', async () => {
    const keyType = await new Promise<string | undefined>((resolve, reject) => {
      const socket = tls.connect({ port: port('SASL_SSL'), host: '127.0.0.1', ca: pki.caCertText, servername: 'localhost' }, () => {
        resolve(socket.getPeerX509Certificate()?.publicKey.asymmetricKeyType);
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(keyType).toBe('ec');
    const c = await RawClient.connectTls(port('SASL_SSL'), { ca: pki.caCertText });
    const versions = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'sasl', clientSoftwareVersion: '1' });
    expect(versions.errorCode).toBe(ErrorCode.NONE);
    const session = [...broker.broker.connections].find((x) => x.session.clientSoftwareName === 'sasl')!.session;
    expect(session.state).toBe('authenticating');
    await expect(c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null })).rejects.toThrow('connection closed');
  });

  it('authenticates SASL over TLS: kcat with PLAIN, kafkajs with SCRAM-SHA-512', async () => {
    const kcatArgs = ['-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${pki.caCert}`, '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
    await kcatProduce(port('SASL_SSL'), 'sasl-ssl', ['over SASL_SSL'], kcatArgs);
    expect((await kcatConsume(port('SASL_SSL'), 'sasl-ssl', 0, kcatArgs)).map((r) => r.payload)).toEqual(['over SASL_SSL']);
    await addScramUser(port('PLAINTEXT'), 'carol', 'carol-secret', SCRAM_SHA_512);
    const scram = new Kafka({
      clientId: 'sasl-ssl',
      brokers: [`127.0.0.1:${port('SASL_SSL')}`],
      ssl: { ca: [pki.caCertText], servername: 'localhost' },
      sasl: { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-secret' },
      logLevel: logLevel.NOTHING,
    }).producer();
    await scram.connect();
    await scram.send({ topic: 'sasl-ssl', messages: [{ value: 'scram over TLS' }] });
    await scram.disconnect();
    expect((await kcatConsume(port('SASL_SSL'), 'sasl-ssl', 0, kcatArgs)).map((r) => r.payload)).toEqual(['over SASL_SSL', 'scram over TLS']);
  });
});

describe('the server certificate', () => {
  it('is the one of the key store, verified by clients against the CA and the host name', async () => {
    const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ port: port('SSL'), host: '127.0.0.1', ca: pki.caCertText, servername: 'localhost' }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(cert.fingerprint256).toBe(new X509Certificate(serverCert.certText).fingerprint256);
  });
});
