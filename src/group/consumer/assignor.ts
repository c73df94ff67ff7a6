/**
 * The server-side partition assignor of a consumer group (KIP-848): what the
 * coordinator hands an assignor and what it gets back. Follows Kafka's
 * group-coordinator-api `PartitionAssignor` / `ConsumerGroupPartitionAssignor`
 * with `GroupSpec`, `MemberSubscription`, `MemberAssignment`,
 * `SubscribedTopicDescriber`, `SubscriptionType` and `GroupAssignment`.
 *
 * Rules every assignor keeps:
 * - It is a pure function of its inputs: it never changes them and never
 *   reads a clock or a random source, so the same inputs give the same
 *   assignment (replaying records on another broker recomputes nothing, but a
 *   coordinator may recompute and must not see churn).
 * - Every partition of every topic some member subscribes to is assigned to
 *   exactly one member, and only to a member subscribed to its topic. A
 *   member subscribed to nothing, or only to topics with no partitions, gets
 *   an empty assignment.
 * - A subscribed topic the describer does not know (numPartitions -1) is an
 *   error (PartitionAssignorError): the coordinator resolves names to ids
 *   from its metadata first, so it only passes topics that exist. The
 *   coordinator answers the heartbeat UNKNOWN_SERVER_ERROR, as Kafka does.
 *
 * Differences from Kafka's interface, all in the shape rather than the
 * meaning:
 * - Plain data instead of accessor objects: `GroupSpec.members` is a map from
 *   member id to the member's subscription (rack, instance id, topic ids)
 *   and current target assignment. Kafka's `isPartitionAssigned` is derived
 *   from those assignments (Kafka asks the coordinator's inverted target
 *   assignment, which holds the same partitions once a departed member's
 *   records are written). Map order is the member order the assignors use
 *   to break ties; Kafka iterates hash maps.
 * - Topic ids are the broker's 22-character base64url strings; ties that
 *   Kafka breaks by `Uuid.compareTo` break by string order here.
 * - The returned assignment has an entry for every member of the spec
 *   (an empty map when it gets nothing), where Kafka may leave members out.
 */

/** A topic id as the broker's metadata keeps it (22-character base64url). */
export type TopicId = string;

/**
 * HOMOGENEOUS: every member subscribes to the same topics. HETEROGENEOUS:
 * at least two members differ. Assignors may take a faster path for the first.
 */
export type SubscriptionType = 'HOMOGENEOUS' | 'HETEROGENEOUS';

/** Partitions by topic id (Kafka's MemberAssignment.partitions()). */
export type Assignment = ReadonlyMap<TopicId, ReadonlySet<number>>;

/** What a member asks for (Kafka's MemberSubscription). */
export interface MemberSubscription {
  /** The member's rack (client.rack), or null. */
  readonly rackId: string | null;
  /** The member's group.instance.id (static membership), or null. */
  readonly instanceId: string | null;
  /** The ids of the topics the member subscribes to, names and regex resolved by the coordinator. */
  readonly subscribedTopicIds: ReadonlySet<TopicId>;
}

/** A member as the assignor sees it: its subscription and its current target assignment. */
export interface MemberSpec extends MemberSubscription {
  /** The member's current target assignment; empty for a member that just joined. */
  readonly assignment: Assignment;
}

/** The group as the assignor sees it (Kafka's GroupSpec). */
export interface GroupSpec {
  /** Members by member id; the order is the order ties are broken in. */
  readonly members: ReadonlyMap<string, MemberSpec>;
  readonly subscriptionType: SubscriptionType;
}

/** The topics' metadata as the assignor sees it (Kafka's SubscribedTopicDescriber). */
export interface SubscribedTopicDescriber {
  /** The number of partitions of the topic, or -1 if there is no such topic. */
  numPartitions(topicId: TopicId): number;
  /** The racks of the replicas of a partition; empty when unknown. */
  racksForPartition(topicId: TopicId, partition: number): ReadonlySet<string>;
}

/**
 * The new target assignment: partitions by topic id, for every member of the
 * spec. Its maps and sets are new objects the caller owns, never the spec's.
 */
export interface GroupAssignment {
  readonly members: Map<string, Map<TopicId, Set<number>>>;
}

/** A server-side assignor (Kafka's ConsumerGroupPartitionAssignor), named as clients ask for it. */
export interface PartitionAssignor {
  readonly name: string;
  assign(groupSpec: GroupSpec, topics: SubscribedTopicDescriber): GroupAssignment;
}

/** The assignor cannot compute an assignment (Kafka's PartitionAssignorException). */
export class PartitionAssignorError extends Error {
  override readonly name = 'PartitionAssignorError';
}

/**
 * The subscription type of a group whose members subscribe to these topic
 * sets (Kafka's ModernGroup.subscriptionType): HOMOGENEOUS when nobody
 * subscribes to anything or every subscribed topic has every member.
 */
export function subscriptionTypeOf(subscriptions: Iterable<ReadonlySet<string>>): SubscriptionType {
  const subscribers = new Map<string, number>();
  let members = 0;
  for (const topics of subscriptions) {
    members++;
    for (const topic of topics) subscribers.set(topic, (subscribers.get(topic) ?? 0) + 1);
  }
  for (const count of subscribers.values()) if (count !== members) return 'HETEROGENEOUS';
  return 'HOMOGENEOUS';
}

/** A GroupSpec for these members, with its subscription type computed from their topic ids. */
export function groupSpecOf(members: ReadonlyMap<string, MemberSpec>): GroupSpec {
  const subscriptions: ReadonlySet<TopicId>[] = [];
  for (const member of members.values()) subscriptions.push(member.subscribedTopicIds);
  return { members, subscriptionType: subscriptionTypeOf(subscriptions) };
}

/** The metadata of one topic for describeTopics. */
export interface TopicDescription {
  readonly numPartitions: number;
  /** Racks of each partition's replicas, by partition index; missing entries are empty. */
  readonly partitionRacks?: readonly ReadonlySet<string>[];
}

const NO_RACKS: ReadonlySet<string> = new Set();

/** A SubscribedTopicDescriber over plain data (Kafka's SubscribedTopicDescriberImpl). */
export function describeTopics(topics: ReadonlyMap<TopicId, TopicDescription>): SubscribedTopicDescriber {
  return {
    numPartitions: (topicId) => topics.get(topicId)?.numPartitions ?? -1,
    racksForPartition: (topicId, partition) => topics.get(topicId)?.partitionRacks?.[partition] ?? NO_RACKS,
  };
}

/**
 * The racks of a topic's partitions on a single node: every partition's only replica is on this broker, so
 * each has the broker's rack (broker.rack), or no rack when it is not set (Kafka leaves out brokers
 * without a rack).
 */
export function singleNodePartitionRacks(brokerRack: string | null, numPartitions: number): ReadonlySet<string>[] {
  const racks: ReadonlySet<string> = new Set(brokerRack === null || brokerRack === '' ? [] : [brokerRack]);
  return Array.from({ length: numPartitions }, () => racks);
}

/** The partitions of every subscribed topic, checked to exist; throws PartitionAssignorError otherwise. */
export function partitionCounts(topicIds: Iterable<TopicId>, topics: SubscribedTopicDescriber): Map<TopicId, number> {
  const counts = new Map<TopicId, number>();
  for (const topicId of topicIds) {
    if (counts.has(topicId)) continue;
    const n = topics.numPartitions(topicId);
    if (n < 0) {
      throw new PartitionAssignorError(`Members are subscribed to topic ${topicId} which doesn't exist in the topic metadata.`);
    }
    counts.set(topicId, n);
  }
  return counts;
}

/** An assignment with an empty map for every member of the spec, to fill in. */
export function emptyAssignment(groupSpec: GroupSpec): GroupAssignment {
  const members = new Map<string, Map<TopicId, Set<number>>>();
  for (const memberId of groupSpec.members.keys()) members.set(memberId, new Map());
  return { members };
}

/** Adds a partition to a member's assignment. */
export function addPartition(assignment: Map<TopicId, Set<number>>, topicId: TopicId, partition: number): void {
  let partitions = assignment.get(topicId);
  if (partitions === undefined) {
    partitions = new Set();
    assignment.set(topicId, partitions);
  }
  partitions.add(partition);
}
