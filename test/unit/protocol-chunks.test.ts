import { describe, expect, it } from 'vitest';
import { decode, encode, encodeChunks, encodeResponseFrame, decodeResponseFrame, encodeRequestFrame, decodeRequestFrame, schemas } from '../../protocol/index.js';

const { fetchResponse, produceRequest } = schemas;

function fetchValue(records: (Buffer | Buffer[] | null)[]): Parameters<typeof encode<typeof fetchResponse>>[2] {
  return {
    throttleTimeMs: 3,
    errorCode: 0,
    sessionId: 77,
    responses: [
      {
        topic: 'orders',
        topicId: 'AAECAwQFBgcICQoLDA0ODw',
        partitions: records.map((r, i) => ({
          partitionIndex: i,
          errorCode: 0,
          highWatermark: 1000n + BigInt(i),
          lastStableOffset: 990n,
          logStartOffset: 0n,
          abortedTransactions: i === 0 ? [{ producerId: 5n, firstOffset: 7n }] : null,
          preferredReadReplica: -1,
          records: r,
          currentLeader: { leaderId: 1, leaderEpoch: i + 2 },
        })),
      },
    ],
  };
}

function identityCount(chunks: readonly Buffer[], buffers: readonly Buffer[]): number {
  return buffers.filter((b) => chunks.some((c) => c === b)).length;
}

describe('encodeChunks', () => {
  for (const version of [0, 4, 11, 12, 13, 16, 17]) {
    it(`emits Fetch v${version} record sections as the caller's own Buffer objects, and the chunks concatenate to encode()`, () => {
      const a = Buffer.alloc(1024, 1);
      const b1 = Buffer.alloc(300, 2);
      const b2 = Buffer.alloc(500, 3);
      const cached = Buffer.alloc(4096, 4).subarray(100, 2100); // a slice of a bigger cache buffer
      const value = fetchValue([a, [b1, b2], null, cached, Buffer.alloc(0)]);
      const chunks = encodeChunks(fetchResponse, version, value);
      expect(Buffer.concat(chunks).equals(encode(fetchResponse, version, value))).toBe(true);
      expect(identityCount(chunks, [a, b1, b2, cached])).toBe(4);
      // record chunks are not copies: they share memory with the caller's buffers
      const own = chunks.find((c) => c === cached)!;
      expect(own.buffer).toBe(cached.buffer);
      expect(own.byteOffset).toBe(cached.byteOffset);
      // everything that is not a record section comes from one allocation
      const mine: readonly Buffer[] = [a, b1, b2, cached];
      const others = chunks.filter((c) => !mine.includes(c));
      expect(new Set(others.map((c) => c.buffer)).size).toBe(1);
      const decoded = decode(fetchResponse, version, Buffer.concat(chunks));
      const records = decoded.responses[0]!.partitions.map((p) => p.records);
      expect(records[0]).toEqual(a);
      expect(records[1]).toEqual(Buffer.concat([b1, b2]));
      expect(records[2]).toBeNull();
      expect(records[3]).toEqual(cached);
      expect(records[4]).toEqual(Buffer.alloc(0));
    });
  }

  it('keeps record buffers as their own chunks in a response frame, after the size prefix and header', () => {
    const recs = Buffer.alloc(2000, 9);
    const chunks = encodeResponseFrame(fetchResponse, 12, 42, fetchValue([recs]));
    expect(chunks.filter((c) => c === recs)).toHaveLength(1);
    const frame = Buffer.concat(chunks);
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    expect(frame.readInt32BE(4)).toBe(42);
    const { body } = decodeResponseFrame(fetchResponse, 12, frame.subarray(4));
    expect(body.responses[0]!.partitions[0]!.records).toEqual(recs);
  });

  it('keeps record buffers as their own chunks in a Produce request frame, and decodes them as slices of the input', () => {
    const batch = Buffer.alloc(777, 5);
    const body = { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch }] }] };
    for (const version of [3, 9, 11]) {
      const chunks = encodeRequestFrame(produceRequest, version, 1, 'c', body);
      expect(chunks.filter((c) => c === batch)).toHaveLength(1);
      const frame = Buffer.concat(chunks);
      const decoded = decodeRequestFrame(frame.subarray(4));
      const records = (decoded.body as typeof body).topicData[0]!.partitionData[0]!.records;
      expect(records).toEqual(batch);
      // zero-copy decode: the records are a view of the frame
      expect(records.buffer).toBe(frame.buffer);
    }
  });

  it('writes a caller-filled prefix and reports the total size to it', () => {
    const recs = Buffer.alloc(10, 1);
    let seenTotal = -1;
    const chunks = encodeChunks(fetchResponse, 4, fetchValue([recs]), 6, (w, total) => {
      seenTotal = total;
      w.int32(total);
      w.int16(-7);
    });
    const all = Buffer.concat(chunks);
    expect(seenTotal).toBe(all.length);
    expect(all.readInt32BE(0)).toBe(all.length);
    expect(all.readInt16BE(4)).toBe(-7);
    expect(all.subarray(6).equals(encode(fetchResponse, 4, fetchValue([recs])))).toBe(true);
  });
});
