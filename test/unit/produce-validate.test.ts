import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { Compression, buildRecordBatch, readBatchHeader, verifyBatchCrc, writeInt64, computeBatchCrc, CRC_OFFSET } from '../../protocol/records/index.js';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { resolveTopicConfig } from '../../src/config/topic-configs.js';
import { prepareAppend, ProduceValidationError } from '../../src/produce/validate.js';

function config(overrides: Record<string, string> = {}): ReturnType<typeof resolveTopicConfig> {
  return resolveTopicConfig(new BrokerConfig(), new Map(Object.entries(overrides)));
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: 1000 + i }));

describe('prepareAppend', () => {
  it('appends a valid batch as the request\'s own buffer: the record bytes are not copied', async () => {
    const batch = await buildRecordBatch(records(5), { compression: Compression.gzip });
    const prepared = await prepareAppend(batch, { version: 9, config: config(), maxDecompressedBytes: 1 << 20, now: Date.now() });
    expect(prepared.buffer).toBe(batch);
    expect(prepared.zeroCopy).toBe(true);
  });

  it('recompresses into the topic codec when compression.type is not producer', async () => {
    const batch = await buildRecordBatch(records(5));
    const prepared = await prepareAppend(batch, { version: 9, config: config({ 'compression.type': 'lz4' }), maxDecompressedBytes: 1 << 20, now: Date.now() });
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
    const prepared = await prepareAppend(batch, { version: 9, config: config(), maxDecompressedBytes: 1 << 20, now: Date.now() });
    expect(prepared.buffer).toBe(batch);
    expect(readBatchHeader(batch).maxTimestamp).toBe(1002);
    expect(verifyBatchCrc(batch)).toBe(true);
  });

  it('refuses a batch a producer marked LogAppendTime on a CreateTime topic with INVALID_TIMESTAMP for every record', async () => {
    const batch = await buildRecordBatch(records(2), { logAppendTime: 5 });
    const err = await prepareAppend(batch, { version: 9, config: config(), maxDecompressedBytes: 1 << 20, now: Date.now() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProduceValidationError);
    expect((err as ProduceValidationError).code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect((err as ProduceValidationError).recordErrors.map((e) => e.batchIndex)).toEqual([0, 1]);
  });

  it('refuses records larger than a segment with RECORD_LIST_TOO_LARGE', async () => {
    const batch = await buildRecordBatch([{ key: null, value: Buffer.alloc(5000) }]);
    const err = await prepareAppend(batch, { version: 9, config: config({ 'segment.bytes': '4096' }), maxDecompressedBytes: 1 << 20, now: Date.now() }).catch((e: unknown) => e);
    expect((err as ProduceValidationError).code).toBe(ErrorCode.RECORD_LIST_TOO_LARGE);
  });
});
