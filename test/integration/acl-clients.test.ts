/**
 * The ACL APIs and the authorizer as real clients use them, on a broker with authorizer.class.name set:
 * - kafkajs 2.2.4: admin createAcls / describeAcls / deleteAcls round trip, and a producer and a consumer
 *   group refused (TOPIC_AUTHORIZATION_FAILED) until the ACLs the admin created let them work, then refused
 *   again once deleted;
 * - librdkafka 2.15's admin ACL calls (rd_kafka_CreateAcls, DescribeAcls with ANY and MATCH filters,
 *   DeleteAcls) from a C program. (confluent-kafka-python 1.7, Debian's, predates its ACL admin calls;
 *   they wrap these.)
 * User:ANONYMOUS may ALTER the cluster (an ACL set in process before the clients start), so it may manage
 * ACLs and nothing else until it grants itself more.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { compileWithLibrdkafka, librdkafka215 } from '../helpers/librdkafka.js';

const run = promisify(execFile);
const AUTHORIZER = { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' };

/** The C program, built once per source against librdkafka 2.15 (cached in the temp dir). */
async function buildAclAdmin(): Promise<string> {
  const source = resolve(dirname(fileURLToPath(import.meta.url)), '../helpers/native/acl-admin.c');
  const rd = await librdkafka215();
  const hash = createHash('sha256').update(readFileSync(source)).update(rd.libDir).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `gregor-test-native-${hash}`);
  const binary = join(dir, 'acl-admin');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  return compileWithLibrdkafka(rd, source, binary, ['-O1', '-Wall']);
}

async function startWithClusterAlter(): Promise<RunningBroker> {
  const broker = await startBroker({ config: AUTHORIZER });
  await broker.broker.topics.create({ name: 'orders', numPartitions: 1, replicationFactor: 1, configs: {} });
  await broker.broker.authorizer!.createAcls([
    { resourceType: 'CLUSTER', resourceName: 'kafka-cluster', patternType: 'LITERAL', principal: 'User:ANONYMOUS', host: '*', operation: 'ALTER', permissionType: 'ALLOW' },
  ]);
  return broker;
}

describe('kafkajs against the authorizer', () => {
  let broker: RunningBroker;
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    broker = await startWithClusterAlter();
    kafka = new Kafka({ clientId: 'acl-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.close();
  });

  const topicAcl = (operation: AclOperationTypes) => ({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: 'orders',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:ANONYMOUS',
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  const groupAcl = {
    resourceType: AclResourceTypes.GROUP,
    resourceName: 'kjs-',
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal: 'User:ANONYMOUS',
    host: '*',
    operation: AclOperationTypes.READ,
    permissionType: AclPermissionTypes.ALLOW,
  };

  it('round-trips createAcls, describeAcls and deleteAcls', async () => {
    await admin.createAcls({ acl: [topicAcl(AclOperationTypes.WRITE), topicAcl(AclOperationTypes.READ), groupAcl] });
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const flat = described.resources.flatMap((r) => r.acls.map((a) => `${r.resourceType}/${r.resourceName}/${r.resourcePatternType} ${a.principal} ${a.host} ${a.operation} ${a.permissionType}`)).sort();
    expect(flat).toEqual([
      `${AclResourceTypes.CLUSTER}/kafka-cluster/${ResourcePatternTypes.LITERAL} User:ANONYMOUS * ${AclOperationTypes.ALTER} ${AclPermissionTypes.ALLOW}`,
      `${AclResourceTypes.GROUP}/kjs-/${ResourcePatternTypes.PREFIXED} User:ANONYMOUS * ${AclOperationTypes.READ} ${AclPermissionTypes.ALLOW}`,
      `${AclResourceTypes.TOPIC}/orders/${ResourcePatternTypes.LITERAL} User:ANONYMOUS * ${AclOperationTypes.READ} ${AclPermissionTypes.ALLOW}`,
      `${AclResourceTypes.TOPIC}/orders/${ResourcePatternTypes.LITERAL} User:ANONYMOUS * ${AclOperationTypes.WRITE} ${AclPermissionTypes.ALLOW}`,
    ].sort());
    const deleted = await admin.deleteAcls({ filters: [{ ...groupAcl }] });
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
    expect(deleted.filterResponses[0]!.matchingAcls[0]).toMatchObject({ resourceName: 'kjs-', resourcePatternType: ResourcePatternTypes.PREFIXED });
    await admin.createAcls({ acl: [groupAcl] });
  });

  it('refuses a producer and a consumer group the ACLs do not cover, and serves them once they do', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const consumer = kafka.consumer({ groupId: 'kjs-group', retry: { retries: 0 } });
    try {
      await admin.deleteAcls({ filters: [{ ...topicAcl(AclOperationTypes.ANY), permissionType: AclPermissionTypes.ANY }] });
      await expect(producer.send({ topic: 'orders', messages: [{ value: 'refused' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
      await admin.createAcls({ acl: [topicAcl(AclOperationTypes.WRITE), topicAcl(AclOperationTypes.READ)] });
      await producer.send({ topic: 'orders', messages: [{ key: 'k', value: 'allowed' }] });

      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((done, fail) => {
        void consumer
          .run({
            eachMessage: async ({ message }) => {
              seen.push(message.value!.toString());
              done();
            },
          })
          .catch(fail);
      });
      expect(seen).toEqual(['allowed']);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
    // the consumer group committed its offset: READ on the group and the topic
    expect(await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['orders'] })).toEqual([{ topic: 'orders', partitions: [expect.objectContaining({ partition: 0, offset: '1' })] }]);
    await admin.deleteAcls({ filters: [{ ...topicAcl(AclOperationTypes.ANY), permissionType: AclPermissionTypes.ANY }] });
    const again = kafka.producer({ allowAutoTopicCreation: false });
    await again.connect();
    try {
      await expect(again.send({ topic: 'orders', messages: [{ value: 'refused again' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
    } finally {
      await again.disconnect();
    }
  });
});

describe('librdkafka 2.15 admin ACL calls against the authorizer', () => {
  let broker: RunningBroker;
  let binary: string;

  beforeAll(async () => {
    binary = await buildAclAdmin();
    broker = await startWithClusterAlter();
  }, 600_000);

  afterAll(async () => {
    await broker?.close();
  });

  it('creates (Kafka\'s INVALID_REQUEST for a bad one), describes with ANY and MATCH filters, and deletes', async () => {
    const { stdout } = await run(binary, [broker.bootstrap], { encoding: 'utf8', timeout: 60_000 });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^version 2\.15/);
    const step = (name: string): string[] => lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1)).sort();
    expect(step('create')).toEqual(['0 NO_ERROR', '1 NO_ERROR', '2 NO_ERROR', '3 INVALID_REQUEST']);
    const alice = ['GROUP app- PREFIXED User:alice * READ ALLOW', 'TOPIC orders LITERAL User:alice * READ ALLOW'];
    const bob = 'TOPIC orders PREFIXED User:bob 10.0.0.1 WRITE DENY';
    const cluster = 'BROKER kafka-cluster LITERAL User:ANONYMOUS * ALTER ALLOW';
    expect(step('described')).toEqual([cluster, ...alice, bob].sort());
    // MATCH "orders-eu": the PREFIXED "orders" ACL applies to it, the LITERAL "orders" one does not
    expect(step('matched')).toEqual([bob]);
    expect(step('deleted')).toEqual(alice);
    expect(step('left')).toEqual([cluster, bob].sort());
    expect(lines.filter((l) => l.startsWith('error '))).toEqual([]);
    expect(broker.broker.authorizer!.matching({ resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: 'User:bob', host: null, operation: 'ANY', permissionType: 'ANY' })).toHaveLength(1);
  }, 120_000);
});
