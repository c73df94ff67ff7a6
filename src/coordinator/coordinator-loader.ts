/**
 * Loading a shard (Kafka's CoordinatorLoader): read one partition of the
 * internal topic from its log start offset to its high watermark and replay
 * its records into the shard, in offset order.
 *
 * With `latestPerKey` only the latest record of each key is decoded and
 * replayed (still in offset order). That is the state the log cleaner will
 * leave anyway, so it is right exactly for the topics compaction is right
 * for: a compacted topic whose every record sets (or, as a tombstone,
 * removes) the state of its key. It saves decoding the superseded records
 * of a partition the cleaner has not reached yet (100,000 commits of 10
 * partitions decode 10 records). A topic whose records are deltas (the
 * share-group state topic's updates) replays everything.
 *
 * Records of transactions (internal-topic.ts): a committed transaction's
 * records come at its marker with their own offsets, so the latest record of
 * a key is the one with the highest offset, not the last one read; records
 * of a transaction still open at the end are replayed last, in offset order,
 * with their producer id (never merged with the committed ones: they are not
 * committed yet).
 *
 * A record whose bytes do not decode, or whose replay throws, is logged and
 * skipped; a record of a kind the coordinator does not know is skipped
 * silently (the serde says which).
 */
import type { Logger } from '../logger.js';
import type { RecordSerde } from './coordinator-shard.js';
import type { InternalTopic } from './internal-topic.js';

export interface LoadSummary {
  /** Records read from the log. */
  readonly records: number;
  /** Records replayed (with latestPerKey: distinct keys). */
  readonly replayed: number;
}

export interface LoadOptions<R> {
  readonly serde: RecordSerde<R>;
  readonly latestPerKey: boolean;
  readonly logger: Logger;
}

export async function loadPartition<R>(
  topic: InternalTopic,
  partition: number,
  replay: (record: R, offset: number, openTransaction?: number) => void,
  opts: LoadOptions<R>,
): Promise<LoadSummary> {
  const apply = (key: Buffer, value: Buffer | null, offset: number, openTransaction?: number): void => {
    try {
      const record = opts.serde.deserialize({ key, value });
      if (record !== undefined) replay(record, offset, openTransaction);
    } catch (err) {
      opts.logger.warn({ err, partition, offset }, `skipping undecodable ${topic.name} record`);
    }
  };
  let records = 0;
  if (!opts.latestPerKey) {
    for await (const record of topic.replay(partition)) {
      records++;
      apply(record.key, record.value, record.offset, record.openTransaction);
    }
    return { records, replayed: records };
  }
  // the latest value per key (key bytes as a binary string); only those are decoded
  const latest = new Map<string, { key: Buffer; value: Buffer | null; offset: number }>();
  const open: Array<{ key: Buffer; value: Buffer | null; offset: number; openTransaction: number }> = [];
  for await (const record of topic.replay(partition)) {
    records++;
    // copies: the read buffers may be reused by the log
    const copy = { key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value), offset: record.offset };
    if (record.openTransaction !== undefined) {
      open.push({ ...copy, openTransaction: record.openTransaction });
      continue;
    }
    const k = record.key.toString('latin1');
    const before = latest.get(k);
    if (before === undefined || before.offset < record.offset) latest.set(k, copy);
  }
  for (const record of [...latest.values()].sort((a, b) => a.offset - b.offset)) apply(record.key, record.value, record.offset);
  for (const record of open.sort((a, b) => a.offset - b.offset)) apply(record.key, record.value, record.offset, record.openTransaction);
  return { records, replayed: latest.size + open.length };
}
