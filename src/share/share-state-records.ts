/**
 * The share coordinator's records in `__share_group_state` (KIP-932), as
 * Kafka 4.3 writes them, and their serde: the durable state of one
 * share-partition (group, topic id, partition), kept as a snapshot followed by
 * updates.
 *
 * A share-partition's state is its start offset (SPSO: every offset below it
 * is done), the state epoch (bumped when the state is re-initialized, e.g. by
 * AlterShareGroupOffsets), the leader epoch of the partition's leader that
 * last wrote it, and state batches: offset ranges [firstOffset, lastOffset]
 * at or past the start offset with their delivery state (0 available,
 * 2 acknowledged, 4 archived) and delivery count. Offsets past the last batch
 * have never been delivered.
 *
 *  type  record         key                           value (v0, flexible)
 *   0    ShareSnapshot  group, topic id, partition    snapshot epoch, state epoch, leader epoch, start offset,
 *                                                     create and write timestamps (4.1), the whole set of state
 *                                                     batches; tag 0 deliveryCompleteCount (4.2, KIP-1226)
 *   1    ShareUpdate    group, topic id, partition    snapshot epoch (of the snapshot it applies to), leader
 *                                                     epoch, start offset (-1: unchanged), the changed state
 *                                                     batches; tag 0 deliveryCompleteCount (4.2, KIP-1226)
 *
 * The state is the last snapshot with the updates after it merged in, batch
 * ranges of an update replacing those they overlap; the coordinator writes a
 * new snapshot every so many updates (share.coordinator.snapshot.update.
 * records.per.snapshot) so that loading stays short. deliveryCompleteCount
 * (the offsets at or past the start offset whose delivery is complete, for the
 * lag) is -1 when unknown, as written by Kafka 4.1. The snapshot epoch is an
 * int32 since Kafka 4.1 (Kafka 4.0's early access wrote a uint16 and no
 * timestamps: its values are not read right here, nor by Kafka 4.1+).
 *
 * Bytes as for the group coordinator's records: the key is a big-endian int16
 * record type followed by the non-flexible key struct (int16-length group id,
 * 16-byte topic id, int32 partition), the value an int16 version followed by
 * the flexible value struct; a null value is a tombstone (the state deleted).
 * A value of a version other than 0 is refused (ProtocolError), tagged fields
 * of a newer Kafka are skipped, and other record types are not ours
 * (undefined), as Kafka skips a record type it does not know. Topic ids are
 * 22-character base64url uuids, as everywhere in the codec.
 */
import { message, ProtocolError } from '../../protocol/index.js';
import { decodeVersioned, encodeVersioned, expectValueVersion } from '../coordinator/versioned-record.js';

/** Kafka's record types (the share coordinator's CoordinatorRecordType). */
export const ShareStateRecordType = {
  Snapshot: 0,
  Update: 1,
} as const;

/** The value version Kafka 4.3 writes (and the only one it reads) for both records. */
export const SHARE_STATE_VALUE_VERSION = 0;

/** The delivery state of a state batch (Kafka's RecordState as persisted). */
export const DeliveryState = {
  Available: 0,
  Acknowledged: 2,
  Archived: 4,
} as const;

/** deliveryCompleteCount when unknown (not written by the share-partition's leader). */
export const UNKNOWN_DELIVERY_COMPLETE_COUNT = -1;

// ---- schemas

function keySchema(name: string, type: number) {
  return message({
    name,
    apiKey: -1,
    kind: 'response',
    valid: String(type),
    flexible: 'none',
    fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partition', type: 'int32', versions: '0+' },
    ],
  });
}

const snapshotKeySchema = keySchema('ShareSnapshotKey', ShareStateRecordType.Snapshot);
const updateKeySchema = keySchema('ShareUpdateKey', ShareStateRecordType.Update);

const stateBatchFields = [
  { name: 'firstOffset', type: 'int64', versions: '0+' },
  { name: 'lastOffset', type: 'int64', versions: '0+' },
  { name: 'deliveryState', type: 'int8', versions: '0+' },
  { name: 'deliveryCount', type: 'int16', versions: '0+' },
] as const;

const snapshotValueSchema = message({
  name: 'ShareSnapshotValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'snapshotEpoch', type: 'int32', versions: '0+' },
    { name: 'stateEpoch', type: 'int32', versions: '0+' },
    { name: 'leaderEpoch', type: 'int32', versions: '0+' },
    { name: 'startOffset', type: 'int64', versions: '0+' },
    { name: 'deliveryCompleteCount', type: 'int32', versions: '0+', tag: 0, tagged: '0+', default: UNKNOWN_DELIVERY_COMPLETE_COUNT },
    { name: 'createTimestamp', type: 'int64', versions: '0+' },
    { name: 'writeTimestamp', type: 'int64', versions: '0+' },
    { name: 'stateBatches', type: '[]StateBatch', versions: '0+', fields: stateBatchFields },
  ],
});

const updateValueSchema = message({
  name: 'ShareUpdateValue',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'snapshotEpoch', type: 'int32', versions: '0+' },
    { name: 'leaderEpoch', type: 'int32', versions: '0+' },
    { name: 'startOffset', type: 'int64', versions: '0+' },
    { name: 'deliveryCompleteCount', type: 'int32', versions: '0+', tag: 0, tagged: '0+', default: UNKNOWN_DELIVERY_COMPLETE_COUNT },
    { name: 'stateBatches', type: '[]StateBatch', versions: '0+', fields: stateBatchFields },
  ],
});

// ---- values as the share coordinator knows them

/** An offset range of a share-partition with one delivery state and count. */
export interface StateBatch {
  readonly firstOffset: number;
  /** Inclusive. */
  readonly lastOffset: number;
  /** A DeliveryState value. */
  readonly deliveryState: number;
  readonly deliveryCount: number;
}

export interface ShareSnapshotValue {
  /** Counts the snapshots of this share-partition; updates name the one they apply to. */
  readonly snapshotEpoch: number;
  readonly stateEpoch: number;
  readonly leaderEpoch: number;
  readonly startOffset: number;
  /** -1 when unknown. */
  readonly deliveryCompleteCount: number;
  /** When the state was initialized (ms). */
  readonly createTimestamp: number;
  /** When this snapshot was written (ms). */
  readonly writeTimestamp: number;
  readonly stateBatches: readonly StateBatch[];
}

export interface ShareUpdateValue {
  readonly snapshotEpoch: number;
  readonly leaderEpoch: number;
  /** -1: the start offset is unchanged. */
  readonly startOffset: number;
  /** -1 when unknown. */
  readonly deliveryCompleteCount: number;
  /** The batches that changed; they replace the ranges they overlap. */
  readonly stateBatches: readonly StateBatch[];
}

/** The share-partition a record is about. */
export interface SharePartitionKey {
  readonly group: string;
  readonly topicId: string;
  readonly partition: number;
}

export interface ShareSnapshotRecord extends SharePartitionKey {
  readonly type: 'share-snapshot';
  readonly value: ShareSnapshotValue | null;
}

export interface ShareUpdateRecord extends SharePartitionKey {
  readonly type: 'share-update';
  readonly value: ShareUpdateValue | null;
}

/** A record of the share coordinator in `__share_group_state`. */
export type ShareStateRecord = ShareSnapshotRecord | ShareUpdateRecord;

// ---- bytes




function batchesOut(batches: readonly StateBatch[]): { firstOffset: bigint; lastOffset: bigint; deliveryState: number; deliveryCount: number }[] {
  return batches.map((b) => ({ firstOffset: BigInt(b.firstOffset), lastOffset: BigInt(b.lastOffset), deliveryState: b.deliveryState, deliveryCount: b.deliveryCount }));
}

function batchesIn(batches: readonly { firstOffset: bigint; lastOffset: bigint; deliveryState: number; deliveryCount: number }[]): StateBatch[] {
  return batches.map((b) => ({ firstOffset: Number(b.firstOffset), lastOffset: Number(b.lastOffset), deliveryState: b.deliveryState, deliveryCount: b.deliveryCount }));
}

/** Key and value bytes of a share-state record (value null: a tombstone). */
export function serializeShareStateRecord(record: ShareStateRecord): { key: Buffer; value: Buffer | null } {
  const V = SHARE_STATE_VALUE_VERSION;
  const key = { groupId: record.group, topicId: record.topicId, partition: record.partition };
  switch (record.type) {
    case 'share-snapshot': {
      const v = record.value;
      return {
        key: encodeVersioned(snapshotKeySchema, ShareStateRecordType.Snapshot, key),
        value:
          v === null
            ? null
            : encodeVersioned(snapshotValueSchema, V, {
                snapshotEpoch: v.snapshotEpoch,
                stateEpoch: v.stateEpoch,
                leaderEpoch: v.leaderEpoch,
                startOffset: BigInt(v.startOffset),
                deliveryCompleteCount: v.deliveryCompleteCount,
                createTimestamp: BigInt(v.createTimestamp),
                writeTimestamp: BigInt(v.writeTimestamp),
                stateBatches: batchesOut(v.stateBatches),
              }),
      };
    }
    case 'share-update': {
      const v = record.value;
      return {
        key: encodeVersioned(updateKeySchema, ShareStateRecordType.Update, key),
        value:
          v === null
            ? null
            : encodeVersioned(updateValueSchema, V, {
                snapshotEpoch: v.snapshotEpoch,
                leaderEpoch: v.leaderEpoch,
                startOffset: BigInt(v.startOffset),
                deliveryCompleteCount: v.deliveryCompleteCount,
                stateBatches: batchesOut(v.stateBatches),
              }),
      };
    }
  }
}

/**
 * The share-state record of a key, or undefined when its record type (the
 * key's int16) is not one of ours. Throws ProtocolError for bytes that do not
 * decode and for a value version Kafka does not have. Only strings and
 * numbers are kept, so the bytes may lie in a reused read buffer.
 */
export function parseShareStateRecord(key: Buffer, value: Buffer | null): ShareStateRecord | undefined {
  if (key.length < 2) throw new ProtocolError('share state record key shorter than its type');
  const type = key.readInt16BE(0);
  switch (type) {
    case ShareStateRecordType.Snapshot: {
      const k = decodeVersioned(snapshotKeySchema, type, key);
      const at = { group: k.groupId, topicId: k.topicId, partition: k.partition };
      if (value === null) return { type: 'share-snapshot', ...at, value: null };
      const v = decodeVersioned(snapshotValueSchema, expectValueVersion(value, 'share snapshot', SHARE_STATE_VALUE_VERSION), value);
      return {
        type: 'share-snapshot',
        ...at,
        value: {
          snapshotEpoch: v.snapshotEpoch,
          stateEpoch: v.stateEpoch,
          leaderEpoch: v.leaderEpoch,
          startOffset: Number(v.startOffset),
          deliveryCompleteCount: v.deliveryCompleteCount,
          createTimestamp: Number(v.createTimestamp),
          writeTimestamp: Number(v.writeTimestamp),
          stateBatches: batchesIn(v.stateBatches),
        },
      };
    }
    case ShareStateRecordType.Update: {
      const k = decodeVersioned(updateKeySchema, type, key);
      const at = { group: k.groupId, topicId: k.topicId, partition: k.partition };
      if (value === null) return { type: 'share-update', ...at, value: null };
      const v = decodeVersioned(updateValueSchema, expectValueVersion(value, 'share update', SHARE_STATE_VALUE_VERSION), value);
      return {
        type: 'share-update',
        ...at,
        value: {
          snapshotEpoch: v.snapshotEpoch,
          leaderEpoch: v.leaderEpoch,
          startOffset: Number(v.startOffset),
          deliveryCompleteCount: v.deliveryCompleteCount,
          stateBatches: batchesIn(v.stateBatches),
        },
      };
    }
    default:
      return undefined;
  }
}
