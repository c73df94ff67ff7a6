/**
 * Topic administration against a real broker on a real port: kafkajs 2.2.4's
 * admin client for what it can do, our own codec client for the versions and
 * fields kafkajs does not reach (CreateTopics v7, Metadata v12 by topic id,
 * DeleteTopics v6).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, ZERO_UUID } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

function adminFor(broker: RunningBroker): Admin {
  return new Kafka({ clientId: 'admin-topics-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
}

/** The error kafkajs raises from CreateTopics: an aggregate of per-topic errors. */
async function createError(admin: Admin, topics: Parameters<Admin['createTopics']>[0]): Promise<{ type: string; message: string }> {
  try {
    await admin.createTopics(topics);
  } catch (err) {
    const e = err as { errors?: Array<{ type: string; message: string }>; type?: string; message: string };
    if (e.errors?.[0]) return e.errors[0];
    return { type: e.type ?? 'unknown', message: e.message };
  }
  throw new Error('createTopics succeeded');
}

function partitionDirs(broker: RunningBroker, topic: string): string[] {
  return readdirSync(broker.dataDir).filter((d) => new RegExp(`^${topic.replace(/[.]/g, '\\.')}-\\d+$`).test(d));
}

describe('topic administration with kafkajs', () => {
  let broker: RunningBroker;
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'num.partitions': 2 } });
    admin = adminFor(broker);
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await broker?.close();
  });

  it('creates a topic whose metadata shows every partition led by this node', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 1 }] })).toBe(true);
    const { topics } = await admin.fetchTopicMetadata({ topics: ['orders'] });
    expect(topics).toHaveLength(1);
    const partitions = [...topics[0]!.partitions].sort((a, b) => a.partitionId - b.partitionId);
    expect(partitions.map((p) => p.partitionId)).toEqual([0, 1, 2]);
    for (const p of partitions) {
      expect(p).toMatchObject({ partitionErrorCode: 0, leader: 1, replicas: [1], isr: [1] });
    }
    expect(await admin.listTopics()).toContain('orders');
    expect(partitionDirs(broker, 'orders').sort()).toEqual(['orders-0', 'orders-1', 'orders-2']);
  });

  it('uses num.partitions when the partition count is left to the broker', async () => {
    await admin.createTopics({ topics: [{ topic: 'defaults' }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: ['defaults'] });
    expect(topics[0]!.partitions).toHaveLength(2);
  });

  it('reports an existing topic as TOPIC_ALREADY_EXISTS (kafkajs returns false)', async () => {
    await admin.createTopics({ topics: [{ topic: 'twice' }] });
    expect(await admin.createTopics({ topics: [{ topic: 'twice' }] })).toBe(false);
  });

  it('describes the cluster as one broker that is also the controller, with a cluster id', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 1, host: 'localhost', port: broker.port }]);
    expect(cluster.controller).toBe(1);
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('deletes a topic with its data', async () => {
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
    expect(partitionDirs(broker, 'doomed')).toHaveLength(2);
    await admin.deleteTopics({ topics: ['doomed'] });
    expect(await admin.listTopics()).not.toContain('doomed');
    expect(partitionDirs(broker, 'doomed')).toEqual([]);
    await expect(admin.fetchTopicMetadata({ topics: ['doomed'] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('answers a deletion of an unknown topic with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await expect(admin.deleteTopics({ topics: ['never-was'] })).rejects.toThrow(/does not host this topic-partition/);
  });

  it('can recreate a deleted topic, with a new topic id and no old data', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      await admin.createTopics({ topics: [{ topic: 'phoenix' }] });
      const first = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: 'phoenix' }] });
      await admin.deleteTopics({ topics: ['phoenix'] });
      await admin.createTopics({ topics: [{ topic: 'phoenix' }] });
      const second = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: 'phoenix' }] });
      expect(second.topics[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(second.topics[0]!.topicId).not.toBe(first.topics[0]!.topicId);
    } finally {
      raw.close();
    }
  });

  it('does not auto-create topics for the admin client, which disallows it', async () => {
    await expect(admin.fetchTopicMetadata({ topics: ['not-here'] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(await admin.listTopics()).not.toContain('not-here');
  });

  it('rejects illegal topic names with INVALID_TOPIC_EXCEPTION', async () => {
    for (const name of ['bad name', 'slash/topic', 'ünïcode', '.', '..', 'x'.repeat(250)]) {
      const err = await createError(admin, { topics: [{ topic: name }] });
      expect(err.type, name).toBe('INVALID_TOPIC_EXCEPTION');
    }
    expect(await admin.createTopics({ topics: [{ topic: 'y'.repeat(249) }] })).toBe(true);
  });

  it('rejects a name that collides with an existing topic once dots read as underscores', async () => {
    await admin.createTopics({ topics: [{ topic: 'metrics.cpu' }] });
    const err = await createError(admin, { topics: [{ topic: 'metrics_cpu' }] });
    expect(err.type).toBe('INVALID_TOPIC_EXCEPTION');
    expect(await admin.listTopics()).not.toContain('metrics_cpu');
  });

  it('validates without creating when validate_only is set', async () => {
    expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry-run', numPartitions: 4 }] })).toBe(true);
    expect(await admin.listTopics()).not.toContain('dry-run');
    expect(partitionDirs(broker, 'dry-run')).toEqual([]);
    const err = await createError(admin, { validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry-run', configEntries: [{ name: 'retention.ms', value: 'forever' }] }] });
    expect(err.type).toBe('INVALID_CONFIG');
  });

  it('rejects a replication factor above the one broker with INVALID_REPLICATION_FACTOR', async () => {
    const err = await createError(admin, { topics: [{ topic: 'replicated', replicationFactor: 3 }] });
    expect(err.type).toBe('INVALID_REPLICATION_FACTOR');
    expect(await admin.listTopics()).not.toContain('replicated');
  });

  it('rejects unknown and invalid topic configs with INVALID_CONFIG', async () => {
    expect((await createError(admin, { topics: [{ topic: 'cfg1', configEntries: [{ name: 'retention.whenever', value: '1' }] }] })).type).toBe('INVALID_CONFIG');
    expect((await createError(admin, { topics: [{ topic: 'cfg2', configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }] })).type).toBe('INVALID_CONFIG');
    expect(await admin.listTopics()).not.toContain('cfg1');
  });

  it('rejects a non-positive partition count with INVALID_PARTITIONS', async () => {
    expect((await createError(admin, { topics: [{ topic: 'zero', numPartitions: 0 }] })).type).toBe('INVALID_PARTITIONS');
  });
});

describe('topic administration on the wire (versions kafkajs does not send)', () => {
  let broker: RunningBroker;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'num.partitions': 3, 'log.retention.hours': 24 } });
    raw = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.close();
  });

  it('CreateTopics v7 returns the topic id, partition count, replication factor and every config with its source', async () => {
    const res = await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, {
      topics: [{ name: 'v7-topic', numPartitions: -1, replicationFactor: -1, configs: [{ name: 'retention.ms', value: '60000' }] }],
      timeoutMs: 5000,
    });
    const t = res.topics[0]!;
    expect(t).toMatchObject({ name: 'v7-topic', errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 1 });
    expect(t.topicId).not.toBe(ZERO_UUID);
    const configs = new Map(t.configs!.map((c) => [c.name, c]));
    expect(configs.get('retention.ms')).toMatchObject({ value: '60000', configSource: 1, readOnly: false, isSensitive: false });
    expect(configs.get('segment.bytes')).toMatchObject({ value: '1073741824', configSource: 5 });
    expect(configs.get('cleanup.policy')).toMatchObject({ value: 'delete', configSource: 5 });
    const meta = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: 'v7-topic' }] });
    expect(meta.topics[0]!.topicId).toBe(t.topicId);
  });

  it('CreateTopics answers a name given twice with INVALID_REQUEST and still creates the others', async () => {
    const res = await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 4, {
      topics: [
        { name: 'dup', numPartitions: 1, replicationFactor: 1 },
        { name: 'dup', numPartitions: 1, replicationFactor: 1 },
        { name: 'single', numPartitions: 1, replicationFactor: 1 },
      ],
      timeoutMs: 5000,
    });
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['dup', ErrorCode.INVALID_REQUEST],
      ['single', ErrorCode.NONE],
    ]);
  });

  it('CreateTopics accepts consistent manual assignments and refuses inconsistent ones', async () => {
    const ok = await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'assigned', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }, { partitionIndex: 0, brokerIds: [1] }] }],
      timeoutMs: 5000,
    });
    expect(ok.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 2, replicationFactor: 1 });
    const withCount = await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'assigned2', numPartitions: 2, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] }],
      timeoutMs: 5000,
    });
    expect(withCount.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const otherBroker = await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'assigned3', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [7] }] }],
      timeoutMs: 5000,
    });
    expect(otherBroker.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    const gap = await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: 'assigned4', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }] }],
      timeoutMs: 5000,
    });
    expect(gap.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  });

  it('Metadata v12 auto-creates a requested topic with num.partitions when allowed', async () => {
    const res = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, {
      topics: [{ name: 'auto-created' }],
      allowAutoTopicCreation: true,
    });
    const t = res.topics[0]!;
    expect(t).toMatchObject({ errorCode: 0, name: 'auto-created', isInternal: false });
    expect(t.partitions.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch])).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [2, 1, 0],
    ]);
    expect(broker.broker.topics.get('auto-created')?.numPartitions).toBe(3);
  });

  it('Metadata v4+ does not auto-create when the request disallows it; v0-3 always allow it', async () => {
    const off = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 4, { topics: [{ name: 'stay-away' }], allowAutoTopicCreation: false });
    expect(off.topics[0]).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: 'stay-away', partitions: [] });
    expect(broker.broker.topics.get('stay-away')).toBeUndefined();
    const v1 = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 1, { topics: [{ name: 'old-client' }] });
    expect(v1.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(broker.broker.topics.get('old-client')).toBeDefined();
  });

  it('Metadata has an internal topic created by its owner, with its own settings, not as an ordinary auto-created topic', async () => {
    const res = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: '__transaction_state' }], allowAutoTopicCreation: true });
    expect(res.topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, name: '__transaction_state', isInternal: true });
    const topic = broker.broker.topics.get('__transaction_state')!;
    expect(topic.partitions).toHaveLength(broker.broker.config.int('transaction.state.log.num.partitions'));
    expect(topic.overrides.get('cleanup.policy')).toBe('compact');
  });

  it('Metadata answers an illegal requested name with INVALID_TOPIC_EXCEPTION', async () => {
    const res = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 9, { topics: [{ name: 'no spaces allowed' }], allowAutoTopicCreation: true });
    expect(res.topics[0]).toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name: 'no spaces allowed' });
  });

  it('Metadata: v0 reads an empty topic list as all topics, v1+ reads null as all and empty as none', async () => {
    const names = broker.broker.topics.all().map((t) => t.name).sort();
    expect(names.length).toBeGreaterThan(0);
    const v0 = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 0, { topics: [] });
    expect(v0.topics.map((t) => t.name).sort()).toEqual(names);
    const v1All = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 1, { topics: null });
    expect(v1All.topics.map((t) => t.name).sort()).toEqual(names);
    expect(v1All.controllerId).toBe(1);
    const v1None = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 1, { topics: [] });
    expect(v1None.topics).toEqual([]);
    expect(v1None.brokers).toEqual([{ nodeId: 1, host: 'localhost', port: broker.port, rack: null }]);
  });

  it('Metadata v12 looks topics up by id and answers unknown ids with UNKNOWN_TOPIC_ID', async () => {
    const id = broker.broker.topics.get('v7-topic')!.topicId;
    const res = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, {
      topics: [{ topicId: id, name: null }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAg', name: null }],
    });
    expect(res.topics[0]).toMatchObject({ errorCode: 0, name: 'v7-topic', topicId: id });
    expect(res.topics[1]).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAg' });
    const v10 = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 10, { topics: [{ topicId: id, name: null }] });
    expect(v10.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('Metadata reports authorized operations only when asked', async () => {
    const plain = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 10, { topics: [{ name: 'v7-topic' }] });
    expect(plain.topics[0]!.topicAuthorizedOperations).toBe(-2147483648);
    expect(plain.clusterAuthorizedOperations).toBe(-2147483648);
    const asked = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 10, {
      topics: [{ name: 'v7-topic' }],
      includeTopicAuthorizedOperations: true,
      includeClusterAuthorizedOperations: true,
    });
    // READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS
    expect(asked.topics[0]!.topicAuthorizedOperations).toBe(3576);
    expect(asked.clusterAuthorizedOperations).not.toBe(-2147483648);
  });

  it('DeleteTopics v6 deletes by topic id and names unknown ids with UNKNOWN_TOPIC_ID', async () => {
    await raw.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, { topics: [{ name: 'by-id', numPartitions: 1, replicationFactor: 1 }], timeoutMs: 5000 });
    const id = broker.broker.topics.get('by-id')!.topicId;
    const res = await raw.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 6, {
      topics: [{ name: null, topicId: id }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAw' }, { name: 'no-such-topic', topicId: ZERO_UUID }],
      timeoutMs: 5000,
    });
    const byId = new Map(res.responses.map((r) => [r.topicId + (r.name ?? ''), r]));
    expect(byId.get(`${id}by-id`)).toMatchObject({ errorCode: 0, errorMessage: null });
    expect(byId.get('AAAAAAAAAAAAAAAAAAAAAw')).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null });
    expect(byId.get(`${ZERO_UUID}no-such-topic`)).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    expect(broker.broker.topics.get('by-id')).toBeUndefined();
    expect(existsSync(join(broker.dataDir, 'by-id-0'))).toBe(false);
  });

  it('DeleteTopics v6 refuses an entry with both a name and an id', async () => {
    const id = broker.broker.topics.get('v7-topic')!.topicId;
    const res = await raw.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 6, { topics: [{ name: 'v7-topic', topicId: id }], timeoutMs: 5000 });
    expect(res.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'You may not specify both topic name and topic id.' });
    expect(broker.broker.topics.get('v7-topic')).toBeDefined();
  });
});

describe('auto-creation switched off', () => {
  let broker: RunningBroker;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'auto.create.topics.enable': false } });
    raw = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.close();
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION even when the request allows auto-creation', async () => {
    for (const version of [0, 4, 12]) {
      const res = await raw.request(schemas.metadataRequest, schemas.metadataResponse, version, {
        topics: [{ name: `absent-${version}` }],
        allowAutoTopicCreation: true,
      });
      expect(res.topics[0]).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: `absent-${version}` });
    }
    expect(broker.broker.topics.all()).toEqual([]);
  });

  it('still creates topics explicitly', async () => {
    const admin = adminFor(broker);
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'explicit' }] })).toBe(true);
      expect(await admin.listTopics()).toEqual(['explicit']);
    } finally {
      await admin.disconnect();
    }
  });
});
