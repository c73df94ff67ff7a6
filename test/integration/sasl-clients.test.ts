/**
 * Real clients on a SASL_PLAINTEXT listener of a real broker: kafkajs (PLAIN,
 * SCRAM-SHA-256, SCRAM-SHA-512), kcat/librdkafka 2.0 (PLAIN, SCRAM,
 * OAUTHBEARER with its unsecured JWT), confluent-kafka-python (PLAIN, SCRAM)
 * produce and read back; a wrong password fails each with
 * SASL_AUTHENTICATION_FAILED and Kafka's message; librdkafka 2.15
 * (@confluentinc/kafka-javascript) re-authenticates (KIP-368) on its own
 * when connections.max.reauth.ms is small, and goes on producing. No log
 * line of the broker holds a password.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRAM_SHA_256, SCRAM_SHA_512 } from '../../src/security/sasl/scram-mechanism.js';
import { kcatConsume, kcatProduce } from '../helpers/kcat.js';
import { confluentKafkaJavascript } from '../helpers/librdkafka.js';
import { addScramUser, startSaslBroker, type SaslBroker } from '../helpers/sasl.js';

const run = promisify(execFile);
const PASSWORDS = ['alice-secret', 'admin-secret', 'carol-secret', 'wrong-password'];

describe('SASL with real clients', () => {
  let b: SaslBroker;

  beforeAll(async () => {
    b = await startSaslBroker({ 'num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 });
    await addScramUser(b.plaintextPort, 'carol', 'carol-secret', SCRAM_SHA_256);
    await addScramUser(b.plaintextPort, 'carol', 'carol-secret', SCRAM_SHA_512, 8192);
  });
  afterAll(async () => {
    if (!b) return;
    await b.remove();
    // nothing the clients sent as a password is in the broker's log
    const log = b.logs.join('');
    for (const p of PASSWORDS) expect(log).not.toContain(p);
  });

  const kafkajs = (sasl: SASLOptions) =>
    new Kafka({ clientId: 'sasl-kafkajs', brokers: [`127.0.0.1:${b.saslPort}`], sasl, logLevel: logLevel.NOTHING, retry: { retries: 0 } });

  it('kafkajs produces and consumes with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512', async () => {
    const cases: SASLOptions[] = [
      { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
      { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' },
      { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-secret' },
    ];
    for (const sasl of cases) {
      const topic = `kafkajs-${sasl.mechanism}`;
      const kafka = kafkajs(sasl);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ value: `hello over ${sasl.mechanism}` }] });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: `g-${sasl.mechanism}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }));
      await consumer.disconnect();
      expect(got).toBe(`hello over ${sasl.mechanism}`);
    }
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'success')).toBeGreaterThan(0);
  });

  it("kafkajs with a wrong password fails with SASL_AUTHENTICATION_FAILED and Kafka's message", async () => {
    const plain = kafkajs({ mechanism: 'plain', username: 'alice', password: 'wrong-password' }).admin();
    await expect(plain.connect()).rejects.toThrow(/Authentication failed: Invalid username or password/);
    await plain.disconnect();
    const scram = kafkajs({ mechanism: 'scram-sha-256', username: 'carol', password: 'wrong-password' }).admin();
    await expect(scram.connect()).rejects.toThrow(/SASL SCRAM SHA256 authentication failed|invalid credentials with SASL mechanism SCRAM-SHA-256/);
    await scram.disconnect();
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'PLAIN', 'failure')).toBeGreaterThan(0);
  });

  const kcatSasl = (mechanism: string, user: string, password: string): string[] => [
    '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`,
  ];

  it('kcat (librdkafka) produces and consumes with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and unsecured OAUTHBEARER', async () => {
    const cases: Array<[string, string[]]> = [
      ['PLAIN', kcatSasl('PLAIN', 'alice', 'alice-secret')],
      ['SCRAM-SHA-256', kcatSasl('SCRAM-SHA-256', 'carol', 'carol-secret')],
      ['SCRAM-SHA-512', kcatSasl('SCRAM-SHA-512', 'carol', 'carol-secret')],
      ['OAUTHBEARER', ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', 'sasl.oauthbearer.config=principal=dave scope=kafka']],
    ];
    for (const [mechanism, args] of cases) {
      const topic = `kcat-${mechanism.toLowerCase()}`;
      await kcatProduce(b.saslPort, topic, [`one ${mechanism}`, `two ${mechanism}`], args);
      const read = await kcatConsume(b.saslPort, topic, 0, args);
      expect(read.map((r) => r.payload)).toEqual([`one ${mechanism}`, `two ${mechanism}`]);
    }
    expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', 'OAUTHBEARER', 'success')).toBeGreaterThan(0);
  });

  it('kcat with a wrong password reports the authentication failure and gives up', async () => {
    const failed = run('kcat', ['-b', `127.0.0.1:${b.saslPort}`, '-L', '-m', '3', ...kcatSasl('PLAIN', 'alice', 'wrong-password')], { timeout: 30_000 });
    await expect(failed).rejects.toMatchObject({ stderr: expect.stringContaining('SASL authentication error: Authentication failed: Invalid username or password') });
    const scram = run('kcat', ['-b', `127.0.0.1:${b.saslPort}`, '-L', '-m', '3', ...kcatSasl('SCRAM-SHA-512', 'carol', 'wrong-password')], { timeout: 30_000 });
    await expect(scram).rejects.toMatchObject({
      stderr: expect.stringContaining('Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'),
    });
  });

  it('confluent-kafka-python produces and consumes with PLAIN and SCRAM; a wrong password is SASL_AUTHENTICATION_FAILED', async () => {
    const script = `
import json, sys
from confluent_kafka import Producer, Consumer, KafkaError
port, mech, user, pw, topic = sys.argv[1:6]
conf = {'bootstrap.servers': '127.0.0.1:' + port, 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': mech, 'sasl.username': user, 'sasl.password': pw}
errors = []
def on_error(err):
    errors.append(err.str())
p = Producer(dict(conf, error_cb=on_error, **{'message.timeout.ms': 5000}))
delivered = []
p.produce(topic, b'from python ' + mech.encode(), on_delivery=lambda err, msg: delivered.append(err is None))
p.flush(10)
values = []
if delivered == [True]:
    c = Consumer(dict(conf, error_cb=on_error, **{'group.id': 'py-' + mech, 'auto.offset.reset': 'earliest'}))
    c.subscribe([topic])
    for _ in range(40):
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            values.append(m.value().decode())
            break
    c.close()
print(json.dumps({'delivered': delivered, 'values': values, 'errors': errors}))
`;
    const py = async (mech: string, user: string, pw: string, topic: string) =>
      JSON.parse((await run('/usr/bin/python3', ['-c', script, String(b.saslPort), mech, user, pw, topic], { timeout: 60_000 })).stdout) as { delivered: boolean[]; values: string[]; errors: string[] };
    expect(await py('PLAIN', 'alice', 'alice-secret', 'python-plain')).toMatchObject({ delivered: [true], values: ['from python PLAIN'] });
    expect(await py('SCRAM-SHA-256', 'carol', 'carol-secret', 'python-scram')).toMatchObject({ delivered: [true], values: ['from python SCRAM-SHA-256'] });
    const bad = await py('PLAIN', 'alice', 'wrong-password', 'python-bad');
    expect(bad.delivered).toEqual([false]);
    expect(bad.errors.join('\n')).toContain('Authentication failed: Invalid username or password');
  }, 120_000);
});

/** What this test uses of @confluentinc/kafka-javascript's KafkaJS-style API. */
interface CkjsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(r: { topic: string; messages: Array<{ value: string }> }): Promise<unknown>;
}
interface CkjsModule {
  KafkaJS: { Kafka: new (config: object) => { producer(config?: object): CkjsProducer }; logLevel: { NOTHING: number } };
}

describe('KIP-368 re-authentication with librdkafka 2.15', () => {
  let b: SaslBroker;
  let KafkaJS: CkjsModule['KafkaJS'];

  beforeAll(async () => {
    ({ KafkaJS } = createRequire(import.meta.url)(await confluentKafkaJavascript()) as CkjsModule);
    b = await startSaslBroker({ 'connections.max.reauth.ms': 2000, 'num.partitions': 1 });
    await addScramUser(b.plaintextPort, 'carol', 'carol-secret', SCRAM_SHA_512);
  }, 600_000);
  afterAll(async () => {
    await b?.remove();
  });

  it('re-authenticates on the same connections before the 2 s session lifetime ends, and keeps producing (PLAIN and SCRAM)', async () => {
    for (const [mechanism, username, password] of [['plain', 'alice', 'alice-secret'], ['scram-sha-512', 'carol', 'carol-secret']] as const) {
      const producer = new KafkaJS.Kafka({
        kafkaJS: { brokers: [`127.0.0.1:${b.saslPort}`], clientId: 'reauth', sasl: { mechanism, username, password }, logLevel: KafkaJS.logLevel.NOTHING },
      }).producer();
      await producer.connect();
      const topic = `reauth-${mechanism}`;
      const upper = mechanism.toUpperCase();
      const started = Date.now();
      let sent = 0;
      while (Date.now() - started < 7000) {
        await producer.send({ topic, messages: [{ value: `m${sent}` }] });
        sent++;
        await new Promise((r) => setTimeout(r, 200));
      }
      await producer.disconnect();
      expect(sent).toBeGreaterThan(10);
      expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', upper, 'success', true)).toBeGreaterThanOrEqual(2);
      expect(b.broker.sasl.stats.count('SASL_PLAINTEXT', upper, 'failure', true)).toBe(0);
      const end = b.broker.topics.partition(topic, 0);
      expect(end).toBeDefined();
    }
    // no connection was closed for an expired session
    expect(b.logs.join('')).not.toContain('SASL session expired');
  }, 120_000);
});
