/**
 * The records of `__consumer_offsets` byte for byte: keys v0-v2 and values
 * v0-v4 against layouts assembled field by field from
 * notes/consumer-offsets-records.md (int16 version prefix, then the struct
 * with the ordinary primitives), and the group → partition mapping against
 * Java's String.hashCode.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocol/index.js';
import { groupPartition, javaStringHashCode } from '../../src/group/group-partition.js';
import {
  encodeOffsetCommitValue,
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  offsetCommitValue,
  parseGroupMetadataValue,
  parseOffsetCommitValue,
  parseRecordKey,
  type GroupMetadataValue,
} from '../../src/group/offsets-records.js';
import { subscribedTopics } from '../../src/group/consumer-protocol.js';

// ---- a tiny independent assembler for the expected bytes
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
const i64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};
const str = (s: string | null): Buffer => (s === null ? i16(-1) : Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]));
const bytes = (b: Buffer): Buffer => Buffer.concat([i32(b.length), b]);
const compactStr = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s) + 1]), Buffer.from(s)]);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

describe('__consumer_offsets keys', () => {
  it('writes offset commit keys as version 1: group, topic, partition', () => {
    expect(offsetCommitKey('grp', 'orders', 7)).toEqual(cat(i16(1), str('grp'), str('orders'), i32(7)));
  });

  it('writes group metadata keys as version 2: group', () => {
    expect(groupMetadataKey('grp')).toEqual(cat(i16(2), str('grp')));
  });

  it('reads offset commit keys of version 0 and 1 and group keys of version 2', () => {
    expect(parseRecordKey(cat(i16(0), str('g'), str('t'), i32(3)))).toEqual({ kind: 'offset', group: 'g', topic: 't', partition: 3 });
    expect(parseRecordKey(cat(i16(1), str('g'), str('t'), i32(4)))).toEqual({ kind: 'offset', group: 'g', topic: 't', partition: 4 });
    expect(parseRecordKey(cat(i16(2), str('g')))).toEqual({ kind: 'group', group: 'g' });
  });

  it('reports keys of the new consumer-group protocol (version 3+) as unknown', () => {
    expect(parseRecordKey(cat(i16(3), str('g')))).toEqual({ kind: 'unknown', version: 3 });
  });

  it('throws ProtocolError for truncated keys', () => {
    expect(() => parseRecordKey(Buffer.from([0]))).toThrow(ProtocolError);
    expect(() => parseRecordKey(cat(i16(1), str('g'), str('t')))).toThrow(ProtocolError);
  });
});

describe('offset commit values', () => {
  const value = { offset: 1234, leaderEpoch: 5, metadata: 'meta', commitTimestamp: 1_700_000_000_000, expireTimestamp: undefined };

  it('writes version 3 without an explicit expire time: offset, leader epoch, metadata, commit timestamp', () => {
    expect(offsetCommitValue(value)).toEqual(cat(i16(3), i64(1234), i32(5), str('meta'), i64(1_700_000_000_000)));
  });

  it('writes version 1 when an expire time was requested: offset, metadata, commit and expire timestamps', () => {
    expect(offsetCommitValue({ ...value, expireTimestamp: 1_700_000_900_000 })).toEqual(
      cat(i16(1), i64(1234), str('meta'), i64(1_700_000_000_000), i64(1_700_000_900_000)),
    );
  });

  it('has the layouts of versions 0, 2 and 4 (flexible: compact string, tagged fields)', () => {
    expect(encodeOffsetCommitValue(value, 0)).toEqual(cat(i16(0), i64(1234), str('meta'), i64(1_700_000_000_000)));
    expect(encodeOffsetCommitValue(value, 2)).toEqual(cat(i16(2), i64(1234), str('meta'), i64(1_700_000_000_000)));
    expect(encodeOffsetCommitValue(value, 4)).toEqual(cat(i16(4), i64(1234), i32(5), compactStr('meta'), i64(1_700_000_000_000), Buffer.from([0])));
  });

  it('reads every version back, the expire time only from version 1 and leader epoch -1 before version 3', () => {
    expect(parseOffsetCommitValue(cat(i16(0), i64(9), str(''), i64(100)))).toEqual({ offset: 9, leaderEpoch: -1, metadata: '', commitTimestamp: 100, expireTimestamp: undefined });
    expect(parseOffsetCommitValue(cat(i16(1), i64(9), str('m'), i64(100), i64(200)))).toEqual({ offset: 9, leaderEpoch: -1, metadata: 'm', commitTimestamp: 100, expireTimestamp: 200 });
    for (const v of [2, 3, 4]) {
      const parsed = parseOffsetCommitValue(encodeOffsetCommitValue(value, v));
      expect(parsed).toEqual({ ...value, leaderEpoch: v >= 3 ? 5 : -1 });
    }
  });

  it('rejects unknown value versions', () => {
    expect(() => parseOffsetCommitValue(cat(i16(5), i64(1)))).toThrow(ProtocolError);
  });
});

describe('group metadata values', () => {
  const group: GroupMetadataValue = {
    protocolType: 'consumer',
    generation: 3,
    protocol: 'range',
    leader: 'm-1',
    currentStateTimestamp: 1_700_000_000_000,
    members: [
      {
        memberId: 'm-1',
        groupInstanceId: 'inst-1',
        clientId: 'client',
        clientHost: '/127.0.0.1',
        rebalanceTimeoutMs: 60000,
        sessionTimeoutMs: 30000,
        subscription: Buffer.from([1, 2, 3]),
        assignment: Buffer.from([4, 5]),
      },
    ],
  };

  it('writes version 3: every field including state timestamp, instance id and rebalance timeout', () => {
    expect(groupMetadataValue(group)).toEqual(
      cat(
        i16(3),
        str('consumer'),
        i32(3),
        str('range'),
        str('m-1'),
        i64(1_700_000_000_000),
        i32(1),
        str('m-1'),
        str('inst-1'),
        str('client'),
        str('/127.0.0.1'),
        i32(60000),
        i32(30000),
        bytes(Buffer.from([1, 2, 3])),
        bytes(Buffer.from([4, 5])),
      ),
    );
  });

  it('writes an empty group with null protocol and leader', () => {
    const empty = { protocolType: 'consumer', generation: 4, protocol: null, leader: null, currentStateTimestamp: 5, members: [] };
    expect(groupMetadataValue(empty)).toEqual(cat(i16(3), str('consumer'), i32(4), str(null), str(null), i64(5), i32(0)));
  });

  it('has the layouts of versions 0 (no timestamp, rebalance timeout, instance id), 1 and 2', () => {
    const member = group.members[0]!;
    const m0 = cat(str(member.memberId), str(member.clientId), str(member.clientHost), i32(30000), bytes(member.subscription), bytes(member.assignment));
    const m1 = cat(str(member.memberId), str(member.clientId), str(member.clientHost), i32(60000), i32(30000), bytes(member.subscription), bytes(member.assignment));
    const head = cat(str('consumer'), i32(3), str('range'), str('m-1'));
    expect(groupMetadataValue(group, 0)).toEqual(cat(i16(0), head, i32(1), m0));
    expect(groupMetadataValue(group, 1)).toEqual(cat(i16(1), head, i32(1), m1));
    expect(groupMetadataValue(group, 2)).toEqual(cat(i16(2), head, i64(1_700_000_000_000), i32(1), m1));
  });

  it('reads versions 0-4 back; version 0 takes the session timeout as rebalance timeout', () => {
    const v0 = parseGroupMetadataValue(groupMetadataValue(group, 0));
    expect(v0.members[0]).toMatchObject({ rebalanceTimeoutMs: 30000, groupInstanceId: null });
    expect(v0.currentStateTimestamp).toBe(-1);
    for (const v of [3, 4]) expect(parseGroupMetadataValue(groupMetadataValue(group, v))).toEqual(group);
  });
});

describe('group partition', () => {
  it("computes Java's String.hashCode over UTF-16 code units with int32 overflow", () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    // a character outside the BMP counts as two code units
    expect(javaStringHashCode('😀')).toBe(0xd83d * 31 + 0xde00);
  });

  it('maps a group to abs(hashCode) % partitions, with Integer.MIN_VALUE mapping to partition 0', () => {
    expect(groupPartition('hello', 50)).toBe(99162322 % 50);
    expect(groupPartition('polygenelubricants', 50)).toBe(0);
    // "console-consumer" hashes to -648006740: abs is taken before the modulo
    expect(javaStringHashCode('console-consumer')).toBe(-648006740);
    expect(groupPartition('console-consumer', 50)).toBe(40);
  });
});

describe('consumer protocol subscriptions', () => {
  it('reads the topics of every subscription version with the version 0 prefix', () => {
    const v0 = cat(i16(0), i32(2), str('a'), str('b'), i32(-1));
    const v3 = cat(i16(3), i32(1), str('c'), i32(-1), i32(0), i32(-1), str(null));
    expect(subscribedTopics(v0)).toEqual(['a', 'b']);
    expect(subscribedTopics(v3)).toEqual(['c']);
    expect(() => subscribedTopics(Buffer.from([0]))).toThrow(ProtocolError);
  });
});
