/**
 * The share-group records of `__consumer_offsets` (KIP-932), as Kafka 4.3's
 * group coordinator writes them, and their serde: the group, its members,
 * the target and current assignments, and which share-partitions have
 * durable state at the share coordinator (src/share/share-state-records.ts
 * has that state itself, in `__share_group_state`).
 *
 * Layout, as for the consumer-group records (consumer-group-records.ts):
 * every key is a big-endian int16 record type (Kafka's CoordinatorRecordType,
 * the "version" of the key) followed by the key struct, every value an int16
 * version followed by the value struct; a null value is a tombstone. Keys are
 * not flexible (int16-length strings); values are flexible (compact strings
 * and arrays, tagged fields), all at value version 0:
 *
 *  type  record                                  key             value (v0)
 *  10    ShareGroupMemberMetadata                group, member   rack, client id and host, subscribed topic names
 *  11    ShareGroupMetadata                      group           epoch; tag 0 metadataHash (4.1, KIP-1101, as a
 *                                                                consumer group's)
 *  12    ShareGroupTargetAssignmentMetadata      group           assignment epoch
 *  13    ShareGroupTargetAssignmentMember        group, member   the member's target partitions
 *  14    ShareGroupCurrentMemberAssignment       group, member   member epoch, previous epoch, state, assigned
 *                                                                partitions (no revocation: a share-partition may
 *                                                                be held by several members at once)
 *  15    ShareGroupStatePartitionMetadata        group           the topics whose share-partition state is being
 *                                                                initialized (4.1) and is initialized (partitions
 *                                                                and when they were added, 4.1), and the topics
 *                                                                whose state is being deleted
 *
 * Type 9 was ShareGroupPartitionMetadata, written by Kafka 4.0's early access
 * of share groups; Kafka 4.1 removed it (the group's metadata keeps a hash of
 * the subscribed topics instead, KIP-1101) and reads it as a type it does not
 * know: so does this module.
 *
 * As consumer-group-records.ts does, a value of a version other than 0 is
 * refused (ProtocolError) and tagged fields of a newer Kafka are skipped;
 * other record types are not this module's (undefined). Topic ids are
 * 22-character base64url uuids, as everywhere in the codec. The structs use
 * the schema language with apiKey -1 (data messages, not APIs).
 *
 * The group coordinator's serde (group-records.ts) reads and writes them;
 * the share groups are rebuilt from them at load (share-group-log.ts).
 */
import { message, ProtocolError } from '../../protocol/index.js';
import { decodeVersioned, encodeVersioned, expectValueVersion } from '../coordinator/versioned-record.js';

/** Kafka's record types (CoordinatorRecordType) of the share-group records. */
export const ShareGroupRecordType = {
  MemberMetadata: 10,
  Metadata: 11,
  TargetAssignmentMetadata: 12,
  TargetAssignmentMember: 13,
  CurrentMemberAssignment: 14,
  StatePartitionMetadata: 15,
} as const;

/** The value version Kafka 4.3 writes (and the only one it reads) for every share-group record. */
export const SHARE_GROUP_VALUE_VERSION = 0;

// ---- key schemas: one struct, valid at the version that is the record type

function groupKeySchema(name: string, type: number) {
  return message({
    name,
    apiKey: -1,
    kind: 'response',
    valid: String(type),
    flexible: 'none',
    fields: [{ name: 'groupId', type: 'string', versions: '0+' }],
  });
}

function memberKeySchema(name: string, type: number) {
  return message({
    name,
    apiKey: -1,
    kind: 'response',
    valid: String(type),
    flexible: 'none',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'memberId', type: 'string', versions: '0+' },
    ],
  });
}

const memberMetadataKeySchema = memberKeySchema('ShareGroupMemberMetadataKey', ShareGroupRecordType.MemberMetadata);
const metadataKeySchema = groupKeySchema('ShareGroupMetadataKey', ShareGroupRecordType.Metadata);
const targetAssignmentMetadataKeySchema = groupKeySchema('ShareGroupTargetAssignmentMetadataKey', ShareGroupRecordType.TargetAssignmentMetadata);
const targetAssignmentMemberKeySchema = memberKeySchema('ShareGroupTargetAssignmentMemberKey', ShareGroupRecordType.TargetAssignmentMember);
const currentMemberAssignmentKeySchema = memberKeySchema('ShareGroupCurrentMemberAssignmentKey', ShareGroupRecordType.CurrentMemberAssignment);
const statePartitionMetadataKeySchema = groupKeySchema('ShareGroupStatePartitionMetadataKey', ShareGroupRecordType.StatePartitionMetadata);

// ---- value schemas (version 0, flexible)

const memberMetadataValueSchema = message({
  name: 'ShareGroupMemberMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'rackId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'clientId', type: 'string', versions: '0+' },
    { name: 'clientHost', type: 'string', versions: '0+' },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
  ],
});

const metadataValueSchema = message({
  name: 'ShareGroupMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'epoch', type: 'int32', versions: '0+' },
    { name: 'metadataHash', type: 'int64', versions: '0+', tag: 0, tagged: '0+', default: 0n },
  ],
});

const targetAssignmentMetadataValueSchema = message({
  name: 'ShareGroupTargetAssignmentMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [{ name: 'assignmentEpoch', type: 'int32', versions: '0+' }],
});

const topicPartitionsFields = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

const targetAssignmentMemberValueSchema = message({
  name: 'ShareGroupTargetAssignmentMemberValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [{ name: 'topicPartitions', type: '[]TopicPartition', versions: '0+', fields: topicPartitionsFields }],
});

const currentMemberAssignmentValueSchema = message({
  name: 'ShareGroupCurrentMemberAssignmentValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'previousMemberEpoch', type: 'int32', versions: '0+' },
    { name: 'state', type: 'int8', versions: '0+' },
    { name: 'assignedPartitions', type: '[]TopicPartitions', versions: '0+', fields: topicPartitionsFields },
  ],
});

const topicPartitionsInfoFields = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'topicName', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
  { name: 'createTimestamp', type: 'int64', versions: '0+' },
] as const;

const statePartitionMetadataValueSchema = message({
  name: 'ShareGroupStatePartitionMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'initializingTopics', type: '[]TopicPartitionsInfo', versions: '0+', fields: topicPartitionsInfoFields },
    { name: 'initializedTopics', type: '[]TopicPartitionsInfo', versions: '0+', fields: topicPartitionsInfoFields },
    { name: 'deletingTopics', type: '[]TopicInfo', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'topicName', type: 'string', versions: '0+' },
    ] },
  ],
});

// ---- the values as the coordinator knows them

export interface ShareGroupMemberMetadataValue {
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
}

export interface ShareGroupMetadataValue {
  /** The group epoch. */
  readonly epoch: number;
  /** The hash of the subscribed topics' metadata (KIP-1101); 0 when not computed. */
  readonly metadataHash: bigint;
}

export interface ShareGroupTargetAssignmentMetadataValue {
  readonly assignmentEpoch: number;
}

/** Partitions of one topic, by topic id. */
export interface ShareTopicIdPartitions {
  readonly topicId: string;
  readonly partitions: readonly number[];
}

export interface ShareGroupTargetAssignmentMemberValue {
  readonly topicPartitions: readonly ShareTopicIdPartitions[];
}

export interface ShareGroupCurrentMemberAssignmentValue {
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  /** A MemberState value (consumer-group-records.ts). */
  readonly state: number;
  readonly assignedPartitions: readonly ShareTopicIdPartitions[];
}

/** Partitions of one topic with share-partition state, and when the topic was added (ms). */
export interface ShareTopicPartitionsInfo {
  readonly topicId: string;
  readonly topicName: string;
  readonly partitions: readonly number[];
  readonly createTimestamp: number;
}

export interface ShareGroupStatePartitionMetadataValue {
  /** Share-partitions whose state the share coordinator is initializing. */
  readonly initializingTopics: readonly ShareTopicPartitionsInfo[];
  /** Share-partitions whose state is initialized. */
  readonly initializedTopics: readonly ShareTopicPartitionsInfo[];
  /** Topics whose share-partition state is being deleted. */
  readonly deletingTopics: readonly { readonly topicId: string; readonly topicName: string }[];
}

// ---- the records (null value: a tombstone)

export interface ShareGroupMemberMetadataRecord {
  readonly type: 'share-group-member-metadata';
  readonly group: string;
  readonly memberId: string;
  readonly value: ShareGroupMemberMetadataValue | null;
}

export interface ShareGroupMetadataRecord {
  readonly type: 'share-group-metadata';
  readonly group: string;
  readonly value: ShareGroupMetadataValue | null;
}

export interface ShareGroupTargetAssignmentMetadataRecord {
  readonly type: 'share-group-target-assignment-metadata';
  readonly group: string;
  readonly value: ShareGroupTargetAssignmentMetadataValue | null;
}

export interface ShareGroupTargetAssignmentMemberRecord {
  readonly type: 'share-group-target-assignment-member';
  readonly group: string;
  readonly memberId: string;
  readonly value: ShareGroupTargetAssignmentMemberValue | null;
}

export interface ShareGroupCurrentMemberAssignmentRecord {
  readonly type: 'share-group-current-member-assignment';
  readonly group: string;
  readonly memberId: string;
  readonly value: ShareGroupCurrentMemberAssignmentValue | null;
}

export interface ShareGroupStatePartitionMetadataRecord {
  readonly type: 'share-group-state-partition-metadata';
  readonly group: string;
  readonly value: ShareGroupStatePartitionMetadataValue | null;
}

/** A record of a share group (KIP-932) in `__consumer_offsets`. */
export type ShareGroupRecord =
  | ShareGroupMemberMetadataRecord
  | ShareGroupMetadataRecord
  | ShareGroupTargetAssignmentMetadataRecord
  | ShareGroupTargetAssignmentMemberRecord
  | ShareGroupCurrentMemberAssignmentRecord
  | ShareGroupStatePartitionMetadataRecord;

export type ShareGroupRecordKind = ShareGroupRecord['type'];

const SHARE_GROUP_RECORD_KINDS: ReadonlySet<string> = new Set<ShareGroupRecordKind>([
  'share-group-member-metadata',
  'share-group-metadata',
  'share-group-target-assignment-metadata',
  'share-group-target-assignment-member',
  'share-group-current-member-assignment',
  'share-group-state-partition-metadata',
]);

/** Whether a group coordinator record is one of the share-group records. */
export function isShareGroupRecord<R extends { readonly type: string }>(record: R): record is Extract<R, ShareGroupRecord> {
  return SHARE_GROUP_RECORD_KINDS.has(record.type);
}

// ---- bytes




function topicIdPartitionsOut(t: ShareTopicIdPartitions): { topicId: string; partitions: number[] } {
  return { topicId: t.topicId, partitions: [...t.partitions] };
}

function topicPartitionsInfoOut(t: ShareTopicPartitionsInfo): { topicId: string; topicName: string; partitions: number[]; createTimestamp: bigint } {
  return { topicId: t.topicId, topicName: t.topicName, partitions: [...t.partitions], createTimestamp: BigInt(t.createTimestamp) };
}

function topicPartitionsInfoIn(t: { topicId: string; topicName: string; partitions: number[]; createTimestamp: bigint }): ShareTopicPartitionsInfo {
  return { topicId: t.topicId, topicName: t.topicName, partitions: t.partitions, createTimestamp: Number(t.createTimestamp) };
}

/** Key and value bytes of a share-group record (value null: a tombstone). */
export function serializeShareGroupRecord(record: ShareGroupRecord): { key: Buffer; value: Buffer | null } {
  const V = SHARE_GROUP_VALUE_VERSION;
  switch (record.type) {
    case 'share-group-member-metadata': {
      const v = record.value;
      return {
        key: encodeVersioned(memberMetadataKeySchema, ShareGroupRecordType.MemberMetadata, { groupId: record.group, memberId: record.memberId }),
        value:
          v === null
            ? null
            : encodeVersioned(memberMetadataValueSchema, V, {
                rackId: v.rackId,
                clientId: v.clientId,
                clientHost: v.clientHost,
                subscribedTopicNames: [...v.subscribedTopicNames],
              }),
      };
    }
    case 'share-group-metadata':
      return {
        key: encodeVersioned(metadataKeySchema, ShareGroupRecordType.Metadata, { groupId: record.group }),
        value: record.value === null ? null : encodeVersioned(metadataValueSchema, V, { epoch: record.value.epoch, metadataHash: record.value.metadataHash }),
      };
    case 'share-group-target-assignment-metadata':
      return {
        key: encodeVersioned(targetAssignmentMetadataKeySchema, ShareGroupRecordType.TargetAssignmentMetadata, { groupId: record.group }),
        value: record.value === null ? null : encodeVersioned(targetAssignmentMetadataValueSchema, V, { assignmentEpoch: record.value.assignmentEpoch }),
      };
    case 'share-group-target-assignment-member':
      return {
        key: encodeVersioned(targetAssignmentMemberKeySchema, ShareGroupRecordType.TargetAssignmentMember, { groupId: record.group, memberId: record.memberId }),
        value:
          record.value === null ? null : encodeVersioned(targetAssignmentMemberValueSchema, V, { topicPartitions: record.value.topicPartitions.map(topicIdPartitionsOut) }),
      };
    case 'share-group-current-member-assignment': {
      const v = record.value;
      return {
        key: encodeVersioned(currentMemberAssignmentKeySchema, ShareGroupRecordType.CurrentMemberAssignment, { groupId: record.group, memberId: record.memberId }),
        value:
          v === null
            ? null
            : encodeVersioned(currentMemberAssignmentValueSchema, V, {
                memberEpoch: v.memberEpoch,
                previousMemberEpoch: v.previousMemberEpoch,
                state: v.state,
                assignedPartitions: v.assignedPartitions.map(topicIdPartitionsOut),
              }),
      };
    }
    case 'share-group-state-partition-metadata': {
      const v = record.value;
      return {
        key: encodeVersioned(statePartitionMetadataKeySchema, ShareGroupRecordType.StatePartitionMetadata, { groupId: record.group }),
        value:
          v === null
            ? null
            : encodeVersioned(statePartitionMetadataValueSchema, V, {
                initializingTopics: v.initializingTopics.map(topicPartitionsInfoOut),
                initializedTopics: v.initializedTopics.map(topicPartitionsInfoOut),
                deletingTopics: v.deletingTopics.map((t) => ({ topicId: t.topicId, topicName: t.topicName })),
              }),
      };
    }
  }
}

/**
 * The share-group record of a key whose record type (its int16) is `type`,
 * or undefined when the type is not a share-group record's. Throws
 * ProtocolError for bytes that do not decode and for a value version Kafka
 * does not have. Strings and numbers only are kept, so the bytes may lie in
 * a reused read buffer.
 */
export function parseShareGroupRecord(type: number, key: Buffer, value: Buffer | null): ShareGroupRecord | undefined {
  switch (type) {
    case ShareGroupRecordType.MemberMetadata: {
      const k = decodeVersioned(memberMetadataKeySchema, type, key);
      if (value === null) return { type: 'share-group-member-metadata', group: k.groupId, memberId: k.memberId, value: null };
      const v = decodeVersioned(memberMetadataValueSchema, expectValueVersion(value, 'share group member metadata', SHARE_GROUP_VALUE_VERSION), value);
      return {
        type: 'share-group-member-metadata',
        group: k.groupId,
        memberId: k.memberId,
        value: { rackId: v.rackId, clientId: v.clientId, clientHost: v.clientHost, subscribedTopicNames: v.subscribedTopicNames },
      };
    }
    case ShareGroupRecordType.Metadata: {
      const k = decodeVersioned(metadataKeySchema, type, key);
      if (value === null) return { type: 'share-group-metadata', group: k.groupId, value: null };
      const v = decodeVersioned(metadataValueSchema, expectValueVersion(value, 'share group metadata', SHARE_GROUP_VALUE_VERSION), value);
      return { type: 'share-group-metadata', group: k.groupId, value: { epoch: v.epoch, metadataHash: v.metadataHash } };
    }
    case ShareGroupRecordType.TargetAssignmentMetadata: {
      const k = decodeVersioned(targetAssignmentMetadataKeySchema, type, key);
      if (value === null) return { type: 'share-group-target-assignment-metadata', group: k.groupId, value: null };
      const v = decodeVersioned(targetAssignmentMetadataValueSchema, expectValueVersion(value, 'share group target assignment metadata', SHARE_GROUP_VALUE_VERSION), value);
      return { type: 'share-group-target-assignment-metadata', group: k.groupId, value: { assignmentEpoch: v.assignmentEpoch } };
    }
    case ShareGroupRecordType.TargetAssignmentMember: {
      const k = decodeVersioned(targetAssignmentMemberKeySchema, type, key);
      if (value === null) return { type: 'share-group-target-assignment-member', group: k.groupId, memberId: k.memberId, value: null };
      const v = decodeVersioned(targetAssignmentMemberValueSchema, expectValueVersion(value, 'share group target assignment member', SHARE_GROUP_VALUE_VERSION), value);
      return { type: 'share-group-target-assignment-member', group: k.groupId, memberId: k.memberId, value: { topicPartitions: v.topicPartitions } };
    }
    case ShareGroupRecordType.CurrentMemberAssignment: {
      const k = decodeVersioned(currentMemberAssignmentKeySchema, type, key);
      if (value === null) return { type: 'share-group-current-member-assignment', group: k.groupId, memberId: k.memberId, value: null };
      const v = decodeVersioned(currentMemberAssignmentValueSchema, expectValueVersion(value, 'share group current member assignment', SHARE_GROUP_VALUE_VERSION), value);
      return {
        type: 'share-group-current-member-assignment',
        group: k.groupId,
        memberId: k.memberId,
        value: { memberEpoch: v.memberEpoch, previousMemberEpoch: v.previousMemberEpoch, state: v.state, assignedPartitions: v.assignedPartitions },
      };
    }
    case ShareGroupRecordType.StatePartitionMetadata: {
      const k = decodeVersioned(statePartitionMetadataKeySchema, type, key);
      if (value === null) return { type: 'share-group-state-partition-metadata', group: k.groupId, value: null };
      const v = decodeVersioned(statePartitionMetadataValueSchema, expectValueVersion(value, 'share group state partition metadata', SHARE_GROUP_VALUE_VERSION), value);
      return {
        type: 'share-group-state-partition-metadata',
        group: k.groupId,
        value: {
          initializingTopics: v.initializingTopics.map(topicPartitionsInfoIn),
          initializedTopics: v.initializedTopics.map(topicPartitionsInfoIn),
          deletingTopics: v.deletingTopics,
        },
      };
    }
    default:
      return undefined;
  }
}
