/**
 * Several named listeners on one broker (listeners, listener.security.protocol.map, advertised.listeners):
 * each client is told the endpoint of the listener it is connected to; a listener that is not advertised
 * gets Kafka's answers for a broker without an endpoint there; a SASL listener's connections start
 * authenticating; max.connections counts the connections of every listener.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

describe('several listeners', () => {
  let broker: RunningBroker;
  const port = (name: string): number => broker.broker.boundPorts.get(name)!;

  beforeAll(async () => {
    broker = await startBroker({
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0,HIDDEN://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,HIDDEN:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
        'advertised.listeners': 'PLAINTEXT://127.0.0.1:0,EXTERNAL://external.example:19093,SASL_PLAINTEXT://127.0.0.1:0',
        // a SASL listener needs mechanisms (Kafka's default, GSSAPI, is not served)
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'SCRAM-SHA-256',
        'num.partitions': 2,
      },
    });
    await broker.broker.topics.create({ name: 'orders', numPartitions: 2, replicationFactor: 1, configs: {} });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('listens on every listener, each on its own port', () => {
    expect([...broker.broker.boundPorts.keys()]).toEqual(['PLAINTEXT', 'EXTERNAL', 'HIDDEN', 'SASL_PLAINTEXT']);
    expect(new Set(broker.broker.boundPorts.values()).size).toBe(4);
    expect(broker.port).toBe(port('PLAINTEXT'));
    expect(broker.bootstrap).toBe(`127.0.0.1:${port('PLAINTEXT')}`);
  });

  it('answers Metadata, FindCoordinator and DescribeCluster with the advertised endpoint of the listener the client is connected to', async () => {
    for (const [listener, host, advertisedPort] of [
      ['PLAINTEXT', '127.0.0.1', port('PLAINTEXT')],
      ['EXTERNAL', 'external.example', 19093],
    ] as const) {
      const c = await RawClient.connect(port(listener));
      try {
        const md = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: 'orders' }] });
        expect(md.brokers).toEqual([{ nodeId: 1, host, port: advertisedPort, rack: null }]);
        expect(md.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderId])).toEqual([
          [ErrorCode.NONE, 1],
          [ErrorCode.NONE, 1],
        ]);
        const coordinator = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType: 0, coordinatorKeys: ['g'] });
        expect(coordinator.coordinators.map((k) => [k.errorCode, k.host, k.port])).toEqual([[ErrorCode.NONE, host, advertisedPort]]);
        const cluster = await c.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
        expect(cluster.brokers.map((b) => [b.host, b.port])).toEqual([[host, advertisedPort]]);
      } finally {
        c.close();
      }
    }
  });

  it('answers a client of a listener that is not advertised as Kafka does: no broker, partitions without a leader, no coordinator', async () => {
    const c = await RawClient.connect(port('HIDDEN'));
    try {
      const v12 = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: 'orders' }] });
      expect(v12.brokers).toEqual([]);
      expect(v12.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderId, p.replicaNodes])).toEqual([
        [ErrorCode.LISTENER_NOT_FOUND, -1, [1]],
        [ErrorCode.LISTENER_NOT_FOUND, -1, [1]],
      ]);
      const v5 = await c.request(schemas.metadataRequest, schemas.metadataResponse, 5, { topics: [{ name: 'orders' }] });
      expect(v5.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.LEADER_NOT_AVAILABLE]);
      const v0 = await c.request(schemas.metadataRequest, schemas.metadataResponse, 0, { topics: [{ name: 'orders' }] });
      expect(v0.topics[0]!.partitions.map((p) => [p.errorCode, p.replicaNodes, p.isrNodes])).toEqual([
        [ErrorCode.LEADER_NOT_AVAILABLE, [], []],
        [ErrorCode.LEADER_NOT_AVAILABLE, [], []],
      ]);
      const coordinator = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType: 0, coordinatorKeys: ['g'] });
      expect(coordinator.coordinators.map((k) => [k.errorCode, k.nodeId, k.host, k.port])).toEqual([[ErrorCode.COORDINATOR_NOT_AVAILABLE, -1, '', -1]]);
      const cluster = await c.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(cluster.brokers).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('serves kafkajs on the listener it bootstraps from', async () => {
    const kafka = new Kafka({ clientId: 'listeners', brokers: [`127.0.0.1:${port('PLAINTEXT')}`], logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ key: 'k', value: 'v' }] });
    await producer.disconnect();
  });

  it('serves a SASL listener only ApiVersions and the SASL requests before authentication: anything else closes the connection', async () => {
    const c = await RawClient.connect(port('SASL_PLAINTEXT'));
    const versions = await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(versions.errorCode).toBe(ErrorCode.NONE);
    await expect(c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null })).rejects.toThrow('connection closed');
    await c.closed;
  });
});

describe('max.connections over several listeners', () => {
  it('counts the connections of every listener: at the limit, a connection to another listener waits until one closes', async () => {
    const broker = await startBroker({
      config: { listeners: 'PLAINTEXT://127.0.0.1:0,OTHER://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT', 'max.connections': 1 },
      logLevel: 'error',
    });
    try {
      const first = await RawClient.connect(broker.broker.boundPorts.get('PLAINTEXT')!);
      await first.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {});
      const second = await RawClient.connect(broker.broker.boundPorts.get('OTHER')!);
      let answered = false;
      const answer = second.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {}).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      expect(broker.broker.connectionCounts.waiting).toBe(1);
      first.close();
      expect((await answer).errorCode).toBe(ErrorCode.NONE);
      second.close();
    } finally {
      await broker.close();
    }
  });
});
