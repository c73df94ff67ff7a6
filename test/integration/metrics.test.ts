/**
 * The metrics endpoint of a real broker, scraped over HTTP while real clients (kafkajs, the raw codec
 * client) produce and consume: counters move by exactly what was produced and fetched, error codes are
 * counted from response bodies, lag is what is left unconsumed, and /healthz and /ready follow the
 * broker's life.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemas } from '../../protocol/index.js';
import { FileMetadataStore, startBroker, type MetadataIdentity, type MetadataStore, type RunningBroker } from '../../src/index.js';
import { freePort } from '../helpers/free-port.js';
import { parseExposition, samplesOf, valueOf, type Sample } from '../helpers/prometheus-text.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 50, 'gregor.flush.acks.all': false, 'auto.create.topics.enable': false };

async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await res.text());
}

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

/** Polls until `check` returns true (the test timeout bounds the wait). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

function segmentBytes(broker: RunningBroker, topic: string, partition: number): number {
  return statSync(join(broker.dataDir, `${topic}-${partition}`, '00000000000000000000.log')).size;
}

describe('metrics endpoint', () => {
  let broker: RunningBroker;
  let port: number;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startBroker({ metrics: true, config: BROKER_CONFIG });
    port = broker.metricsPort!;
    kafka = new Kafka({ clientId: 'metrics-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    const topics = broker.broker.topics;
    for (const name of ['raw-a', 'raw-b', 'kjs', 'errors', 'poll']) await topics.create({ name, numPartitions: 1, replicationFactor: 1, configs: {} });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('serves /healthz and /ready with 200, unknown paths with 404 and other methods with 405', async () => {
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(port, '/ready')).toEqual({ status: 200, body: 'ready\n' });
    expect((await get(port, '/nothing')).status).toBe(404);
    expect((await get(port, '/metrics', 'POST')).status).toBe(405);
    expect((await get(port, '/ready', 'HEAD')).status).toBe(200);
  });

  it('moves the per-topic in counters by exactly the produced records and batch bytes, and the storage counters by one append per batch', async () => {
    const client = await RawClient.connect(broker.port);
    try {
      const before = await scrape(port);
      const batches = await Promise.all([3, 7, 11, 13, 16].map((n, i) => batchOf(testRecords(n, `b${i}`, 100 + i))));
      for (const b of batches) expect((await produceRaw(client, 'raw-a', 0, b, { version: 9 })).errorCode).toBe(0);
      // a second topic is counted apart
      const other = await batchOf(testRecords(4, 'other', 10));
      expect((await produceRaw(client, 'raw-b', 0, other, { version: 7 })).errorCode).toBe(0);
      const after = await scrape(port);
      const delta = (name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOf(before, name, labels);

      const bytes = batches.reduce((n, b) => n + b.length, 0);
      expect(delta('gregor_topic_records_in_total', { topic: 'raw-a' })).toBe(50);
      expect(delta('gregor_topic_bytes_in_total', { topic: 'raw-a' })).toBe(bytes);
      expect(delta('gregor_topic_records_in_total', { topic: 'raw-b' })).toBe(4);
      expect(delta('gregor_topic_bytes_in_total', { topic: 'raw-b' })).toBe(other.length);
      // the bytes are those on disk
      expect(segmentBytes(broker, 'raw-a', 0)).toBe(bytes);
      expect(valueOf(after, 'gregor_partition_size_bytes', { topic: 'raw-a', partition: '0' })).toBe(bytes);
      expect(valueOf(after, 'gregor_partition_log_end_offset', { topic: 'raw-a', partition: '0' })).toBe(50);
      expect(valueOf(after, 'gregor_partition_high_watermark', { topic: 'raw-a', partition: '0' })).toBe(50);
      expect(valueOf(after, 'gregor_partition_log_start_offset', { topic: 'raw-a', partition: '0' })).toBe(0);
      expect(valueOf(after, 'gregor_partition_segments', { topic: 'raw-a', partition: '0' })).toBe(1);

      expect(delta('gregor_requests_total', { api: 'Produce', version: '9' })).toBe(5);
      expect(delta('gregor_requests_total', { api: 'Produce', version: '7' })).toBe(1);
      expect(delta('gregor_storage_append_seconds_count')).toBe(6);
      for (const phase of ['queue', 'processing', 'send', 'duration']) {
        expect(delta(`gregor_request_${phase}_seconds_count`, { api: 'Produce' })).toBe(6);
      }
      expect(samplesOf(after, 'gregor_request_errors_total', { api: 'Produce' }).filter((s) => s.value > 0)).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('counts the error codes of response bodies, per-partition and per-topic ones included', async () => {
    const client = await RawClient.connect(broker.port);
    try {
      const before = await scrape(port);
      const batch = await batchOf(testRecords(2));
      // one request, three partitions: one appended, two unknown
      const res = await client.request(schemas.produceRequest, schemas.produceResponse, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30_000,
        topicData: [
          { name: 'errors', partitionData: [{ index: 0, records: batch }, { index: 5, records: await batchOf(testRecords(1)) }] },
          { name: 'no-such-topic', partitionData: [{ index: 0, records: await batchOf(testRecords(1)) }] },
        ],
      });
      expect(res.responses.flatMap((t) => t.partitionResponses.map((p) => p.errorCode))).toEqual([0, 3, 3]);
      const meta = await client.request(schemas.metadataRequest, schemas.metadataResponse, 12, {
        topics: [{ name: 'missing-1', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }, { name: 'missing-2', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      expect(meta.topics.map((t) => t.errorCode)).toEqual([3, 3]);
      const after = await scrape(port);
      const delta = (name: string, labels: Record<string, string>): number => valueOf(after, name, labels) - valueOf(before, name, labels);
      expect(delta('gregor_request_errors_total', { api: 'Produce', version: '9', error: 'UNKNOWN_TOPIC_OR_PARTITION' })).toBe(2);
      expect(delta('gregor_request_errors_total', { api: 'Metadata', version: '12', error: 'UNKNOWN_TOPIC_OR_PARTITION' })).toBe(2);
      expect(delta('gregor_requests_total', { api: 'Produce', version: '9' })).toBe(1);
      expect(delta('gregor_requests_total', { api: 'Metadata', version: '12' })).toBe(1);
      // the partition that was appended counts as in
      expect(delta('gregor_topic_records_in_total', { topic: 'errors' })).toBe(2);
      expect(delta('gregor_topic_bytes_in_total', { topic: 'errors' })).toBe(batch.length);
    } finally {
      client.close();
    }
  });

  it('counts records and bytes in and out exactly for a kafkajs producer and consumer group, and lag as the records left unconsumed', async () => {
    const N = 40;
    const M = 7;
    const before = await scrape(port);
    const producer = kafka.producer();
    await producer.connect();
    const values = Array.from({ length: N }, (_, i) => 'x'.repeat(20 + (i % 9)));
    try {
      // four requests of ten records each
      for (let i = 0; i < N; i += 10) await producer.send({ topic: 'kjs', acks: -1, messages: values.slice(i, i + 10).map((value, j) => ({ key: `k${i + j}`, value })) });
      const consumer = kafka.consumer({ groupId: 'metrics-group', maxWaitTimeInMs: 100, heartbeatInterval: 500 });
      let received = 0;
      await consumer.connect();
      await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
      await consumer.run({
        autoCommitInterval: 100,
        eachMessage: async () => {
          received++;
        },
      });
      await until(() => received === N);
      // the group is stable with one member while consuming; its commits reach the end of the log
      await until(async () => valueOf(await scrape(port), 'gregor_consumer_group_lag', { group: 'metrics-group', topic: 'kjs', partition: '0' }) === 0 && samplesOf(await scrape(port), 'gregor_consumer_group_lag', { group: 'metrics-group' }).length === 1);
      const consuming = await scrape(port);
      expect(valueOf(consuming, 'gregor_consumer_group_state', { group: 'metrics-group', state: 'Stable' })).toBe(1);
      expect(valueOf(consuming, 'gregor_consumer_group_members', { group: 'metrics-group' })).toBe(1);
      await consumer.disconnect();
      const consumedBytes = segmentBytes(broker, 'kjs', 0);

      // M more records nobody consumes
      await producer.send({ topic: 'kjs', acks: 1, messages: Array.from({ length: M }, (_, i) => ({ value: `late-${i}` })) });
      const after = await scrape(port);
      const delta = (name: string, labels: Record<string, string>): number => valueOf(after, name, labels) - valueOf(before, name, labels);
      expect(delta('gregor_topic_records_in_total', { topic: 'kjs' })).toBe(N + M);
      const bytesIn = delta('gregor_topic_bytes_in_total', { topic: 'kjs' });
      expect(bytesIn).toBe(segmentBytes(broker, 'kjs', 0));
      // the consumer read the first N records, each batch once
      expect(delta('gregor_topic_records_out_total', { topic: 'kjs' })).toBe(N);
      expect(delta('gregor_topic_bytes_out_total', { topic: 'kjs' })).toBe(consumedBytes);
      expect(valueOf(after, 'gregor_consumer_group_lag', { group: 'metrics-group', topic: 'kjs', partition: '0' })).toBe(M);
      expect(valueOf(after, 'gregor_consumer_group_state', { group: 'metrics-group', state: 'Empty' })).toBe(1);
      expect(valueOf(after, 'gregor_consumer_group_members', { group: 'metrics-group' })).toBe(0);
      expect(valueOf(after, 'gregor_consumer_groups', { state: 'Empty' })).toBeGreaterThanOrEqual(1);
      expect(delta('gregor_requests_total', { api: 'JoinGroup' })).toBeGreaterThanOrEqual(1);
      expect(delta('gregor_requests_total', { api: 'OffsetCommit' })).toBeGreaterThanOrEqual(1);
    } finally {
      await producer.disconnect();
    }
  });

  it('reports a parked long-poll fetch and the request in flight while it waits, and neither once an append wakes it', async () => {
    const client = await RawClient.connect(broker.port);
    const producer = await RawClient.connect(broker.port);
    try {
      const pending = client.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
        replicaId: -1,
        maxWaitMs: 30_000,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'poll', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
      await until(async () => valueOf(await scrape(port), 'gregor_fetch_long_polls_waiting') === 1);
      expect(valueOf(await scrape(port), 'gregor_requests_in_flight')).toBeGreaterThanOrEqual(1);
      const batch = await batchOf(testRecords(3, 'poll'));
      const before = await scrape(port);
      expect((await produceRaw(producer, 'poll', 0, batch)).errorCode).toBe(0);
      const res = await pending;
      // the stored batch (its base offset and leader epoch set by the broker), whole
      expect((res.responses[0]!.partitions[0]!.records as Buffer).length).toBe(batch.length);
      const after = await scrape(port);
      expect(valueOf(after, 'gregor_fetch_long_polls_waiting')).toBe(0);
      expect(valueOf(after, 'gregor_topic_records_out_total', { topic: 'poll' }) - valueOf(before, 'gregor_topic_records_out_total', { topic: 'poll' })).toBe(3);
      expect(valueOf(after, 'gregor_topic_bytes_out_total', { topic: 'poll' }) - valueOf(before, 'gregor_topic_bytes_out_total', { topic: 'poll' })).toBe(batch.length);
      // the woken fetch read the batch from the recent-batch cache
      expect(valueOf(after, 'gregor_storage_cache_hits_total') - valueOf(before, 'gregor_storage_cache_hits_total')).toBeGreaterThanOrEqual(1);
      expect(valueOf(after, 'gregor_storage_read_seconds_count') - valueOf(before, 'gregor_storage_read_seconds_count')).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
      producer.close();
    }
  });

  it('reports connections and the client software they announced in ApiVersions v3', async () => {
    // the connections of earlier tests have closed
    await until(async () => valueOf(await scrape(port), 'gregor_connections_open') === 0);
    const before = await scrape(port);
    const client = await RawClient.connect(broker.port);
    const res = await client.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'gregor-test', clientSoftwareVersion: '1.2.3' });
    expect(res.errorCode).toBe(0);
    const open = await scrape(port);
    expect(valueOf(open, 'gregor_client_connections', { client_software_name: 'gregor-test', client_software_version: '1.2.3' })).toBe(1);
    expect(valueOf(open, 'gregor_connections_accepted_total') - valueOf(before, 'gregor_connections_accepted_total')).toBe(1);
    expect(valueOf(open, 'gregor_connections_open')).toBe(1);
    client.close();
    await until(async () => samplesOf(await scrape(port), 'gregor_client_connections', { client_software_name: 'gregor-test' }).length === 0);
    const closed = await scrape(port);
    expect(valueOf(closed, 'gregor_connections_closed_total') - valueOf(before, 'gregor_connections_closed_total')).toBe(1);
  });

  it('times fsyncs of flushed logs', async () => {
    const before = await scrape(port);
    const client = await RawClient.connect(broker.port);
    try {
      expect((await produceRaw(client, 'raw-b', 0, await batchOf(testRecords(2)), { acks: -1 })).errorCode).toBe(0);
    } finally {
      client.close();
    }
    await broker.broker.logs.getLog('raw-b', 0)!.flush();
    const after = await scrape(port);
    expect(valueOf(after, 'gregor_storage_fsync_seconds_count') - valueOf(before, 'gregor_storage_fsync_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'gregor_storage_open_files')).toBeGreaterThan(0);
    expect(valueOf(after, 'gregor_produce_acks_all_waiting')).toBe(0);
  });

  it('has HELP and TYPE for every metric, the gregor_ prefix, and process metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const names = new Set(parseExposition(text).map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of names) {
      expect(name.startsWith('gregor_')).toBe(true);
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} `);
    }
    for (const name of ['gregor_process_resident_memory_bytes', 'gregor_nodejs_heap_size_used_bytes', 'gregor_nodejs_eventloop_lag_seconds']) expect(names).toContain(name);
  });
});

describe('metrics with limits and a starting broker', () => {
  it('keeps at most gregor.metrics.max.partitions series per partition and per group metric, the first by name, and counts the rest as omitted', async () => {
    const broker = await startBroker({ metrics: true, config: { 'gregor.metrics.max.partitions': 2 } });
    const admin = new Kafka({ clientId: 'metrics-limits', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    try {
      await broker.broker.topics.create({ name: 'wide', numPartitions: 5, replicationFactor: 1, configs: {} });
      await admin.connect();
      // three groups with commits on the five partitions: 15 lag series
      for (const groupId of ['g-c', 'g-a', 'g-b']) {
        await admin.setOffsets({ groupId, topic: 'wide', partitions: [0, 1, 2, 3, 4].map((partition) => ({ partition, offset: '0' })) });
      }
      const samples = await scrape(broker.metricsPort!);
      const partitions = valueOf(samples, 'gregor_partitions');
      expect(partitions).toBeGreaterThanOrEqual(5);
      for (const name of ['gregor_partition_log_end_offset', 'gregor_partition_size_bytes', 'gregor_partition_segments']) {
        expect(samplesOf(samples, name)).toHaveLength(2);
      }
      expect(valueOf(samples, 'gregor_metrics_series_omitted', { metric: 'partition' })).toBe(partitions - 2);
      expect(samplesOf(samples, 'gregor_consumer_group_lag').map((s) => [s.labels.group, s.labels.partition])).toEqual([
        ['g-a', '0'],
        ['g-a', '1'],
      ]);
      expect(valueOf(samples, 'gregor_metrics_series_omitted', { metric: 'consumer_group_lag' })).toBe(13);
      expect(samplesOf(samples, 'gregor_consumer_group_members').map((s) => s.labels.group)).toEqual(['g-a', 'g-b']);
      expect(valueOf(samples, 'gregor_metrics_series_omitted', { metric: 'consumer_group_members' })).toBe(1);
      // the per-state totals are never limited
      expect(valueOf(samples, 'gregor_consumer_groups', { state: 'Empty' })).toBe(3);
    } finally {
      await admin.disconnect();
      await broker.close();
    }
  });

  it('answers /healthz but not /ready while the broker is starting, then /ready once it listens', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-metrics-'));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const store = new FileMetadataStore(dataDir);
    // a metadata store that holds the start until the test opens the gate
    const gated: MetadataStore = {
      load: async (identity: MetadataIdentity) => {
        await gate;
        return store.load(identity);
      },
      putTopic: (t) => store.putTopic(t),
      putTopics: (t) => store.putTopics(t),
      deleteTopic: (n) => store.deleteTopic(n),
      markDeleting: (n) => store.markDeleting(n),
      deleted: (ids) => store.deleted(ids),
      putBrokerConfigs: (e, c) => store.putBrokerConfigs(e, c),
      putGroupConfigs: (g, c) => store.putGroupConfigs(g, c),
      putClientQuotas: (q) => store.putClientQuotas(q),
      close: () => store.close(),
    };
    const metricsPort = await freePort();
    const starting = startBroker({ dataDir, metrics: { port: metricsPort }, metadataStore: gated });
    try {
      await until(async () => (await get(metricsPort, '/healthz').catch(() => ({ status: 0 }))).status === 200);
      const notReady = await get(metricsPort, '/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body).toContain('starting');
      open();
      const broker = await starting;
      expect(broker.metricsPort).toBe(metricsPort);
      expect((await get(metricsPort, '/ready')).status).toBe(200);
      const samples = await scrape(metricsPort);
      expect(valueOf(samples, 'gregor_broker_ready')).toBe(1);
      expect(samplesOf(samples, 'gregor_broker_info')[0]!.labels.cluster_id).toBe(broker.broker.clusterId);
      await broker.close();
      await expect(fetch(`http://127.0.0.1:${metricsPort}/healthz`)).rejects.toThrow();
    } finally {
      open();
      await (await starting.catch(() => undefined))?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('is off by default in startBroker', async () => {
    const broker = await startBroker();
    try {
      expect(broker.metricsPort).toBeUndefined();
      expect(broker.broker.metrics).toBeUndefined();
    } finally {
      await broker.close();
    }
  });
});
