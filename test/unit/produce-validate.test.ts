import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { ATTR_LOG_APPEND_TIME, Compression, buildRecordBatch, readBatchHeader, verifyBatchCrc, writeInt64, computeBatchCrc, CRC_OFFSET } from '../../protocol/records/index.js';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { resolveTopicConfig } from '../../src/config/topic-configs.js';
import { prepareAppend, ProduceValidationError } from '../../src/produce/validate.js';

function config(overrides: Record<string, string> = {}): ReturnType<typeof resolveTopicConfig> {
  return resolveTopicConfig(new BrokerConfig(), new Map(Object.entries(overrides)));
}

async function refused(batch: Buffer, overrides: Record<string, string>, now = Date.now()): Promise<ProduceValidationError> {
  const err = await prepareAppend(batch, { version: 9, topicPartition: 't-0', config: config(overrides), maxDecompressedBytes: 1 << 20, now }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProduceValidationError);
  return err as ProduceValidationError;
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: 1000 + i }));

describe('prepareAppend', () => {
  it('appends a valid batch as the request\'s own buffer: the record bytes are not copied', async () => {
    const batch = await buildRecordBatch(records(5), { compression: Compression.gzip });
    const prepared = await prepareAppend(batch, { version: 9, topicPartition: 't-0', config: config(), maxDecompressedBytes: 1 << 20, now: Date.now() });
    expect(prepared.buffer).toBe(batch);
    expect(prepared.zeroCopy).toBe(true);
  });

  it('recompresses into the topic codec when compression.type is not producer', async () => {
    const batch = await buildRecordBatch(records(5));
    const prepared = await prepareAppend(batch, { version: 9, topicPartition: 't-0', config: config({ 'compression.type': 'lz4' }), maxDecompressedBytes: 1 << 20, now: Date.now() });
    expect(prepared.zeroCopy).toBe(false);
    const header = readBatchHeader(prepared.buffer);
    expect(header.attributes & 7).toBe(Compression.lz4);
    expect(header.recordCount).toBe(5);
    expect(verifyBatchCrc(prepared.buffer)).toBe(true);
  });

  it('repairs a CreateTime batch whose maxTimestamp disagrees with its records, keeping the CRC valid', async () => {
    const batch = await buildRecordBatch(records(3));
    writeInt64(batch, 35, 99);
    batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), CRC_OFFSET);
    const prepared = await prepareAppend(batch, { version: 9, topicPartition: 't-0', config: config(), maxDecompressedBytes: 1 << 20, now: Date.now() });
    expect(prepared.buffer).toBe(batch);
    expect(readBatchHeader(batch).maxTimestamp).toBe(1002);
    expect(verifyBatchCrc(batch)).toBe(true);
  });

  it('takes a batch a producer marked LogAppendTime on a CreateTime topic by its maxTimestamp, and stores it CreateTime (as Kafka)', async () => {
    const batch = await buildRecordBatch(records(2), { logAppendTime: 5 });
    const prepared = await prepareAppend(batch, { version: 9, topicPartition: 't-0', config: config(), maxDecompressedBytes: 1 << 20, now: Date.now() });
    const header = readBatchHeader(prepared.buffer);
    expect(header.attributes & ATTR_LOG_APPEND_TIME).toBe(0);
    expect(header.maxTimestamp).toBe(5);
    expect(prepared.batches[0]).toMatchObject({ maxTimestamp: 5, attributes: header.attributes });
    expect(verifyBatchCrc(prepared.buffer)).toBe(true);
  });

  it('refuses every record of a LogAppendTime batch whose maxTimestamp is out of range, or that is sent to a LogAppendTime topic', async () => {
    const now = 1_700_000_000_000;
    const outOfRange = await refused(await buildRecordBatch(records(2), { logAppendTime: 5 }), { 'message.timestamp.before.max.ms': '60000' }, now);
    expect(outOfRange.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(outOfRange.message).toBe('One or more records have been rejected due to invalid timestamp');
    expect(outOfRange.recordErrors).toEqual([0, 1].map((i) => ({
      batchIndex: i,
      message: `Timestamp 5 of message with offset ${i} is out of range. The timestamp should be within [1699999940000, -9223370336854775809]`,
    })));
    const onAppendTimeTopic = await refused(await buildRecordBatch(records(2), { logAppendTime: 5 }), { 'message.timestamp.type': 'LogAppendTime' }, now);
    expect(onAppendTimeTopic.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(onAppendTimeTopic.recordErrors).toEqual([0, 1].map((i) => ({
      batchIndex: i,
      message: `Invalid timestamp type in message DefaultRecord(offset=${i}, timestamp=5, key=2 bytes, value=2 bytes). Producer should not set timestamp type to LogAppendTime.`,
    })));
    // a CreateTime batch on a LogAppendTime topic is stamped, not refused
    await prepareAppend(await buildRecordBatch(records(2)), { version: 9, topicPartition: 't-0', config: config({ 'message.timestamp.type': 'LogAppendTime' }), maxDecompressedBytes: 1 << 20, now });
  });

  it('refuses each record without key on a compacted topic, with its batch index and Kafka\'s messages', async () => {
    for (const compression of [Compression.none, Compression.gzip]) {
      const batch = await buildRecordBatch(
        Array.from({ length: 100 }, (_, i) => ({ key: i % 10 === 0 ? null : Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })),
        { compression },
      );
      const err = await refused(batch, { 'cleanup.policy': 'compact' });
      const message = 'Compacted topic cannot accept message without key in topic partition t-0';
      expect(err.code).toBe(ErrorCode.INVALID_RECORD);
      expect(err.recordErrors).toEqual(Array.from({ length: 10 }, (_, i) => ({ batchIndex: i * 10, message })));
      expect(err.message).toBe(
        'One or more records have been rejected due to 10 record errors in total, and only showing the first three errors at most: ' +
          `[RecordError(batchIndex=0, message='${message}'), RecordError(batchIndex=10, message='${message}'), RecordError(batchIndex=20, message='${message}')]`,
      );
    }
  });

  it('a record without key is refused for its key, not its timestamp; any refused timestamp makes the partition INVALID_TIMESTAMP', async () => {
    const now = 1_700_000_000_000;
    const batch = await buildRecordBatch([
      { key: null, value: null, timestamp: 1000 },
      { key: Buffer.from('a'), value: null, timestamp: now },
      { key: Buffer.from('b'), value: null, timestamp: 2000 },
    ]);
    const err = await refused(batch, { 'cleanup.policy': 'compact,delete', 'message.timestamp.before.max.ms': '60000' }, now);
    expect(err.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(err.message).toBe('One or more records have been rejected due to invalid timestamp');
    expect(err.recordErrors.map((e) => [e.batchIndex, e.message?.slice(0, 20)])).toEqual([
      [0, 'Compacted topic cann'],
      [2, 'Timestamp 2000 of me'],
    ]);
  });

  it('refuses records larger than a segment with RECORD_LIST_TOO_LARGE', async () => {
    const batch = await buildRecordBatch([{ key: null, value: Buffer.alloc(5000) }]);
    const err = await prepareAppend(batch, { version: 9, topicPartition: 't-0', config: config({ 'segment.bytes': '4096' }), maxDecompressedBytes: 1 << 20, now: Date.now() }).catch((e: unknown) => e);
    expect((err as ProduceValidationError).code).toBe(ErrorCode.RECORD_LIST_TOO_LARGE);
  });
});
