/**
 * DescribeCluster, DescribeLogDirs, the ACL APIs, SaslHandshake and
 * SaslAuthenticate against a real broker on a real port: kafkajs 2.2.4 (ACL
 * admin calls, a SASL-configured client), @platformatic/kafka's admin
 * (describeLogDirs, ACLs) and our own codec client for every version.
 * Gregor is plaintext-only without an authorizer, and answers as Kafka 3.9
 * configured so.
 */
import { statfsSync } from 'node:fs';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, schemas } from '../../protocol/index.js';
import type { RunningBroker } from '../../src/index.js';
import { CLUSTER_AUTHORIZED_OPERATIONS } from '../../src/handlers/metadata.js';
import { startWithAdminClients, type AdminClients } from '../helpers/admin-clients.js';
import { RawClient } from '../helpers/raw-client.js';

const MIN_INT32 = -2147483648;

describe('cluster, log dirs and security APIs', () => {
  let clients: AdminClients | undefined;
  let broker: RunningBroker;
  let admin: Admin;
  let producer: Producer;
  let raw: RawClient;

  beforeAll(async () => {
    clients = await startWithAdminClients('admin-cluster-test', {});
    ({ broker, admin, producer, raw } = clients);
    await admin.createTopics({ topics: [{ topic: 'sized', numPartitions: 3 }, { topic: 'other' }] });
    await producer.send({ topic: 'sized', messages: [{ partition: 0, value: Buffer.alloc(1000, 1) }, { partition: 2, value: 'small' }] });
  });
  afterAll(async () => {
    await clients?.close();
  });

  it('lists the admin and security APIs in ApiVersions with all of Kafka 3.9\'s versions and the newer ones of Kafka 4.3 it serves', async () => {
    const res = await raw.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const ranges = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(Object.fromEntries([
      ApiKey.SaslHandshake, ApiKey.DeleteRecords, ApiKey.DescribeAcls, ApiKey.CreateAcls, ApiKey.DeleteAcls, ApiKey.DescribeConfigs, ApiKey.AlterConfigs,
      ApiKey.DescribeLogDirs, ApiKey.SaslAuthenticate, ApiKey.CreatePartitions, ApiKey.IncrementalAlterConfigs, ApiKey.DescribeCluster,
    ].map((k) => [k, ranges.get(k)]))).toEqual({
      [ApiKey.SaslHandshake]: [0, 1],
      [ApiKey.DeleteRecords]: [0, 2],
      [ApiKey.DescribeAcls]: [0, 3],
      [ApiKey.CreateAcls]: [0, 3],
      [ApiKey.DeleteAcls]: [0, 3],
      [ApiKey.DescribeConfigs]: [0, 4],
      [ApiKey.AlterConfigs]: [0, 2],
      [ApiKey.DescribeLogDirs]: [0, 5],
      [ApiKey.SaslAuthenticate]: [0, 2],
      [ApiKey.CreatePartitions]: [0, 3],
      [ApiKey.IncrementalAlterConfigs]: [0, 1],
      [ApiKey.DescribeCluster]: [0, 2],
    });
  });

  it('describes the cluster (DescribeCluster v0-1): this broker, the cluster id, the controller, authorized operations when asked', async () => {
    for (const version of [0, 1]) {
      const res = await raw.request(schemas.describeClusterRequest, schemas.describeClusterResponse, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(res).toMatchObject({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        clusterId: broker.broker.clusterId,
        controllerId: 1,
        brokers: [{ brokerId: 1, host: 'localhost', port: broker.port, rack: null }],
        clusterAuthorizedOperations: MIN_INT32,
      });
      if (version === 1) expect(res.endpointType).toBe(1);
    }
    const withOps = await raw.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    expect(withOps.clusterAuthorizedOperations).toBe(CLUSTER_AUTHORIZED_OPERATIONS);
    // kafkajs' describeCluster uses Metadata; the answers agree
    const cluster = await admin.describeCluster();
    expect(cluster).toEqual({ brokers: [{ nodeId: 1, host: 'localhost', port: broker.port }], controller: 1, clusterId: broker.broker.clusterId });
  });

  it('refuses DescribeCluster for a controller endpoint or an unknown endpoint type, as Kafka', async () => {
    const controller = await raw.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 });
    expect(controller).toMatchObject({
      errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage: 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
      brokers: [],
      clusterId: '',
    });
    const unknown = await raw.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: false, endpointType: 0 });
    expect(unknown).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'Unsupported endpoint type 0' });
  });

  it('describes the log dir (DescribeLogDirs v0-4): partition sizes, and total and usable bytes in v4', async () => {
    const size = (topic: string, p: number): bigint => BigInt(broker.broker.topics.get(topic)!.partitions[p]!.log.sizeInBytes);
    expect(size('sized', 0)).toBeGreaterThan(1000n);
    for (let version = 0; version <= 4; version++) {
      const res = await raw.request(schemas.describeLogDirsRequest, schemas.describeLogDirsResponse, version, { topics: [{ topic: 'sized', partitions: [0, 2, 7] }] });
      expect(res.results).toHaveLength(1);
      const dir = res.results[0]!;
      expect(dir).toMatchObject({ errorCode: ErrorCode.NONE, logDir: broker.dataDir });
      const sized = dir.topics.find((t) => t.name === 'sized')!;
      expect(sized.partitions).toEqual([
        { partitionIndex: 0, partitionSize: size('sized', 0), offsetLag: 0n, isFutureKey: false },
        { partitionIndex: 2, partitionSize: size('sized', 2), offsetLag: 0n, isFutureKey: false },
      ]);
      // as Kafka, topics with nothing asked for are listed without partitions
      expect(dir.topics.find((t) => t.name === 'other')).toEqual({ name: 'other', partitions: [] });
      if (version >= 4) {
        const fs = statfsSync(broker.dataDir, { bigint: true });
        expect(dir.totalBytes).toBe(fs.blocks * fs.bsize);
        expect(dir.usableBytes).toBeGreaterThan(0n);
        expect(dir.usableBytes).toBeLessThanOrEqual(dir.totalBytes);
      }
    }
    const all = await raw.request(schemas.describeLogDirsRequest, schemas.describeLogDirsResponse, 4, { topics: null });
    const listed = all.results[0]!.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}`)).sort();
    expect(listed).toEqual(['other-0', 'sized-0', 'sized-1', 'sized-2']);
  });

  it('describes the log dir with @platformatic/kafka', async () => {
    const pAdmin = new PlatformaticAdmin({ clientId: 'admin-cluster-platformatic', bootstrapBrokers: [broker.bootstrap], retries: 0 });
    try {
      const [described] = await pAdmin.describeLogDirs({ topics: [{ name: 'sized', partitions: [0, 1, 2] }] });
      expect(described!.broker).toBe(1);
      const dir = described!.results[0]!;
      expect(dir.logDir).toBe(broker.dataDir);
      const sized = dir.topics.find((t) => t.name === 'sized')!;
      expect(sized.partitions.map((p) => [p.partitionIndex, p.partitionSize])).toEqual([
        [0, BigInt(broker.broker.topics.get('sized')!.partitions[0]!.log.sizeInBytes)],
        [1, 0n],
        [2, BigInt(broker.broker.topics.get('sized')!.partitions[2]!.log.sizeInBytes)],
      ]);
      expect(dir.totalBytes).toBeGreaterThan(0n);
    } finally {
      await pAdmin.close();
    }
  });

  it('answers the ACL APIs with SECURITY_DISABLED, as Kafka without an authorizer (kafkajs, @platformatic/kafka)', async () => {
    const acl = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: 'sized',
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    await expect(admin.describeAcls({ ...acl })).rejects.toMatchObject({ type: 'SECURITY_DISABLED' });
    await expect(admin.createAcls({ acl: [acl] })).rejects.toMatchObject({ type: 'SECURITY_DISABLED' });
    await expect(admin.deleteAcls({ filters: [acl] })).rejects.toMatchObject({ type: 'SECURITY_DISABLED' });
    const pAdmin = new PlatformaticAdmin({ clientId: 'admin-cluster-platformatic', bootstrapBrokers: [broker.bootstrap], retries: 0 });
    try {
      const err = (await pAdmin
        .describeAcls({ filter: { resourceType: 2, resourceName: null, resourcePatternType: 3, principal: null, host: null, operation: 1, permissionType: 1 } })
        .then(
          () => undefined,
          (e: unknown) => e,
        )) as { errors?: Array<{ response?: { errorCode: number; errorMessage: string } }> } | undefined;
      expect(err?.errors?.[0]?.response).toMatchObject({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker' });
    } finally {
      await pAdmin.close();
    }
  });

  it('answers every ACL API version with SECURITY_DISABLED and one entry per creation or filter', async () => {
    const filter = { resourceTypeFilter: 2, resourceNameFilter: null, patternTypeFilter: 3, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };
    for (let version = 0; version <= 3; version++) {
      const described = await raw.request(schemas.describeAclsRequest, schemas.describeAclsResponse, version, filter);
      expect(described).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: [] });
      const creation = { resourceType: 2, resourceName: 'sized', resourcePatternType: 3, principal: 'User:bob', host: '*', operation: 3, permissionType: 3 };
      const created = await raw.request(schemas.createAclsRequest, schemas.createAclsResponse, version, { creations: [creation, { ...creation, principal: 'User:carol' }] });
      expect(created.results).toEqual([
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' },
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' },
      ]);
      const deleted = await raw.request(schemas.deleteAclsRequest, schemas.deleteAclsResponse, version, { filters: [filter] });
      expect(deleted.filterResults).toEqual([{ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.', matchingAcls: [] }]);
    }
  });

  it('answers SaslHandshake and SaslAuthenticate as Kafka on a plaintext listener: ILLEGAL_SASL_STATE, connection kept open', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      for (const version of [0, 1]) {
        expect(await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, version, { mechanism: 'PLAIN' })).toEqual({
          errorCode: ErrorCode.ILLEGAL_SASL_STATE,
          mechanisms: [],
        });
      }
      for (let version = 0; version <= 2; version++) {
        expect(await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, version, { authBytes: Buffer.from('\u0000alice\u0000secret') })).toMatchObject({
          errorCode: ErrorCode.ILLEGAL_SASL_STATE,
          errorMessage: 'SaslAuthenticate request received after successful authentication',
          authBytes: Buffer.alloc(0),
        });
      }
      const versions = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {});
      expect(versions.errorCode).toBe(ErrorCode.NONE);
      expect(c.isClosed).toBe(false);
    } finally {
      c.close();
    }
  });

  it('fails a kafkajs client configured for SASL at its handshake', async () => {
    const sasl = new Kafka({
      clientId: 'admin-cluster-sasl',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism: 'plain', username: 'alice', password: 'secret' },
    }).admin();
    await expect(sasl.connect()).rejects.toThrow(/SASL|ILLEGAL_SASL_STATE|Request is not valid given the current SASL state/i);
    await sasl.disconnect();
  });
});
