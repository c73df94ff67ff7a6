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
 * non-empty replica count (else INVALID_REPLICA_ASSIGNMENT). A topic that would
 * take the broker past gregor.max.broker.partitions → POLICY_VIOLATION. The
 * request is one operation of the topic manager: its topics are stored in one
 * metadata write, then their logs are created, and the response follows. As
 * Kafka's controller: a request whose topics make more than 10,000 metadata
 * records (a topic, each config and each partition one) is refused whole, every
 * topic POLICY_VIOLATION "Unable to perform excessively large batch
 * operation.", validate_only too; a request that could not start within
 * timeout_ms (others' operations ahead of it) gets REQUEST_TIMED_OUT for every
 * topic and creates nothing (timeout_ms <= 0: no limit). A failed metadata or log
 * write (a full disk) → KAFKA_STORAGE_ERROR for the topic. validate_only runs
 * every check and creates nothing.
 * Authorization (an authorizer's, as Kafka's controller, after the duplicate
 * check): CREATE on the cluster, or else on each topic (TOPIC_AUTHORIZATION_FAILED
 * "Authorization failed." for one not allowed, nothing checked further);
 * a topic created without DESCRIBE_CONFIGS on it is answered without its
 * configs, partition count and replication factor, topic_config_error_code
 * TOPIC_AUTHORIZATION_FAILED (v5+).
 * Version notes: v1+ validate_only and error messages; v2+ throttle time; v4+
 * clients may send -1 for the defaults (the broker accepts -1 at any version,
 * as Kafka does); v5+ the result carries num_partitions, replication_factor and
 * every topic config with its value and source; v7+ topic ids.
 */
import { ApiKey, apiByKey, ErrorCode, KafkaError, schemas, ZERO_UUID, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { CONFIG_SOURCE_ID, describeTopicConfigs } from '../config/topic-configs.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import type { CreateTopicRequest, TopicInfo } from '../metadata/topic-manager.js';
import { authorizeCluster, authorizedNames } from '../security/auth-helper.js';
import type { BrokerServices } from '../services.js';
import { defineHandler } from './handler.js';

type Result = NonNullable<MessageInput<typeof schemas.createTopicsResponse>['topics']>[number];
type CreatableTopic = MessageValue<typeof schemas.createTopicsRequest>['topics'][number];

export const createTopicsHandler = defineHandler({
  api: apiByKey(ApiKey.CreateTopics)!,
  request: schemas.createTopicsRequest,
  response: schemas.createTopicsResponse,
  async handle(ctx, req) {
    const { services } = ctx;
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    // one slot per topic in request order: a failure now, or the index of its creation request
    const slots: Array<Result | number> = [];
    const creations: CreateTopicRequest[] = [];
    const reportedDuplicates = new Set<string>();
    const names = [...counts.keys()].filter((name) => counts.get(name) === 1);
    const creatable = authorizeCluster(ctx, 'CREATE', false) ? new Set(names) : authorizedNames(ctx, 'CREATE', 'TOPIC', names);
    const describable = authorizedNames(ctx, 'DESCRIBE_CONFIGS', 'TOPIC', names, false);
    for (const t of req.topics) {
      if (counts.get(t.name)! > 1) {
        if (!reportedDuplicates.has(t.name)) slots.push(failure(t.name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
        reportedDuplicates.add(t.name);
        continue;
      }
      if (!creatable.has(t.name)) {
        slots.push(failure(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
        continue;
      }
      try {
        slots.push(creations.length);
        creations.push(creationOf(services, t, req.validateOnly));
      } catch (err) {
        if (!isKnownError(err)) throw err;
        slots[slots.length - 1] = failure(t.name, errorCodeOf(err), err.message);
      }
    }
    let outcomes: Array<TopicInfo | KafkaError>;
    try {
      outcomes = creations.length === 0 ? [] : await services.topics.createTopics(creations, { deadline: req.timeoutMs > 0 ? Date.now() + req.timeoutMs : undefined });
    } catch (err) {
      // the whole request refused (excessively large, timed out): every topic gets the error, as Kafka
      if (!isKnownError(err)) throw err;
      return { throttleTimeMs: 0, topics: req.topics.filter((t, i, all) => all.findIndex((o) => o.name === t.name) === i).map((t) => failure(t.name, errorCodeOf(err), err.message)) };
    }
    const topics = slots.map((slot) => {
      if (typeof slot !== 'number') return slot;
      const outcome = outcomes[slot]!;
      const name = creations[slot]!.name;
      return outcome instanceof KafkaError ? failure(name, outcome.code, outcome.message) : success(services, outcome, req.validateOnly, describable.has(name));
    });
    return { throttleTimeMs: 0, topics };
  },
});

/** The topic manager's request for one topic; throws KafkaError for manual assignments that do not fit. */
function creationOf(services: BrokerServices, t: CreatableTopic, validateOnly: boolean): CreateTopicRequest {
  let numPartitions = t.numPartitions;
  let replicationFactor = t.replicationFactor;
  if (t.assignments.length > 0) {
    const fromAssignments = checkAssignments(services, t);
    numPartitions = fromAssignments.numPartitions;
    replicationFactor = fromAssignments.replicationFactor;
  }
  const configs: Record<string, string | null> = {};
  for (const c of t.configs) configs[c.name] = c.value;
  return { name: t.name, numPartitions, replicationFactor, configs, validateOnly };
}

/** A created topic; its configs, partition count and replication factor only when the session may DESCRIBE_CONFIGS it. */
function success(services: BrokerServices, info: TopicInfo, validateOnly: boolean, describable: boolean): Result {
  if (!describable) {
    const topicId = validateOnly ? ZERO_UUID : info.topicId;
    return { name: info.name, topicId, errorCode: ErrorCode.NONE, errorMessage: null, topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, numPartitions: -1, replicationFactor: -1, configs: [] };
  }
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
