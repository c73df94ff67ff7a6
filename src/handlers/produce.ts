/**
 * Produce: v0-13.
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
 * being copied unless converted or recompressed. Each partition goes through
 * the produce pipeline (src/produce/produce-pipeline.ts: decompression budget,
 * validation, producer-state check, log append); this module maps the request
 * to it and its results to the response. Batches with a producer id
 * are checked against the partition's producer state (src/produce/
 * producer-state.ts): a retry of one of a producer's last 5 batches is
 * answered NONE with the original base offset and timestamp and not appended
 * again; INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER. Transactional
 * batches are verified with the transaction coordinator (KIP-890) for the
 * request's transactional id: a partition not in the producer's transaction
 * gets TRANSACTION_ABORTABLE (v11) or INVALID_TXN_STATE (v0-10), a fenced
 * epoch INVALID_PRODUCER_EPOCH, an unknown id INVALID_PRODUCER_ID_MAPPING,
 * a transaction being committed or aborted NOT_ENOUGH_REPLICAS (retried).
 * Transactional records without a transactional id, or (with an authorizer)
 * without WRITE on it: every partition gets
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED and nothing is appended (acks=0: the
 * connection is closed), as Kafka checks the request first. Then each topic
 * needs WRITE (an authorizer's check, before the topic is looked for):
 * TOPIC_AUTHORIZATION_FAILED on each of its partitions otherwise.
 * Version notes: v0-2 carry legacy message sets (magic 0/1), converted to v2
 * batches; v2+ log_append_time_ms; v3+ exactly one v2 batch per partition and
 * transactional_id; v5+ log_start_offset; v7+ zstd (UNSUPPORTED_COMPRESSION_TYPE
 * below); v8+ record_errors and error_message; v9+ flexible; v10+ current
 * leader / node endpoints (only sent with NOT_LEADER_OR_FOLLOWER, never here);
 * v11 may answer TRANSACTION_ABORTABLE (never here: no inter-broker
 * verification that could fail); v12 is v11 on the wire and a transaction
 * version 2 client (KIP-890 part 2, as Kafka decides by the request version):
 * with transaction.version 2 finalized (src/features.ts) the partitions whose
 * records start with a transactional batch are first added to the producer's
 * transaction (the coordinator's addPartitions with client transaction
 * version 2, for the producer id and epoch of the first such batch, as
 * Kafka's leader asks with AddPartitionsToTxn v5; only partitions that exist),
 * so no AddPartitionsToTxn is needed; the add's errors answer those
 * partitions as the verification's (INVALID_PRODUCER_EPOCH for a fenced
 * epoch, INVALID_PRODUCER_ID_MAPPING, NOT_ENOUGH_REPLICAS for a transaction
 * still completing, ...) and nothing is appended there. Below level 2 a
 * transactional batch at v12+ is verified as at v11; v13 names each topic by id (KIP-516),
 * answered with the same id: an id this broker does not know gets
 * UNKNOWN_TOPIC_ID on each of its partitions (as Kafka, which then looks no
 * further), an unknown partition of a known id UNKNOWN_TOPIC_OR_PARTITION.
 */
import { apiByKey, ApiKey, ErrorCode, errorInfo, schemas, type MessageInput, type MessageValue, type RecordsValue } from '../../protocol/index.js';
import { PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET, readInt64 } from '../../protocol/records/index.js';
import { produceVerificationError } from '../coordinator/transaction/transaction-coordinator.js';
import { TRANSACTION_VERSION_2 } from '../coordinator/transaction/transaction-metadata.js';
import { finalizedTransactionVersion } from '../features.js';
import { hasTransactionalRecords, producePartition, type PartitionProduceResult, type ProduceDeps, type ProduceTopic } from '../produce/produce-pipeline.js';
import { authorize, authorizedNames, hasAuthorizer } from '../security/auth-helper.js';
import type { Transactions } from '../services.js';
import { defineHandler, type RequestContext } from './handler.js';

type Request = MessageValue<typeof schemas.produceRequest>;
type Response = MessageInput<typeof schemas.produceResponse>;
type PartitionResponse = NonNullable<NonNullable<Response['responses']>[number]['partitionResponses']>[number];

/** The first version that names topics by id (KIP-516). */
const TOPIC_IDS_VERSION = 13;

/** The first version of transaction version 2 clients, whose transactional produce adds its partition (KIP-890 part 2). */
const TRANSACTION_V2_VERSION = 12;

/** What this handler uses of the broker: the pipeline's deps, the topic lookup and the acks=all count. */
interface ProduceServices extends ProduceDeps {
  readonly topics: ProduceDeps['topics'] & {
    get(name: string): (ProduceTopic & { readonly name: string }) | undefined;
    getById(topicId: string): (ProduceTopic & { readonly name: string }) | undefined;
  };
  readonly waiting: { acksAll: number };
  readonly transactions: Pick<Transactions, 'addPartitions'>;
}

export const produceHandler = defineHandler({
  api: apiByKey(ApiKey.Produce)!,
  request: schemas.produceRequest,
  response: schemas.produceResponse,
  async handle(ctx, req: Request): Promise<Response | undefined> {
    const services: ProduceServices = ctx.services;
    const { version } = ctx;
    const { acks } = req;
    const transactional = (): boolean => req.topicData.some((t) => t.partitionData.some((p) => hasTransactionalRecords(recordsBuffer(p.records))));
    const txnId = req.transactionalId;
    if (txnId === null ? transactional() : hasAuthorizer(ctx) && transactional() && !authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', txnId)) {
      if (acks === 0) {
        ctx.connection.close('acks=0 produce of transactional records without a transactional id');
        return undefined;
      }
      const errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      const refused = (index: number): PartitionResponse => ({ index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: errorInfo(errorCode).message });
      return { responses: req.topicData.map((t) => ({ name: t.name, topicId: t.topicId, partitionResponses: t.partitionData.map((p) => refused(p.index)) })), throttleTimeMs: 0 };
    }
    if (acks === -1) services.waiting.acksAll++;
    const appended = detachWhenAppended(ctx.connection, req, services);
    const resolved = req.topicData.map((t) => (version >= TOPIC_IDS_VERSION ? services.topics.getById(t.topicId) : services.topics.get(t.name)));
    // WRITE on each topic, checked before the topic is looked for (an unknown topic id is UNKNOWN_TOPIC_ID first)
    const names = req.topicData.map((t, i) => (version >= TOPIC_IDS_VERSION ? resolved[i]?.name : t.name));
    const writable = authorizedNames(ctx, 'WRITE', 'TOPIC', names.filter((n) => n !== undefined));
    const refused = names.map((n) => n !== undefined && !writable.has(n));
    const topics = resolved.map((t, i) => (refused[i] ? undefined : t));
    const responses = await addToTransaction(services, version, req, topics)
      .then((added) =>
        Promise.all(
          req.topicData.map(async (t, i) => {
            const topic = topics[i];
            if (refused[i]) {
              for (const _ of t.partitionData) appended?.();
              return { name: names[i]!, topicId: t.topicId, partitionResponses: t.partitionData.map((p) => partitionResponse(p.index, TOPIC_AUTHORIZATION_FAILED)) };
            }
            if (version >= TOPIC_IDS_VERSION) {
              if (topic === undefined) {
                for (const _ of t.partitionData) appended?.();
                return { name: '', topicId: t.topicId, partitionResponses: t.partitionData.map((p) => partitionResponse(p.index, UNKNOWN_TOPIC_ID)) };
              }
              return { name: topic.name, topicId: t.topicId, partitionResponses: await produceTopic(services, version, acks, req.transactionalId, topic.name, topic, t.partitionData, appended, added) };
            }
            return { name: t.name, partitionResponses: await produceTopic(services, version, acks, req.transactionalId, t.name, topic, t.partitionData, appended, added) };
          }),
        ),
      )
      .finally(() => {
        if (acks === -1) services.waiting.acksAll--;
      });
    if (acks === 0) {
      const failed = responses.flatMap((t) => t.partitionResponses.filter((p) => p.errorCode !== ErrorCode.NONE).map((p) => ({ topic: t.name || t.topicId, ...p })));
      if (failed.length > 0) {
        services.logger.info({ failed: failed.map((f) => `${f.topic}-${f.index}: ${f.errorCode}`) }, 'acks=0 produce failed; closing connection');
        ctx.connection.close('acks=0 produce failed');
      }
      return undefined;
    }
    return { responses, throttleTimeMs: 0 };
  },
});

/**
 * Each partition of one topic through the pipeline; `topic` is undefined when unknown. A partition the
 * transaction version 2 add refused (`added`, by topic name and partition) is answered with its code.
 */
function produceTopic(
  services: ProduceServices,
  version: number,
  acks: number,
  transactionalId: string | null,
  topicName: string,
  topic: ProduceTopic | undefined,
  partitions: Request['topicData'][number]['partitionData'],
  appended: (() => void) | undefined,
  added: ReadonlyMap<string, number>,
): Promise<PartitionResponse[]> {
  return Promise.all(
    partitions.map(async (p) => {
      const addError = added.get(partitionKey(topicName, p.index));
      if (addError !== undefined && addError !== ErrorCode.NONE) {
        appended?.();
        const message = `The transaction coordinator did not add ${topicName}-${p.index} to the transaction`;
        return partitionResponse(p.index, { errorCode: addError, baseOffset: -1, logAppendTime: -1, logStartOffset: -1, errorMessage: message, recordErrors: [] });
      }
      return partitionResponse(p.index, await producePartition(services, { version, acks, topicName, topic, partition: p.index, records: recordsBuffer(p.records), transactionalId, appended }));
    }),
  );
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Transaction version 2 (Produce v12+ with transaction.version 2 finalized): the partitions that exist and
 * whose records start with a transactional batch join the producer's transaction (the producer id and epoch
 * of the first such batch) before any append, in one add, as Kafka's partition leader asks its coordinator.
 * Returns each such partition's code (NONE: added; else as the Produce answers it); empty otherwise.
 */
async function addToTransaction(services: ProduceServices, version: number, req: Request, topics: readonly ((ProduceTopic & { readonly name: string }) | undefined)[]): Promise<Map<string, number>> {
  const added = new Map<string, number>();
  const transactionalId = req.transactionalId;
  if (version < TRANSACTION_V2_VERSION || transactionalId === null || finalizedTransactionVersion(services.config) < TRANSACTION_VERSION_2) return added;
  let producer: { producerId: number; producerEpoch: number } | undefined;
  const partitions: { topic: string; partition: number }[] = [];
  req.topicData.forEach((t, i) => {
    const topic = topics[i];
    if (topic === undefined || topic.internal) return;
    for (const p of t.partitionData) {
      const records = recordsBuffer(p.records);
      if (records === null || topic.partitions[p.index] === undefined || !hasTransactionalRecords(records)) continue;
      producer ??= { producerId: readInt64(records, PRODUCER_ID_OFFSET), producerEpoch: records.readInt16BE(PRODUCER_EPOCH_OFFSET) };
      partitions.push({ topic: topic.name, partition: p.index });
    }
  });
  if (producer === undefined) return added;
  const errorCode = produceVerificationError(await services.transactions.addPartitions({ transactionalId, ...producer }, partitions, TRANSACTION_VERSION_2));
  for (const tp of partitions) added.set(partitionKey(tp.topic, tp.partition), errorCode);
  return added;
}

/** A topic the session may not WRITE: each of its partitions, nothing appended. */
const TOPIC_AUTHORIZATION_FAILED: PartitionProduceResult = {
  errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  baseOffset: -1,
  logAppendTime: -1,
  logStartOffset: -1,
  errorMessage: null,
  recordErrors: [],
};

/** A topic id this broker does not know (v13+): each of its partitions, nothing appended. */
const UNKNOWN_TOPIC_ID: PartitionProduceResult = {
  errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
  baseOffset: -1,
  logAppendTime: -1,
  logStartOffset: -1,
  errorMessage: null,
  recordErrors: [],
};

/**
 * acks=all with gregor.flush.acks.all waits for fdatasync. Once every partition's append has been made (or
 * refused), the connection may go on to its next request — responses still leave in order — so that one
 * producer's pipelined requests share fdatasync rounds (group commit) instead of waiting for one each.
 * Returns what each partition calls once, or undefined when nothing would wait.
 */
function detachWhenAppended(connection: RequestContext['connection'], req: Request, services: ProduceServices): (() => void) | undefined {
  if (req.acks !== -1 || !services.config.bool('gregor.flush.acks.all')) return undefined;
  let left = 0;
  for (const t of req.topicData) left += t.partitionData.length;
  return () => {
    if (--left === 0) connection.detach();
  };
}

/** The pipeline's result as Produce answers it (refusals carry error message and record errors, v8+). */
function partitionResponse(index: number, r: PartitionProduceResult): PartitionResponse {
  if (r.errorCode === ErrorCode.NONE) {
    return { index, errorCode: r.errorCode, baseOffset: BigInt(r.baseOffset), logAppendTimeMs: BigInt(r.logAppendTime), logStartOffset: BigInt(r.logStartOffset) };
  }
  return {
    index,
    errorCode: r.errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
    errorMessage: r.errorMessage,
  };
}

/** Decoded records are one Buffer (a slice of the request frame), never lazy chunks. */
function recordsBuffer(records: RecordsValue | null): Buffer | null {
  return records === null || Buffer.isBuffer(records) ? records : Buffer.concat(records as readonly Buffer[]);
}
