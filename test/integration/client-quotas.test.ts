/**
 * Client quotas enforced on real clients of a real broker, as Kafka enforces
 * them: throttle_time_ms in the responses and the connection muted for it.
 * The rates are measured over ~10 s as a ratio to the quota, with generous
 * bounds (bench/quotas.ts measures them closely): a kafkajs producer over its
 * producer_byte_rate, a librdkafka consumer (confluent-kafka-python) over its
 * consumer_byte_rate, a busy client over its request_percentage, and new
 * connections from 127.0.0.1 over connection_creation_rate and
 * max.connection.creation.rate.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { testRecords } from '../helpers/produce-records.js';
import { parseExposition, samplesOf, valueOf } from '../helpers/prometheus-text.js';
import { RawClient } from '../helpers/raw-client.js';

const PYTHON = '/usr/bin/python3';

/** Rates are measured over this long, from the first byte through. */
const MEASURE_MS = 10_000;

async function setQuota(port: number, entity: Array<{ entityType: string; entityName: string | null }>, key: string, value: number | null): Promise<void> {
  const raw = await RawClient.connect(port, '127.0.0.1', 'quota-admin');
  try {
    const res = await raw.request(schemas.alterClientQuotasRequest, schemas.alterClientQuotasResponse, 1, {
      entries: [{ entity, ops: [{ key, value: value ?? 0, remove: value === null }] }],
      validateOnly: false,
    });
    expect(res.entries.map((e) => [e.errorCode, e.errorMessage])).toEqual([[ErrorCode.NONE, null]]);
  } finally {
    raw.close();
  }
}

/** A consumer (librdkafka via confluent-kafka-python) that reads for MEASURE_MS from its first record and reports what it got. */
const CONSUMER_PY = String.raw`
import json, sys, time
from confluent_kafka import Consumer

bootstrap, topic, client_id, measure_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
throttles = []
c = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': 'quota-test',
    'client.id': client_id,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': False,
    'throttle_cb': lambda e: throttles.append(e.throttle_time),
})
c.subscribe([topic])
first = None
total = 0
deadline = time.time() + 60
while time.time() < deadline:
    m = c.poll(0.2)
    now = time.time()
    if first is not None and now - first >= measure_ms / 1000:
        break
    if m is None or m.error():
        continue
    if first is None:
        first = now
    total += len(m.value())
c.close()
print(json.dumps({'bytes': total, 'throttles': len(throttles), 'max_throttle_s': max(throttles) if throttles else 0}), flush=True)
`;

function runPython(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ['-c', CONSUMER_PY, ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`python exited ${code}: ${err}`))));
  });
}

describe('client quotas enforced', () => {
  let broker: RunningBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y --no-install-recommends python3-confluent-kafka`);
    broker = await startBroker({ port: 0, metrics: true, config: { 'gregor.flush.acks.all': false } });
    kafka = new Kafka({ clientId: 'quota-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'produced' }, { topic: 'consumed' }, { topic: 'raw' }, { topic: 'fetched' }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('throttles a kafkajs producer to its producer_byte_rate (a ratio over 10 s, generous bounds)', async () => {
    const quota = 200_000;
    await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'slow-producer' }], 'producer_byte_rate', quota);
    const producer = new Kafka({ clientId: 'slow-producer', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      const value = Buffer.alloc(16_000, 7);
      let bytes = 0;
      const start = Date.now();
      // one 16 kB record per request, as fast as the broker lets it
      while (Date.now() - start < MEASURE_MS) {
        await producer.send({ topic: 'produced', messages: [{ value }] });
        if (Date.now() - start <= MEASURE_MS) bytes += value.length;
      }
      const ratio = bytes / ((quota * MEASURE_MS) / 1000);
      console.log(`producer_byte_rate ${quota} B/s: ${bytes} record bytes acknowledged in ${MEASURE_MS} ms, ratio ${ratio.toFixed(2)}`);
      expect(ratio).toBeGreaterThan(0.6);
      expect(ratio).toBeLessThan(1.4);
    } finally {
      await producer.disconnect();
    }
  });

  it('answers Produce over producer_byte_rate with throttle_time_ms, and not other clients', async () => {
    await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'raw-producer' }], 'producer_byte_rate', 18_000);
    const throttled = await RawClient.connect(broker.port, '127.0.0.1', 'raw-producer');
    const free = await RawClient.connect(broker.port, '127.0.0.1', 'raw-free');
    try {
      const batch = await buildRecordBatch(testRecords(10, 'q', 20_000));
      const produce = (c: RawClient) =>
        c.request(schemas.produceRequest, schemas.produceResponse, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 30_000,
          topicData: [{ name: 'raw', partitionData: [{ index: 0, records: batch }] }],
        });
      // 200 kB against a window of 10 × 18 kB/s: over at the first request, throttled about a second
      const first = await produce(throttled);
      expect(first.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(first.throttleTimeMs).toBeGreaterThan(0);
      const other = await produce(free);
      expect(other.throttleTimeMs).toBe(0);
      // the throttled connection is muted, then served again: the next request is answered (still throttled)
      const second = await produce(throttled);
      expect(second.throttleTimeMs).toBeGreaterThan(0);
    } finally {
      throttled.close();
      free.close();
      await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'raw-producer' }], 'producer_byte_rate', null);
    }
  });

  it('mutes a connection whose Produce with acks=0 goes over producer_byte_rate, without answering it', async () => {
    await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'acks0-producer' }], 'producer_byte_rate', 18_000);
    const raw = await RawClient.connect(broker.port, '127.0.0.1', 'acks0-producer');
    try {
      const before = broker.broker.quotas.produce.throttledTotal;
      raw.send(schemas.produceRequest, 9, {
        transactionalId: null,
        acks: 0,
        timeoutMs: 30_000,
        topicData: [{ name: 'raw', partitionData: [{ index: 0, records: await buildRecordBatch(testRecords(10, 'z', 20_000)) }] }],
      });
      // no response to the produce; the next request is answered once the mute has passed
      const versions = await raw.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(versions.errorCode).toBe(ErrorCode.NONE);
      expect(raw.unexpected).toEqual([]);
      expect(broker.broker.quotas.produce.throttledTotal).toBe(before + 1);
    } finally {
      raw.close();
      await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'acks0-producer' }], 'producer_byte_rate', null);
    }
  });

  it('throttles a librdkafka consumer to its consumer_byte_rate (a ratio over 10 s, generous bounds), reporting throttle_time_ms', async () => {
    const quota = 200_000;
    const producer = kafka.producer();
    await producer.connect();
    const value = Buffer.alloc(10_000, 3);
    for (let i = 0; i < 40; i++) await producer.send({ topic: 'consumed', messages: Array.from({ length: 10 }, () => ({ value })) });
    await producer.disconnect();
    await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'slow-consumer' }], 'consumer_byte_rate', quota);
    const out = JSON.parse(await runPython([broker.bootstrap, 'consumed', 'slow-consumer', String(MEASURE_MS)])) as { bytes: number; throttles: number; max_throttle_s: number };
    const ratio = out.bytes / ((quota * MEASURE_MS) / 1000);
    console.log(`consumer_byte_rate ${quota} B/s: ${out.bytes} record bytes consumed in ${MEASURE_MS} ms, ratio ${ratio.toFixed(2)}, ${out.throttles} throttle reports`);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.4);
    // librdkafka's throttle_cb: responses carried throttle_time_ms > 0
    expect(out.throttles).toBeGreaterThan(0);
  });

  it('answers a Fetch over consumer_byte_rate empty with throttle_time_ms', async () => {
    const raw = await RawClient.connect(broker.port, '127.0.0.1', 'raw-consumer');
    try {
      const produced = await raw.request(schemas.produceRequest, schemas.produceResponse, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30_000,
        topicData: [{ name: 'fetched', partitionData: [{ index: 0, records: await buildRecordBatch(testRecords(5, 'f', 10_000)) }] }],
      });
      expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
      // the window allows 10 × 6 kB: one fetch of the 50 kB batch passes, the second goes over
      await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'raw-consumer' }], 'consumer_byte_rate', 6_000);
      const fetch = () =>
        raw.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1_000_000,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: 'fetched', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1_000_000, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
      const first = await fetch();
      expect(first.throttleTimeMs).toBe(0);
      expect(first.responses[0]!.partitions[0]!.records!.length).toBeGreaterThan(50_000);
      // over the quota: answered with no partitions and the throttle time, its bytes not counted
      const second = await fetch();
      expect(second.errorCode).toBe(ErrorCode.NONE);
      expect(second.throttleTimeMs).toBeGreaterThan(0);
      expect(second.responses).toEqual([]);
    } finally {
      raw.close();
      await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'raw-consumer' }], 'consumer_byte_rate', null);
    }
  });

  it('reports throttle times and each quota\'d client\'s rate and limit in the metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${broker.metricsPort!}/metrics`);
    const samples = parseExposition(await res.text());
    expect(valueOf(samples, 'gregor_quota_throttle_time_seconds_total', { type: 'produce' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'gregor_quota_throttle_time_seconds_total', { type: 'fetch' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'gregor_quota_throttled_requests_total', { type: 'produce' })).toBeGreaterThan(0);
    // only client-id quotas are set: the rates are per client id, with an empty user
    expect(valueOf(samples, 'gregor_quota_limit', { type: 'produce', user: '', client_id: 'slow-producer' })).toBe(200_000);
    expect(samplesOf(samples, 'gregor_quota_byte_rate', { type: 'produce', user: '', client_id: 'slow-producer' })).toHaveLength(1);
    expect(valueOf(samples, 'gregor_quota_byte_rate', { type: 'fetch', user: '', client_id: 'slow-consumer' })).toBeGreaterThan(0);
    // clients without a quota are measured without a limit
    expect(samplesOf(samples, 'gregor_quota_limit', { type: 'produce', client_id: 'quota-test' })).toHaveLength(0);
  });

  it('throttles a busy client over its request_percentage, and not another one', async () => {
    await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'busy' }], 'request_percentage', 1);
    const busy = await RawClient.connect(broker.port, '127.0.0.1', 'busy');
    const calm = await RawClient.connect(broker.port, '127.0.0.1', 'calm');
    try {
      const metadata = (c: RawClient) => c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      let throttled = 0;
      let sent = 0;
      // (busy until throttled: about a hundred milliseconds of request time; bounded generously)
      const giveUpAt = Date.now() + 30_000;
      while (Date.now() < giveUpAt && throttled === 0) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => metadata(busy)));
        sent += answers.length;
        throttled += answers.filter((a) => a.throttleTimeMs > 0).length;
      }
      console.log(`request_percentage 1: throttled after ${sent} Metadata requests`);
      expect(throttled).toBeGreaterThan(0);
      expect((await metadata(calm)).throttleTimeMs).toBe(0);
    } finally {
      busy.close();
      calm.close();
      await setQuota(broker.port, [{ entityType: 'client-id', entityName: 'busy' }], 'request_percentage', null);
    }
  });
});

describe('connection creation rates', () => {
  /** Opens `n` connections at once and sends ApiVersions on each: how many were answered, and how many closed unanswered. */
  async function connectMany(port: number, n: number): Promise<{ answered: number; closed: number }> {
    const outcomes = await Promise.all(
      Array.from({ length: n }, async () => {
        const c = await RawClient.connect(port, '127.0.0.1', 'conn-rate');
        try {
          await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 0, {});
          return 'answered';
        } catch {
          return 'closed';
        } finally {
          c.close();
        }
      }),
    );
    return { answered: outcomes.filter((o) => o === 'answered').length, closed: outcomes.filter((o) => o === 'closed').length };
  }

  it('closes connections from 127.0.0.1 over its connection_creation_rate, unanswered', async () => {
    const broker = await startBroker({ port: 0 });
    try {
      await setQuota(broker.port, [{ entityType: 'ip', entityName: '127.0.0.1' }], 'connection_creation_rate', 1);
      // the window lets about 10 × 1 connections through at first (setQuota's own connection was before the quota)
      const { answered, closed } = await connectMany(broker.port, 30);
      console.log(`connection_creation_rate 1/s: ${answered} of 30 connections answered, ${closed} closed`);
      expect(answered).toBeGreaterThanOrEqual(5);
      expect(answered).toBeLessThanOrEqual(15);
      expect(closed).toBe(30 - answered);
    } finally {
      await broker.close();
    }
  });

  it('leaves 127.0.0.1 unlimited when only another address has a connection_creation_rate', async () => {
    const broker = await startBroker({ port: 0 });
    try {
      await setQuota(broker.port, [{ entityType: 'ip', entityName: '10.1.2.3' }], 'connection_creation_rate', 1);
      const { answered } = await connectMany(broker.port, 30);
      expect(answered).toBe(30);
    } finally {
      await broker.close();
    }
  });

  it('delays new connections over max.connection.creation.rate but closes none', async () => {
    const broker = await startBroker({ port: 0, config: { 'max.connection.creation.rate': 2 } });
    try {
      const { answered, closed } = await connectMany(broker.port, 25);
      expect(answered).toBe(25);
      expect(closed).toBe(0);
      const delays = broker.broker.quotas.connections.brokerThrottleMsTotal;
      console.log(`max.connection.creation.rate 2/s: 25 connections answered, acceptor delays ${delays} ms in all`);
      expect(delays).toBeGreaterThan(0);
    } finally {
      await broker.close();
    }
  });

  it('applies the default ip entity\'s connection_creation_rate to 127.0.0.1', async () => {
    const broker = await startBroker({ port: 0 });
    try {
      await setQuota(broker.port, [{ entityType: 'ip', entityName: null }], 'connection_creation_rate', 1);
      const { answered, closed } = await connectMany(broker.port, 30);
      expect(answered).toBeLessThanOrEqual(15);
      expect(closed).toBeGreaterThan(0);
    } finally {
      await broker.close();
    }
  });
});
