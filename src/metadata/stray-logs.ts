/**
 * Which partition directories found at start the stored metadata explains (Kafka's stray logs:
 * LogManager.isStrayKraftReplica, KAFKA-14616). Every directory `<topic>-<partition>` is, in this order:
 *
 * 1. live: a stored topic of that name has the partition (p < its partition count) and the directory's
 *    topic id (partition.metadata) is the topic's, or the directory has none (written before topic ids);
 * 2. doomed: a topic of that name is being deleted (a deleting record: the deletion is durable, a crash cut
 *    the renames short), has the partition, and the directory has its id (or none, when no live topic of
 *    the name claims it): the deletion is finished;
 * 3. stray: anything else (a topic the metadata does not have, another topic id, a partition beyond the
 *    count). A stray is never deleted: the caller renames it `-stray` and keeps it, because a stale or
 *    hand-edited metadata file and a live directory disagreeing is no proof that the data is unwanted.
 *
 * Pure: no I/O, so the rules are tested on their own.
 */
import type { DeletingTopicRecord, TopicRecord } from './metadata-store.js';

/** A partition directory as found at start. */
export interface FoundLog {
  readonly topic: string;
  readonly partition: number;
  /** From partition.metadata; undefined when the directory has none. */
  readonly topicId: string | undefined;
}

export interface StrayLog<L> {
  readonly log: L;
  /** Why the metadata does not explain it, in words for the operator. */
  readonly reason: string;
}

export interface ClassifiedLogs<L> {
  /** topic → partition → its directory */
  readonly live: Map<string, Map<number, L>>;
  readonly doomed: L[];
  readonly strays: Array<StrayLog<L>>;
}

export function classifyLogs<L extends FoundLog>(logs: Iterable<L>, topics: readonly TopicRecord[], deleting: readonly DeletingTopicRecord[]): ClassifiedLogs<L> {
  const topicByName = new Map(topics.map((t) => [t.name, t] as const));
  const deletingByName = new Map<string, DeletingTopicRecord[]>();
  for (const d of deleting) deletingByName.set(d.name, [...(deletingByName.get(d.name) ?? []), d]);
  const live = new Map<string, Map<number, L>>();
  const doomed: L[] = [];
  const strays: Array<StrayLog<L>> = [];
  for (const log of logs) {
    const stored = topicByName.get(log.topic);
    const id = log.topicId;
    if (stored && log.partition < stored.partitions && (id === undefined || id === stored.topicId)) {
      const partitions = live.get(log.topic) ?? new Map<number, L>();
      partitions.set(log.partition, log);
      live.set(log.topic, partitions);
      continue;
    }
    const deletion = deletingByName.get(log.topic)?.find((d) => log.partition < d.partitions && (id === d.topicId || (id === undefined && !stored)));
    if (deletion) {
      doomed.push(log);
      continue;
    }
    let reason: string;
    if (!stored) reason = `gregor-metadata.json has no topic ${log.topic}${id === undefined ? '' : ` with id ${id}`}`;
    else if (id !== undefined && id !== stored.topicId) reason = `gregor-metadata.json has topic ${log.topic} with id ${stored.topicId}, the directory belongs to id ${id}`;
    else reason = `gregor-metadata.json has ${stored.partitions} partition(s) for topic ${log.topic}`;
    strays.push({ log, reason });
  }
  return { live, doomed, strays };
}
