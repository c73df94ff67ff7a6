/**
 * The consumer-group records of `__consumer_offsets` (KIP-848), byte for byte
 * as Kafka 4.3's group coordinator writes them, and their serde to and from
 * the records the group coordinator's shard knows.
 *
 * Layout (offsets-records.ts has the classic records): every key is a
 * big-endian int16 followed by the key struct, every value an int16 version
 * followed by the value struct of that version. The key's int16 is Kafka's
 * record type (CoordinatorRecordType: the "version" of the key is the type);
 * a null value is a tombstone. The key structs are not flexible (int16-length
 * strings), the values are flexible (compact strings and arrays, tagged
 * fields), all at value version 0:
 *
 *  type  record                                   key                       value (v0)
 *   3    ConsumerGroupMetadata                    group                     epoch; tag 0 metadataHash (4.1, KIP-1101)
 *   4    ConsumerGroupPartitionMetadata           group                     subscribed topics' id, name, partition count
 *                                                                            (and racks): up to 4.0; 4.1+ keep the metadata
 *                                                                            hash instead, and write this record's tombstone
 *                                                                            at the next heartbeat of a group that has one
 *   5    ConsumerGroupMemberMetadata              group, member             instance, rack, client, subscription, regex,
 *                                                                            rebalance timeout, server assignor; tag 0 the
 *                                                                            classic protocols of a member that joined by JoinGroup
 *   6    ConsumerGroupTargetAssignmentMetadata    group                     assignment epoch; tag 0 assignmentTimestamp (4.3, KIP-1263)
 *   7    ConsumerGroupTargetAssignmentMember      group, member             the member's target partitions
 *   8    ConsumerGroupCurrentMemberAssignment     group, member             member epoch, previous epoch, state, assigned
 *                                                                            and pending-revocation partitions; tag 0 of each
 *                                                                            topic: the epoch each partition was assigned at
 *                                                                            (4.3, KIP-1251)
 *  16    ConsumerGroupRegularExpression           group, regex              the topics it resolved to, the metadata version
 *                                                                            and time of the resolution (4.0)
 *
 * Types 0-2 are the classic records (offsets-records.ts); 9-15 belong to
 * share groups and 17 on to streams groups: Gregor has neither, so they
 * are not this module's (undefined) and loading skips them, the way Kafka
 * skips a record type it does not know. A value of a version other than 0 is
 * refused (ProtocolError), as Kafka refuses to read a version its schema does
 * not have; unknown tagged fields (written by a newer Kafka) are skipped.
 * Topic ids are 22-character base64url uuids, as everywhere in the codec.
 *
 * The structs are "data" messages, not APIs: they use the schema language
 * with apiKey -1 (the codec ignores apiKey and kind).
 */
import { message, ProtocolError } from '../../protocol/index.js';
import { decodeVersioned, encodeVersioned, expectValueVersion } from '../coordinator/versioned-record.js';

/** Kafka's record types (CoordinatorRecordType) of the consumer-group records. */
export const ConsumerGroupRecordType = {
  Metadata: 3,
  PartitionMetadata: 4,
  MemberMetadata: 5,
  TargetAssignmentMetadata: 6,
  TargetAssignmentMember: 7,
  CurrentMemberAssignment: 8,
  RegularExpression: 16,
} as const;

/** The value version Kafka 4.3 writes (and the only one it reads) for every consumer-group record. */
export const CONSUMER_GROUP_VALUE_VERSION = 0;

/** Kafka's MemberState, the `state` of a current member assignment. */
export const MemberState = {
  Stable: 0,
  UnrevokedPartitions: 1,
  UnreleasedPartitions: 2,
  Unknown: 127,
} as const;

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

const metadataKeySchema = groupKeySchema('ConsumerGroupMetadataKey', ConsumerGroupRecordType.Metadata);
const partitionMetadataKeySchema = groupKeySchema('ConsumerGroupPartitionMetadataKey', ConsumerGroupRecordType.PartitionMetadata);
const memberMetadataKeySchema = memberKeySchema('ConsumerGroupMemberMetadataKey', ConsumerGroupRecordType.MemberMetadata);
const targetAssignmentMetadataKeySchema = groupKeySchema('ConsumerGroupTargetAssignmentMetadataKey', ConsumerGroupRecordType.TargetAssignmentMetadata);
const targetAssignmentMemberKeySchema = memberKeySchema('ConsumerGroupTargetAssignmentMemberKey', ConsumerGroupRecordType.TargetAssignmentMember);
const currentMemberAssignmentKeySchema = memberKeySchema('ConsumerGroupCurrentMemberAssignmentKey', ConsumerGroupRecordType.CurrentMemberAssignment);
const regularExpressionKeySchema = message({
  name: 'ConsumerGroupRegularExpressionKey',
  apiKey: -1,
  kind: 'response',
  valid: String(ConsumerGroupRecordType.RegularExpression),
  flexible: 'none',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'regularExpression', type: 'string', versions: '0+' },
  ],
});

// ---- value schemas (version 0, flexible)

const metadataValueSchema = message({
  name: 'ConsumerGroupMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'epoch', type: 'int32', versions: '0+' },
    { name: 'metadataHash', type: 'int64', versions: '0+', tag: 0, tagged: '0+', default: 0n },
  ],
});

const partitionMetadataValueSchema = message({
  name: 'ConsumerGroupPartitionMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'topics', type: '[]TopicMetadata', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'numPartitions', type: 'int32', versions: '0+' },
      { name: 'partitionMetadata', type: '[]PartitionMetadata', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'racks', type: '[]string', versions: '0+' },
      ] },
    ] },
  ],
});

const memberMetadataValueSchema = message({
  name: 'ConsumerGroupMemberMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'instanceId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'rackId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'clientId', type: 'string', versions: '0+' },
    { name: 'clientHost', type: 'string', versions: '0+' },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
    { name: 'subscribedTopicRegex', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '0+', default: -1 },
    { name: 'serverAssignor', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'classicMemberMetadata', type: 'ClassicMemberMetadata', versions: '0+', nullable: '0+', default: null, tag: 0, tagged: '0+', fields: [
      { name: 'sessionTimeoutMs', type: 'int32', versions: '0+' },
      { name: 'supportedProtocols', type: '[]ClassicProtocol', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'metadata', type: 'bytes', versions: '0+' },
      ] },
    ] },
  ],
});

const targetAssignmentMetadataValueSchema = message({
  name: 'ConsumerGroupTargetAssignmentMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'assignmentEpoch', type: 'int32', versions: '0+' },
    { name: 'assignmentTimestamp', type: 'int64', versions: '0+', tag: 0, tagged: '0+', default: 0n, ignorable: true },
  ],
});

const targetAssignmentMemberValueSchema = message({
  name: 'ConsumerGroupTargetAssignmentMemberValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'topicPartitions', type: '[]TopicPartition', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]int32', versions: '0+' },
    ] },
  ],
});

const assignedTopicPartitions = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
  { name: 'assignmentEpochs', type: '[]int32', versions: '0+', nullable: '0+', default: null, tag: 0, tagged: '0+' },
] as const;

const currentMemberAssignmentValueSchema = message({
  name: 'ConsumerGroupCurrentMemberAssignmentValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'previousMemberEpoch', type: 'int32', versions: '0+' },
    { name: 'state', type: 'int8', versions: '0+' },
    { name: 'assignedPartitions', type: '[]TopicPartitions', versions: '0+', fields: assignedTopicPartitions },
    { name: 'partitionsPendingRevocation', type: '[]TopicPartitions', versions: '0+', fields: assignedTopicPartitions },
  ],
});

const regularExpressionValueSchema = message({
  name: 'ConsumerGroupRegularExpressionValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'topics', type: '[]string', versions: '0+' },
    { name: 'version', type: 'int64', versions: '0+' },
    { name: 'timestamp', type: 'int64', versions: '0+' },
  ],
});

// ---- the values as the coordinator knows them

export interface ConsumerGroupMetadataValue {
  /** The group epoch. */
  readonly epoch: number;
  /** The hash of the subscribed topics' metadata (KIP-1101); 0 when not computed. */
  readonly metadataHash: bigint;
}

export interface ConsumerGroupTopicMetadata {
  readonly topicId: string;
  readonly topicName: string;
  readonly numPartitions: number;
  /** Racks per partition; empty when no partition has rack information. */
  readonly partitionMetadata: readonly { readonly partition: number; readonly racks: readonly string[] }[];
}

export interface ConsumerGroupPartitionMetadataValue {
  readonly topics: readonly ConsumerGroupTopicMetadata[];
}

export interface ClassicProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface ConsumerGroupMemberMetadataValue {
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly rebalanceTimeoutMs: number;
  /** null: the group's default assignor. */
  readonly serverAssignor: string | null;
  /** Set for a member that uses the classic protocol in a consumer group (migration); null otherwise. */
  readonly classicMemberMetadata: { readonly sessionTimeoutMs: number; readonly supportedProtocols: readonly ClassicProtocol[] } | null;
}

export interface ConsumerGroupTargetAssignmentMetadataValue {
  readonly assignmentEpoch: number;
  /** When the assignment was computed (KIP-1263); 0 when unknown. */
  readonly assignmentTimestamp: number;
}

/** Partitions of one topic, by topic id. */
export interface TopicIdPartitions {
  readonly topicId: string;
  readonly partitions: readonly number[];
}

/** Partitions of one topic held by a member, with the epoch each was assigned at (KIP-1251; null when not recorded). */
export interface AssignedTopicPartitions extends TopicIdPartitions {
  /** Aligned with `partitions`. */
  readonly assignmentEpochs: readonly number[] | null;
}

export interface ConsumerGroupTargetAssignmentMemberValue {
  readonly topicPartitions: readonly TopicIdPartitions[];
}

export interface ConsumerGroupCurrentMemberAssignmentValue {
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  /** A MemberState value. */
  readonly state: number;
  readonly assignedPartitions: readonly AssignedTopicPartitions[];
  readonly partitionsPendingRevocation: readonly AssignedTopicPartitions[];
}

export interface ConsumerGroupRegularExpressionValue {
  /** The topics the expression matched. */
  readonly topics: readonly string[];
  /** The version (offset) of the metadata it was resolved against. */
  readonly version: number;
  /** When it was resolved (ms). */
  readonly timestamp: number;
}

// ---- the records (null value: a tombstone)

export interface ConsumerGroupMetadataRecord {
  readonly type: 'consumer-group-metadata';
  readonly group: string;
  readonly value: ConsumerGroupMetadataValue | null;
}

export interface ConsumerGroupPartitionMetadataRecord {
  readonly type: 'consumer-group-partition-metadata';
  readonly group: string;
  readonly value: ConsumerGroupPartitionMetadataValue | null;
}

export interface ConsumerGroupMemberMetadataRecord {
  readonly type: 'consumer-group-member-metadata';
  readonly group: string;
  readonly memberId: string;
  readonly value: ConsumerGroupMemberMetadataValue | null;
}

export interface ConsumerGroupTargetAssignmentMetadataRecord {
  readonly type: 'consumer-group-target-assignment-metadata';
  readonly group: string;
  readonly value: ConsumerGroupTargetAssignmentMetadataValue | null;
}

export interface ConsumerGroupTargetAssignmentMemberRecord {
  readonly type: 'consumer-group-target-assignment-member';
  readonly group: string;
  readonly memberId: string;
  readonly value: ConsumerGroupTargetAssignmentMemberValue | null;
}

export interface ConsumerGroupCurrentMemberAssignmentRecord {
  readonly type: 'consumer-group-current-member-assignment';
  readonly group: string;
  readonly memberId: string;
  readonly value: ConsumerGroupCurrentMemberAssignmentValue | null;
}

export interface ConsumerGroupRegularExpressionRecord {
  readonly type: 'consumer-group-regular-expression';
  readonly group: string;
  readonly regularExpression: string;
  readonly value: ConsumerGroupRegularExpressionValue | null;
}

/** A record of a consumer group (KIP-848) in `__consumer_offsets`. */
export type ConsumerGroupRecord =
  | ConsumerGroupMetadataRecord
  | ConsumerGroupPartitionMetadataRecord
  | ConsumerGroupMemberMetadataRecord
  | ConsumerGroupTargetAssignmentMetadataRecord
  | ConsumerGroupTargetAssignmentMemberRecord
  | ConsumerGroupCurrentMemberAssignmentRecord
  | ConsumerGroupRegularExpressionRecord;

export type ConsumerGroupRecordKind = ConsumerGroupRecord['type'];

const CONSUMER_GROUP_RECORD_KINDS: ReadonlySet<string> = new Set<ConsumerGroupRecordKind>([
  'consumer-group-metadata',
  'consumer-group-partition-metadata',
  'consumer-group-member-metadata',
  'consumer-group-target-assignment-metadata',
  'consumer-group-target-assignment-member',
  'consumer-group-current-member-assignment',
  'consumer-group-regular-expression',
]);

/** Whether a group coordinator record is one of the consumer-group records. */
export function isConsumerGroupRecord<R extends { readonly type: string }>(record: R): record is Extract<R, ConsumerGroupRecord> {
  return CONSUMER_GROUP_RECORD_KINDS.has(record.type);
}

// ---- bytes




/** Key and value bytes of a consumer-group record (value null: a tombstone). */
export function serializeConsumerGroupRecord(record: ConsumerGroupRecord): { key: Buffer; value: Buffer | null } {
  const V = CONSUMER_GROUP_VALUE_VERSION;
  switch (record.type) {
    case 'consumer-group-metadata':
      return {
        key: encodeVersioned(metadataKeySchema, ConsumerGroupRecordType.Metadata, { groupId: record.group }),
        value: record.value === null ? null : encodeVersioned(metadataValueSchema, V, { epoch: record.value.epoch, metadataHash: record.value.metadataHash }),
      };
    case 'consumer-group-partition-metadata':
      return {
        key: encodeVersioned(partitionMetadataKeySchema, ConsumerGroupRecordType.PartitionMetadata, { groupId: record.group }),
        value:
          record.value === null
            ? null
            : encodeVersioned(partitionMetadataValueSchema, V, {
                topics: record.value.topics.map((t) => ({
                  topicId: t.topicId,
                  topicName: t.topicName,
                  numPartitions: t.numPartitions,
                  partitionMetadata: t.partitionMetadata.map((p) => ({ partition: p.partition, racks: [...p.racks] })),
                })),
              }),
      };
    case 'consumer-group-member-metadata': {
      const v = record.value;
      return {
        key: encodeVersioned(memberMetadataKeySchema, ConsumerGroupRecordType.MemberMetadata, { groupId: record.group, memberId: record.memberId }),
        value:
          v === null
            ? null
            : encodeVersioned(memberMetadataValueSchema, V, {
                instanceId: v.instanceId,
                rackId: v.rackId,
                clientId: v.clientId,
                clientHost: v.clientHost,
                subscribedTopicNames: [...v.subscribedTopicNames],
                subscribedTopicRegex: v.subscribedTopicRegex,
                rebalanceTimeoutMs: v.rebalanceTimeoutMs,
                serverAssignor: v.serverAssignor,
                classicMemberMetadata:
                  v.classicMemberMetadata === null
                    ? null
                    : {
                        sessionTimeoutMs: v.classicMemberMetadata.sessionTimeoutMs,
                        supportedProtocols: v.classicMemberMetadata.supportedProtocols.map((p) => ({ name: p.name, metadata: p.metadata })),
                      },
              }),
      };
    }
    case 'consumer-group-target-assignment-metadata':
      return {
        key: encodeVersioned(targetAssignmentMetadataKeySchema, ConsumerGroupRecordType.TargetAssignmentMetadata, { groupId: record.group }),
        value:
          record.value === null
            ? null
            : encodeVersioned(targetAssignmentMetadataValueSchema, V, {
                assignmentEpoch: record.value.assignmentEpoch,
                assignmentTimestamp: BigInt(record.value.assignmentTimestamp),
              }),
      };
    case 'consumer-group-target-assignment-member':
      return {
        key: encodeVersioned(targetAssignmentMemberKeySchema, ConsumerGroupRecordType.TargetAssignmentMember, { groupId: record.group, memberId: record.memberId }),
        value: record.value === null ? null : encodeVersioned(targetAssignmentMemberValueSchema, V, { topicPartitions: record.value.topicPartitions.map(topicIdPartitions) }),
      };
    case 'consumer-group-current-member-assignment': {
      const v = record.value;
      return {
        key: encodeVersioned(currentMemberAssignmentKeySchema, ConsumerGroupRecordType.CurrentMemberAssignment, { groupId: record.group, memberId: record.memberId }),
        value:
          v === null
            ? null
            : encodeVersioned(currentMemberAssignmentValueSchema, V, {
                memberEpoch: v.memberEpoch,
                previousMemberEpoch: v.previousMemberEpoch,
                state: v.state,
                assignedPartitions: v.assignedPartitions.map(assignedTopicPartitionsOut),
                partitionsPendingRevocation: v.partitionsPendingRevocation.map(assignedTopicPartitionsOut),
              }),
      };
    }
    case 'consumer-group-regular-expression':
      return {
        key: encodeVersioned(regularExpressionKeySchema, ConsumerGroupRecordType.RegularExpression, { groupId: record.group, regularExpression: record.regularExpression }),
        value:
          record.value === null
            ? null
            : encodeVersioned(regularExpressionValueSchema, V, {
                topics: [...record.value.topics],
                version: BigInt(record.value.version),
                timestamp: BigInt(record.value.timestamp),
              }),
      };
  }
}

function topicIdPartitions(t: TopicIdPartitions): { topicId: string; partitions: number[] } {
  return { topicId: t.topicId, partitions: [...t.partitions] };
}

function assignedTopicPartitionsOut(t: AssignedTopicPartitions): { topicId: string; partitions: number[]; assignmentEpochs: number[] | null } {
  return { topicId: t.topicId, partitions: [...t.partitions], assignmentEpochs: t.assignmentEpochs === null ? null : [...t.assignmentEpochs] };
}

/**
 * The consumer-group record of a key whose record type (its int16) is
 * `type`, or undefined when the type is not a consumer-group record's.
 * Throws ProtocolError for bytes that do not decode and for a value version
 * Kafka does not have. The bytes may lie in a reused read buffer: what is
 * kept is copied.
 */
export function parseConsumerGroupRecord(type: number, key: Buffer, value: Buffer | null): ConsumerGroupRecord | undefined {
  switch (type) {
    case ConsumerGroupRecordType.Metadata: {
      const k = decodeVersioned(metadataKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-metadata', group: k.groupId, value: null };
      const v = decodeVersioned(metadataValueSchema, expectValueVersion(value, 'consumer group metadata', CONSUMER_GROUP_VALUE_VERSION), value);
      return { type: 'consumer-group-metadata', group: k.groupId, value: { epoch: v.epoch, metadataHash: v.metadataHash } };
    }
    case ConsumerGroupRecordType.PartitionMetadata: {
      const k = decodeVersioned(partitionMetadataKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-partition-metadata', group: k.groupId, value: null };
      const v = decodeVersioned(partitionMetadataValueSchema, expectValueVersion(value, 'consumer group partition metadata', CONSUMER_GROUP_VALUE_VERSION), value);
      return { type: 'consumer-group-partition-metadata', group: k.groupId, value: { topics: v.topics } };
    }
    case ConsumerGroupRecordType.MemberMetadata: {
      const k = decodeVersioned(memberMetadataKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-member-metadata', group: k.groupId, memberId: k.memberId, value: null };
      const v = decodeVersioned(memberMetadataValueSchema, expectValueVersion(value, 'consumer group member metadata', CONSUMER_GROUP_VALUE_VERSION), value);
      const classic = v.classicMemberMetadata;
      return {
        type: 'consumer-group-member-metadata',
        group: k.groupId,
        memberId: k.memberId,
        value: {
          instanceId: v.instanceId,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: v.subscribedTopicNames,
          subscribedTopicRegex: v.subscribedTopicRegex,
          rebalanceTimeoutMs: v.rebalanceTimeoutMs,
          serverAssignor: v.serverAssignor,
          classicMemberMetadata:
            classic === null
              ? null
              : {
                  sessionTimeoutMs: classic.sessionTimeoutMs,
                  // copies: the record buffer may be a pooled read buffer
                  supportedProtocols: classic.supportedProtocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
                },
        },
      };
    }
    case ConsumerGroupRecordType.TargetAssignmentMetadata: {
      const k = decodeVersioned(targetAssignmentMetadataKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-target-assignment-metadata', group: k.groupId, value: null };
      const v = decodeVersioned(targetAssignmentMetadataValueSchema, expectValueVersion(value, 'consumer group target assignment metadata', CONSUMER_GROUP_VALUE_VERSION), value);
      return {
        type: 'consumer-group-target-assignment-metadata',
        group: k.groupId,
        value: { assignmentEpoch: v.assignmentEpoch, assignmentTimestamp: Number(v.assignmentTimestamp) },
      };
    }
    case ConsumerGroupRecordType.TargetAssignmentMember: {
      const k = decodeVersioned(targetAssignmentMemberKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-target-assignment-member', group: k.groupId, memberId: k.memberId, value: null };
      const v = decodeVersioned(targetAssignmentMemberValueSchema, expectValueVersion(value, 'consumer group target assignment member', CONSUMER_GROUP_VALUE_VERSION), value);
      return { type: 'consumer-group-target-assignment-member', group: k.groupId, memberId: k.memberId, value: { topicPartitions: v.topicPartitions } };
    }
    case ConsumerGroupRecordType.CurrentMemberAssignment: {
      const k = decodeVersioned(currentMemberAssignmentKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-current-member-assignment', group: k.groupId, memberId: k.memberId, value: null };
      const v = decodeVersioned(currentMemberAssignmentValueSchema, expectValueVersion(value, 'consumer group current member assignment', CONSUMER_GROUP_VALUE_VERSION), value);
      return {
        type: 'consumer-group-current-member-assignment',
        group: k.groupId,
        memberId: k.memberId,
        value: {
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: v.state,
          assignedPartitions: v.assignedPartitions,
          partitionsPendingRevocation: v.partitionsPendingRevocation,
        },
      };
    }
    case ConsumerGroupRecordType.RegularExpression: {
      const k = decodeVersioned(regularExpressionKeySchema, type, key);
      if (value === null) return { type: 'consumer-group-regular-expression', group: k.groupId, regularExpression: k.regularExpression, value: null };
      const v = decodeVersioned(regularExpressionValueSchema, expectValueVersion(value, 'consumer group regular expression', CONSUMER_GROUP_VALUE_VERSION), value);
      return {
        type: 'consumer-group-regular-expression',
        group: k.groupId,
        regularExpression: k.regularExpression,
        value: { topics: v.topics, version: Number(v.version), timestamp: Number(v.timestamp) },
      };
    }
    default:
      return undefined;
  }
}
