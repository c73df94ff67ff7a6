/**
 * DescribeProducers: v0.
 * Behavior: for each requested partition, the active producers of its
 * producer state (Kafka's Partition.activeProducerState): producer id and
 * epoch, the last sequence of its last retained batch (-1 when none), the
 * timestamp of its last append, the coordinator epoch of its last marker
 * (-1 before any) and the first offset of its ongoing transaction (-1 when
 * none).
 * Errors per partition: UNKNOWN_TOPIC_OR_PARTITION for a partition this
 * broker does not have; KAFKA_STORAGE_ERROR when the state cannot be read.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on each topic,
 * before it is looked for; else TOPIC_AUTHORIZATION_FAILED on its partitions.
 * Version notes: v0 only, flexible.
 */
import { apiByKey, ApiKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import { errorCodeOf } from '../errors.js';
import { authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

export const describeProducersHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeProducers)!,
  request: schemas.describeProducersRequest,
  response: schemas.describeProducersResponse,
  async handle(ctx, req) {
    const { topics, producerStates } = ctx.services;
    const readable = authorizedNames(ctx, 'READ', 'TOPIC', req.topics.map((t) => t.name));
    const describe = async (topic: string, partitionIndex: number) => {
      const failed = (errorCode: number, errorMessage: string | null = null) => ({ partitionIndex, errorCode, errorMessage, activeProducers: [] });
      if (!readable.has(topic)) return failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).message);
      const served = topics.partition(topic, partitionIndex);
      if (served === undefined) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      try {
        const producers = await producerStates.activeProducers(served.log);
        return {
          partitionIndex,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          activeProducers: producers.map((p) => ({
            producerId: BigInt(p.producerId),
            producerEpoch: p.producerEpoch,
            lastSequence: p.lastSequence,
            lastTimestamp: BigInt(p.lastTimestamp),
            coordinatorEpoch: p.coordinatorEpoch,
            currentTxnStartOffset: BigInt(p.currentTxnStartOffset),
          })),
        };
      } catch (err) {
        return failed(errorCodeOf(err));
      }
    };
    return {
      throttleTimeMs: 0,
      topics: await Promise.all(req.topics.map(async (t) => ({ name: t.name, partitions: await Promise.all(t.partitionIndexes.map((p) => describe(t.name, p))) }))),
    };
  },
});
