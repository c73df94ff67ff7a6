/**
 * The internal topic `__consumer_offsets` as the coordinator uses it: created
 * on first use (offsets.topic.num.partitions partitions, replication factor
 * offsets.topic.replication.factor, cleanup.policy=compact, segment.bytes =
 * offsets.topic.segment.bytes, compression.type=producer, as Kafka), appended
 * to with uncompressed v2 batches of key/value records (CreateTime = now), and
 * replayed record by record when the coordinator loads.
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { ATTR_CONTROL, lastOffsetOf, readBatchHeader } from '../../protocol/records/batch-header.js';
import { batchSlice, iterateRecords, recordsArea } from '../../protocol/records/batch-records.js';
import { OffsetOutOfRangeError, StorageError } from '../../storage/index.js';
import type { Broker } from '../broker.js';
import type { TopicInfo } from '../metadata/topic-manager.js';
import { groupPartition, OFFSETS_TOPIC } from './group-partition.js';

export interface OffsetsRecord {
  readonly key: Buffer;
  /** null: a tombstone. */
  readonly value: Buffer | null;
}

export interface ReplayedRecord extends OffsetsRecord {
  readonly offset: number;
}

/** Bytes asked of the log per read while replaying. */
const REPLAY_READ_BYTES = 1024 * 1024;

export class OffsetsTopic {
  private creating: Promise<TopicInfo> | undefined;

  constructor(private readonly broker: Broker) {}

  /** The topic when it exists. */
  get topic(): TopicInfo | undefined {
    return this.broker.topics.get(OFFSETS_TOPIC);
  }

  /** Partitions of the topic: the existing topic's count, else offsets.topic.num.partitions (as Kafka). */
  get partitionCount(): number {
    return this.topic?.numPartitions ?? this.broker.config.int('offsets.topic.num.partitions');
  }

  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.partitionCount);
  }

  /** The topic, created when missing (concurrent callers share one creation). */
  ensureCreated(): Promise<TopicInfo> {
    const existing = this.topic;
    if (existing) return Promise.resolve(existing);
    this.creating ??= this.create().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async create(): Promise<TopicInfo> {
    const config = this.broker.config;
    try {
      const info = await this.broker.topics.create({
        name: OFFSETS_TOPIC,
        numPartitions: config.int('offsets.topic.num.partitions'),
        replicationFactor: config.int('offsets.topic.replication.factor'),
        configs: {
          'cleanup.policy': 'compact',
          'segment.bytes': String(config.int('offsets.topic.segment.bytes')),
          'compression.type': 'producer',
        },
      });
      this.broker.logger.info({ partitions: info.numPartitions }, `created ${OFFSETS_TOPIC}`);
      return info;
    } catch (err) {
      const now = this.topic;
      if (err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS && now) return now;
      throw err;
    }
  }

  /**
   * Appends records to one partition in one batch. Resolves to NONE, or to
   * the error code of the failure as a Produce would report it
   * (UNKNOWN_TOPIC_OR_PARTITION, KAFKA_STORAGE_ERROR, MESSAGE_TOO_LARGE, ...);
   * callers map it as Kafka's coordinator does.
   */
  async append(partition: number, records: readonly OffsetsRecord[], sync: boolean): Promise<number> {
    if (records.length === 0) return ErrorCode.NONE;
    let topic: TopicInfo;
    try {
      topic = await this.ensureCreated();
    } catch (err) {
      this.broker.logger.warn({ err }, `cannot create ${OFFSETS_TOPIC}`);
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    const state = topic.partitions[partition];
    if (!state) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const now = Date.now();
    const batch = buildUncompressedBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      { timestamp: now },
    );
    if (batch.length > topic.config.messageMaxBytes) return ErrorCode.MESSAGE_TOO_LARGE;
    try {
      await state.log.append(batch, { leaderEpoch: state.leaderEpoch, sync });
      return ErrorCode.NONE;
    } catch (err) {
      if (err instanceof KafkaError) return err.code;
      this.broker.logger.error({ err, partition }, `append to ${OFFSETS_TOPIC} failed`);
      return err instanceof StorageError ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.UNKNOWN_SERVER_ERROR;
    }
  }

  /**
   * Every record of a partition from its log start offset to its high
   * watermark, in offset order (control batches skipped).
   */
  async *replay(partition: number): AsyncGenerator<ReplayedRecord, void, undefined> {
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
          if ((header.attributes & ATTR_CONTROL) !== 0) continue;
          const area = await recordsArea(batch, header);
          for (const record of iterateRecords(header, area)) {
            if (record.key === null || record.offset >= end) continue;
            yield { key: record.key, value: record.value, offset: record.offset };
          }
        }
      }
      if (offset === before) return;
    }
  }
}
