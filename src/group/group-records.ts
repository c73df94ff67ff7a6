/**
 * The group coordinator's records as its shard knows them (Kafka's
 * CoordinatorRecord of the group coordinator), and their serde to the bytes
 * of `__consumer_offsets` (offsets-records.ts has the byte layout):
 *
 * - an offset commit: key (group, topic, partition) written at key version 1,
 *   value at version 3, or 1 when the commit set an explicit expire time;
 *   a null value is the tombstone of the offset;
 * - a group's metadata: key (group) at version 2, value at version 3 (its
 *   generation, protocol, leader and members with their subscription and
 *   assignment); a null value is the tombstone of the group.
 *
 * - the records of a consumer group (KIP-848, key versions 3-8 and 16: the
 *   record type): consumer-group-records.ts has them and their bytes.
 *
 * - the records of a share group (KIP-932, key versions 10-15):
 *   share-group-records.ts has them and their bytes.
 *
 * Records of other key versions (streams groups', Kafka 4.0's type 9) are not
 * this coordinator's: the serde reports them as unknown and loading skips them.
 */
import type { RecordSerde } from '../coordinator/coordinator-shard.js';
import type { InternalRecord } from '../coordinator/internal-topic.js';
import { parseConsumerGroupRecord, serializeConsumerGroupRecord, type ConsumerGroupRecord } from './consumer-group-records.js';
import type { Group } from './group.js';
import { isShareGroupRecord, parseShareGroupRecord, serializeShareGroupRecord, type ShareGroupRecord } from './share-group-records.js';
import { EMPTY_BYTES } from './group-member.js';
import type { CommittedOffset } from './group-offsets.js';
import {
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  offsetCommitValue,
  parseGroupMetadataValue,
  parseOffsetCommitValue,
  parseRecordKey,
  type GroupMetadataValue,
} from './offsets-records.js';

export interface OffsetCommitRecord {
  readonly type: 'offset-commit';
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** null: a tombstone. */
  readonly value: CommittedOffset | null;
  /**
   * Set for a TxnOffsetCommit's record, written in that producer's transaction (not part of its bytes:
   * the batch carries the producer): replayed, it waits for the transaction's marker.
   */
  readonly producerId?: number;
}

export interface GroupMetadataRecord {
  readonly type: 'group-metadata';
  readonly group: string;
  /** null: a tombstone. */
  readonly value: GroupMetadataValue | null;
}

export type GroupCoordinatorRecord = OffsetCommitRecord | GroupMetadataRecord | ConsumerGroupRecord | ShareGroupRecord;

export function offsetCommitRecord(group: string, topic: string, partition: number, value: CommittedOffset | null): OffsetCommitRecord {
  return { type: 'offset-commit', group, topic, partition, value };
}

export function groupTombstone(group: string): GroupMetadataRecord {
  return { type: 'group-metadata', group, value: null };
}

/** The metadata record of a group as it is now, with the given assignment of its members. */
export function groupMetadataRecord(group: Group, assignment: ReadonlyMap<string, Buffer>): GroupMetadataRecord {
  return {
    type: 'group-metadata',
    group: group.groupId,
    value: {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName ?? null,
      leader: group.leaderId ?? null,
      currentStateTimestamp: group.stateTimestamp ?? -1,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: group.metadataOf(m),
        assignment: assignment.get(m.memberId) ?? EMPTY_BYTES,
      })),
    },
  };
}

export const groupRecordSerde: RecordSerde<GroupCoordinatorRecord> = {
  serialize(record: GroupCoordinatorRecord): InternalRecord {
    if (record.type === 'offset-commit') {
      return { key: offsetCommitKey(record.group, record.topic, record.partition), value: record.value === null ? null : offsetCommitValue(record.value) };
    }
    if (record.type === 'group-metadata') {
      return { key: groupMetadataKey(record.group), value: record.value === null ? null : groupMetadataValue(record.value) };
    }
    if (isShareGroupRecord(record)) return serializeShareGroupRecord(record);
    return serializeConsumerGroupRecord(record);
  },

  deserialize({ key, value }: InternalRecord): GroupCoordinatorRecord | undefined {
    const k = parseRecordKey(key);
    switch (k.kind) {
      case 'offset':
        return offsetCommitRecord(k.group, k.topic, k.partition, value === null ? null : parseOffsetCommitValue(value));
      case 'group':
        return { type: 'group-metadata', group: k.group, value: value === null ? null : parseGroupMetadataValue(value) };
      case 'unknown':
        return parseConsumerGroupRecord(k.version, key, value) ?? parseShareGroupRecord(k.version, key, value);
    }
  },
};
