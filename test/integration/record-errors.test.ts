/**
 * Records a topic refuses one by one (Kafka's LogValidator record errors, Produce v8+): a batch of 100
 * records to a cleanup.policy=compact topic where every tenth has no key. On the wire, the partition answers
 * INVALID_RECORD, Kafka's summary as error_message and one record error per keyless record with its batch
 * index; nothing is appended. With librdkafka 2.15 (rd_kafka_produce_batch, a small C program built at test
 * time against the librdkafka of test/helpers/librdkafka.ts; Produce v8+) the ten keyless messages fail with
 * INVALID_RECORD and the other 90 with _INVALID_DIFFERENT_RECORD ("part of a batch which had one more more
 * invalid records"). One message per batch: only the keyless ones fail. kafkajs (Produce v7 at most) sees
 * the partition's INVALID_RECORD for the whole batch.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { Compression } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { compileWithLibrdkafka, librdkafka215 } from '../helpers/librdkafka.js';
import { batchOf, produceRaw } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);
const COUNT = 100;
const EVERY = 10;
const KEYLESS = Array.from({ length: COUNT / EVERY }, (_, i) => i * EVERY);
const keyError = (topic: string): string => `Compacted topic cannot accept message without key in topic partition ${topic}-0`;
const summary = (topic: string): string =>
  `One or more records have been rejected due to ${KEYLESS.length} record errors in total, and only showing the first three errors at most: [` +
  KEYLESS.slice(0, 3)
    .map((i) => `RecordError(batchIndex=${i}, message='${keyError(topic)}')`)
    .join(', ') +
  ']';

function records(n: number, every: number): { key: Buffer | null; value: Buffer }[] {
  return Array.from({ length: n }, (_, i) => ({ key: i % every === 0 ? null : Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }));
}

/** The C producer, built once per source against librdkafka 2.15 (cached in the temp dir). */
async function buildProducer(): Promise<string> {
  const source = resolve(dirname(fileURLToPath(import.meta.url)), '../helpers/native/produce-batch.c');
  const rd = await librdkafka215();
  const hash = createHash('sha256').update(readFileSync(source)).update(rd.libDir).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `gregor-test-native-${hash}`);
  const binary = join(dir, 'produce-batch');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  return compileWithLibrdkafka(rd, source, binary, ['-O1', '-Wall']);
}

interface Report {
  readonly index: number;
  /** librdkafka's error name (rd_kafka_err2name), NO_ERROR when delivered. */
  readonly error: string;
}

async function librdkafkaProduce(binary: string, port: number, topic: string, mode: 'batch' | 'single'): Promise<{ version: string; reports: Report[] }> {
  const { stdout } = await run(binary, [`127.0.0.1:${port}`, topic, String(COUNT), String(EVERY), mode], { encoding: 'utf8', timeout: 60_000 });
  const lines = stdout.split('\n');
  const version = lines.find((l) => l.startsWith('version '))?.slice(8) ?? '';
  const reports = lines
    .filter((l) => l.startsWith('dr '))
    .map((l) => {
      const [index, error] = l.slice(3).split('\t');
      return { index: Number(index), error: error ?? '' };
    })
    .sort((a, b) => a.index - b.index);
  return { version, reports };
}

describe('per-record errors on a compacted topic', () => {
  let broker: RunningBroker;
  let client: RawClient;
  let topicCount = 0;

  async function compactedTopic(): Promise<string> {
    const name = `compacted-${++topicCount}`;
    await broker.broker.topics.create({ name, numPartitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } });
    return name;
  }

  let binary: string;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, logLevel: 'silent' });
    client = await RawClient.connect(broker.port);
    binary = await buildProducer(); // librdkafka 2.15 is built on first use (minutes; .ci/run builds it first)
  }, 600_000);
  afterAll(async () => {
    client?.close();
    await broker?.close();
  });

  it('Produce v8-v11: INVALID_RECORD, Kafka\'s summary and one record error per keyless record, for plain and compressed batches; nothing appended', async () => {
    for (const version of [8, 9, 11]) {
      for (const compression of [Compression.none, Compression.lz4]) {
        const topic = await compactedTopic();
        const res = await produceRaw(client, topic, 0, await batchOf(records(COUNT, EVERY), { compression }), { version });
        expect(res).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1n, errorMessage: summary(topic) });
        expect(res.recordErrors.map((e) => ({ batchIndex: e.batchIndex, message: e.batchIndexErrorMessage }))).toEqual(
          KEYLESS.map((batchIndex) => ({ batchIndex, message: keyError(topic) })),
        );
        expect(broker.broker.topics.partition(topic, 0)!.log.logEndOffset).toBe(0);
      }
    }
  });

  it('Produce v3-v7 carry no record errors: the partition answers INVALID_RECORD', async () => {
    const topic = await compactedTopic();
    const res = await produceRaw(client, topic, 0, await batchOf(records(COUNT, EVERY)), { version: 7 });
    expect(res.errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  it('one record per batch: only the keyless ones are refused', async () => {
    const topic = await compactedTopic();
    const answers = [];
    for (const r of records(20, EVERY)) answers.push(await produceRaw(client, topic, 0, await batchOf([r]), { version: 9 }));
    expect(answers.map((a) => a.errorCode)).toEqual(records(20, EVERY).map((r) => (r.key === null ? ErrorCode.INVALID_RECORD : ErrorCode.NONE)));
    expect(answers[0]!.recordErrors).toEqual([{ batchIndex: 0, batchIndexErrorMessage: keyError(topic) }]);
    expect((await fetchAll(client, topic, 0)).map((r) => r.key)).toEqual(records(20, EVERY).flatMap((r) => (r.key === null ? [] : [r.key.toString()])));
  });

  it('librdkafka rd_kafka_produce_batch: the keyless messages fail with INVALID_RECORD, the others as part of a batch with invalid records', async () => {
    const topic = await compactedTopic();
    const { version, reports } = await librdkafkaProduce(binary, broker.port, topic, 'batch');
    expect(version).toMatch(/^2\.15\./);
    expect(reports.map((r) => r.index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(reports, version).toEqual(reports.map((r) => ({ index: r.index, error: KEYLESS.includes(r.index) ? 'INVALID_RECORD' : '_INVALID_DIFFERENT_RECORD' })));
    expect(broker.broker.topics.partition(topic, 0)!.log.logEndOffset).toBe(0);
  });

  it('librdkafka, one message per batch: only the ten keyless messages fail, the 90 others are appended', async () => {
    const topic = await compactedTopic();
    const { version, reports } = await librdkafkaProduce(binary, broker.port, topic, 'single');
    expect(reports, version).toEqual(Array.from({ length: COUNT }, (_, index) => ({ index, error: KEYLESS.includes(index) ? 'INVALID_RECORD' : 'NO_ERROR' })));
    const stored = await fetchAll(client, topic, 0);
    expect(stored.map((r) => r.key)).toEqual(records(COUNT, EVERY).flatMap((r) => (r.key === null ? [] : [r.key.toString()])));
  });

  it('kafkajs (Produce v7) gets INVALID_RECORD for the batch', async () => {
    const topic = await compactedTopic();
    const producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer();
    await producer.connect();
    try {
      await expect(
        producer.send({ topic, messages: records(COUNT, EVERY).map((r) => ({ key: r.key, value: r.value, partition: 0 })) }),
      ).rejects.toMatchObject({ type: 'INVALID_RECORD' });
    } finally {
      await producer.disconnect();
    }
  });
});
