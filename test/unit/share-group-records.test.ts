/**
 * The share-group records of `__consumer_offsets` (KIP-932) byte for byte:
 * one record of each type 10-15 against key and value bytes assembled field
 * by field from the schema (int16 record type then the non-flexible key
 * struct; int16 version 0 then the flexible value struct with its tagged
 * fields); every record round-trips, tombstones included; values of versions
 * Kafka does not have are refused; other record types (and type 9, which
 * Kafka 4.1 removed) are left to others,
 * and the group coordinator's serde reads and writes share-group records.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/index.js';
import { groupRecordSerde } from '../../src/group/group-records.js';
import {
  isShareGroupRecord,
  parseShareGroupRecord,
  serializeShareGroupRecord,
  ShareGroupRecordType,
  type ShareGroupRecord,
} from '../../src/group/share-group-records.js';

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
/** int16-length string (keys are not flexible) */
const str = (s: string): Buffer => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
const uvar = (n: number): Buffer => Buffer.from([n]); // every length and tag here is < 128
/** compact string: uvarint length+1, then the bytes; null is 0 */
const cstr = (s: string | null): Buffer => (s === null ? uvar(0) : Buffer.concat([uvar(Buffer.byteLength(s) + 1), Buffer.from(s)]));
/** compact array header: uvarint count+1 */
const carr = (n: number): Buffer => uvar(n + 1);
const NO_TAGS = uvar(0);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

const TOPIC_A = 'ASNFZ4mrze_-3LqYdlQyEA';
const TOPIC_B = 'AAAAAAAAAAAAAAAAAAAAAQ';
const uuid = (b64: string): Buffer => Buffer.from(b64, 'base64url');

/** Serialized, then read back through the key's record type. */
function roundTrip(record: ShareGroupRecord): { key: Buffer; value: Buffer | null } {
  const bytes = serializeShareGroupRecord(record);
  expect(parseShareGroupRecord(bytes.key.readInt16BE(0), bytes.key, bytes.value)).toEqual(record);
  expect(isShareGroupRecord(record)).toBe(true);
  return bytes;
}

describe('share group member metadata (record type 10)', () => {
  it('key: type 10, group, member; value v0: rack (nullable), client id and host, subscribed topic names', () => {
    const { key, value } = roundTrip({
      type: 'share-group-member-metadata',
      group: 'sg',
      memberId: 'm1',
      value: { rackId: null, clientId: 'c', clientHost: '/127.0.0.1', subscribedTopicNames: ['orders', 'refunds'] },
    });
    expect(key).toEqual(cat(i16(10), str('sg'), str('m1')));
    expect(value).toEqual(cat(i16(0), cstr(null), cstr('c'), cstr('/127.0.0.1'), carr(2), cstr('orders'), cstr('refunds'), NO_TAGS));
  });
});

describe('share group metadata (record type 11)', () => {
  it('key: type 11, group; value v0: epoch, and the metadata hash as tag 0 when set', () => {
    const plain = roundTrip({ type: 'share-group-metadata', group: 'sg', value: { epoch: 3, metadataHash: 0n } });
    expect(plain.key).toEqual(cat(i16(11), str('sg')));
    expect(plain.value).toEqual(cat(i16(0), i32(3), NO_TAGS));
    const hashed = roundTrip({ type: 'share-group-metadata', group: 'sg', value: { epoch: 4, metadataHash: -5n } });
    expect(hashed.value).toEqual(cat(i16(0), i32(4), uvar(1), uvar(0), uvar(8), i64(-5n)));
  });

  it('skips tagged fields of a newer Kafka', () => {
    const newer = cat(i16(0), i32(9), uvar(1), uvar(5), uvar(4), i32(77));
    expect(parseShareGroupRecord(11, cat(i16(11), str('g')), newer)).toEqual({ type: 'share-group-metadata', group: 'g', value: { epoch: 9, metadataHash: 0n } });
  });
});

describe('share group target assignment (record types 12 and 13)', () => {
  it('metadata key: type 12, group; value v0: assignment epoch', () => {
    const { key, value } = roundTrip({ type: 'share-group-target-assignment-metadata', group: 'sg', value: { assignmentEpoch: 6 } });
    expect(key).toEqual(cat(i16(12), str('sg')));
    expect(value).toEqual(cat(i16(0), i32(6), NO_TAGS));
  });

  it('member key: type 13, group, member; value v0: the target partitions by topic id', () => {
    const { key, value } = roundTrip({
      type: 'share-group-target-assignment-member',
      group: 'sg',
      memberId: 'm1',
      value: { topicPartitions: [{ topicId: TOPIC_B, partitions: [0, 2] }] },
    });
    expect(key).toEqual(cat(i16(13), str('sg'), str('m1')));
    expect(value).toEqual(cat(i16(0), carr(1), uuid(TOPIC_B), carr(2), i32(0), i32(2), NO_TAGS, NO_TAGS));
  });
});

describe('share group current member assignment (record type 14)', () => {
  it('key: type 14, group, member; value v0: member epoch, previous epoch, state, assigned partitions', () => {
    const { key, value } = roundTrip({
      type: 'share-group-current-member-assignment',
      group: 'sg',
      memberId: 'm1',
      value: { memberEpoch: 5, previousMemberEpoch: 4, state: 0, assignedPartitions: [{ topicId: TOPIC_A, partitions: [1] }, { topicId: TOPIC_B, partitions: [] }] },
    });
    expect(key).toEqual(cat(i16(14), str('sg'), str('m1')));
    expect(value).toEqual(
      cat(i16(0), i32(5), i32(4), i8(0), carr(2), uuid(TOPIC_A), carr(1), i32(1), NO_TAGS, uuid(TOPIC_B), carr(0), NO_TAGS, NO_TAGS),
    );
  });
});

describe('share group state partition metadata (record type 15)', () => {
  it('key: type 15, group; value v0: initializing and initialized topics (partitions, when added), deleting topics', () => {
    const { key, value } = roundTrip({
      type: 'share-group-state-partition-metadata',
      group: 'sg',
      value: {
        initializingTopics: [{ topicId: TOPIC_B, topicName: 'new', partitions: [0], createTimestamp: 1_700_000_000_001 }],
        initializedTopics: [{ topicId: TOPIC_A, topicName: 'orders', partitions: [0, 1], createTimestamp: 1_700_000_000_000 }],
        deletingTopics: [{ topicId: TOPIC_B, topicName: 'gone' }],
      },
    });
    expect(key).toEqual(cat(i16(15), str('sg')));
    expect(value).toEqual(
      cat(
        i16(0),
        carr(1), uuid(TOPIC_B), cstr('new'), carr(1), i32(0), i64(1_700_000_000_001), NO_TAGS,
        carr(1), uuid(TOPIC_A), cstr('orders'), carr(2), i32(0), i32(1), i64(1_700_000_000_000), NO_TAGS,
        carr(1), uuid(TOPIC_B), cstr('gone'), NO_TAGS,
        NO_TAGS,
      ),
    );
  });
});

describe('tombstones, versions and other record types', () => {
  it('a null value is a tombstone of every record type', () => {
    const tombstones: ShareGroupRecord[] = [
      { type: 'share-group-member-metadata', group: 'g', memberId: 'm', value: null },
      { type: 'share-group-metadata', group: 'g', value: null },
      { type: 'share-group-target-assignment-metadata', group: 'g', value: null },
      { type: 'share-group-target-assignment-member', group: 'g', memberId: 'm', value: null },
      { type: 'share-group-current-member-assignment', group: 'g', memberId: 'm', value: null },
      { type: 'share-group-state-partition-metadata', group: 'g', value: null },
    ];
    const types = tombstones.map((r) => roundTrip(r).key.readInt16BE(0));
    expect(types).toEqual(Object.values(ShareGroupRecordType));
    for (const r of tombstones) expect(serializeShareGroupRecord(r).value).toBeNull();
  });

  it('refuses a value version Kafka does not have, and a value too short for its version', () => {
    const key = cat(i16(11), str('g'));
    expect(() => parseShareGroupRecord(11, key, cat(i16(1), i32(1), NO_TAGS))).toThrow(ProtocolError);
    expect(() => parseShareGroupRecord(11, key, Buffer.from([0]))).toThrow(ProtocolError);
  });

  it('leaves the classic, consumer and streams groups\' record types to others, and type 9 (Kafka 4.0\'s ShareGroupPartitionMetadata, removed in 4.1) unread', () => {
    for (const type of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17]) expect(parseShareGroupRecord(type, cat(i16(type), str('g')), null)).toBeUndefined();
  });

  it('the group coordinator\'s serde reads and writes share-group records with these bytes', () => {
    const record = { type: 'share-group-metadata', group: 'sg', value: { epoch: 1, metadataHash: 0n } } as const;
    const { key, value } = serializeShareGroupRecord(record);
    expect(groupRecordSerde.deserialize({ key, value })).toEqual(record);
    expect(groupRecordSerde.serialize(record)).toEqual({ key, value });
  });
});
