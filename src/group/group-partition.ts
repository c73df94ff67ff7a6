/**
 * Which partition of `__consumer_offsets` holds a group, exactly as Kafka
 * chooses it: `Utils.abs(groupId.hashCode()) % partitionCount`, where
 * hashCode is Java's String.hashCode over UTF-16 code units with int32
 * overflow and Utils.abs maps Integer.MIN_VALUE to 0.
 */

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode(). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Math.abs except that Integer.MIN_VALUE becomes 0. */
function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function groupPartition(groupId: string, partitionCount: number): number {
  return kafkaAbs(javaStringHashCode(groupId)) % partitionCount;
}
