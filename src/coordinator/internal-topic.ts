/**
 * An internal topic that a coordinator keeps its state in (`__consumer_offsets`
 * for the group coordinator; `__transaction_state` and the share-group state
 * topic later): the coordinator's only door to the log.
 *
 * - Created on first use, by its owner's spec: partition count, replication
 *   factor and topic configs (cleanup.policy=compact, segment.bytes, ...), as
 *   Kafka creates its internal topics. Concurrent callers share one creation;
 *   a topic that exists keeps its own partition count.
 * - Appended to with one uncompressed v2 batch of key/value records per
 *   write (CreateTime = now), optionally waiting for fdatasync. A write that
 *   belongs to a producer's transaction (the group coordinator's
 *   TxnOffsetCommit) is a transactional batch of that producer id and epoch
 *   (base sequence -1, as Kafka writes it); the transaction's COMMIT or ABORT
 *   marker then ends it like any partition's. Failures come
 *   back as the error code a Produce would get (UNKNOWN_TOPIC_OR_PARTITION,
 *   MESSAGE_TOO_LARGE, KAFKA_STORAGE_ERROR, ...), never as an exception:
 *   each coordinator maps them to its own answers, as Kafka's do.
 * - Replayed per partition, record by record, from the log start offset to
 *   the high watermark; records without a key are skipped (a coordinator's
 *   records always have one). The records of a transactional batch are held
 *   until their producer's marker: a COMMIT yields them there (with their own
 *   offsets, so they come after later records of the log: the loader orders
 *   by offset), an ABORT drops them, and those of a transaction still open at
 *   the end are yielded last, marked with their producer id (Kafka's loader
 *   keeps them as pending transactional offsets).
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, lastOffsetOf, readBatchHeader, type BatchHeader } from '../../protocol/records/batch-header.js';
import { readTransactionMarker } from '../../protocol/records/control-record.js';
import { batchSlice, iterateRecords, recordsArea } from '../../protocol/records/batch-records.js';
import { OffsetOutOfRangeError, StorageError, type PartitionLog } from '../../storage/index.js';
import type { Logger } from '../logger.js';

/** A record as it lies in the topic. */
export interface InternalRecord {
  readonly key: Buffer;
  /** null: a tombstone. */
  readonly value: Buffer | null;
}

export interface ReplayedRecord extends InternalRecord {
  readonly offset: number;
  /** Set for a record of a transaction still open at the end of the partition: its producer id. */
  readonly openTransaction?: number;
}

/** One partition of the topic as a coordinator uses it. */
export interface InternalPartition {
  readonly log: Pick<PartitionLog, 'append' | 'read' | 'highWatermark' | 'logStartOffset' | 'deleteRecordsBefore'>;
  readonly leaderEpoch: number;
}

/** The topic as a coordinator uses it. */
export interface InternalTopicInfo {
  readonly numPartitions: number;
  readonly partitions: readonly InternalPartition[];
  readonly config: { readonly messageMaxBytes: number };
}

/** What an internal topic needs of the broker's topics: look one up, create one. */
export interface InternalTopicHost {
  get(name: string): InternalTopicInfo | undefined;
  create(req: { name: string; numPartitions: number; replicationFactor: number; configs: Readonly<Record<string, string>> }): Promise<InternalTopicInfo>;
}

/** How the owner wants its topic; read when needed, so they follow the broker's configuration. */
export interface InternalTopicSpec {
  readonly name: string;
  /** Partitions of a topic created now (e.g. offsets.topic.num.partitions). */
  partitions(): number;
  replicationFactor(): number;
  /** Topic configs of a topic created now (cleanup.policy=compact, ...). */
  configs(): Record<string, string>;
}

/** The outcome of an append: NONE and the offset of the first record, or the error (baseOffset -1). */
export interface AppendOutcome {
  readonly errorCode: number;
  readonly baseOffset: number;
}

/** The producer whose transaction a write belongs to. */
export interface TransactionalProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** Bytes asked of the log per read while replaying. */
const REPLAY_READ_BYTES = 1024 * 1024;

export class InternalTopic {
  private creating: Promise<InternalTopicInfo> | undefined;

  constructor(
    private readonly spec: InternalTopicSpec,
    private readonly topics: InternalTopicHost,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** The topic when it exists. */
  get topic(): InternalTopicInfo | undefined {
    return this.topics.get(this.spec.name);
  }

  /** Partitions of the topic: the existing topic's count, else the count it will be created with (as Kafka). */
  get partitionCount(): number {
    return this.topic?.numPartitions ?? this.spec.partitions();
  }

  /** The topic, created when missing (concurrent callers share one creation). */
  ensureCreated(): Promise<InternalTopicInfo> {
    const existing = this.topic;
    if (existing) return Promise.resolve(existing);
    this.creating ??= this.create().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async create(): Promise<InternalTopicInfo> {
    const name = this.spec.name;
    try {
      const info = await this.topics.create({ name, numPartitions: this.spec.partitions(), replicationFactor: this.spec.replicationFactor(), configs: this.spec.configs() });
      this.logger.info({ partitions: info.numPartitions }, `created ${name}`);
      return info;
    } catch (err) {
      const now = this.topic;
      if (err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS && now) return now;
      throw err;
    }
  }

  /**
   * Appends records to one partition in one batch, creating the topic first
   * when needed. Resolves to NONE and the first record's offset, or to the
   * error code of the failure as a Produce would report it.
   */
  async append(partition: number, records: readonly InternalRecord[], sync: boolean, transaction?: TransactionalProducer): Promise<AppendOutcome> {
    if (records.length === 0) return { errorCode: ErrorCode.NONE, baseOffset: -1 };
    const failed = (errorCode: number): AppendOutcome => ({ errorCode, baseOffset: -1 });
    let topic: InternalTopicInfo;
    try {
      topic = await this.ensureCreated();
    } catch (err) {
      this.logger.warn({ err }, `cannot create ${this.spec.name}`);
      return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }
    const state = topic.partitions[partition];
    if (!state) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const batch = buildUncompressedBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      transaction === undefined
        ? { timestamp: Date.now() }
        : { timestamp: Date.now(), producerId: transaction.producerId, producerEpoch: transaction.producerEpoch, baseSequence: -1, transactional: true },
    );
    if (batch.length > topic.config.messageMaxBytes) return failed(ErrorCode.MESSAGE_TOO_LARGE);
    try {
      const info = await state.log.append(batch, { leaderEpoch: state.leaderEpoch, sync });
      return { errorCode: ErrorCode.NONE, baseOffset: info.baseOffset };
    } catch (err) {
      if (err instanceof KafkaError) return failed(err.code);
      this.logger.error({ err, partition }, `append to ${this.spec.name} failed`);
      return failed(err instanceof StorageError ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  /**
   * Moves a partition's log start offset up to `offset` (at most its high
   * watermark), dropping the records below it: a coordinator whose records
   * are deltas prunes what no key needs any more (the share coordinator, as
   * Kafka's prunes with DeleteRecords). Resolves to the new log start offset,
   * or -1 when the partition does not exist.
   */
  async deleteRecordsBefore(partition: number, offset: number): Promise<number> {
    const state = this.topic?.partitions[partition];
    if (!state) return -1;
    const log = state.log;
    const target = Math.min(offset, log.highWatermark);
    if (target <= log.logStartOffset) return log.logStartOffset;
    return log.deleteRecordsBefore(target);
  }

  /**
   * Every record of a partition from its log start offset to its high
   * watermark, in offset order, except transactional records (held until
   * their marker, see the opening comment), and keyless records and control
   * batches skipped. Non-transactional records' key and value may lie in a
   * read buffer the log reuses: copy what is kept.
   */
  async *replay(partition: number): AsyncGenerator<ReplayedRecord, void, undefined> {
    // producer id -> the records of its open transaction (copies)
    const open = new Map<number, ReplayedRecord[]>();
    for await (const { batch, header, end } of this.batches(partition)) {
      if ((header.attributes & ATTR_CONTROL) !== 0) {
        const marker = readTransactionMarker(batch);
        if (marker === null) continue;
        const held = open.get(marker.producerId);
        open.delete(marker.producerId);
        if (marker.commit && held !== undefined) yield* held;
        continue;
      }
      const transactional = (header.attributes & ATTR_TRANSACTIONAL) !== 0;
      let held = transactional ? open.get(header.producerId) : undefined;
      if (transactional && held === undefined) open.set(header.producerId, (held = []));
      const area = await recordsArea(batch, header);
      for (const record of iterateRecords(header, area)) {
        if (record.key === null || record.offset >= end) continue;
        if (held === undefined) yield { key: record.key, value: record.value, offset: record.offset };
        else held.push({ key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value), offset: record.offset });
      }
    }
    for (const [producerId, held] of open) for (const r of held) yield { ...r, openTransaction: producerId };
  }

  /** The batches of a partition from its log start offset to its high watermark, in offset order. */
  private async *batches(partition: number): AsyncGenerator<{ batch: Buffer; header: BatchHeader; end: number }, void, undefined> {
    const state = this.topic?.partitions[partition];
    if (!state) return;
    const log = state.log;
    const end = log.highWatermark;
    let offset = log.logStartOffset;
    while (offset < end) {
      let chunks: Buffer[];
      try {
        ({ chunks } = await log.read(offset, REPLAY_READ_BYTES, end));
      } catch (err) {
        // the log start moved past us (retention): continue from the new start
        if (err instanceof OffsetOutOfRangeError && log.logStartOffset > offset) {
          offset = log.logStartOffset;
          continue;
        }
        throw err;
      }
      if (chunks.length === 0) return;
      // reads served from the log's cache resolve without I/O: yield so requests are served meanwhile
      await new Promise((resolve) => setImmediate(resolve));
      const before = offset;
      for (const chunk of chunks) {
        let pos = 0;
        while (pos < chunk.length) {
          const batch = batchSlice(chunk, pos);
          pos += batch.length;
          const header = readBatchHeader(batch);
          const next = lastOffsetOf(header) + 1;
          if (next <= offset) continue;
          offset = next;
          yield { batch, header, end };
        }
      }
      if (offset === before) return;
    }
  }
}
