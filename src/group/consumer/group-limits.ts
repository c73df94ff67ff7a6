/**
 * The limits of a consumer group (KIP-848), as Kafka's GroupMetadataManager
 * enforces them on ConsumerGroupHeartbeat:
 *
 * - group.consumer.max.size: a heartbeat that would add a member to a group
 *   that has this many already is GROUP_MAX_SIZE_REACHED ("The consumer group
 *   has reached its maximum capacity of N members."). Kafka checks it before
 *   it looks the member up, with the member id of the request: a member id
 *   the group does not hold counts as a new member, so a static member that
 *   rejoins under a new member id (replacing its old self) is refused in a
 *   full group as well, and so is a v0 join (empty member id). Leaves are not
 *   checked.
 *
 * The session timeout and heartbeat interval bounds (group.consumer.min/max.*)
 * are checked at start (broker-config.ts) and when a group's own configs are
 * altered (group-configs.ts).
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';

/** Kafka's throwIfConsumerGroupIsFull. */
export function throwIfConsumerGroupIsFull(group: { readonly members: ReadonlyMap<string, unknown> }, memberId: string, maxSize: number): void {
  if (group.members.size >= maxSize && (memberId === '' || !group.members.has(memberId))) {
    throw new KafkaError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${maxSize} members.`);
  }
}
