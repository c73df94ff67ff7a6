/**
 * Offset retention of consumer groups (KIP-848), as Kafka's
 * OffsetMetadataManager.cleanupExpiredOffsets and
 * GroupMetadataManager.maybeDeleteGroup run it for a consumer group:
 *
 * - An offset of a topic some member of the group subscribes to never
 *   expires, whatever the group's state.
 * - Any other offset expires once offsets.retention.minutes have passed since
 *   its commit (or at its explicit expire time, OffsetCommit v1-4); one with a
 *   commit being written, or a transaction's offset waiting for its marker,
 *   is kept.
 * - When the group has no offsets left (all expired, or it never committed)
 *   and no members, the group itself is deleted: its records get tombstones.
 *
 * A consumer group's committed offsets are held by an Empty classic group of
 * its id (offset-manager.ts); classic retention (group.ts
 * removeExpiredOffsets) never sees such a holder while the consumer group
 * exists: this module's rule is the only one applied to it.
 */
import type { ConsumerGroup } from './consumer-group.js';
import type { ExpiryRule } from './group-offsets.js';

/** Kafka's ConsumerGroup.offsetExpirationCondition (commit time) with isSubscribedToTopic. */
export function consumerGroupExpiryRule(group: ConsumerGroup): ExpiryRule {
  return { base: (o) => o.commitTimestamp, keep: group.subscribedTopicNames() };
}

/** After expiry: whether the group goes (maybeDeleteGroup): no offsets left, pending or committed, and no members. */
export function shouldDeleteConsumerGroup(group: ConsumerGroup, holdsOffsets: boolean): boolean {
  return !holdsOffsets && group.members.size === 0;
}
