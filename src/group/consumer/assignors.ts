/**
 * The built-in server-side assignors and how `group.consumer.assignors`
 * names them. Kafka 4.x accepts a built-in assignor's short name or a full
 * class name; the default is `uniform,range`, and the first entry is the
 * assignor of a consumer whose heartbeat names none (ServerAssignor null).
 * Gregor has no plugin loading: a class name is accepted only for Kafka's
 * own two classes, and means the same built-in assignor.
 *
 * Racks: the coordinator gives an assignor each member's rack (client.rack,
 * MemberSpec.rackId) and each partition's replica racks (racksForPartition:
 * broker.rack on a single node), as Kafka does; like Kafka 4.x's, neither
 * built-in assignor reads them (rack-aware assignment is left to custom
 * assignors). A member changing its rack is written to its record and does
 * not bump the group epoch (Kafka bumps it for subscription changes only).
 */
import type { PartitionAssignor } from './assignor.js';
import { rangeAssignor } from './range-assignor.js';
import { uniformAssignor } from './uniform-assignor.js';

export const BUILTIN_ASSIGNORS: readonly PartitionAssignor[] = [uniformAssignor, rangeAssignor];

/** Kafka 4.x's default for `group.consumer.assignors`. */
export const DEFAULT_CONSUMER_GROUP_ASSIGNORS: readonly string[] = BUILTIN_ASSIGNORS.map((a) => a.name);

const KAFKA_CLASS_NAMES: ReadonlyMap<string, PartitionAssignor> = new Map([
  ['org.apache.kafka.coordinator.group.assignor.UniformAssignor', uniformAssignor],
  ['org.apache.kafka.coordinator.group.assignor.RangeAssignor', rangeAssignor],
]);

/** The built-in assignor a `group.consumer.assignors` entry names, or undefined. */
export function builtinAssignor(name: string): PartitionAssignor | undefined {
  const trimmed = name.trim();
  return BUILTIN_ASSIGNORS.find((a) => a.name === trimmed) ?? KAFKA_CLASS_NAMES.get(trimmed);
}
