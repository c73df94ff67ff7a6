/**
 * The internal topic `__consumer_offsets` as the group coordinator has it
 * created (src/coordinator/internal-topic.ts does the rest): on first use,
 * with offsets.topic.num.partitions partitions, replication factor
 * offsets.topic.replication.factor, cleanup.policy=compact, segment.bytes =
 * offsets.topic.segment.bytes and compression.type=producer, as Kafka.
 */
import { InternalTopic, type InternalTopicHost } from '../coordinator/internal-topic.js';
import type { Logger } from '../logger.js';
import type { GroupConfigView } from './group-config.js';
import { OFFSETS_TOPIC } from './group-partition.js';

/** `__consumer_offsets`: append, replay, create (GroupCoordinator.offsetsTopic). */
export type OffsetsTopic = InternalTopic;

export function offsetsTopic(config: GroupConfigView, topics: InternalTopicHost, logger: Logger): OffsetsTopic {
  return new InternalTopic(
    {
      name: OFFSETS_TOPIC,
      partitions: () => config.int('offsets.topic.num.partitions'),
      replicationFactor: () => config.int('offsets.topic.replication.factor'),
      configs: () => ({
        'cleanup.policy': 'compact',
        'segment.bytes': String(config.int('offsets.topic.segment.bytes')),
        'compression.type': 'producer',
      }),
    },
    topics,
    logger,
  );
}
