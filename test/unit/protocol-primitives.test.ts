import { describe, expect, it } from 'vitest';
import { ProtocolError, Reader, Writer, uvarintSize, varintSize, varlongSize, zigzag32, zigzag64 } from '../../protocol/index.js';

function written(size: number, fn: (w: Writer) => void): number[] {
  const w = Writer.alloc(size);
  fn(w);
  expect(w.pos).toBe(size);
  return [...w.buf];
}

describe('Reader and Writer integers', () => {
  it('write and read back every fixed-width integer at its extremes, big-endian, matching Buffer', () => {
    const cases: [keyof Writer & keyof Reader, number, number[]][] = [
      ['int8', -128, [0x80]],
      ['int8', 127, [0x7f]],
      ['int8', -1, [0xff]],
      ['int16', -32768, [0x80, 0x00]],
      ['int16', 32767, [0x7f, 0xff]],
      ['int16', -2, [0xff, 0xfe]],
      ['uint16', 65535, [0xff, 0xff]],
      ['uint16', 258, [0x01, 0x02]],
      ['int32', -(2 ** 31), [0x80, 0, 0, 0]],
      ['int32', 2 ** 31 - 1, [0x7f, 0xff, 0xff, 0xff]],
      ['int32', -2, [0xff, 0xff, 0xff, 0xfe]],
      ['uint32', 2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff]],
      ['uint32', 0x01020304, [1, 2, 3, 4]],
    ];
    for (const [type, value, bytes] of cases) {
      const out = written(bytes.length, (w) => (w[type] as (v: number) => void)(value));
      expect(out, `${type} ${value}`).toEqual(bytes);
      const r = new Reader(Buffer.from(bytes));
      expect((r[type] as () => number).call(r), `${type} ${value}`).toBe(value);
    }
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(-(2n ** 63n));
    expect(new Reader(b).int64()).toBe(-(2n ** 63n));
    expect(written(8, (w) => w.int64(2n ** 63n - 1n))).toEqual([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  it('refuses to write integers outside their type or past the end of the buffer', () => {
    expect(() => Writer.alloc(1).int8(128)).toThrow(RangeError);
    expect(() => Writer.alloc(2).int16(32768)).toThrow(RangeError);
    expect(() => Writer.alloc(2).uint16(-1)).toThrow(RangeError);
    expect(() => Writer.alloc(4).int32(2 ** 31)).toThrow(RangeError);
    expect(() => Writer.alloc(4).int32(1.5)).toThrow(RangeError);
    expect(() => Writer.alloc(4).uint32(2 ** 32)).toThrow(RangeError);
    expect(() => Writer.alloc(3).int32(1)).toThrow(RangeError);
    expect(() => Writer.alloc(1).int16(1)).toThrow(RangeError);
  });

  it('throws ProtocolError when reading past the end', () => {
    for (const type of ['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'uuid', 'bool'] as const) {
      expect(() => new Reader(Buffer.alloc(0))[type](), type).toThrow(ProtocolError);
    }
    // a reader limited to a sub-range never reads beyond its end
    expect(() => new Reader(Buffer.alloc(8), 2, 4).int32()).toThrow(ProtocolError);
  });
});

describe('varints', () => {
  it('zig-zag encodes as Kafka/protobuf do: 0→0, -1→1, 1→2, -2→3', () => {
    expect([0, -1, 1, -2, 2147483647, -2147483648].map(zigzag32)).toEqual([0, 1, 2, 3, 4294967294, 4294967295]);
    expect(zigzag64(-1n)).toBe(1n);
    expect(zigzag64(-(2n ** 63n))).toBe(2n ** 64n - 1n);
    expect([...written(1, (w) => w.varint(-1))]).toEqual([0x01]);
    expect([...written(2, (w) => w.varint(64))]).toEqual([0x80, 0x01]);
  });

  it('round-trips unsigned and signed varints and varlongs at their limits, with matching sizes', () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 32 - 1]) {
      const w = Writer.alloc(uvarintSize(v));
      w.uvarint(v);
      expect(new Reader(w.buf).uvarint()).toBe(v);
    }
    for (const v of [0, -1, 1, -64, 64, 2 ** 31 - 1, -(2 ** 31)]) {
      const w = Writer.alloc(varintSize(v));
      w.varint(v);
      expect(new Reader(w.buf).varint()).toBe(v);
    }
    for (const v of [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]) {
      const w = Writer.alloc(varlongSize(v));
      w.varlong(v);
      expect(w.pos).toBe(w.buf.length);
      expect(new Reader(w.buf).varlong()).toBe(v);
    }
    for (const v of [0, -1, 1_700_000_000_000, -(2 ** 52) + 1]) {
      const w = Writer.alloc(varlongSize(v));
      w.varlong(v);
      expect(new Reader(w.buf).varlongNumber()).toBe(v);
    }
  });

  it('rejects truncated, over-long and over-wide varints with ProtocolError', () => {
    expect(() => new Reader(Buffer.from([0x80])).uvarint()).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).uvarint()).toThrow(/longer than 5/);
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])).uvarint()).toThrow(/exceeds 32 bits/);
    expect(() => new Reader(Buffer.from(Array(11).fill(0x80))).uvarlong()).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.alloc(0)).varlongNumber()).toThrow(ProtocolError);
  });
});

describe('strings, bytes and arrays', () => {
  it('decodes UTF-8 strings (invalid sequences as U+FFFD) and nulls only where allowed', () => {
    const s = 'grüße 🚀';
    const n = Buffer.byteLength(s);
    const w = Writer.alloc(2 + n + 1 + n);
    w.int16(n);
    w.utf8(s, n);
    w.uvarint(n + 1);
    w.utf8(s, n);
    const r = new Reader(w.buf);
    expect(r.string(false)).toBe(s);
    expect(r.compactString(false)).toBe(s);
    expect(new Reader(Buffer.from([0, 2, 0xc3, 0x28])).string(false)).toBe('\ufffd(');
    expect(new Reader(Buffer.from([0xff, 0xff])).string(true)).toBeNull();
    expect(() => new Reader(Buffer.from([0xff, 0xff])).string(false)).toThrow(ProtocolError);
    expect(new Reader(Buffer.from([0])).compactString(true)).toBeNull();
    expect(() => new Reader(Buffer.from([0xff, 0xfe])).string(true)).toThrow(/invalid string length -2/);
  });

  it('returns bytes as views of the input without copying', () => {
    const input = Buffer.from([0, 0, 0, 3, 9, 8, 7, 4, 1, 2, 3]);
    const r = new Reader(input);
    const b = r.bytes(false)!;
    expect([...b]).toEqual([9, 8, 7]);
    expect(b.buffer).toBe(input.buffer);
    expect(b.byteOffset).toBe(input.byteOffset + 4);
    expect([...r.compactBytes(false)!]).toEqual([1, 2, 3]);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1])).bytes(false)).toThrow(ProtocolError);
  });

  it('checks array counts against the remaining bytes before anything is allocated', () => {
    expect(new Reader(Buffer.from([0, 0, 0, 2, 1, 2])).arrayLength(false, false, 1)).toBe(2);
    expect(() => new Reader(Buffer.from([0, 0, 0, 2, 1, 2])).arrayLength(false, false, 4)).toThrow(/exceeds/);
    expect(new Reader(Buffer.from([0])).arrayLength(true, true)).toBeNull();
    expect(() => new Reader(Buffer.from([0])).arrayLength(true, false)).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).arrayLength(true, false)).toThrow(/exceeds/);
  });
});
