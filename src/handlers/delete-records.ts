/**
 * DeleteRecords: v0-2.
 * Behavior: moves each partition's log start offset up to the requested
 * offset (-1 = the high watermark) and deletes the segments wholly below it;
 * the result's low_watermark is the new log start offset (an offset at or
 * below the current start changes nothing and answers the current start).
 * As Kafka: an offset beyond the high watermark, or negative other than -1 →
 * OFFSET_OUT_OF_RANGE; an unknown topic or partition →
 * UNKNOWN_TOPIC_OR_PARTITION; an internal topic → INVALID_TOPIC_EXCEPTION; a
 * topic whose cleanup.policy lacks "delete" → POLICY_VIOLATION; errors carry
 * low_watermark -1. A storage failure → KAFKA_STORAGE_ERROR. One replica: the
 * response is sent once the log start has moved, timeout_ms is not needed.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DELETE on each
 * topic, else TOPIC_AUTHORIZATION_FAILED on its partitions (before the topic
 * is looked for).
 * Version notes: v1+ same as v0 (throttle behaviour); v2 flexible.
 */
import { ApiKey, apiByKey, ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { errorCodeOf } from '../errors.js';
import type { BrokerServices } from '../services.js';
import { authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type TopicResult = NonNullable<MessageInput<typeof schemas.deleteRecordsResponse>['topics']>[number];
type PartitionResult = NonNullable<TopicResult['partitions']>[number];

/** DeleteRecordsRequest.HIGH_WATERMARK */
const HIGH_WATERMARK = -1;
/** DeleteRecordsResponse.INVALID_LOW_WATERMARK */
const INVALID_LOW_WATERMARK = -1n;

export const deleteRecordsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteRecords)!,
  request: schemas.deleteRecordsRequest,
  response: schemas.deleteRecordsResponse,
  async handle(ctx, req) {
    // Kafka answers per topic-partition: a partition named twice is answered once
    const byTopic = new Map<string, Map<number, PartitionResult>>();
    const deletable = authorizedNames(ctx, 'DELETE', 'TOPIC', req.topics.map((t) => t.name));
    for (const t of req.topics) {
      const results = byTopic.get(t.name) ?? new Map<number, PartitionResult>();
      byTopic.set(t.name, results);
      for (const p of t.partitions) {
        const refused = { partitionIndex: p.partitionIndex, lowWatermark: INVALID_LOW_WATERMARK, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        results.set(p.partitionIndex, deletable.has(t.name) ? await deleteBefore(ctx.services, t.name, p.partitionIndex, Number(p.offset)) : refused);
      }
    }
    return {
      throttleTimeMs: 0,
      topics: [...byTopic].map(([name, results]) => ({ name, partitions: [...results.values()] })),
    };
  },
});

async function deleteBefore(services: BrokerServices, topicName: string, partitionIndex: number, offset: number): Promise<PartitionResult> {
  const failed = (errorCode: number): PartitionResult => ({ partitionIndex, lowWatermark: INVALID_LOW_WATERMARK, errorCode });
  const topic = services.topics.get(topicName);
  const state = topic?.partitions[partitionIndex];
  if (!topic || !state) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (topic.internal) return failed(ErrorCode.INVALID_TOPIC_EXCEPTION);
  if (!topic.config.cleanupPolicy.split(',').includes('delete')) return failed(ErrorCode.POLICY_VIOLATION);
  if (offset < 0 && offset !== HIGH_WATERMARK) return failed(ErrorCode.OFFSET_OUT_OF_RANGE);
  try {
    const logStart = await state.log.deleteRecordsBefore(offset);
    return { partitionIndex, lowWatermark: BigInt(logStart), errorCode: ErrorCode.NONE };
  } catch (err) {
    if (errorCodeOf(err) === ErrorCode.OFFSET_OUT_OF_RANGE) return failed(ErrorCode.OFFSET_OUT_OF_RANGE);
    // anything else: the partition was deleted meanwhile, or its log failed
    const deleted = services.logs.getLog(topicName, partitionIndex) !== state.log;
    if (!deleted) services.logger.error({ err, topic: topicName, partition: partitionIndex }, 'deleting records failed');
    return failed(deleted ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.KAFKA_STORAGE_ERROR);
  }
}
