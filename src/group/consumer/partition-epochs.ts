/**
 * Who owns each partition of a consumer group's topics, as the epoch of its
 * owner (Kafka's ConsumerGroup.currentPartitionEpoch and its
 * add/removePartitionEpochs): a partition in a member's assigned partitions or
 * in its partitions pending revocation is held at that member's epoch; a
 * partition no member holds is at -1. Reconciliation gives a partition to a
 * member only when it is at -1 (current-assignment-builder.ts).
 *
 * The map is kept up to date on every member change, from the member before
 * and after (updateMemberPartitionEpochs), and it refuses the one thing that
 * must never happen: a partition held by two members at once. Kafka throws an
 * IllegalStateException there (a coordinator replaying such records fails to
 * load); so does this module (PartitionEpochError).
 */
import type { ConsumerGroupMember, TopicPartitions } from './consumer-group-member.js';

/** Topic id → partition → epoch of the member holding it. */
export type PartitionEpochs = Map<string, Map<number, number>>;

export class PartitionEpochError extends Error {
  override readonly name = 'PartitionEpochError';
}

/** The epoch of the member holding the partition, -1 when none does. */
export function currentPartitionEpoch(epochs: PartitionEpochs, topicId: string, partition: number): number {
  return epochs.get(topicId)?.get(partition) ?? -1;
}

export function addPartitionEpochs(epochs: PartitionEpochs, partitions: TopicPartitions, epoch: number): void {
  for (const [topicId, ids] of partitions) {
    let topic = epochs.get(topicId);
    if (topic === undefined) {
      topic = new Map();
      epochs.set(topicId, topic);
    }
    for (const p of ids) {
      const held = topic.get(p);
      if (held !== undefined) {
        throw new PartitionEpochError(`Cannot set the epoch of ${topicId}-${p} to ${epoch} because the partition is still owned at epoch ${held}.`);
      }
      topic.set(p, epoch);
    }
  }
}

export function removePartitionEpochs(epochs: PartitionEpochs, partitions: TopicPartitions, expectedEpoch: number): void {
  for (const [topicId, ids] of partitions) {
    const topic = epochs.get(topicId);
    for (const p of ids) {
      const held = topic?.get(p);
      if (held !== expectedEpoch) {
        throw new PartitionEpochError(
          `Cannot remove the epoch ${expectedEpoch} from ${topicId}-${p} because the partition is still owned at a different epoch ${held ?? -1}.`,
        );
      }
      topic?.delete(p);
    }
    if (topic !== undefined && topic.size === 0) epochs.delete(topicId);
  }
}

/**
 * Moves the partitions of a member from its old value to its new one: null for
 * a member that joins (old) or leaves (new). Throws PartitionEpochError if the
 * new value would hold a partition another member holds.
 */
export function updateMemberPartitionEpochs(
  epochs: PartitionEpochs,
  oldMember: ConsumerGroupMember | null,
  newMember: ConsumerGroupMember | null,
): void {
  if (oldMember !== null) {
    removePartitionEpochs(epochs, oldMember.assignedPartitions, oldMember.memberEpoch);
    removePartitionEpochs(epochs, oldMember.partitionsPendingRevocation, oldMember.memberEpoch);
  }
  if (newMember !== null) {
    addPartitionEpochs(epochs, newMember.assignedPartitions, newMember.memberEpoch);
    addPartitionEpochs(epochs, newMember.partitionsPendingRevocation, newMember.memberEpoch);
  }
}
