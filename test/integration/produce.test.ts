/**
 * Produce on a real broker: acks, legacy message sets, timestamp types,
 * compression.type, and Kafka's answers to bad requests (oversized and
 * corrupt batches, unknown topics, zstd below v7, invalid timestamps and
 * records), with the raw client and kafkajs.
 */
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { Compression, encodeMessageSet } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

describe('Produce', () => {
  let broker: RunningBroker;
  let client: RawClient;

  async function createTopic(name: string, configs: Record<string, string> = {}): Promise<void> {
    await broker.broker.topics.create({ name, numPartitions: 1, replicationFactor: 1, configs });
  }

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    await broker?.close();
  });

  describe('acks', () => {
    it('acks=1 and acks=-1 answer the base offset and log start offset; CreateTime topics report log_append_time_ms -1', async () => {
      await createTopic('acks');
      const one = await produceRaw(client, 'acks', 0, await batchOf(testRecords(3)), { acks: 1 });
      expect(one).toMatchObject({ errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n });
      const all = await produceRaw(client, 'acks', 0, await batchOf(testRecords(2)), { acks: -1 });
      expect(all).toMatchObject({ errorCode: 0, baseOffset: 3n });
    });

    it('acks=0 gets no response; the connection answers the next request', async () => {
      await createTopic('acks0');
      const c = await RawClient.connect(broker.port);
      c.send(schemas.produceRequest, 9, {
        transactionalId: null,
        acks: 0,
        timeoutMs: 1000,
        topicData: [{ name: 'acks0', partitionData: [{ index: 0, records: await batchOf(testRecords(4)) }] }],
      });
      const next = await produceRaw(c, 'acks0', 0, await batchOf(testRecords(1)), { acks: 1 });
      expect(next).toMatchObject({ errorCode: 0, baseOffset: 4n });
      expect(c.unexpected).toEqual([]);
      c.close();
    });

    it('a failed acks=0 produce closes the connection instead of answering', async () => {
      const c = await RawClient.connect(broker.port);
      c.send(schemas.produceRequest, 9, {
        transactionalId: null,
        acks: 0,
        timeoutMs: 1000,
        topicData: [{ name: 'no-such-topic', partitionData: [{ index: 0, records: await batchOf(testRecords(1)) }] }],
      });
      await c.closed;
      expect(c.unexpected).toEqual([]);
    });

    it('acks=-1 on a topic with min.insync.replicas=2 gets NOT_ENOUGH_REPLICAS; acks=1 is accepted', async () => {
      await createTopic('isr', { 'min.insync.replicas': '2' });
      expect((await produceRaw(client, 'isr', 0, await batchOf(testRecords(1)), { acks: -1 })).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
      expect((await produceRaw(client, 'isr', 0, await batchOf(testRecords(1)), { acks: 1 })).errorCode).toBe(ErrorCode.NONE);
    });

    it('acks other than 0, 1 and -1 get INVALID_REQUIRED_ACKS', async () => {
      expect((await produceRaw(client, 'acks', 0, await batchOf(testRecords(1)), { acks: 2 })).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    });
  });

  describe('bad requests', () => {
    it('a batch larger than the topic max.message.bytes gets MESSAGE_TOO_LARGE, from the raw client and kafkajs', async () => {
      await createTopic('small', { 'max.message.bytes': '1000' });
      const res = await produceRaw(client, 'small', 0, await batchOf(testRecords(1, 'big', 2000)));
      expect(res).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE, baseOffset: -1n });
      expect(res.errorMessage).toContain('exceeds the maximum of 1000');
      const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const producer = kafka.producer();
      await producer.connect();
      try {
        await expect(producer.send({ topic: 'small', messages: [{ value: Buffer.alloc(5000) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
      } finally {
        await producer.disconnect();
      }
    });

    it('a batch larger than the broker message.max.bytes gets MESSAGE_TOO_LARGE', async () => {
      await createTopic('default-max');
      const res = await produceRaw(client, 'default-max', 0, await batchOf(testRecords(1, 'huge', 1_100_000)));
      expect(res.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    });

    it('a batch whose CRC does not match gets CORRUPT_MESSAGE, and nothing is appended', async () => {
      await createTopic('corrupt');
      const batch = await batchOf(testRecords(3));
      batch[batch.length - 2] ^= 0xff;
      expect((await produceRaw(client, 'corrupt', 0, batch)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
      const truncated = (await batchOf(testRecords(3))).subarray(0, 70);
      expect((await produceRaw(client, 'corrupt', 0, truncated)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
      expect(broker.broker.topics.partition('corrupt', 0)!.log.logEndOffset).toBe(0);
    });

    it('an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION and is not created', async () => {
      expect((await produceRaw(client, 'never-created', 0, await batchOf(testRecords(1)))).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect(broker.broker.topics.get('never-created')).toBeUndefined();
      expect((await produceRaw(client, 'acks', 9, await batchOf(testRecords(1)))).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });

    it('zstd batches get UNSUPPORTED_COMPRESSION_TYPE below Produce v7 and are accepted from v7', async () => {
      await createTopic('zstd');
      const batch = await batchOf(testRecords(5), { compression: Compression.zstd });
      expect((await produceRaw(client, 'zstd', 0, batch, { version: 3 })).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
      expect((await produceRaw(client, 'zstd', 0, batch, { version: 6 })).errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
      expect((await produceRaw(client, 'zstd', 0, batch, { version: 7 })).errorCode).toBe(ErrorCode.NONE);
      expect((await fetchAll(client, 'zstd', 0)).map((r) => r.key)).toEqual(testRecords(5).map((r) => r.key!.toString()));
    });

    it('Produce v3+ with two batches, a legacy message set or no records gets INVALID_RECORD', async () => {
      await createTopic('shape');
      const two = Buffer.concat([await batchOf(testRecords(1)), await batchOf(testRecords(1))]);
      expect((await produceRaw(client, 'shape', 0, two)).errorCode).toBe(ErrorCode.INVALID_RECORD);
      const legacy = await encodeMessageSet([{ offset: 0, key: Buffer.from('k'), value: Buffer.from('v') }], { magic: 1 });
      expect((await produceRaw(client, 'shape', 0, legacy, { version: 3 })).errorCode).toBe(ErrorCode.INVALID_RECORD);
      expect((await produceRaw(client, 'shape', 0, null)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    });

    it('records with timestamps outside message.timestamp.before.max.ms get INVALID_TIMESTAMP with one record error each (v8+)', async () => {
      await createTopic('recent', { 'message.timestamp.before.max.ms': '60000' });
      const now = Date.now();
      const batch = await batchOf([
        { key: Buffer.from('a'), value: null, timestamp: now },
        { key: Buffer.from('b'), value: null, timestamp: 1000 },
        { key: Buffer.from('c'), value: null, timestamp: 2000 },
      ]);
      const res = await produceRaw(client, 'recent', 0, batch, { version: 9 });
      expect(res.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
      expect(res.recordErrors.map((e) => e.batchIndex)).toEqual([1, 2]);
      expect(res.recordErrors[0]!.batchIndexErrorMessage).toContain('Timestamp 1000');
      expect(res.errorMessage).toBe('One or more records have been rejected due to invalid timestamp');
    });

    it('a record without a key on a compacted topic gets INVALID_RECORD naming the record (v8+)', async () => {
      await createTopic('compacted', { 'cleanup.policy': 'compact' });
      const batch = await batchOf([{ key: Buffer.from('a'), value: Buffer.from('1') }, { key: null, value: Buffer.from('2') }]);
      const res = await produceRaw(client, 'compacted', 0, batch, { version: 8 });
      expect(res.errorCode).toBe(ErrorCode.INVALID_RECORD);
      expect(res.recordErrors.map((e) => e.batchIndex)).toEqual([1]);
    });
  });

  describe('timestamps and compression', () => {
    it('a LogAppendTime topic stamps the broker time on the batch and reports it as log_append_time_ms', async () => {
      await createTopic('append-time', { 'message.timestamp.type': 'LogAppendTime' });
      const before = Date.now();
      const res = await produceRaw(client, 'append-time', 0, await batchOf(testRecords(3), { timestamp: 1234 }));
      expect(res.errorCode).toBe(0);
      const appendTime = Number(res.logAppendTimeMs);
      expect(appendTime).toBeGreaterThanOrEqual(before);
      const records = await fetchAll(client, 'append-time', 0);
      expect(records.map((r) => r.timestamp)).toEqual([appendTime, appendTime, appendTime]);
      expect(records[0]!.batch!.attributes & 0x08).toBe(0x08);
    });

    it('compression.type=gzip stores uncompressed batches gzip-compressed with the same records', async () => {
      await createTopic('gzip-topic', { 'compression.type': 'gzip' });
      const records = testRecords(20, 'g').map((r) => ({ ...r, headers: [{ key: 'h', value: Buffer.from('x') }] }));
      expect((await produceRaw(client, 'gzip-topic', 0, await batchOf(records, { timestamp: 5000 }))).errorCode).toBe(0);
      const stored = await fetchAll(client, 'gzip-topic', 0);
      expect(stored.map((r) => r.key)).toEqual(records.map((r) => r.key!.toString()));
      expect(stored.every((r) => (r.batch!.attributes & 7) === Compression.gzip && r.timestamp === 5000 && r.headers.h === 'x')).toBe(true);
    });

    it('compression.type=producer keeps each batch compressed as sent', async () => {
      await createTopic('as-sent');
      await produceRaw(client, 'as-sent', 0, await batchOf(testRecords(2, 'l'), { compression: Compression.lz4 }));
      await produceRaw(client, 'as-sent', 0, await batchOf(testRecords(2, 's'), { compression: Compression.snappy }));
      const stored = await fetchAll(client, 'as-sent', 0);
      expect(stored.map((r) => r.batch!.attributes & 7)).toEqual([Compression.lz4, Compression.lz4, Compression.snappy, Compression.snappy]);
    });

    it('kafkajs gzip batches on a compression.type=uncompressed topic are stored uncompressed', async () => {
      await createTopic('plain', { 'compression.type': 'uncompressed' });
      const producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({ topic: 'plain', compression: CompressionTypes.GZIP, messages: [{ key: 'a', value: 'A' }, { key: 'b', value: 'B' }] });
      await producer.disconnect();
      const stored = await fetchAll(client, 'plain', 0);
      expect(stored.map((r) => [r.key, r.value, r.batch!.attributes & 7])).toEqual([
        ['a', 'A', 0],
        ['b', 'B', 0],
      ]);
    });
  });

  describe('legacy message sets (Produce v0-2)', () => {
    it('magic 0 and magic 1 message sets, plain and gzip-wrapped, are stored as v2 batches with broker-assigned offsets', async () => {
      await createTopic('legacy');
      const msgs = (p: string) => [0, 1, 2].map((i) => ({ offset: 100 + i, timestamp: 7000 + i, key: Buffer.from(`${p}${i}`), value: Buffer.from(`value-${p}${i}`) }));
      const sets = [
        [0, await encodeMessageSet(msgs('a'), { magic: 0 })],
        [1, await encodeMessageSet(msgs('b'), { magic: 1 })],
        [2, await encodeMessageSet(msgs('c'), { magic: 1, compression: Compression.gzip })],
        [2, await encodeMessageSet(msgs('d'), { magic: 0, compression: Compression.gzip })],
      ] as const;
      const bases: bigint[] = [];
      for (const [version, set] of sets) {
        const res = await produceRaw(client, 'legacy', 0, set, { version });
        expect(res.errorCode).toBe(0);
        bases.push(res.baseOffset);
      }
      expect(bases).toEqual([0n, 3n, 6n, 9n]);
      const stored = await fetchAll(client, 'legacy', 0);
      expect(stored.map((r) => r.key)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2', 'd0', 'd1', 'd2']);
      expect(stored.map((r) => r.offset)).toEqual([...Array(12).keys()]);
      expect(stored.every((r) => r.magic === 2)).toBe(true);
      expect(stored.slice(3, 6).map((r) => r.timestamp)).toEqual([7000, 7001, 7002]);
      expect(stored[4]!.value).toBe('value-b1');
    });

    it('a legacy message with a bad CRC gets CORRUPT_MESSAGE', async () => {
      const set = await encodeMessageSet([{ offset: 0, key: Buffer.from('k'), value: Buffer.from('value') }], { magic: 1 });
      set[set.length - 1] ^= 0xff;
      expect((await produceRaw(client, 'legacy', 0, set, { version: 2 })).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    });
  });
});
