/**
 * The internal topic `__share_group_state` as the share coordinator has it
 * created (src/coordinator/internal-topic.ts does the rest): on first use,
 * with share.coordinator.state.topic.num.partitions partitions (50),
 * replication factor 1 (one node), segment.bytes =
 * share.coordinator.state.topic.segment.bytes and compression.type=producer.
 *
 * Not compacted: as KIP-932 has it, cleanup.policy=delete (with no time or
 * size retention here, so nothing expires), because the records are deltas:
 * a share-partition's ShareUpdate records all share one key, and compaction
 * would keep only the last of them, losing the batches of the others. The
 * share coordinator instead prunes the log itself (DeleteRecords up to the
 * oldest record a share-partition still needs, share-coordinator-shard.ts),
 * as Kafka's ShareCoordinatorService does.
 *
 * A share-partition (group, topic id, partition) lives in partition
 * `abs(javaHashCode("group:topicId:partition")) % partitions`, Kafka's
 * SharePartitionKey.asCoordinatorKey hashed as a group id is.
 */
import type { Logger } from '../logger.js';
import { InternalTopic, type InternalTopicHost } from '../coordinator/internal-topic.js';
import { groupPartition } from '../group/group-partition.js';

export const SHARE_GROUP_STATE_TOPIC = '__share_group_state';

/** The settings of the topic, read when it is created. */
export interface ShareStateTopicSettings {
  /** share.coordinator.state.topic.num.partitions */
  partitions(): number;
  /** share.coordinator.state.topic.segment.bytes */
  segmentBytes(): number;
}

export function shareStateTopic(settings: ShareStateTopicSettings, topics: InternalTopicHost, logger: Logger): InternalTopic {
  return new InternalTopic(
    {
      name: SHARE_GROUP_STATE_TOPIC,
      partitions: () => settings.partitions(),
      replicationFactor: () => 1,
      configs: () => ({
        'cleanup.policy': 'delete',
        'retention.ms': '-1',
        'retention.bytes': '-1',
        'segment.bytes': String(settings.segmentBytes()),
        'compression.type': 'producer',
      }),
    },
    topics,
    logger,
  );
}

/** Kafka's SharePartitionKey.asCoordinatorKey: "group:topicId:partition". */
export function shareCoordinatorKey(groupId: string, topicId: string, partition: number): string {
  return `${groupId}:${topicId}:${partition}`;
}

/** The partition of `__share_group_state` that holds a share-partition's state. */
export function shareStatePartition(groupId: string, topicId: string, partition: number, partitionCount: number): number {
  return groupPartition(shareCoordinatorKey(groupId, topicId, partition), partitionCount);
}
