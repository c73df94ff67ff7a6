/**
 * Idempotent producers on a real broker: a kafkajs producer (`idempotent: true`) whose Produce request is
 * sent again, byte for byte, by the test (a retry the broker must recognise), also across a clean restart;
 * Kafka's answers to sequence gaps, stale epochs and the other producer-state cases with the raw client;
 * producer state snapshots next to the segments.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, decodeResponseFrame, schemas } from '../../protocol/index.js';
import { snapshotFileName } from '../../src/produce/producer-snapshot.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { KafkaProxy, sendAgain, type ProxiedRequest } from '../helpers/kafka-proxy.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

type PartitionResponse = Awaited<ReturnType<typeof produceRaw>>;

/** The single partition answer of a Produce response frame. */
function partitionAnswer(request: ProxiedRequest, frame: Buffer): PartitionResponse {
  const { correlationId, body } = decodeResponseFrame(schemas.produceResponse, request.apiVersion, frame);
  expect(correlationId).toBe(request.correlationId);
  const p = body.responses[0]?.partitionResponses[0];
  if (!p) throw new Error('no partition in the produce response');
  return p;
}

function kafkaVia(proxy: KafkaProxy): Kafka {
  return new Kafka({ clientId: 'idempotent-test', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

describe('kafkajs idempotent producer, requests sent again', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let proxy: KafkaProxy;
  let producer: Producer | undefined;

  async function start(): Promise<RunningBroker> {
    broker = await startBroker({ port: 0, dataDir, config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
    return broker;
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-idempotent-'));
    proxy = await KafkaProxy.start(() => broker!.port);
  });
  afterEach(async () => {
    await producer?.disconnect().catch(() => undefined);
    producer = undefined;
    await proxy.close();
    await broker?.close();
    broker = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function produceOnce(topic: string, values: string[]): Promise<ProxiedRequest> {
    producer = kafkaVia(proxy).producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    const before = proxy.requestsOf(ApiKey.Produce).length;
    await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
    const sent = proxy.requestsOf(ApiKey.Produce).slice(before);
    expect(sent).toHaveLength(1);
    return sent[0]!;
  }

  it('stores a replayed Produce request once, and both answers carry the same base offset', async () => {
    const b = await start();
    await b.broker.topics.create({ name: 'replay', numPartitions: 1, replicationFactor: 1 });
    const raw = await RawClient.connect(b.port);
    await produceRaw(raw, 'replay', 0, await batchOf(testRecords(5))); // offsets 0-4, not idempotent
    const request = await produceOnce('replay', ['a', 'b', 'c']);
    const first = partitionAnswer(request, request.response!);
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 5n });

    const again = partitionAnswer(request, await sendAgain(b.port, request));
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 5n, logStartOffset: 0n });

    // the producer carries on with its next sequence number
    await producer!.send({ topic: 'replay', messages: [{ value: 'd' }] });
    const records = await fetchAll(raw, 'replay', 0);
    expect(records.map((r) => r.value)).toEqual([...testRecords(5).map((r) => r.value!.toString()), 'a', 'b', 'c', 'd']);
    expect(records.slice(5).map((r) => r.offset)).toEqual([5, 6, 7, 8]);
    raw.close();
  });

  it('still recognises the replayed request after a clean restart (state loaded from the snapshot)', async () => {
    let b = await start();
    await b.broker.topics.create({ name: 'restart', numPartitions: 1, replicationFactor: 1 });
    const request = await produceOnce('restart', ['x', 'y']);
    expect(partitionAnswer(request, request.response!)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    await producer!.disconnect();
    producer = undefined;
    await b.close();
    // clean shutdown snapshotted the producer state at the log end offset
    expect(existsSync(join(dataDir, 'restart-0', snapshotFileName(2)))).toBe(true);

    b = await start();
    const again = partitionAnswer(request, await sendAgain(b.port, request));
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    const raw = await RawClient.connect(b.port);
    expect((await fetchAll(raw, 'restart', 0)).map((r) => r.value)).toEqual(['x', 'y']);
    raw.close();
  });
});

describe('producer state checks (raw client)', () => {
  let broker: RunningBroker;
  let client: RawClient;
  let topicCount = 0;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'log.segment.bytes': 1024 * 1024 } });
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    await broker?.close();
  });

  async function topic(configs: Record<string, string> = {}): Promise<string> {
    const name = `state-${++topicCount}`;
    await broker.broker.topics.create({ name, numPartitions: 1, replicationFactor: 1, configs });
    return name;
  }

  /** Produces `n` records as producer `producerId` with `epoch` from sequence `seq`. */
  async function send(t: string, producerId: number, epoch: number, seq: number, n = 1, extra: { transactional?: boolean; valueBytes?: number } = {}): Promise<PartitionResponse> {
    const records = testRecords(n, `p${producerId}-${seq}`, extra.valueBytes);
    // a transactional producer names its transactional id (without one, Kafka refuses the whole request)
    const transactionalId = extra.transactional ? `txn-${producerId}` : null;
    return produceRaw(client, t, 0, await batchOf(records, { producerId, producerEpoch: epoch, baseSequence: seq, transactional: extra.transactional ?? false }), { acks: -1, transactionalId });
  }

  it('a sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER and appends nothing', async () => {
    const t = await topic();
    expect(await send(t, 1000, 0, 0, 3)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    const gap = await send(t, 1000, 0, 5, 1);
    expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(gap.baseOffset).toBe(-1n);
    expect(await send(t, 1000, 0, 3, 2)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 3n });
    expect(await fetchAll(client, t, 0)).toHaveLength(5);
  });

  it('a stale epoch gets INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0', async () => {
    const t = await topic();
    expect((await send(t, 2000, 3, 0, 2)).errorCode).toBe(ErrorCode.NONE);
    expect((await send(t, 2000, 2, 2, 1)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await send(t, 2000, 2, 0, 1)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await send(t, 2000, 4, 2, 1)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await send(t, 2000, 4, 0, 1)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2n });
    // the old epoch is fenced from now on, even at its next sequence
    expect((await send(t, 2000, 3, 2, 1)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await fetchAll(client, t, 0)).toHaveLength(3);
  });

  it('a producer the partition does not know may start at any sequence (Kafka 3.9 accepts it)', async () => {
    const t = await topic();
    expect(await send(t, 3000, 0, 42, 2)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    expect((await send(t, 3000, 0, 45, 1)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await send(t, 3000, 0, 44, 1)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2n });
  });

  it('each of the last 5 batches is acknowledged again with its original offset; an older one is out of order', async () => {
    const t = await topic();
    const offsets: bigint[] = [];
    for (let i = 0; i < 6; i++) offsets.push((await send(t, 4000, 0, i * 2, 2)).baseOffset);
    expect(offsets).toEqual([0n, 2n, 4n, 6n, 8n, 10n]);
    for (let i = 1; i < 6; i++) expect(await send(t, 4000, 0, i * 2, 2)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: offsets[i] });
    expect((await send(t, 4000, 0, 0, 2)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // same first sequence but another range is not a duplicate
    expect((await send(t, 4000, 0, 10, 1)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await fetchAll(client, t, 0)).toHaveLength(12);
  });

  it('sequences wrap from 2147483647 to 0', async () => {
    const t = await topic();
    expect((await send(t, 5000, 0, 2147483646, 2)).errorCode).toBe(ErrorCode.NONE);
    expect(await send(t, 5000, 0, 0, 1)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2n });
    expect(await send(t, 5000, 0, 2147483646, 2)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
  });

  it('a duplicate on a LogAppendTime topic answers the original append time', async () => {
    const t = await topic({ 'message.timestamp.type': 'LogAppendTime' });
    const first = await send(t, 6000, 0, 0, 1);
    expect(first.logAppendTimeMs).toBeGreaterThan(0n);
    await new Promise((r) => setTimeout(r, 5));
    expect(await send(t, 6000, 0, 0, 1)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n, logAppendTimeMs: first.logAppendTimeMs });
  });

  it('a transactional batch of a transactional id the coordinator does not know gets INVALID_PRODUCER_ID_MAPPING (KIP-890 verification)', async () => {
    const t = await topic();
    const res = await send(t, 7000, 0, 0, 1, { transactional: true });
    expect(res.errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await fetchAll(client, t, 0)).toHaveLength(0);
  });

  it('producers of one partition do not affect each other', async () => {
    const t = await topic();
    expect((await send(t, 8000, 0, 0, 1)).errorCode).toBe(ErrorCode.NONE);
    expect((await send(t, 8001, 0, 0, 1)).errorCode).toBe(ErrorCode.NONE);
    expect(await send(t, 8000, 0, 0, 1)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    expect(await send(t, 8001, 0, 0, 1)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1n });
  });

  it('an expired producer is forgotten: its next batch may carry any sequence', async () => {
    const t = await topic();
    const sent = await send(t, 9000, 0, 0, 1);
    expect(sent.errorCode).toBe(ErrorCode.NONE);
    expect((await send(t, 9000, 0, 7, 1)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const expirationMs = broker.broker.config.int('producer.id.expiration.ms');
    // as the periodic check would, one expiration period after the batch's timestamp
    expect(broker.broker.producerStates.removeExpiredProducers(Date.now() + expirationMs)).toBeGreaterThanOrEqual(1);
    expect((await send(t, 9000, 0, 7, 1)).errorCode).toBe(ErrorCode.NONE);
  });

  it('idempotent batches in sequence pipelined on one connection all land, in order', async () => {
    const t = await topic();
    const batches = await Promise.all(Array.from({ length: 5 }, (_, i) => batchOf(testRecords(10, `pipe-${i}`), { producerId: 10000, producerEpoch: 0, baseSequence: i * 10 })));
    const answers = await Promise.all(batches.map((b) => produceRaw(client, t, 0, b, { acks: -1 })));
    expect(answers.map((a) => [a.errorCode, a.baseOffset])).toEqual([0, 1, 2, 3, 4].map((i) => [ErrorCode.NONE, BigInt(i * 10)]));
    const values = (await fetchAll(client, t, 0)).map((r) => r.value);
    expect(values).toEqual(Array.from({ length: 5 }, (_, i) => testRecords(10, `pipe-${i}`).map((r) => r.value!.toString())).flat());
  });

  it('snapshots the producer state at each rolled segment, and deletes it with the segment', async () => {
    const t = await topic({ 'segment.bytes': '2000', 'retention.bytes': '4000' });
    const log = broker.broker.topics.partition(t, 0)!.log;
    for (let i = 0; i < 12; i++) expect((await send(t, 11000, 0, i * 5, 5, { valueBytes: 200 })).errorCode).toBe(ErrorCode.NONE);
    const bases = log.segmentBaseOffsets;
    expect(bases.length).toBeGreaterThan(3);
    const snapshots = (): number[] => readdirSync(log.dir).filter((n) => n.endsWith('.snapshot')).map((n) => Number(n.slice(0, 20)));
    // background writes: wait until every rolled segment's snapshot is there
    for (let i = 0; i < 200 && !bases.slice(1).every((b) => snapshots().includes(b)); i++) await new Promise((r) => setTimeout(r, 10));
    expect(snapshots()).toEqual(expect.arrayContaining(bases.slice(1)));
    await broker.broker.logs.checkRetention();
    const first = log.segmentBaseOffsets[0]!;
    expect(first).toBeGreaterThan(bases[1]!);
    expect(snapshots().filter((o) => o < first)).toEqual([]);
    // the state itself survives retention
    expect(await send(t, 11000, 0, 55, 5, { valueBytes: 200 })).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 55n });
  });
});
