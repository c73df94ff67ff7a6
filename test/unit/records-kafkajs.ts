/**
 * Test helper: kafkajs 2.2.4's own record batch and message set encoders and
 * decoders (node_modules/kafkajs/src/protocol), used as an implementation
 * independent of ours. kafkajs ships gzip only; snappy (xerial framing, as
 * kafkajs-snappy / Java write it), lz4 and zstd codecs are registered here
 * on top of the reference libraries.
 */
import { createRequire } from 'node:module';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { lz4HeaderChecksum } from '../../protocol/records/lz4-frame.js';

const require = createRequire(import.meta.url);

interface Encoder {
  readonly buffer: Buffer;
}
type Long = unknown;
interface LongStatic {
  fromValue(v: number | string): Long;
}
interface Codec {
  compress(encoder: Encoder): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const Long = require('kafkajs/src/utils/long.js') as LongStatic;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (options: Record<string, unknown>) => Promise<Encoder>;
};
const RecordEncoder = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: Record<string, unknown>) => Encoder;
const DecoderClass = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<KafkajsBatch>;
const MessageSetEncoder = require('kafkajs/src/protocol/messageSet/index.js') as (options: Record<string, unknown>) => Encoder;
const decodeMessageSetKjs = require('kafkajs/src/protocol/messageSet/decoder.js') as (decoder: unknown, size: number) => Promise<KafkajsMessage[]>;
const { Codecs } = require('kafkajs/src/protocol/message/compression/index.js') as { Codecs: Record<number, () => Codec> };

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

const snappyXerial: Codec = {
  async compress(encoder) {
    const parts: Buffer[] = [XERIAL_HEADER];
    const data = encoder.buffer;
    for (let pos = 0; pos < data.length; pos += 32768) {
      const block = snappyCompress(data.subarray(pos, pos + 32768));
      const len = Buffer.alloc(4);
      len.writeInt32BE(block.length);
      parts.push(len, block);
    }
    return Buffer.concat(parts);
  },
  async decompress(buffer) {
    if (!buffer.subarray(0, 8).equals(XERIAL_HEADER.subarray(0, 8))) return snappyUncompress(buffer, { asBuffer: true }) as Buffer;
    const out: Buffer[] = [];
    for (let pos = 16; pos < buffer.length; ) {
      const n = buffer.readInt32BE(pos);
      out.push(snappyUncompress(buffer.subarray(pos + 4, pos + 4 + n), { asBuffer: true }) as Buffer);
      pos += 4 + n;
    }
    return Buffer.concat(out);
  },
};

Codecs[2] = () => snappyXerial;
Codecs[3] = () => ({
  compress: async (encoder) => compressFrameSync(encoder.buffer),
  decompress: async (buffer) => {
    try {
      return decompressFrameSync(buffer);
    } catch {
      // Magic-0 frames carry Kafka's legacy header checksum; old clients accept it (as kafka-python does)
      const fixed = Buffer.from(buffer);
      fixed[6] = lz4HeaderChecksum(fixed);
      return decompressFrameSync(fixed);
    }
  },
});
Codecs[4] = () => ({
  compress: (encoder) => zstdCompress(encoder.buffer, 3),
  decompress: (buffer) => zstdDecompress(buffer),
});

export interface KafkajsRecordInput {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers?: Record<string, Buffer>;
}

/** A v2 batch as the kafkajs producer encodes it (offset deltas 0..n-1). */
export async function kafkajsBatch(
  records: readonly KafkajsRecordInput[],
  options: { compression?: number; producerId?: number; producerEpoch?: number; firstSequence?: number; transactional?: boolean } = {},
): Promise<Buffer> {
  const first = records[0]!.timestamp;
  const max = Math.max(...records.map((r) => r.timestamp));
  const encoded = records.map((r, i) =>
    RecordEncoder({ offsetDelta: i, timestampDelta: r.timestamp - first, key: r.key, value: r.value, headers: r.headers ?? {} }),
  );
  const batch = await RecordBatch({
    compression: options.compression ?? 0,
    firstOffset: Long.fromValue(0),
    firstTimestamp: first,
    maxTimestamp: max,
    partitionLeaderEpoch: -1,
    lastOffsetDelta: records.length - 1,
    transactional: options.transactional ?? false,
    producerId: Long.fromValue(options.producerId ?? -1),
    producerEpoch: options.producerEpoch ?? -1,
    firstSequence: options.firstSequence ?? -1,
    records: encoded,
  });
  return batch.buffer;
}

export interface KafkajsRecord {
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | Buffer[]>;
}
export interface KafkajsBatch {
  readonly firstOffset: string;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly inTransaction: boolean;
  readonly isControlBatch: boolean;
  readonly timestampType: number;
  readonly maxTimestamp: string;
  readonly records: KafkajsRecord[];
}

/** Decodes one v2 batch with kafkajs's decoder (it does not check the CRC). */
export function kafkajsDecodeBatch(batch: Buffer): Promise<KafkajsBatch> {
  return decodeRecordBatch(new DecoderClass(batch));
}

export interface KafkajsMessage {
  readonly offset: string;
  readonly magicByte: number;
  readonly attributes: number;
  readonly timestamp?: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/**
 * A legacy message set as kafkajs's Produce v0-v2 request encoder writes it:
 * uncompressed messages with offset -1; compressed, one wrapper at offset 0
 * (timestamp of the first message) around inner messages at offsets 0..n-1.
 */
export async function kafkajsMessageSet(
  magic: 0 | 1,
  messages: readonly { key: Buffer | null; value: Buffer | null; timestamp?: number }[],
  compression = 0,
): Promise<Buffer> {
  const set = MessageSetEncoder({ messageVersion: magic, compression, entries: messages });
  if (compression === 0) return set.buffer;
  const value = await Codecs[compression]!().compress(set);
  const timestamp = messages[0]!.timestamp ?? Date.now();
  return MessageSetEncoder({ messageVersion: magic, entries: [{ compression, timestamp, value }] }).buffer;
}

/** Decodes a legacy message set (decompressing wrappers) with kafkajs's decoder. */
export function kafkajsDecodeMessageSet(buf: Buffer): Promise<KafkajsMessage[]> {
  return decodeMessageSetKjs(new DecoderClass(buf), buf.length);
}
