/**
 * The consumer-group records of `__consumer_offsets` (KIP-848) byte for byte:
 * every key (int16 record type 3-8 or 16, then the non-flexible key struct)
 * and every value (int16 version 0, then the flexible struct with its tagged
 * fields) against layouts assembled field by field from Kafka 4.3's
 * ConsumerGroup*Key/Value schemas; tombstones; values of versions Kafka does
 * not have refused; record types of share and streams groups left to others;
 * and the group loader keeping these records apart from the classic groups.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/index.js';
import {
  ConsumerGroupRecordType,
  MemberState,
  parseConsumerGroupRecord,
  serializeConsumerGroupRecord,
  type ConsumerGroupRecord,
} from '../../src/group/consumer-group-records.js';
import { GroupLoader } from '../../src/group/group-loader.js';
import { groupRecordSerde, offsetCommitRecord, type GroupCoordinatorRecord } from '../../src/group/group-records.js';

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

/** Serialized by the group coordinator's serde, and read back by it. */
function roundTrip(record: ConsumerGroupRecord): { key: Buffer; value: Buffer | null } {
  const bytes = groupRecordSerde.serialize(record);
  expect(groupRecordSerde.deserialize(bytes)).toEqual(record);
  return { key: bytes.key, value: bytes.value };
}

describe('consumer group metadata (record type 3)', () => {
  it('key: type 3, group; value v0: epoch, and the metadata hash as tag 0 when set', () => {
    const plain = roundTrip({ type: 'consumer-group-metadata', group: 'grp', value: { epoch: 7, metadataHash: 0n } });
    expect(plain.key).toEqual(cat(i16(3), str('grp')));
    expect(plain.value).toEqual(cat(i16(0), i32(7), NO_TAGS));
    const hashed = roundTrip({ type: 'consumer-group-metadata', group: 'grp', value: { epoch: 8, metadataHash: -0x0123456789abcdefn } });
    expect(hashed.value).toEqual(cat(i16(0), i32(8), uvar(1), uvar(0), uvar(8), i64(-0x0123456789abcdefn)));
  });

  it('skips tagged fields of a newer Kafka', () => {
    const newer = cat(i16(0), i32(9), uvar(2), uvar(0), uvar(8), i64(42), uvar(1), uvar(8), i64(1_700_000_000_000));
    expect(parseConsumerGroupRecord(3, cat(i16(3), str('g')), newer)).toEqual({ type: 'consumer-group-metadata', group: 'g', value: { epoch: 9, metadataHash: 42n } });
  });
});

describe('consumer group partition metadata (record type 4)', () => {
  it('key: type 4, group; value v0: topics with id, name, partition count and racks per partition', () => {
    const { key, value } = roundTrip({
      type: 'consumer-group-partition-metadata',
      group: 'grp',
      value: {
        topics: [
          { topicId: TOPIC_A, topicName: 'orders', numPartitions: 3, partitionMetadata: [{ partition: 0, racks: ['r1', 'r2'] }] },
          { topicId: TOPIC_B, topicName: 'pay', numPartitions: 1, partitionMetadata: [] },
        ],
      },
    });
    expect(key).toEqual(cat(i16(4), str('grp')));
    expect(value).toEqual(
      cat(
        i16(0),
        carr(2),
        uuid(TOPIC_A), cstr('orders'), i32(3), carr(1), i32(0), carr(2), cstr('r1'), cstr('r2'), NO_TAGS, NO_TAGS,
        uuid(TOPIC_B), cstr('pay'), i32(1), carr(0), NO_TAGS,
        NO_TAGS,
      ),
    );
  });
});

describe('consumer group member metadata (record type 5)', () => {
  const member = {
    instanceId: null,
    rackId: 'rack-a',
    clientId: 'rdkafka',
    clientHost: '/10.0.0.1',
    subscribedTopicNames: ['orders', 'pay'],
    subscribedTopicRegex: null,
    rebalanceTimeoutMs: 300_000,
    serverAssignor: 'uniform',
    classicMemberMetadata: null,
  };
  const head = cat(i16(0), uvar(0), cstr('rack-a'), cstr('rdkafka'), cstr('/10.0.0.1'), carr(2), cstr('orders'), cstr('pay'), uvar(0), i32(300_000), cstr('uniform'));

  it('key: type 5, group, member; value v0: instance, rack, client, host, topics, regex, rebalance timeout, assignor', () => {
    const { key, value } = roundTrip({ type: 'consumer-group-member-metadata', group: 'grp', memberId: 'm-1', value: member });
    expect(key).toEqual(cat(i16(5), str('grp'), str('m-1')));
    expect(value).toEqual(cat(head, NO_TAGS));
  });

  it('a member that joined with the classic protocol carries its protocols as tag 0: a nullable struct, present marker 1 first', () => {
    const metadata = Buffer.from([0, 3, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 0]);
    const classic = { sessionTimeoutMs: 45_000, supportedProtocols: [{ name: 'range', metadata }] };
    const { value } = roundTrip({ type: 'consumer-group-member-metadata', group: 'grp', memberId: 'm-1', value: { ...member, classicMemberMetadata: classic } });
    const struct = cat(uvar(1), i32(45_000), carr(1), cstr('range'), uvar(metadata.length + 1), metadata, NO_TAGS, NO_TAGS);
    expect(value).toEqual(cat(head, uvar(1), uvar(0), uvar(struct.length), struct));
  });

  it('reads a regex subscription and a static member', () => {
    const bytes = cat(i16(0), cstr('inst-1'), uvar(0), cstr('c'), cstr('h'), carr(0), cstr('orders-.*'), i32(-1), uvar(0), NO_TAGS);
    expect(parseConsumerGroupRecord(5, cat(i16(5), str('g'), str('m')), bytes)).toEqual({
      type: 'consumer-group-member-metadata',
      group: 'g',
      memberId: 'm',
      value: { instanceId: 'inst-1', rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: [], subscribedTopicRegex: 'orders-.*', rebalanceTimeoutMs: -1, serverAssignor: null, classicMemberMetadata: null },
    });
  });
});

describe('consumer group target assignment (record types 6 and 7)', () => {
  it('metadata key: type 6, group; value v0: assignment epoch, and the assignment time as tag 0 when known', () => {
    const plain = roundTrip({ type: 'consumer-group-target-assignment-metadata', group: 'grp', value: { assignmentEpoch: 5, assignmentTimestamp: 0 } });
    expect(plain.key).toEqual(cat(i16(6), str('grp')));
    expect(plain.value).toEqual(cat(i16(0), i32(5), NO_TAGS));
    const timed = roundTrip({ type: 'consumer-group-target-assignment-metadata', group: 'grp', value: { assignmentEpoch: 6, assignmentTimestamp: 1_700_000_000_123 } });
    expect(timed.value).toEqual(cat(i16(0), i32(6), uvar(1), uvar(0), uvar(8), i64(1_700_000_000_123)));
  });

  it('member key: type 7, group, member; value v0: the target partitions by topic id', () => {
    const { key, value } = roundTrip({
      type: 'consumer-group-target-assignment-member',
      group: 'grp',
      memberId: 'm-1',
      value: { topicPartitions: [{ topicId: TOPIC_A, partitions: [0, 2] }, { topicId: TOPIC_B, partitions: [] }] },
    });
    expect(key).toEqual(cat(i16(7), str('grp'), str('m-1')));
    expect(value).toEqual(cat(i16(0), carr(2), uuid(TOPIC_A), carr(2), i32(0), i32(2), NO_TAGS, uuid(TOPIC_B), carr(0), NO_TAGS, NO_TAGS));
  });
});

describe('consumer group current member assignment (record type 8)', () => {
  it('key: type 8, group, member; value v0: epochs, state, assigned and pending partitions, assignment epochs as tag 0 of a topic', () => {
    const { key, value } = roundTrip({
      type: 'consumer-group-current-member-assignment',
      group: 'grp',
      memberId: 'm-1',
      value: {
        memberEpoch: 12,
        previousMemberEpoch: 11,
        state: MemberState.UnrevokedPartitions,
        assignedPartitions: [{ topicId: TOPIC_A, partitions: [1, 3], assignmentEpochs: [10, 12] }],
        partitionsPendingRevocation: [{ topicId: TOPIC_B, partitions: [0], assignmentEpochs: null }],
      },
    });
    expect(key).toEqual(cat(i16(8), str('grp'), str('m-1')));
    const epochs = cat(carr(2), i32(10), i32(12));
    expect(value).toEqual(
      cat(
        i16(0),
        i32(12),
        i32(11),
        i8(1),
        carr(1), uuid(TOPIC_A), carr(2), i32(1), i32(3), uvar(1), uvar(0), uvar(epochs.length), epochs,
        carr(1), uuid(TOPIC_B), carr(1), i32(0), NO_TAGS,
        NO_TAGS,
      ),
    );
  });

  it('names Kafka\'s member states by their values', () => {
    expect(MemberState).toEqual({ Stable: 0, UnrevokedPartitions: 1, UnreleasedPartitions: 2, Unknown: 127 });
  });
});

describe('consumer group regular expression (record type 16)', () => {
  it('key: type 16, group, expression; value v0: matched topics, metadata version, resolution time', () => {
    const { key, value } = roundTrip({
      type: 'consumer-group-regular-expression',
      group: 'grp',
      regularExpression: 'orders-.*',
      value: { topics: ['orders-eu', 'orders-us'], version: 4711, timestamp: 1_700_000_000_000 },
    });
    expect(key).toEqual(cat(i16(16), str('grp'), str('orders-.*')));
    expect(value).toEqual(cat(i16(0), carr(2), cstr('orders-eu'), cstr('orders-us'), i64(4711), i64(1_700_000_000_000), NO_TAGS));
  });
});

describe('tombstones, record types and versions', () => {
  const tombstones: ConsumerGroupRecord[] = [
    { type: 'consumer-group-metadata', group: 'g', value: null },
    { type: 'consumer-group-partition-metadata', group: 'g', value: null },
    { type: 'consumer-group-member-metadata', group: 'g', memberId: 'm', value: null },
    { type: 'consumer-group-target-assignment-metadata', group: 'g', value: null },
    { type: 'consumer-group-target-assignment-member', group: 'g', memberId: 'm', value: null },
    { type: 'consumer-group-current-member-assignment', group: 'g', memberId: 'm', value: null },
    { type: 'consumer-group-regular-expression', group: 'g', regularExpression: 'r.*', value: null },
  ];

  it('writes a tombstone as its key and a null value, and reads it back', () => {
    const types = [3, 4, 5, 6, 7, 8, 16];
    tombstones.forEach((record, i) => {
      const { key, value } = roundTrip(record);
      expect(value).toBeNull();
      expect(key.readInt16BE(0)).toBe(types[i]);
    });
    expect(Object.values(ConsumerGroupRecordType)).toEqual(types);
  });

  it('refuses values of a version Kafka does not have (every version but 0), and values shorter than their version', () => {
    const keys: Array<[number, Buffer]> = [
      [3, cat(i16(3), str('g'))],
      [4, cat(i16(4), str('g'))],
      [5, cat(i16(5), str('g'), str('m'))],
      [6, cat(i16(6), str('g'))],
      [7, cat(i16(7), str('g'), str('m'))],
      [8, cat(i16(8), str('g'), str('m'))],
      [16, cat(i16(16), str('g'), str('r'))],
    ];
    for (const [type, key] of keys) {
      for (const version of [1, 2, -1]) {
        expect(() => parseConsumerGroupRecord(type, key, cat(i16(version), i32(0), NO_TAGS)), `type ${type} v${version}`).toThrow(ProtocolError);
        expect(() => groupRecordSerde.deserialize({ key, value: cat(i16(version), i32(0), NO_TAGS) })).toThrow(ProtocolError);
      }
      expect(() => parseConsumerGroupRecord(type, key, Buffer.from([0]))).toThrow(ProtocolError);
    }
  });

  it('refuses truncated keys and values', () => {
    expect(() => parseConsumerGroupRecord(5, cat(i16(5), str('g')), null)).toThrow(ProtocolError);
    expect(() => parseConsumerGroupRecord(3, cat(i16(3), str('g')), cat(i16(0), i16(1)))).toThrow(ProtocolError);
    expect(() => parseConsumerGroupRecord(7, cat(i16(7), str('g'), str('m')), cat(i16(0), carr(1), uuid(TOPIC_A)))).toThrow(ProtocolError);
  });

  it('leaves record types of share groups (9-15) and streams groups (17+) to others: the serde reports Kafka 4.0\'s type 9 and streams groups\' unknown', () => {
    for (const type of [9, 10, 11, 12, 13, 14, 15, 17, 20, 100]) {
      const key = cat(i16(type), str('g'), str('m'));
      expect(parseConsumerGroupRecord(type, key, cat(i16(0), NO_TAGS))).toBeUndefined();
      // share groups' types 10-15 are read by share-group-records.ts (share-group-records.test.ts)
      if (type < 10 || type > 15) expect(groupRecordSerde.deserialize({ key, value: cat(i16(0), NO_TAGS) })).toBeUndefined();
    }
  });

  it('serializes the same bytes for a record whatever produced it (serde and module agree)', () => {
    const record: ConsumerGroupRecord = { type: 'consumer-group-metadata', group: 'g', value: { epoch: 1, metadataHash: 0n } };
    expect(groupRecordSerde.serialize(record)).toEqual(serializeConsumerGroupRecord(record));
  });
});

describe('GroupLoader with consumer-group records', () => {
  const offset = { offset: 10, leaderEpoch: -1, metadata: '', commitTimestamp: 1_700_000_000_000, expireTimestamp: undefined };
  const classicMetadata: GroupCoordinatorRecord = {
    type: 'group-metadata',
    group: 'classic',
    value: { protocolType: 'consumer', generation: 3, protocol: 'range', leader: null, currentStateTimestamp: -1, members: [] },
  };
  const consumer: ConsumerGroupRecord[] = [
    { type: 'consumer-group-member-metadata', group: 'modern', memberId: 'm', value: { instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: ['t'], subscribedTopicRegex: null, rebalanceTimeoutMs: 1000, serverAssignor: null, classicMemberMetadata: null } },
    { type: 'consumer-group-metadata', group: 'modern', value: { epoch: 1, metadataHash: 0n } },
    { type: 'consumer-group-target-assignment-member', group: 'modern', memberId: 'm', value: { topicPartitions: [{ topicId: TOPIC_A, partitions: [0] }] } },
    { type: 'consumer-group-target-assignment-metadata', group: 'modern', value: { assignmentEpoch: 1, assignmentTimestamp: 0 } },
    { type: 'consumer-group-current-member-assignment', group: 'modern', memberId: 'm', value: { memberEpoch: 1, previousMemberEpoch: 0, state: 0, assignedPartitions: [{ topicId: TOPIC_A, partitions: [0], assignmentEpochs: [1] }], partitionsPendingRevocation: [] } },
    { type: 'consumer-group-metadata', group: 'gone', value: null },
  ];

  it('keeps the consumer groups\' records apart in log order, and builds the classic groups as without them', () => {
    const classicOnly = new GroupLoader();
    const mixed = new GroupLoader();
    const classic: GroupCoordinatorRecord[] = [classicMetadata, offsetCommitRecord('classic', 't', 0, offset), offsetCommitRecord('modern', 't', 0, offset)];
    classic.forEach((r, i) => classicOnly.replay(r, i));
    let logOffset = 0;
    for (let i = 0; i < Math.max(classic.length, consumer.length); i++) {
      if (consumer[i]) mixed.replay(consumer[i]!, logOffset++);
      if (classic[i]) mixed.replay(classic[i]!, logOffset++);
    }
    const describe = (l: GroupLoader): unknown =>
      l.groups(1_000).map((g) => ({ id: g.groupId, empty: g.is('Empty'), generation: g.generationId, offsets: g.hasOffsets() }));
    expect(describe(mixed)).toEqual(describe(classicOnly));
    expect(describe(mixed)).toEqual([
      { id: 'classic', empty: true, generation: 3, offsets: true },
      { id: 'modern', empty: true, generation: 0, offsets: true },
    ]);
    expect(mixed.consumerGroupRecords().map((r) => r.record)).toEqual(consumer);
    expect(mixed.consumerGroupRecords().map((r) => r.offset)).toEqual([0, 2, 4, 6, 7, 8]);
    expect(classicOnly.consumerGroupRecords()).toEqual([]);
  });

  it('replays records read from their bytes: a partition holding both kinds loads through the serde', () => {
    const loader = new GroupLoader();
    const records: GroupCoordinatorRecord[] = [...consumer, classicMetadata];
    records.forEach((r, i) => {
      const decoded = groupRecordSerde.deserialize(groupRecordSerde.serialize(r));
      expect(decoded).toBeDefined();
      loader.replay(decoded!, i);
    });
    expect(loader.consumerGroupRecords().map((r) => r.record)).toEqual(consumer);
    expect(loader.groups(1_000).map((g) => g.groupId)).toEqual(['classic']);
  });
});
