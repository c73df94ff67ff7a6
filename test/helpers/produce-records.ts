/**
 * Producing with the raw client, for tests: v2 batches built with
 * protocol/records, sent in a Produce request of any version.
 */
import { schemas, type MessageValue } from '../../protocol/index.js';
import { buildRecordBatch, type BatchOptions, type RecordInput } from '../../protocol/records/index.js';
import type { RawClient } from './raw-client.js';

type ProducePartitionResponse = MessageValue<typeof schemas.produceResponse>['responses'][number]['partitionResponses'][number];

/** `n` records with keys `${prefix}-i`, values of `valueBytes` bytes (default short ones). */
export function testRecords(n: number, prefix = 'k', valueBytes?: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`${prefix}-${i}`),
    value: valueBytes === undefined ? Buffer.from(`v-${prefix}-${i}`) : Buffer.alloc(valueBytes, i % 251),
  }));
}

export function batchOf(records: RecordInput[], options: BatchOptions = {}): Promise<Buffer> {
  return buildRecordBatch(records, options);
}

export interface ProduceOptions {
  version?: number;
  acks?: number;
  /** v3+: the producer's transactional id (default none). */
  transactionalId?: string | null;
}

/** Sends one partition's records (a batch, a legacy message set, or any bytes) and returns its partition response. */
export async function produceRaw(
  client: RawClient,
  topic: string,
  partition: number,
  records: Buffer | null,
  opts: ProduceOptions = {},
): Promise<ProducePartitionResponse> {
  const res = await client.request(schemas.produceRequest, schemas.produceResponse, opts.version ?? 9, {
    transactionalId: opts.transactionalId ?? null,
    acks: opts.acks ?? 1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const p = res.responses[0]?.partitionResponses[0];
  if (!p) throw new Error('no partition in the produce response');
  return p;
}

/** Builds a batch of `records` and produces it; returns the base offset (throws on an error code). */
export async function produceRecords(client: RawClient, topic: string, partition: number, records: RecordInput[], options: BatchOptions = {}): Promise<number> {
  const p = await produceRaw(client, topic, partition, await buildRecordBatch(records, options));
  if (p.errorCode !== 0) throw new Error(`produce error ${p.errorCode}: ${p.errorMessage ?? ''}`);
  return Number(p.baseOffset);
}
