/**
 * The authorizer with real principals, end to end: a broker with a SASL_PLAINTEXT listener (PLAIN users
 * alice, bob and admin), an SSL listener that requires a client certificate (its principal mapped by
 * ssl.principal.mapping.rules), authorizer.class.name set and super.users=User:admin.
 * - admin (a super user) creates topics and ACLs with kafkajs's admin client;
 * - alice, with WRITE/DESCRIBE/READ on the topics under a prefix and READ on her group, produces and
 *   consumes with kafkajs;
 * - bob, with no ACL, is refused: TOPIC_AUTHORIZATION_FAILED as kafkajs raises it (KafkaJSProtocolError's
 *   type), GROUP_AUTHORIZATION_FAILED for his FindCoordinator (on the wire: kafkajs drops that answer) and,
 *   once he may DESCRIBE his group but not READ it, for the JoinGroup of kafkajs's consumer (its crash);
 * - the principal of a client certificate is authorized by its mapped name (User:carol), another
 *   certificate's (User:dave) is not;
 * - a producer_byte_rate quota on user alice applies to alice's SASL connection and not to bob's: on the
 *   wire, alice's Produce responses carry throttle_time_ms > 0 and bob's 0, with the same client id.
 */
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type Admin, type ITopicConfig, type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { TestPki, type Issued } from '../helpers/certificates.js';
import { testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";';
const PASSWORDS: Record<string, string> = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret' };

let pki: TestPki;
let carol: Issued;
let dave: Issued;
let broker: RunningBroker;
let admin: Admin;
const port = (listener: string): number => broker.broker.boundPorts.get(listener)!;

function saslKafka(user: string, clientId = `kafkajs-${user}`): Kafka {
  return new Kafka({
    clientId,
    brokers: [`127.0.0.1:${port('SASL_PLAINTEXT')}`],
    sasl: { mechanism: 'plain', username: user, password: PASSWORDS[user]! },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

function tlsKafka(cert: Issued): Kafka {
  const ssl: KafkaConfig['ssl'] = { ca: [pki.caCertText], cert: cert.certText, key: cert.keyText, servername: 'localhost' };
  return new Kafka({ clientId: 'kafkajs-mtls', brokers: [`127.0.0.1:${port('MTLS')}`], ssl, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

const allow = (principal: string, resourceType: AclResourceTypes, resourceName: string, operation: AclOperationTypes, prefixed = false) => ({
  resourceType,
  resourceName,
  resourcePatternType: prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

/** A raw connection authenticated with PLAIN (SaslHandshake v1, SaslAuthenticate v2), for wire-level checks. */
async function plainConnection(user: string, clientId: string): Promise<RawClient> {
  const c = await RawClient.connect(port('SASL_PLAINTEXT'), '127.0.0.1', clientId);
  expect((await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' })).errorCode).toBe(ErrorCode.NONE);
  const authBytes = Buffer.from(`\u0000${user}\u0000${PASSWORDS[user]!}`);
  expect((await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes })).errorCode).toBe(ErrorCode.NONE);
  return c;
}

beforeAll(async () => {
  pki = await TestPki.create();
  const serverCert = pki.issue('server', '/CN=localhost/O=Gregor Test', { san: 'DNS:localhost,IP:127.0.0.1' });
  carol = pki.issue('carol', '/O=Gregor Test/CN=carol');
  dave = pki.issue('dave', '/O=Gregor Test/CN=dave');
  broker = await startBroker({
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,MTLS://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,MTLS:SSL',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'ssl.keystore.type': 'PEM',
      'listener.name.mtls.ssl.keystore.location': serverCert.pem,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pki.caCert,
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.mtls.ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/,DEFAULT',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
      'num.partitions': 1,
      'group.initial.rebalance.delay.ms': 0,
    },
  });
  admin = saslKafka('admin').admin();
  await admin.connect();
  const topics: ITopicConfig[] = ['alice-orders', 'bob-orders', 'mtls-orders', 'quota-orders'].map((topic) => ({ topic, numPartitions: 1 }));
  await admin.createTopics({ topics });
  await admin.createAcls({
    acl: [
      ...[AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE, AclOperationTypes.READ].map((op) => allow('User:alice', AclResourceTypes.TOPIC, 'alice-', op, true)),
      allow('User:alice', AclResourceTypes.GROUP, 'alice-group', AclOperationTypes.READ),
      allow('User:carol', AclResourceTypes.TOPIC, 'mtls-orders', AclOperationTypes.WRITE),
      allow('User:carol', AclResourceTypes.TOPIC, 'mtls-orders', AclOperationTypes.DESCRIBE),
    ],
  });
}, 60_000);

afterAll(async () => {
  await admin?.disconnect();
  await broker?.close();
  await pki?.remove();
});

describe('SASL principals and the authorizer, with kafkajs', () => {
  it('admin, a super user, created the ACLs: kafkajs describes them back', async () => {
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const principals = new Set(described.resources.flatMap((r) => r.acls.map((a) => a.principal)));
    expect([...principals].sort()).toEqual(['User:alice', 'User:carol']);
    expect(broker.broker.authorizer!.matching({ resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: 'User:alice', host: null, operation: 'ANY', permissionType: 'ANY' })).toHaveLength(4);
  });

  it('alice produces to and consumes from a topic under her prefix, in her group', async () => {
    const kafka = saslKafka('alice');
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: 'alice-orders', messages: [{ key: 'k', value: 'from alice' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'alice-group', retry: { retries: 0 } });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'alice-orders', fromBeginning: true });
      const got = await new Promise<string>((resolve, reject) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
      });
      expect(got).toBe('from alice');
    } finally {
      await consumer.disconnect();
    }
    // her group's offsets were committed under her principal
    const offsets = await admin.fetchOffsets({ groupId: 'alice-group', topics: ['alice-orders'] });
    expect(offsets[0]!.partitions[0]!.offset).not.toBe('-1');
  });

  it('alice is refused a topic outside her prefix', async () => {
    const producer = saslKafka('alice').producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await expect(producer.send({ topic: 'bob-orders', messages: [{ value: 'x' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
    } finally {
      await producer.disconnect();
    }
  });

  it('bob, without ACLs, gets TOPIC_AUTHORIZATION_FAILED and GROUP_AUTHORIZATION_FAILED', async () => {
    const kafka = saslKafka('bob');
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await expect(producer.send({ topic: 'bob-orders', messages: [{ value: 'x' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'alice-group', retry: { retries: 0 } });
    await consumer.connect();
    try {
      await expect(consumer.subscribe({ topic: 'alice-orders' })).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    } finally {
      await consumer.disconnect();
    }
    // no ACL on the group: FindCoordinator is refused (kafkajs drops that answer and says it found no
    // coordinator; on the wire it is GROUP_AUTHORIZATION_FAILED)
    const raw = await plainConnection('bob', 'raw-bob');
    try {
      const found = await raw.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType: 0, coordinatorKeys: ['bob-group'] });
      expect(found.coordinators[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    } finally {
      raw.close();
    }
    const bobAdmin = kafka.admin();
    await bobAdmin.connect();
    try {
      // bob may not manage ACLs (CLUSTER_AUTHORIZATION_FAILED)
      await expect(bobAdmin.createAcls({ acl: [allow('User:bob', AclResourceTypes.TOPIC, 'bob-orders', AclOperationTypes.ALL)] })).rejects.toMatchObject({ type: 'CLUSTER_AUTHORIZATION_FAILED' });
    } finally {
      await bobAdmin.disconnect();
    }
    // with READ on a topic and DESCRIBE on his group but not READ, kafkajs's consumer finds the coordinator
    // and is refused its JoinGroup: GROUP_AUTHORIZATION_FAILED
    await admin.createAcls({
      acl: [allow('User:bob', AclResourceTypes.TOPIC, 'bob-orders', AclOperationTypes.READ), allow('User:bob', AclResourceTypes.GROUP, 'bob-group', AclOperationTypes.DESCRIBE)],
    });
    const groupConsumer = kafka.consumer({ groupId: 'bob-group', retry: { retries: 0, restartOnFailure: async () => false } });
    await groupConsumer.connect();
    try {
      await groupConsumer.subscribe({ topic: 'bob-orders', fromBeginning: true });
      const crashed = new Promise<unknown>((resolve) => groupConsumer.on(groupConsumer.events.CRASH, (e) => resolve(e.payload.error)));
      await groupConsumer.run({ eachMessage: async () => undefined });
      expect(await crashed).toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    } finally {
      await groupConsumer.disconnect();
      await admin.deleteAcls({ filters: [{ principal: 'User:bob', resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }] });
    }
  });
});

describe('an mTLS principal and the authorizer', () => {
  it('authorizes the certificate by its mapped name (User:carol), and refuses another (User:dave)', async () => {
    const carolProducer = tlsKafka(carol).producer({ allowAutoTopicCreation: false });
    await carolProducer.connect();
    try {
      const [sent] = await carolProducer.send({ topic: 'mtls-orders', messages: [{ value: 'from carol' }] });
      expect(sent!.errorCode).toBe(0);
    } finally {
      await carolProducer.disconnect();
    }
    const daveProducer = tlsKafka(dave).producer({ allowAutoTopicCreation: false });
    await daveProducer.connect();
    try {
      await expect(daveProducer.send({ topic: 'mtls-orders', messages: [{ value: 'from dave' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
    } finally {
      await daveProducer.disconnect();
    }
  });
});

describe('client quotas by SASL user', () => {
  it("applies a producer_byte_rate on user alice to alice's connection, not to bob's", async () => {
    await admin.createAcls({
      acl: ['User:alice', 'User:bob'].flatMap((p) => [allow(p, AclResourceTypes.TOPIC, 'quota-orders', AclOperationTypes.WRITE)]),
    });
    // set as admin, over SASL, with AlterClientQuotas (ALTER_CONFIGS on the cluster: a super user's)
    const adminConn = await plainConnection('admin', 'quota-admin');
    const entity = [{ entityType: 'user', entityName: 'alice' }];
    const set = (remove: boolean) =>
      adminConn.request(schemas.alterClientQuotasRequest, schemas.alterClientQuotasResponse, 1, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 18_000, remove }] }], validateOnly: false });
    expect((await set(false)).entries).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null, entity }]);
    // the same client id for both: only the principal differs
    const alice = await plainConnection('alice', 'same-client');
    const bob = await plainConnection('bob', 'same-client');
    try {
      const batch = await buildRecordBatch(testRecords(10, 'q', 20_000));
      const produce = (c: RawClient) =>
        c.request(schemas.produceRequest, schemas.produceResponse, 9, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: 'quota-orders', partitionData: [{ index: 0, records: batch }] }] });
      // 200 kB against a window of 18 kB/s: alice is over at her first request
      const fromAlice = await produce(alice);
      expect(fromAlice.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(fromAlice.throttleTimeMs).toBeGreaterThan(0);
      const fromBob = await produce(bob);
      expect(fromBob.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(fromBob.throttleTimeMs).toBe(0);
      expect((await produce(bob)).throttleTimeMs).toBe(0);
    } finally {
      alice.close();
      bob.close();
      await set(true);
      adminConn.close();
    }
  });
});
