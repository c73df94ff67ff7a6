/**
 * The admin side of a share group's offsets (KIP-932's AlterShareGroupOffsets
 * and DeleteShareGroupOffsets, as Kafka 4.x's GroupMetadataManager plans them):
 * which share-partitions a request touches and what each topic or partition
 * is answered when it cannot. The share groups (share-group-heartbeat.ts)
 * check the group, change it, write its records and call the share
 * coordinator with these plans; nothing here has state or does I/O.
 *
 * Alter: a topic no topic has is UNKNOWN_TOPIC_OR_PARTITION for each of its
 * partitions (topic id zero); a partition index beyond the topic's partitions
 * likewise; the others are to be initialized at their new start offset (a
 * topic named twice: the last offset of a partition wins). A group need not
 * consume a topic to have its offsets set (Kafka 4.2+: the share-partitions
 * are initialized for a later subscription).
 *
 * Delete: a topic no topic has is UNKNOWN_TOPIC_OR_PARTITION with Kafka's
 * message; a topic whose share-partitions the group has initialized has those
 * deleted; a topic already being deleted (a delete that did not finish) has
 * all its partitions deleted again; any other topic is UNKNOWN_TOPIC_OR_PARTITION
 * "There is no offset information to delete.".
 */
import { ErrorCode, errorInfo, ZERO_UUID } from '../../../protocol/index.js';
import type { TopicLookup } from '../consumer-group-heartbeat.js';
import type { ShareGroup } from '../share-group.js';

/** A topic of an AlterShareGroupOffsets request. */
export interface AlterShareOffsetsTopic {
  readonly topicName: string;
  readonly partitions: ReadonlyArray<{ readonly partitionIndex: number; readonly startOffset: number }>;
}

/** A partition's answer. */
export interface ShareOffsetsPartitionResult {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface AlteredShareOffsetsTopic {
  readonly topicName: string;
  /** ZERO_UUID for a topic name no topic has. */
  readonly topicId: string;
  readonly partitions: ShareOffsetsPartitionResult[];
}

/** AlterShareGroupOffsets' answer: a group error, or one per partition. */
export interface AlterShareOffsetsResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly topics: readonly AlteredShareOffsetsTopic[];
}

export interface DeletedShareOffsetsTopic {
  readonly topicName: string;
  /** ZERO_UUID for a topic name no topic has. */
  readonly topicId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** DeleteShareGroupOffsets' answer: a group error, or one per topic. */
export interface DeleteShareOffsetsResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly topics: readonly DeletedShareOffsetsTopic[];
}

export interface AlterPlan {
  /** By topic name, in request order: the answers, errors given, the others NONE until the share coordinator answers. */
  readonly answers: Map<string, AlteredShareOffsetsTopic>;
  /** Topic id → its name and, per partition to initialize, the start offset. */
  readonly initialize: Map<string, { readonly topicName: string; readonly offsets: Map<number, number> }>;
}

export interface DeletePlan {
  /** Topics answered with an error, in request order. */
  readonly errors: DeletedShareOffsetsTopic[];
  /** Topic id → its name and the partitions whose state goes. */
  readonly deletes: Map<string, { readonly topicName: string; readonly partitions: number[] }>;
}

const UNKNOWN = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;

export function planAlterShareOffsets(topics: Pick<TopicLookup, 'get'>, request: readonly AlterShareOffsetsTopic[]): AlterPlan {
  const answers = new Map<string, AlteredShareOffsetsTopic>();
  const initialize: AlterPlan['initialize'] = new Map();
  for (const t of request) {
    const topic = topics.get(t.topicName);
    let answer = answers.get(t.topicName);
    if (answer === undefined) answers.set(t.topicName, (answer = { topicName: t.topicName, topicId: topic?.topicId ?? ZERO_UUID, partitions: [] }));
    for (const p of t.partitions) {
      if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.numPartitions) {
        answer.partitions.push({ partitionIndex: p.partitionIndex, errorCode: UNKNOWN, errorMessage: errorInfo(UNKNOWN).message });
        continue;
      }
      answer.partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null });
      let planned = initialize.get(topic.topicId);
      if (planned === undefined) initialize.set(topic.topicId, (planned = { topicName: t.topicName, offsets: new Map() }));
      planned.offsets.set(p.partitionIndex, p.startOffset);
    }
  }
  return { answers, initialize };
}

export function planDeleteShareOffsets(group: ShareGroup, topics: Pick<TopicLookup, 'get'>, topicNames: readonly string[]): DeletePlan {
  const errors: DeletedShareOffsetsTopic[] = [];
  const deletes: DeletePlan['deletes'] = new Map();
  for (const topicName of new Set(topicNames)) {
    const topic = topics.get(topicName);
    if (topic === undefined) {
      errors.push({ topicName, topicId: ZERO_UUID, errorCode: UNKNOWN, errorMessage: errorInfo(UNKNOWN).message });
      continue;
    }
    const initialized = group.initialized.get(topic.topicId);
    if (initialized !== undefined) {
      deletes.set(topic.topicId, { topicName, partitions: [...initialized.partitions].sort((a, b) => a - b) });
    } else if (group.deleting.has(topic.topicId)) {
      deletes.set(topic.topicId, { topicName, partitions: Array.from({ length: topic.numPartitions }, (_, p) => p) });
    } else {
      errors.push({ topicName, topicId: ZERO_UUID, errorCode: UNKNOWN, errorMessage: 'There is no offset information to delete.' });
    }
  }
  return { errors, deletes };
}
