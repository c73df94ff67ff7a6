/**
 * Records of the internal topic `__consumer_offsets`, byte for byte as Kafka
 * 3.9 writes them (notes/consumer-offsets-records.md), so that tools reading
 * the topic (kafka-dump-log --offsets-decoder, Burrow) understand ours.
 *
 * Every key and value is a big-endian int16 version followed by the struct of
 * that version, encoded with the ordinary codec. The key version says what
 * the record is: 0 or 1 an offset commit, 2 group metadata; higher versions
 * are reported as `unknown` here (those of consumer groups are read by
 * consumer-group-records.ts). A null value is a tombstone.
 *
 * The structs are "data" messages, not APIs: they use the schema language
 * with apiKey -1 (the codec ignores apiKey and kind).
 */
import { ProtocolError, message } from '../../protocol/index.js';
import { decodeVersioned, encodeVersioned, versionOf } from '../coordinator/versioned-record.js';

const offsetCommitKeySchema = message({
  name: 'OffsetCommitKey',
  apiKey: -1,
  kind: 'response',
  valid: '0-1',
  flexible: 'none',
  fields: [
    { name: 'group', type: 'string', versions: '0+' },
    { name: 'topic', type: 'string', versions: '0+' },
    { name: 'partition', type: 'int32', versions: '0+' },
  ],
});

const groupMetadataKeySchema = message({
  name: 'GroupMetadataKey',
  apiKey: -1,
  kind: 'response',
  valid: '2',
  flexible: 'none',
  fields: [{ name: 'group', type: 'string', versions: '2' }],
});

const offsetCommitValueSchema = message({
  name: 'OffsetCommitValue',
  apiKey: -1,
  kind: 'response',
  valid: '0-4',
  flexible: '4+',
  fields: [
    { name: 'offset', type: 'int64', versions: '0+' },
    { name: 'leaderEpoch', type: 'int32', versions: '3+', default: -1 },
    { name: 'metadata', type: 'string', versions: '0+' },
    { name: 'commitTimestamp', type: 'int64', versions: '0+' },
    { name: 'expireTimestamp', type: 'int64', versions: '1', default: -1n, ignorable: true },
  ],
});

const groupMetadataValueSchema = message({
  name: 'GroupMetadataValue',
  apiKey: -1,
  kind: 'response',
  valid: '0-4',
  flexible: '4+',
  fields: [
    { name: 'protocolType', type: 'string', versions: '0+' },
    { name: 'generation', type: 'int32', versions: '0+' },
    { name: 'protocol', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'leader', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'currentStateTimestamp', type: 'int64', versions: '2+', default: -1n, ignorable: true },
    { name: 'members', type: '[]MemberMetadata', versions: '0+', fields: [
      { name: 'memberId', type: 'string', versions: '0+' },
      { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: null, ignorable: true },
      { name: 'clientId', type: 'string', versions: '0+' },
      { name: 'clientHost', type: 'string', versions: '0+' },
      { name: 'rebalanceTimeout', type: 'int32', versions: '1+', ignorable: true },
      { name: 'sessionTimeout', type: 'int32', versions: '0+' },
      { name: 'subscription', type: 'bytes', versions: '0+' },
      { name: 'assignment', type: 'bytes', versions: '0+' },
    ] },
  ],
});

/** The value version Kafka 3.9 writes for offset commits without an explicit expiry. */
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** The value version Kafka 3.9 writes when OffsetCommit v1-4 asked for an explicit expire time. */
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;
/** The group metadata value version Kafka 3.9 writes. */
export const GROUP_METADATA_VALUE_VERSION = 3;

export type RecordKey =
  | { readonly kind: 'offset'; readonly group: string; readonly topic: string; readonly partition: number }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'unknown'; readonly version: number };

export interface OffsetCommitValue {
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Only OffsetCommit v1-4 with an explicit retention set one; undefined otherwise. */
  readonly expireTimestamp: number | undefined;
}

export interface GroupMemberValue {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly subscription: Buffer;
  readonly assignment: Buffer;
}

export interface GroupMetadataValue {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  /** -1 when the record predates the field (v0-1). */
  readonly currentStateTimestamp: number;
  readonly members: readonly GroupMemberValue[];
}




export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return encodeVersioned(offsetCommitKeySchema, 1, { group, topic, partition });
}

export function groupMetadataKey(group: string): Buffer {
  return encodeVersioned(groupMetadataKeySchema, 2, { group });
}

/** Parses a record key; versions this broker does not know come back as `unknown`. */
export function parseRecordKey(buf: Buffer): RecordKey {
  const version = versionOf(buf, 'record key');
  if (version === 0 || version === 1) {
    const k = decodeVersioned(offsetCommitKeySchema, version, buf);
    return { kind: 'offset', group: k.group, topic: k.topic, partition: k.partition };
  }
  if (version === 2) {
    const k = decodeVersioned(groupMetadataKeySchema, version, buf);
    return { kind: 'group', group: k.group };
  }
  return { kind: 'unknown', version };
}

/** Encodes an offset commit value: v1 when an explicit expire time is given (as Kafka), else v3. */
export function offsetCommitValue(v: OffsetCommitValue): Buffer {
  const version = v.expireTimestamp === undefined ? OFFSET_COMMIT_VALUE_VERSION : OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY;
  return encodeOffsetCommitValue(v, version);
}

/** Encodes an offset commit value at a given version (0-4). */
export function encodeOffsetCommitValue(v: OffsetCommitValue, version: number): Buffer {
  return encodeVersioned(offsetCommitValueSchema, version, {
    offset: BigInt(v.offset),
    leaderEpoch: v.leaderEpoch,
    metadata: v.metadata,
    commitTimestamp: BigInt(v.commitTimestamp),
    expireTimestamp: BigInt(v.expireTimestamp ?? -1),
  });
}

export function parseOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const version = versionOf(buf, 'offset commit value');
  if (version < 0 || version > 4) throw new ProtocolError(`unknown offset commit value version ${version}`);
  const v = decodeVersioned(offsetCommitValueSchema, version, buf);
  return {
    offset: Number(v.offset),
    leaderEpoch: v.leaderEpoch,
    metadata: v.metadata,
    commitTimestamp: Number(v.commitTimestamp),
    expireTimestamp: version === 1 ? Number(v.expireTimestamp) : undefined,
  };
}

/** Encodes group metadata at Kafka 3.9's version (3) unless told otherwise (0-4). */
export function groupMetadataValue(v: GroupMetadataValue, version = GROUP_METADATA_VALUE_VERSION): Buffer {
  return encodeVersioned(groupMetadataValueSchema, version, {
    protocolType: v.protocolType,
    generation: v.generation,
    protocol: v.protocol,
    leader: v.leader,
    currentStateTimestamp: BigInt(v.currentStateTimestamp),
    members: v.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: m.subscription,
      assignment: m.assignment,
    })),
  });
}

export function parseGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const version = versionOf(buf, 'group metadata value');
  if (version < 0 || version > 4) throw new ProtocolError(`unknown group metadata value version ${version}`);
  const v = decodeVersioned(groupMetadataValueSchema, version, buf);
  return {
    protocolType: v.protocolType,
    generation: v.generation,
    protocol: v.protocol,
    leader: v.leader,
    currentStateTimestamp: Number(v.currentStateTimestamp),
    members: v.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      // v0 has no rebalance timeout: Kafka takes the session timeout
      rebalanceTimeoutMs: version === 0 ? m.sessionTimeout : m.rebalanceTimeout,
      sessionTimeoutMs: m.sessionTimeout,
      // copies: the record buffer may be a pooled read buffer
      subscription: Buffer.from(m.subscription),
      assignment: Buffer.from(m.assignment),
    })),
  };
}
