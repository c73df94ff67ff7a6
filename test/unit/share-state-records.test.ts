/**
 * The share coordinator's records of `__share_group_state` (KIP-932) byte for
 * byte: a ShareSnapshot and a ShareUpdate against key and value bytes
 * assembled field by field from the schema (int16 record type 0 or 1, then
 * group id, 16-byte topic id and partition; int16 version 0, then the flexible
 * value with deliveryCompleteCount as tag 0 when known); round trips,
 * tombstones, versions Kafka does not have refused, other record types left
 * alone.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/index.js';
import {
  DeliveryState,
  parseShareStateRecord,
  serializeShareStateRecord,
  UNKNOWN_DELIVERY_COMPLETE_COUNT,
  type ShareStateRecord,
} from '../../src/share/share-state-records.js';

// ---- a tiny independent assembler for the expected bytes
const i8 = (v: number): Buffer => Buffer.from([v & 0xff]);
const i16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const i32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const i64 = (v: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};
const str = (s: string): Buffer => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
const uvar = (n: number): Buffer => Buffer.from([n]); // every length and tag here is < 128
const carr = (n: number): Buffer => uvar(n + 1);
const NO_TAGS = uvar(0);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

const TOPIC = 'ASNFZ4mrze_-3LqYdlQyEA';
const uuid = (b64: string): Buffer => Buffer.from(b64, 'base64url');
const batch = (first: number, last: number, state: number, count: number): Buffer => cat(i64(first), i64(last), i8(state), i16(count), NO_TAGS);

function roundTrip(record: ShareStateRecord): { key: Buffer; value: Buffer | null } {
  const bytes = serializeShareStateRecord(record);
  expect(parseShareStateRecord(bytes.key, bytes.value)).toEqual(record);
  return bytes;
}

describe('ShareSnapshot (record type 0)', () => {
  it('key: type 0, group, topic id, partition; value v0: epochs, start offset, timestamps, state batches, delivery-complete count as tag 0', () => {
    const { key, value } = roundTrip({
      type: 'share-snapshot',
      group: 'sg',
      topicId: TOPIC,
      partition: 3,
      value: {
        snapshotEpoch: 2,
        stateEpoch: 1,
        leaderEpoch: 7,
        startOffset: 100,
        deliveryCompleteCount: 4,
        createTimestamp: 1_700_000_000_000,
        writeTimestamp: 1_700_000_005_000,
        stateBatches: [
          { firstOffset: 100, lastOffset: 104, deliveryState: DeliveryState.Available, deliveryCount: 1 },
          { firstOffset: 105, lastOffset: 108, deliveryState: DeliveryState.Acknowledged, deliveryCount: 2 },
        ],
      },
    });
    expect(key).toEqual(cat(i16(0), str('sg'), uuid(TOPIC), i32(3)));
    expect(value).toEqual(
      cat(
        i16(0),
        i32(2), i32(1), i32(7), i64(100), i64(1_700_000_000_000), i64(1_700_000_005_000),
        carr(2), batch(100, 104, 0, 1), batch(105, 108, 2, 2),
        uvar(1), uvar(0), uvar(4), i32(4),
      ),
    );
  });

  it('leaves the delivery-complete count off the wire when unknown (-1), and reads it back as -1', () => {
    const { value } = roundTrip({
      type: 'share-snapshot',
      group: 'g',
      topicId: TOPIC,
      partition: 0,
      value: { snapshotEpoch: 0, stateEpoch: 0, leaderEpoch: 0, startOffset: 0, deliveryCompleteCount: UNKNOWN_DELIVERY_COMPLETE_COUNT, createTimestamp: 5, writeTimestamp: 5, stateBatches: [] },
    });
    expect(value).toEqual(cat(i16(0), i32(0), i32(0), i32(0), i64(0), i64(5), i64(5), carr(0), NO_TAGS));
  });
});

describe('ShareUpdate (record type 1)', () => {
  it('key: type 1, group, topic id, partition; value v0: snapshot and leader epochs, start offset (-1 unchanged), changed batches', () => {
    const { key, value } = roundTrip({
      type: 'share-update',
      group: 'sg',
      topicId: TOPIC,
      partition: 3,
      value: {
        snapshotEpoch: 2,
        leaderEpoch: 7,
        startOffset: -1,
        deliveryCompleteCount: UNKNOWN_DELIVERY_COMPLETE_COUNT,
        stateBatches: [{ firstOffset: 109, lastOffset: 109, deliveryState: DeliveryState.Archived, deliveryCount: 5 }],
      },
    });
    expect(key).toEqual(cat(i16(1), str('sg'), uuid(TOPIC), i32(3)));
    expect(value).toEqual(cat(i16(0), i32(2), i32(7), i64(-1), carr(1), batch(109, 109, 4, 5), NO_TAGS));
  });

  it('carries a known delivery-complete count as tag 0, and skips tags of a newer Kafka', () => {
    const { value } = roundTrip({
      type: 'share-update',
      group: 'g',
      topicId: TOPIC,
      partition: 0,
      value: { snapshotEpoch: 1, leaderEpoch: 1, startOffset: 10, deliveryCompleteCount: 0, stateBatches: [] },
    });
    expect(value).toEqual(cat(i16(0), i32(1), i32(1), i64(10), carr(0), uvar(1), uvar(0), uvar(4), i32(0)));
    const newer = cat(i16(0), i32(1), i32(1), i64(10), carr(0), uvar(2), uvar(0), uvar(4), i32(9), uvar(3), uvar(1), i8(1));
    expect(parseShareStateRecord(cat(i16(1), str('g'), uuid(TOPIC), i32(0)), newer)).toMatchObject({ value: { deliveryCompleteCount: 9, startOffset: 10 } });
  });
});

describe('tombstones, versions and other record types', () => {
  it('a null value is the tombstone of a share-partition\'s state', () => {
    expect(roundTrip({ type: 'share-snapshot', group: 'g', topicId: TOPIC, partition: 1, value: null }).value).toBeNull();
    expect(roundTrip({ type: 'share-update', group: 'g', topicId: TOPIC, partition: 1, value: null }).value).toBeNull();
  });

  it('refuses a value version Kafka does not have, and keys or values too short for their int16', () => {
    const key = cat(i16(0), str('g'), uuid(TOPIC), i32(0));
    expect(() => parseShareStateRecord(key, cat(i16(1), i32(0)))).toThrow(ProtocolError);
    expect(() => parseShareStateRecord(key, Buffer.from([0]))).toThrow(ProtocolError);
    expect(() => parseShareStateRecord(Buffer.from([0]), null)).toThrow(ProtocolError);
  });

  it('leaves record types it does not know to others (undefined)', () => {
    expect(parseShareStateRecord(cat(i16(2), str('g'), uuid(TOPIC), i32(0)), null)).toBeUndefined();
  });
});
