/**
 * The produce pipeline: what one partition of a Produce request goes through, from its records to the
 * answer. Each step hands the next what it found, so every batch header is read once:
 *
 * 1. routing: acks must be 0, 1 or -1 (INVALID_REQUIRED_ACKS); the topic and partition must exist
 *    (UNKNOWN_TOPIC_OR_PARTITION: Produce does not create topics) and not be internal
 *    (INVALID_TOPIC_EXCEPTION); acks=-1 needs min.insync.replicas <= 1, the one broker being the whole
 *    in-sync replica set (NOT_ENOUGH_REPLICAS). Empty records are refused from v3 (INVALID_RECORD) and
 *    append nothing before;
 * 2. decompression budget (src/decompression-budget.ts): compressed records take the memory they may
 *    inflate to from the broker-wide budget while
 * 3. validation (validate.ts prepareAppend) turns them into the bytes to append and one PreparedBatch per
 *    batch: where it lies, and the header fields the next two steps need, parsed there once;
 * 4. producer-state check (producer-state-manager.ts): duplicates, epochs and sequences from those fields,
 *    in the same synchronous run as
 * 5. the log append (PartitionLog.append, given the same batches: it checks that they tile the buffer
 *    instead of reading their headers again). acks=-1 with gregor.flush.acks.all resolves after fdatasync.
 *
 * `appended` is called exactly once per partition, as soon as the append has been made (before its
 * fdatasync) or refused: the handler's group commit (detachWhenAppended) counts on it.
 *
 * Refusals come back as a result with Kafka's error code, message and record errors (Produce v8+), never as
 * exceptions: the code of the KafkaError that validation or producer state threw, KAFKA_STORAGE_ERROR for a
 * log that failed, UNKNOWN_TOPIC_OR_PARTITION when the topic was deleted while the append was on its way.
 * Only records refused one by one carry record errors (Kafka's RecordValidationException: validate.ts
 * checkRecordsOf); a batch refused as a whole (framing, CRC, structure) has none, as in Kafka.
 * Anything else is a bug and is thrown.
 *
 * Before any partition, the request as a whole (hasTransactionalRecords): records with the transactional bit
 * need a transactional id, else Kafka answers every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED and
 * appends nothing (KafkaApis.handleProduceRequest). With an id, such a batch is verified against the
 * transaction coordinator in the producer-state check (KIP-890): refused with the coordinator's code
 * (INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING, NOT_ENOUGH_REPLICAS to retry, ...), and for a
 * partition not in the transaction TRANSACTION_ABORTABLE from Produce v11 and INVALID_TXN_STATE before (as
 * Kafka 3.9's ReplicaManager answers by request version).
 *
 * The pipeline sees the broker through ProduceDeps only (the handler's services), never the Broker.
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { ATTR_TRANSACTIONAL, ATTRIBUTES_OFFSET, MAGIC_OFFSET, hasCompressedEntries } from '../../protocol/records/index.js';
import { StorageError, type PartitionLog } from '../../storage/index.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { TopicConfigView } from '../config/topic-configs.js';
import type { Logger } from '../logger.js';
import type { MemoryBudget } from '../memory-budget.js';
import { decompressWithin } from '../decompression-budget.js';
import type { ProducerStateManager } from './producer-state-manager.js';
import { prepareAppend, ProduceValidationError, type RecordError } from './validate.js';

/** What the pipeline uses of the broker. */
export interface ProduceDeps {
  /** To tell a deleted topic from a failed log when an append fails. */
  readonly topics: { partition(topic: string, partition: number): { readonly log: PartitionLog } | undefined };
  readonly producerStates: Pick<ProducerStateManager, 'append'>;
  readonly budgets: { readonly decompression: MemoryBudget };
  /** gregor.max.decompressed.bytes, gregor.flush.acks.all. */
  readonly config: Pick<BrokerConfig, 'int' | 'bool'>;
  readonly logger: Logger;
  readonly metrics: { produced(topic: string, records: number, bytes: number): void } | undefined;
}

/** What the pipeline reads of a topic (the topic manager's TopicInfo). */
export interface ProduceTopic {
  readonly internal: boolean;
  readonly partitions: readonly { readonly log: PartitionLog; readonly leaderEpoch: number }[];
  readonly config: TopicConfigView;
}

/** One partition of a Produce request. */
export interface PartitionProduce {
  /** Produce request version. */
  readonly version: number;
  readonly acks: number;
  readonly topicName: string;
  /** The topic as the request found it; undefined when unknown. */
  readonly topic: ProduceTopic | undefined;
  readonly partition: number;
  readonly records: Buffer | null;
  /** The request's transactional id (v3+; null or absent: none). */
  readonly transactionalId?: string | null;
  /** Called exactly once, when the append has been made or refused. */
  readonly appended: (() => void) | undefined;
}

/** A partition's answer; offsets and times are -1 where they do not apply (every refusal). */
export interface PartitionProduceResult {
  readonly errorCode: number;
  readonly baseOffset: number;
  /** The log append time on LogAppendTime topics, a duplicate's original timestamp, else -1. */
  readonly logAppendTime: number;
  readonly logStartOffset: number;
  readonly errorMessage: string | null;
  readonly recordErrors: readonly RecordError[];
}

const NO_RECORD_ERRORS: readonly RecordError[] = [];

/** Runs one partition through the pipeline; `p.appended` (if any) is called exactly once. */
/**
 * Whether a partition's records start with a transactional batch (Kafka's RequestUtils.hasTransactionalRecords
 * looks at the first batch of each partition; legacy messages never are). A Produce request with such records
 * and no transactional id is refused whole, TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
export function hasTransactionalRecords(records: Buffer | null): boolean {
  if (records === null || records.length < ATTRIBUTES_OFFSET + 2 || records.readInt8(MAGIC_OFFSET) !== 2) return false;
  return (records.readInt16BE(ATTRIBUTES_OFFSET) & ATTR_TRANSACTIONAL) !== 0;
}

export async function producePartition(deps: ProduceDeps, p: PartitionProduce): Promise<PartitionProduceResult> {
  const appended = p.appended;
  if (appended === undefined) return produce(deps, p, undefined);
  let pending: (() => void) | undefined = appended;
  const once = (): void => {
    const call = pending;
    pending = undefined;
    call?.();
  };
  try {
    return await produce(deps, p, once);
  } finally {
    once();
  }
}

async function produce(deps: ProduceDeps, p: PartitionProduce, appended: (() => void) | undefined): Promise<PartitionProduceResult> {
  const { acks, topic, topicName, partition, records } = p;
  if (acks !== 0 && acks !== 1 && acks !== -1) return refused(ErrorCode.INVALID_REQUIRED_ACKS);
  const state = topic?.partitions[partition];
  if (!topic || !state) return refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (topic.internal) return refused(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topicName}`);
  const config = topic.config;
  // one broker: the in-sync replica set has exactly one member
  if (acks === -1 && config.minInsyncReplicas > 1) {
    return refused(
      ErrorCode.NOT_ENOUGH_REPLICAS,
      `The size of the current ISR 1 is insufficient to satisfy the min.isr requirement of ${config.minInsyncReplicas} for partition ${topicName}-${partition}`,
    );
  }
  try {
    if (records === null || records.length === 0) {
      if (p.version >= 3) {
        return refused(ErrorCode.INVALID_RECORD, `Produce requests with version ${p.version} must have at least one record batch per partition`);
      }
      // an empty legacy message set appends nothing
      return answer(-1, -1, state.log.logStartOffset);
    }
    const now = Date.now();
    const validate = (maxDecompressedBytes: number) =>
      prepareAppend(records, { version: p.version, topicPartition: `${topicName}-${partition}`, config, maxDecompressedBytes, now });
    const limit = deps.config.int('gregor.max.decompressed.bytes');
    const prepared = hasCompressedEntries(records) ? await decompressWithin(deps.budgets.decompression, limit, validate) : await validate(limit);
    const logAppendTime = config.timestampType === 'LogAppendTime';
    // producer state: duplicates, sequence and epoch checks, atomic with the append (producer-state-manager.ts)
    const appending = deps.producerStates.append(state.log, prepared.buffer, {
      leaderEpoch: state.leaderEpoch,
      logAppendTime: logAppendTime ? now : undefined,
      sync: acks === -1 && deps.config.bool('gregor.flush.acks.all'),
      batches: prepared.batches,
      written: appended,
      transactionalId: p.transactionalId ?? null,
    });
    const info = await appending;
    if (info.recordCount > 0) deps.metrics?.produced(topicName, info.recordCount, records.length);
    // a duplicate answers its original batch's timestamp, whatever the timestamp type (as Kafka)
    return answer(info.baseOffset, logAppendTime || info.duplicate ? info.appendTime : -1, info.logStartOffset);
  } catch (err) {
    if (err instanceof StorageError) {
      // the topic was deleted while the append was on its way
      if (deps.topics.partition(topicName, partition)?.log !== state.log) return refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      deps.logger.warn({ err, topic: topicName, partition }, 'Produce: storage error');
      return refused(ErrorCode.KAFKA_STORAGE_ERROR);
    }
    // validation and producer state refuse with a KafkaError; anything else is a bug
    if (!(err instanceof KafkaError)) throw err;
    logRejection(deps.logger, topicName, partition, err.code, err.message);
    // KIP-890: TRANSACTION_ABORTABLE only to clients that know it (Produce v11+)
    const code = err.code === ErrorCode.TRANSACTION_ABORTABLE && p.version < 11 ? ErrorCode.INVALID_TXN_STATE : err.code;
    return refused(code, err.message, err instanceof ProduceValidationError ? err.recordErrors : NO_RECORD_ERRORS);
  }
}

function answer(baseOffset: number, logAppendTime: number, logStartOffset: number): PartitionProduceResult {
  return { errorCode: ErrorCode.NONE, baseOffset, logAppendTime, logStartOffset, errorMessage: null, recordErrors: NO_RECORD_ERRORS };
}

function refused(errorCode: number, errorMessage: string | null = null, recordErrors: readonly RecordError[] = NO_RECORD_ERRORS): PartitionProduceResult {
  return { errorCode, baseOffset: -1, logAppendTime: -1, logStartOffset: -1, errorMessage, recordErrors };
}

function logRejection(logger: Logger, topic: string, partition: number, code: number, message: string): void {
  logger.debug({ topic, partition, errorCode: code, reason: message }, 'Produce: records rejected');
}
