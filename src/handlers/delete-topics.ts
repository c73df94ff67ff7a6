/**
 * DeleteTopics: v0-6.
 * Behavior: deletes each named topic (or, v6, each topic id) with its data, all
 * in one operation of the topic manager: the topics become deleting records in
 * the metadata (one write), which makes the deletion durable, and the response
 * is sent; their partition dirs are then renamed `-delete` in one batch and
 * removed in the background (TopicManager.deleteTopics). Unknown names →
 * UNKNOWN_TOPIC_OR_PARTITION, unknown ids → UNKNOWN_TOPIC_ID. As Kafka's
 * controller: a name or id given twice → INVALID_REQUEST ("Duplicate topic
 * name." / "Duplicate topic id."); a v6 entry with both a name and an id, or
 * neither → INVALID_REQUEST; with delete.topic.enable=false every topic gets
 * TOPIC_DELETION_DISABLED (v3+) or INVALID_REQUEST (v0-2); more than 10,000
 * topics (one metadata record each) → POLICY_VIOLATION "Unable to perform
 * excessively large batch operation." for each; an operation that could not
 * start within timeout_ms → REQUEST_TIMED_OUT for each, nothing deleted
 * (timeout_ms <= 0: no limit); a failed metadata write → KAFKA_STORAGE_ERROR.
 * Internal topics are deleted like any other, as Kafka's broker does without
 * an authorizer (its CLI stopped refusing them in 3.0): deleting
 * `__consumer_offsets` unloads every group (the group coordinator resigns its
 * partitions, as on Kafka's metadata update), so no committed offset is served
 * from memory that a restart would not have; the topic is created again, empty,
 * on the next group request.
 * Authorization (an authorizer's, as Kafka's controller): DELETE on the
 * cluster allows every topic; else a topic needs DELETE on it. A name the
 * session may not DESCRIBE gets TOPIC_AUTHORIZATION_FAILED before it is looked
 * for (so the answer does not tell whether it exists); a known one it may
 * not DELETE too. An id: unknown → UNKNOWN_TOPIC_ID first; not deletable →
 * TOPIC_AUTHORIZATION_FAILED, with the name only when the session may
 * DESCRIBE the topic.
 * Version notes: v1+ throttle time; v5+ error messages; v6 topics by name or id
 * (topic_names before), results carry the topic id and a null name for
 * unknown ids.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas, ZERO_UUID, type KafkaError, type MessageInput } from '../../protocol/index.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import { authorizeCluster, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Result = NonNullable<MessageInput<typeof schemas.deleteTopicsResponse>['responses']>[number];

export const deleteTopicsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteTopics)!,
  request: schemas.deleteTopicsRequest,
  response: schemas.deleteTopicsResponse,
  async handle(ctx, req) {
    const { services, version } = ctx;
    const entries: Array<{ name: string | null; topicId: string }> =
      version >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const results: Result[] = [];
    const result = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null = null): void => {
      results.push({ name, topicId, errorCode, errorMessage: errorCode === ErrorCode.NONE ? null : (errorMessage ?? errorInfo(errorCode).message) });
    };
    if (!services.config.bool('delete.topic.enable')) {
      const code = version < 3 ? ErrorCode.INVALID_REQUEST : ErrorCode.TOPIC_DELETION_DISABLED;
      for (const e of entries) result(e.name, e.topicId, code, 'Topic deletion is disabled.');
      return { throttleTimeMs: 0, responses: results };
    }
    const nameCounts = new Map<string, number>();
    const idCounts = new Map<string, number>();
    for (const e of entries) {
      if (e.name !== null && e.topicId === ZERO_UUID) nameCounts.set(e.name, (nameCounts.get(e.name) ?? 0) + 1);
      if (e.name === null && e.topicId !== ZERO_UUID) idCounts.set(e.topicId, (idCounts.get(e.topicId) ?? 0) + 1);
    }
    // DELETE on the cluster allows all; else DESCRIBE and DELETE on each topic named (or named by its id)
    const named = entries.flatMap((e) => (e.name !== null ? [e.name] : (services.topics.getById(e.topicId)?.name ?? [])));
    const everyTopic = authorizeCluster(ctx, 'DELETE', false);
    const describable = everyTopic ? undefined : authorizedNames(ctx, 'DESCRIBE', 'TOPIC', named);
    const deletable = everyTopic ? undefined : authorizedNames(ctx, 'DELETE', 'TOPIC', named);
    const mayDescribe = (name: string): boolean => describable?.has(name) ?? true;
    const mayDelete = (name: string): boolean => deletable?.has(name) ?? true;
    // name → topic id of every topic to delete, each once
    const toDelete = new Map<string, string>();
    const reported = new Set<string>();
    for (const e of entries) {
      if (e.name !== null && e.topicId !== ZERO_UUID) {
        result(e.name, e.topicId, ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
      } else if (e.name === null && e.topicId === ZERO_UUID) {
        result(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.');
      } else if (e.name !== null) {
        if (nameCounts.get(e.name)! > 1) {
          if (!reported.has(`n:${e.name}`)) result(e.name, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
          reported.add(`n:${e.name}`);
          continue;
        }
        const topic = services.topics.get(e.name);
        if (!mayDescribe(e.name)) {
          result(e.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        } else if (!topic) {
          result(e.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        } else if (!mayDelete(e.name)) {
          result(e.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        } else if ([...toDelete.values()].includes(topic.topicId)) {
          result(e.name, topic.topicId, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.');
          toDelete.delete(topic.name);
        } else {
          toDelete.set(topic.name, topic.topicId);
        }
      } else {
        if (idCounts.get(e.topicId)! > 1) {
          if (!reported.has(`i:${e.topicId}`)) result(null, e.topicId, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.');
          reported.add(`i:${e.topicId}`);
          continue;
        }
        const topic = services.topics.getById(e.topicId);
        if (!topic) {
          result(null, e.topicId, ErrorCode.UNKNOWN_TOPIC_ID);
        } else if (!mayDelete(topic.name)) {
          result(mayDescribe(topic.name) ? topic.name : null, e.topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        } else if (toDelete.has(topic.name)) {
          result(topic.name, e.topicId, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.');
          toDelete.delete(topic.name);
        } else {
          toDelete.set(topic.name, topic.topicId);
        }
      }
    }
    if (toDelete.size === 0) return { throttleTimeMs: 0, responses: results };
    let outcomes: Map<string, KafkaError | undefined>;
    try {
      outcomes = await services.topics.deleteTopics([...toDelete.keys()], { deadline: req.timeoutMs > 0 ? Date.now() + req.timeoutMs : undefined });
    } catch (err) {
      if (!isKnownError(err)) throw err;
      for (const [name, topicId] of toDelete) result(name, topicId, errorCodeOf(err), err.message);
      return { throttleTimeMs: 0, responses: results };
    }
    // committed offsets of a deleted topic go too, as in Kafka; every topic's removal starts now, before
    // anything else can reach the groups (deleting __consumer_offsets unloads them)
    const deleted = [...toDelete.keys()].filter((name) => outcomes.get(name) === undefined);
    await Promise.all(deleted.map((name) => services.groups.onTopicDeleted(name)));
    for (const [name, topicId] of toDelete) {
      const error = outcomes.get(name);
      if (error) result(name, topicId, error.code, error.message);
      else result(name, topicId, ErrorCode.NONE);
    }
    return { throttleTimeMs: 0, responses: results };
  },
});
