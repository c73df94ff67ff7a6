/**
 * Produce: v0-11.
 * Behavior: appends each partition's records to its log and answers the base
 * offset, the log append time (-1 for CreateTime topics) and the log start
 * offset. acks=1 answers after the append, acks=-1 after the data is
 * fdatasync'ed when gregor.flush.acks.all is on (group commit), acks=0 sends
 * no response at all (a failed partition closes the connection instead, so
 * the producer notices); other acks values get INVALID_REQUIRED_ACKS. With one
 * broker the in-sync replica set is this broker, so acks=-1 on a topic with
 * min.insync.replicas > 1 gets NOT_ENOUGH_REPLICAS. Records are validated as
 * Kafka's LogValidator does (src/produce/validate.ts): CORRUPT_MESSAGE,
 * INVALID_RECORD, MESSAGE_TOO_LARGE against max.message.bytes,
 * INVALID_TIMESTAMP per message.timestamp.*, RECORD_LIST_TOO_LARGE; a
 * compression.type other than 'producer' recompresses; LogAppendTime topics
 * get the broker's time stamped on each batch. Unknown topics and partitions
 * get UNKNOWN_TOPIC_OR_PARTITION (Produce does not create topics; clients
 * create them through Metadata), internal topics INVALID_TOPIC_EXCEPTION,
 * storage failures KAFKA_STORAGE_ERROR. Record bytes go to storage without
 * being copied unless converted or recompressed. Batches with a producer id
 * are checked against the partition's producer state (src/produce/
 * producer-state.ts): a retry of one of a producer's last 5 batches is
 * answered NONE with the original base offset and timestamp and not appended
 * again; INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, and
 * INVALID_TXN_STATE for transactional batches (no transaction coordinator).
 * Version notes: v0-2 carry legacy message sets (magic 0/1), converted to v2
 * batches; v2+ log_append_time_ms; v3+ exactly one v2 batch per partition and
 * transactional_id; v5+ log_start_offset; v7+ zstd (UNSUPPORTED_COMPRESSION_TYPE
 * below); v8+ record_errors and error_message; v9+ flexible; v10+ current
 * leader / node endpoints (only sent with NOT_LEADER_OR_FOLLOWER, never here).
 */
import { apiByKey, ApiKey, ErrorCode, ProtocolError, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { StorageError } from '../../storage/index.js';
import type { BrokerServices } from '../services.js';
import type { TopicInfo } from '../metadata/topic-manager.js';
import { prepareAppendWithin } from '../produce/decompression-budget.js';
import { ProduceValidationError, type RecordError } from '../produce/validate.js';
import { defineHandler, type RequestContext } from './handler.js';

type Request = MessageValue<typeof schemas.produceRequest>;
type Response = MessageInput<typeof schemas.produceResponse>;
type PartitionResponse = NonNullable<NonNullable<Response['responses']>[number]['partitionResponses']>[number];

export const produceHandler = defineHandler({
  api: apiByKey(ApiKey.Produce)!,
  request: schemas.produceRequest,
  response: schemas.produceResponse,
  async handle(ctx, req: Request): Promise<Response | undefined> {
    const waiting = ctx.services.waiting;
    if (req.acks === -1) waiting.acksAll++;
    const appended = detachWhenAppended(ctx, req);
    const responses = await Promise.all(
      req.topicData.map(async (t) => {
        const topic = ctx.services.topics.get(t.name);
        return {
          name: t.name,
          partitionResponses: await Promise.all(
            t.partitionData.map((p) => producePartition(ctx, req.acks, topic, t.name, p.index, recordsBuffer(p.records), appended)),
          ),
        };
      }),
    ).finally(() => {
      if (req.acks === -1) waiting.acksAll--;
    });
    if (req.acks === 0) {
      const failed = responses.flatMap((t) => t.partitionResponses.filter((p) => p.errorCode !== ErrorCode.NONE).map((p) => ({ topic: t.name, ...p })));
      if (failed.length > 0) {
        ctx.services.logger.info({ failed: failed.map((f) => `${f.topic}-${f.index}: ${f.errorCode}`) }, 'acks=0 produce failed; closing connection');
        ctx.connection.close('acks=0 produce failed');
      }
      return undefined;
    }
    return { responses, throttleTimeMs: 0 };
  },
});

/**
 * acks=all with gregor.flush.acks.all waits for fdatasync. Once every partition's append has been made (or
 * refused), the connection may go on to its next request — responses still leave in order — so that one
 * producer's pipelined requests share fdatasync rounds (group commit) instead of waiting for one each.
 * Returns what each partition calls once, or undefined when nothing would wait.
 */
function detachWhenAppended(ctx: RequestContext, req: Request): (() => void) | undefined {
  if (req.acks !== -1 || !ctx.services.config.bool('gregor.flush.acks.all')) return undefined;
  let left = 0;
  for (const t of req.topicData) left += t.partitionData.length;
  return () => {
    if (--left === 0) ctx.connection.detach();
  };
}

/** Produces one partition; `appended` (if any) is called exactly once, when its append has been made or refused. */
async function producePartition(
  ctx: RequestContext,
  acks: number,
  topic: TopicInfo | undefined,
  topicName: string,
  index: number,
  records: Buffer | null,
  appended: (() => void) | undefined,
): Promise<PartitionResponse> {
  if (appended === undefined) return appendPartition(ctx, acks, topic, topicName, index, records, undefined);
  let pending: (() => void) | undefined = appended;
  const once = (): void => {
    const call = pending;
    pending = undefined;
    call?.();
  };
  try {
    return await appendPartition(ctx, acks, topic, topicName, index, records, once);
  } finally {
    once();
  }
}

function errorResponse(index: number, code: number, message: string | null = null, recordErrors: readonly RecordError[] = []): PartitionResponse {
  return {
    index,
    errorCode: code,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
    errorMessage: message,
  };
}

async function appendPartition(
  ctx: RequestContext,
  acks: number,
  topic: TopicInfo | undefined,
  topicName: string,
  index: number,
  records: Buffer | null,
  appended: (() => void) | undefined,
): Promise<PartitionResponse> {
  const services = ctx.services;
  if (acks !== 0 && acks !== 1 && acks !== -1) return errorResponse(index, ErrorCode.INVALID_REQUIRED_ACKS);
  const state = topic?.partitions[index];
  if (!topic || !state) return errorResponse(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (topic.internal) return errorResponse(index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topicName}`);
  const config = topic.config;
  // one broker: the in-sync replica set has exactly one member
  if (acks === -1 && config.minInsyncReplicas > 1) {
    return errorResponse(
      index,
      ErrorCode.NOT_ENOUGH_REPLICAS,
      `The size of the current ISR 1 is insufficient to satisfy the min.isr requirement of ${config.minInsyncReplicas} for partition ${topicName}-${index}`,
    );
  }
  try {
    if (records === null || records.length === 0) {
      if (ctx.version >= 3) {
        return errorResponse(index, ErrorCode.INVALID_RECORD, `Produce requests with version ${ctx.version} must have at least one record batch per partition`);
      }
      // an empty legacy message set appends nothing
      return { index, errorCode: ErrorCode.NONE, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: BigInt(state.log.logStartOffset) };
    }
    const now = Date.now();
    const prepared = await prepareAppendWithin(services.budgets.decompression, records, {
      version: ctx.version,
      config,
      maxDecompressedBytes: services.config.int('gregor.max.decompressed.bytes'),
      now,
    });
    const logAppendTime = config.timestampType === 'LogAppendTime';
    // producer state: duplicates, sequence and epoch checks, atomic with the append (producer-state-manager.ts)
    const appending = services.producerStates.append(state.log, prepared.buffer, {
      leaderEpoch: state.leaderEpoch,
      logAppendTime: logAppendTime ? now : undefined,
      sync: acks === -1 && services.config.bool('gregor.flush.acks.all'),
    });
    appended?.();
    const info = await appending;
    if (info.recordCount > 0) services.metrics?.produced(topicName, info.recordCount, records.length);
    return {
      index,
      errorCode: ErrorCode.NONE,
      baseOffset: BigInt(info.baseOffset),
      // a duplicate answers its original batch's timestamp, whatever the timestamp type (as Kafka)
      logAppendTimeMs: logAppendTime || info.duplicate ? BigInt(info.appendTime) : -1n,
      logStartOffset: BigInt(info.logStartOffset),
    };
  } catch (err) {
    if (err instanceof ProduceValidationError) {
      logRejection(services, topicName, index, err.code, err.message);
      return errorResponse(index, err.code, err.message, err.recordErrors);
    }
    if (err instanceof ProtocolError) {
      logRejection(services, topicName, index, err.errorCode, err.message);
      return errorResponse(index, err.errorCode, err.message, recordErrorOf(err));
    }
    if (err instanceof StorageError) {
      // the topic was deleted while the append was on its way
      if (services.topics.partition(topicName, index)?.log !== state.log) return errorResponse(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      services.logger.warn({ err, topic: topicName, partition: index }, 'Produce: storage error');
      return errorResponse(index, ErrorCode.KAFKA_STORAGE_ERROR);
    }
    throw err;
  }
}

/** Decoded records are one Buffer (a slice of the request frame). */
function recordsBuffer(records: Buffer | readonly Buffer[] | null): Buffer | null {
  return records === null || Buffer.isBuffer(records) ? records : Buffer.concat(records);
}

function logRejection(services: BrokerServices, topic: string, partition: number, code: number, message: string): void {
  services.logger.debug({ topic, partition, errorCode: code, reason: message }, 'Produce: records rejected');
}

/** INVALID_RECORD errors name the offending record ("record 3: ..."); Produce v8+ reports it as a record error. */
function recordErrorOf(err: ProtocolError): RecordError[] {
  if (err.errorCode !== ErrorCode.INVALID_RECORD) return [];
  const m = /^record (\d+)\b/.exec(err.message);
  return m ? [{ batchIndex: Number(m[1]), message: err.message }] : [];
}
