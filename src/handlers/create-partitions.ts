/**
 * CreatePartitions: v0-3.
 * Behavior: raises each topic's partition count through
 * TopicManager.createPartitions (metadata first, then the new logs), topics
 * independently, with the checks and words of Kafka's controller: a topic
 * named twice → INVALID_REQUEST "Duplicate topic name." (listed first, as
 * Kafka does); unknown → UNKNOWN_TOPIC_OR_PARTITION; the same or a lower count
 * → INVALID_PARTITIONS ("Topic already has 3 partition(s)." / "... would not
 * be an increase."); above gregor.max.partitions.per.topic → INVALID_PARTITIONS.
 * Manual assignments: one replica list per new partition (else
 * INVALID_REPLICA_ASSIGNMENT "Attempted to add 2 additional partition(s), but
 * only 1 assignment(s) were specified."), each non-empty, naming only this
 * broker, once, as many times as the topic's replication factor (else
 * INVALID_REPLICA_ASSIGNMENT with Kafka's message). validate_only runs every
 * check and creates nothing. The partitions exist when the response is sent.
 * As Kafka's controller: a request adding more than 10,000 partitions in all
 * (one metadata record each) is refused whole, every topic POLICY_VIOLATION
 * "Unable to perform excessively large batch operation."; a topic whose
 * operation could not start within timeout_ms → REQUEST_TIMED_OUT, nothing
 * added (timeout_ms <= 0: no limit); past gregor.max.broker.partitions →
 * POLICY_VIOLATION. Unlike Kafka, Gregor refuses to add partitions
 * to __consumer_offsets (INVALID_PARTITIONS): that would move every group's
 * offsets to another partition.
 * Authorization (an authorizer's, as Kafka's controller, after the duplicate
 * check): ALTER on each topic, else TOPIC_AUTHORIZATION_FAILED for it.
 * Version notes: v1+ throttle time; v2+ flexible; v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { apiErrorOf, isKnownError } from '../errors.js';
import { EXCESSIVELY_LARGE, MAX_RECORDS_PER_OPERATION } from '../metadata/topic-manager.js';
import { authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Result = NonNullable<MessageInput<typeof schemas.createPartitionsResponse>['results']>[number];

export const createPartitionsHandler = defineHandler({
  api: apiByKey(ApiKey.CreatePartitions)!,
  request: schemas.createPartitionsRequest,
  response: schemas.createPartitionsResponse,
  async handle(ctx, req) {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results: Result[] = [];
    for (const [name, n] of counts) {
      if (n > 1) results.push({ name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    }
    const alterable = authorizedNames(ctx, 'ALTER', 'TOPIC', [...counts.keys()].filter((name) => counts.get(name) === 1));
    let added = 0;
    for (const t of req.topics) added += alterable.has(t.name) ? Math.max(0, t.count - (ctx.services.topics.get(t.name)?.numPartitions ?? t.count)) : 0;
    if (added > MAX_RECORDS_PER_OPERATION) {
      return { throttleTimeMs: 0, results: [...counts.keys()].map((name) => ({ name, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: EXCESSIVELY_LARGE })) };
    }
    const deadline = req.timeoutMs > 0 ? Date.now() + req.timeoutMs : undefined;
    for (const t of req.topics) {
      if (counts.get(t.name)! > 1) continue;
      if (!alterable.has(t.name)) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
        continue;
      }
      try {
        const assignments = t.assignments === null ? null : t.assignments.map((a) => a.brokerIds);
        await ctx.services.topics.createPartitions(t.name, t.count, assignments, req.validateOnly, { deadline });
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!isKnownError(err)) throw err;
        results.push({ name: t.name, ...apiErrorOf(err) });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
