/**
 * Reading what a Fetch returned, for tests: the records of a `records`
 * section (v2 batches or legacy magic 0/1 message sets; a partial batch at
 * the end is skipped as clients do) and a fetch loop over a partition with
 * the raw client.
 */
import { ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { LOG_OVERHEAD, MAGIC_OFFSET, readBatchRecords, readMessageSet, type BatchHeader } from '../../protocol/records/index.js';
import type { RawClient } from './raw-client.js';

export interface FetchedRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string | null>;
  /** The batch's magic: 2, or 0/1 for a legacy message set. */
  readonly magic: number;
  /** v2 only: the batch header. */
  readonly batch?: BatchHeader;
}

/** Every record of a records section, in order; a truncated last entry is skipped. */
export async function decodeRecords(records: Buffer | null): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  if (records === null) return out;
  let pos = 0;
  while (records.length - pos >= LOG_OVERHEAD) {
    const size = LOG_OVERHEAD + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    const entry = records.subarray(pos, pos + size);
    pos += size;
    const magic = entry.readInt8(MAGIC_OFFSET);
    if (magic === 2) {
      const { header, records: it } = await readBatchRecords(entry);
      for (const r of it) {
        const headers: Record<string, string | null> = {};
        for (const h of r.headers) headers[h.key] = h.value === null ? null : h.value.toString();
        out.push({ offset: r.offset, timestamp: r.timestamp, key: str(r.key), value: str(r.value), headers, magic, batch: header });
      }
    } else {
      for (const m of await readMessageSet(entry)) {
        out.push({ offset: m.offset, timestamp: m.timestamp, key: str(m.key), value: str(m.value), headers: {}, magic });
      }
    }
  }
  return out;
}

function str(b: Buffer | null): string | null {
  return b === null ? null : b.toString();
}

export interface FetchAllOptions {
  /** Fetch version (default 12). */
  version?: number;
  /** Bytes per fetch and partition (default 1 MiB). */
  maxBytes?: number;
  topicId?: string;
}

/**
 * A sessionless, non-waiting Fetch of one topic's partitions (read uncommitted unless `isolationLevel` is 1),
 * `maxBytes` for the response and for each partition; the fields a version lacks are left out by the codec.
 */
export function fetchRequestBody(
  topic: string,
  partitions: readonly { partition: number; fetchOffset: number }[],
  maxBytes: number,
  topicId?: string,
  isolationLevel = 0,
): MessageInput<typeof schemas.fetchRequest> {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId,
        partitions: partitions.map(({ partition, fetchOffset }) => ({
          partition,
          fetchOffset: BigInt(fetchOffset),
          partitionMaxBytes: maxBytes,
          logStartOffset: -1n,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/** One sessionless fetch of a partition at `offset`: its error code and every record of the answer, those before `offset` included. */
export async function fetchAnswer(
  client: RawClient,
  topic: string,
  partition: number,
  offset: number,
  opts: FetchAllOptions = {},
): Promise<{ errorCode: number; records: FetchedRecord[] }> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const res = await client.request(
    schemas.fetchRequest,
    schemas.fetchResponse,
    opts.version ?? 12,
    fetchRequestBody(topic, [{ partition, fetchOffset: offset }], maxBytes, opts.topicId),
  );
  const p = res.responses[0]?.partitions[0];
  if (res.errorCode !== ErrorCode.NONE || !p) throw new Error(`fetch error ${res.errorCode}`);
  return { errorCode: p.errorCode, records: await decodeRecords(p.records as Buffer | null) };
}

/** fetchAnswer's records; throws on an error code. */
export async function fetchOnce(client: RawClient, topic: string, partition: number, offset: number, opts: FetchAllOptions = {}): Promise<FetchedRecord[]> {
  const { errorCode, records } = await fetchAnswer(client, topic, partition, offset, opts);
  if (errorCode !== ErrorCode.NONE) throw new Error(`fetch error ${errorCode}`);
  return records;
}

/** Fetches a partition from `from` up to its high watermark with sessionless fetches; returns every record once. */
export async function fetchAll(client: RawClient, topic: string, partition: number, from = 0, opts: FetchAllOptions = {}): Promise<FetchedRecord[]> {
  const version = opts.version ?? 12;
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const out: FetchedRecord[] = [];
  let offset = from;
  for (;;) {
    const res = await client.request(
      schemas.fetchRequest,
      schemas.fetchResponse,
      version,
      fetchRequestBody(topic, [{ partition, fetchOffset: offset }], maxBytes, opts.topicId),
    );
    if (res.errorCode !== ErrorCode.NONE) throw new Error(`fetch error ${res.errorCode}`);
    const p = res.responses[0]?.partitions[0];
    if (!p) throw new Error('no partition in the fetch response');
    if (p.errorCode !== ErrorCode.NONE) throw new Error(`fetch partition error ${p.errorCode}`);
    const records = (await decodeRecords(p.records as Buffer | null)).filter((r) => r.offset >= offset);
    out.push(...records);
    const hw = Number(p.highWatermark);
    if (records.length > 0) offset = records[records.length - 1]!.offset + 1;
    if (offset >= hw) return out;
    if (records.length === 0) throw new Error(`no progress at offset ${offset} (high watermark ${hw})`);
  }
}
