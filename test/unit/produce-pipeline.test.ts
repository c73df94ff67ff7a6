/**
 * The produce pipeline's hand-over: validation reads each batch header once and describes the batches it
 * hands on; producer state takes that description instead of reading the headers again (the partition
 * log's side, AppendOptions.batches, is tested in storage-append-batches.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { Compression, buildRecordBatch, computeBatchCrc, CRC_OFFSET, encodeMessageSet, readBatchHeader, writeInt64 } from '../../protocol/records/index.js';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { resolveTopicConfig } from '../../src/config/topic-configs.js';
import { producerBatchesFrom, producerBatchesOf } from '../../src/produce/producer-state.js';
import { prepareAppend, type PreparedAppend } from '../../src/produce/validate.js';

function config(overrides: Record<string, string> = {}): ReturnType<typeof resolveTopicConfig> {
  return resolveTopicConfig(new BrokerConfig(), new Map(Object.entries(overrides)));
}

const records = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${from + i}`), timestamp: 1000 + i }));

function prepare(buf: Buffer, version = 9, overrides: Record<string, string> = {}): Promise<PreparedAppend> {
  return prepareAppend(buf, { version, topicPartition: 't-0', config: config(overrides), maxDecompressedBytes: 1 << 20, now: Date.now() });
}

/** Every prepared batch agrees with the header in the prepared buffer, and together they tile it. */
function expectDescribesBuffer(prepared: PreparedAppend): void {
  let pos = 0;
  for (const b of prepared.batches) {
    expect(b.position).toBe(pos);
    const h = readBatchHeader(prepared.buffer, pos);
    expect(b).toEqual({
      position: pos,
      size: 12 + h.batchLength,
      lastOffsetDelta: h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
      recordCount: h.recordCount,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      attributes: h.attributes,
    });
    pos += b.size;
  }
  expect(pos).toBe(prepared.buffer.length);
}

describe('validation describes the batches it hands on', () => {
  it('as sent, for an idempotent batch appended without a copy', async () => {
    const batch = await buildRecordBatch(records(4), { producerId: 7, producerEpoch: 2, baseSequence: 40, compression: Compression.gzip });
    const prepared = await prepare(batch);
    expect(prepared.buffer).toBe(batch);
    expect(prepared.batches).toHaveLength(1);
    expectDescribesBuffer(prepared);
  });

  it('with the repaired maxTimestamp of a CreateTime batch', async () => {
    const batch = await buildRecordBatch(records(3));
    writeInt64(batch, 35, 99);
    batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), CRC_OFFSET);
    const prepared = await prepare(batch);
    expect(prepared.batches[0]!.maxTimestamp).toBe(1002);
    expectDescribesBuffer(prepared);
  });

  it('after recompression into the topic codec, batch by batch', async () => {
    const first = await buildRecordBatch(records(3), { producerId: 3, producerEpoch: 0, baseSequence: 0 });
    const second = await buildRecordBatch(records(2, 3), { producerId: 3, producerEpoch: 0, baseSequence: 3, compression: Compression.lz4 });
    const prepared = await prepare(Buffer.concat([first, second]), 2, { 'compression.type': 'lz4' });
    expect(prepared.zeroCopy).toBe(false);
    expect(prepared.batches).toHaveLength(2);
    expectDescribesBuffer(prepared);
  });

  it('after converting a legacy message set (Produce v0-2)', async () => {
    const set = await encodeMessageSet(
      [
        { offset: 0, timestamp: 5, key: null, value: Buffer.from('a') },
        { offset: 1, timestamp: 6, key: null, value: Buffer.from('b') },
      ],
      { magic: 1 },
    );
    const prepared = await prepare(set, 2);
    expect(prepared.batches.length).toBeGreaterThan(0);
    expectDescribesBuffer(prepared);
  });

  it('so that producer state finds the same producer batches in the fields as in the bytes', async () => {
    const batches = [
      await buildRecordBatch(records(3), { producerId: 9, producerEpoch: 1, baseSequence: 2147483646 }),
      await buildRecordBatch(records(1)),
      await buildRecordBatch(records(3), { producerId: 9, producerEpoch: 1, baseSequence: 1 }),
    ];
    const prepared = await prepare(Buffer.concat(batches), 2);
    const fromFields = producerBatchesFrom(prepared.batches);
    expect(fromFields).toEqual(producerBatchesOf(prepared.buffer));
    expect(fromFields.map((b) => [b.relativeOffset, b.firstSeq, b.lastSeq])).toEqual([
      [0, 2147483646, 0],
      [4, 1, 3],
    ]);
  });
});
