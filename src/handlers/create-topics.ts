/**
 * CreateTopics: v0-7.
 * Behavior: creates each topic through the TopicManager, independently (one
 * failing topic does not stop the others). Kafka's checks in Kafka's order:
 * a name given twice in the request → INVALID_REQUEST "Duplicate topic name.";
 * illegal names (characters outside [a-zA-Z0-9._-], longer than 249, "." or
 * "..") and names colliding with an existing topic once '.' is read as '_' →
 * INVALID_TOPIC_EXCEPTION; existing → TOPIC_ALREADY_EXISTS; unknown or invalid
 * configs → INVALID_CONFIG; a replication factor of 0 or below -1, or above the
 * one broker → INVALID_REPLICATION_FACTOR; a partition count of 0 or below -1,
 * or above gregor.max.partitions.per.topic → INVALID_PARTITIONS. -1 means
 * num.partitions / default.replication.factor. Manual assignments are accepted
 * when numPartitions and replicationFactor are -1 (else INVALID_REQUEST) and
 * they name partitions 0..n-1 once each, on this broker only, with the same
 * non-empty replica count (else INVALID_REPLICA_ASSIGNMENT). validate_only runs
 * every check and creates nothing. timeout_ms is not needed: creation completes
 * before the response.
 * Version notes: v1+ validate_only and error messages; v2+ throttle time; v4+
 * clients may send -1 for the defaults (the broker accepts -1 at any version,
 * as Kafka does); v5+ the result carries num_partitions, replication_factor and
 * every topic config with its value and source; v7+ topic ids.
 */
import { ApiKey, apiByKey, ErrorCode, KafkaError, schemas, ZERO_UUID, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { CONFIG_SOURCE_ID, describeTopicConfigs } from '../config/topic-configs.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import type { BrokerServices } from '../services.js';
import { defineHandler } from './handler.js';

type Result = NonNullable<MessageInput<typeof schemas.createTopicsResponse>['topics']>[number];
type CreatableTopic = MessageValue<typeof schemas.createTopicsRequest>['topics'][number];

export const createTopicsHandler = defineHandler({
  api: apiByKey(ApiKey.CreateTopics)!,
  request: schemas.createTopicsRequest,
  response: schemas.createTopicsResponse,
  async handle(ctx, req) {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results: Result[] = [];
    const reportedDuplicates = new Set<string>();
    for (const t of req.topics) {
      if (counts.get(t.name)! > 1) {
        if (!reportedDuplicates.has(t.name)) results.push(failure(t.name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
        reportedDuplicates.add(t.name);
        continue;
      }
      results.push(await createOne(ctx.services, t, req.validateOnly));
    }
    return { throttleTimeMs: 0, topics: results };
  },
});

async function createOne(services: BrokerServices, t: CreatableTopic, validateOnly: boolean): Promise<Result> {
  try {
    let numPartitions = t.numPartitions;
    let replicationFactor = t.replicationFactor;
    if (t.assignments.length > 0) {
      const fromAssignments = checkAssignments(services, t);
      numPartitions = fromAssignments.numPartitions;
      replicationFactor = fromAssignments.replicationFactor;
    }
    const configs: Record<string, string | null> = {};
    for (const c of t.configs) configs[c.name] = c.value;
    const info = await services.topics.create({ name: t.name, numPartitions, replicationFactor, configs, validateOnly });
    return {
      name: info.name,
      topicId: validateOnly ? ZERO_UUID : info.topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: ErrorCode.NONE,
      numPartitions: info.numPartitions,
      replicationFactor: info.replicationFactor,
      configs: describeTopicConfigs(services.config, info.overrides).map((e) => ({
        name: e.def.name,
        value: e.value,
        readOnly: false,
        configSource: CONFIG_SOURCE_ID[e.source],
        isSensitive: false,
      })),
    };
  } catch (err) {
    if (!isKnownError(err)) throw err;
    return failure(t.name, errorCodeOf(err), err.message);
  }
}

function failure(name: string, errorCode: number, errorMessage: string): Result {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: [] };
}

/** Validates manual assignments as Kafka does; returns the partition count and replication factor they imply. */
function checkAssignments(services: BrokerServices, t: CreatableTopic): { numPartitions: number; replicationFactor: number } {
  if (t.replicationFactor !== -1) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but replication factor was not set to -1.');
  }
  if (t.numPartitions !== -1) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.');
  }
  const seen = new Set<number>();
  let replicas: number | undefined;
  for (const a of t.assignments) {
    if (seen.has(a.partitionIndex)) {
      throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Found multiple manual partition assignments for partition ${a.partitionIndex}`);
    }
    seen.add(a.partitionIndex);
    if (a.brokerIds.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
    if (new Set(a.brokerIds).size !== a.brokerIds.length) {
      throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes the partition with duplicate replicas.');
    }
    for (const id of a.brokerIds) {
      if (id !== services.identity.nodeId) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered.`);
      }
    }
    if (replicas !== undefined && replicas !== a.brokerIds.length) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes a partition with ${a.brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicas} replica(s).`,
      );
    }
    replicas = a.brokerIds.length;
  }
  for (let i = 0; i < t.assignments.length; i++) {
    if (!seen.has(i)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Partitions should be a consecutive 0-based integer sequence: partition ${i} is missing.`);
  }
  return { numPartitions: t.assignments.length, replicationFactor: replicas! };
}
