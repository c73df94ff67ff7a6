/**
 * Bounds-checked primitives of the Kafka wire format (notes/wire-encoding.md).
 *
 * Reader: every read checks the remaining bytes first and throws ProtocolError,
 * never a RangeError; lengths are checked against the remaining input before
 * anything is allocated, so a huge length prefix cannot allocate memory.
 * Writer: writes into a buffer sized beforehand (see sizes below).
 */
import { ProtocolError } from './errors.js';

export class Reader {
  pos: number;
  readonly end: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless n more bytes are available; returns the position before them. */
  need(n: number): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(`read of ${n} bytes at ${this.pos} past the end (${this.end})`);
    }
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  // Integers are assembled from bytes after the bounds check (faster than Buffer's validating readers).
  int8(): number {
    return (this.buf[this.need(1)]! << 24) >> 24;
  }
  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }
  int16(): number {
    const p = this.need(2);
    const b = this.buf;
    return ((b[p]! << 24) >> 16) | b[p + 1]!;
  }
  uint16(): number {
    const p = this.need(2);
    const b = this.buf;
    return (b[p]! << 8) | b[p + 1]!;
  }
  int32(): number {
    const p = this.need(4);
    const b = this.buf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }
  uint32(): number {
    return this.int32() >>> 0;
  }
  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }
  uuid(): string {
    const p = this.need(16);
    return this.buf.toString('base64url', p, p + 16);
  }

  /** Unsigned varint of at most 5 bytes (32 bits). */
  uvarint(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const first = this.buf[pos]!;
      if (first < 0x80) {
        this.pos = pos + 1;
        return first;
      }
    }
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new ProtocolError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new ProtocolError('varint exceeds 32 bits');
        return result;
      }
      mul *= 128;
    }
    throw new ProtocolError('varint longer than 5 bytes');
  }
  /** Zig-zag signed varint (32 bits). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  /** Unsigned varlong of at most 10 bytes. */
  uvarlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtocolError('truncated varlong');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result & 0xffffffffffffffffn;
      shift += 7n;
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }
  /** Zig-zag signed varlong as a bigint. */
  varlong(): bigint {
    const u = this.uvarlong();
    return (u >> 1n) ^ -(u & 1n);
  }
  /**
   * Zig-zag signed varlong as a number; for record timestamp/offset deltas,
   * which fit in 53 bits. Fast path for short encodings.
   */
  varlongNumber(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new ProtocolError('truncated varlong');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      mul *= 128;
    }
    this.pos = start;
    return Number(this.varlong());
  }

  /** Bytes of a known length, as a slice of the input (no copy). */
  slice(n: number): Buffer {
    const p = this.need(n);
    return this.buf.subarray(p, p + n);
  }
  utf8(n: number): string {
    const p = this.need(n);
    // invalid UTF-8 decodes to U+FFFD, as in Kafka
    return n === 0 ? '' : this.buf.toString('utf8', p, p + n);
  }

  /** int16-length string; -1 is null (only allowed when nullable). */
  string(nullable: boolean): string | null {
    const n = this.int16();
    if (n < 0) return this.nullLength(n, nullable, 'string');
    return this.utf8(n);
  }
  compactString(nullable: boolean): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return this.nullLength(n, nullable, 'string');
    return this.utf8(n);
  }
  bytes(nullable: boolean): Buffer | null {
    const n = this.int32();
    if (n < 0) return this.nullLength(n, nullable, 'bytes');
    return this.slice(n);
  }
  compactBytes(nullable: boolean): Buffer | null {
    const n = this.uvarint() - 1;
    if (n < 0) return this.nullLength(n, nullable, 'bytes');
    return this.slice(n);
  }
  /** Array length (int32, or compact uvarint-1); -1 is null. Checked against the remaining bytes. */
  arrayLength(compact: boolean, nullable: boolean, minElementSize = 1): number | null {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < 0) return this.nullLength(n, nullable, 'array');
    if (n * minElementSize > this.remaining) {
      throw new ProtocolError(`array of ${n} elements exceeds the ${this.remaining} remaining bytes`);
    }
    return n;
  }

  private nullLength(n: number, nullable: boolean, what: string): null {
    if (n === -1 && nullable) return null;
    throw new ProtocolError(`invalid ${what} length ${n}`);
  }
}

/** Size in bytes of an unsigned varint. */
export function uvarintSize(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
export function varintSize(value: number): number {
  return uvarintSize(zigzag32(value));
}
export function zigzag32(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
export function uvarlongSize(value: bigint): number {
  let n = 1;
  let v = value;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}
export function zigzag64(value: bigint): bigint {
  return BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
}
export function varlongSize(value: bigint | number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) < 2 ** 52) {
    return uvarintSize(zigzag32(value));
  }
  return uvarlongSize(zigzag64(BigInt(value)));
}

export class Writer {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }
  static alloc(size: number): Writer {
    return new Writer(Buffer.allocUnsafe(size));
  }

  /** Returns the position for n more bytes; RangeError if the buffer (sized beforehand) has no room. */
  private room(n: number): number {
    const p = this.pos;
    if (p + n > this.buf.length) throw new RangeError(`write of ${n} bytes at ${p} past the end (${this.buf.length})`);
    this.pos = p + n;
    return p;
  }

  // Integers are checked for range, then stored byte by byte (faster than Buffer's validating writers).
  int8(v: number): void {
    if ((v << 24) >> 24 !== v) throw outOfRange('int8', v);
    this.buf[this.room(1)] = v;
  }
  bool(v: boolean): void {
    this.buf[this.room(1)] = v ? 1 : 0;
  }
  int16(v: number): void {
    if ((v << 16) >> 16 !== v) throw outOfRange('int16', v);
    const p = this.room(2);
    this.buf[p] = v >> 8;
    this.buf[p + 1] = v;
  }
  uint16(v: number): void {
    if ((v & 0xffff) !== v) throw outOfRange('uint16', v);
    const p = this.room(2);
    this.buf[p] = v >> 8;
    this.buf[p + 1] = v;
  }
  int32(v: number): void {
    if ((v | 0) !== v) throw outOfRange('int32', v);
    this.word(v);
  }
  uint32(v: number): void {
    if (v >>> 0 !== v) throw outOfRange('uint32', v);
    this.word(v);
  }
  private word(v: number): void {
    const p = this.room(4);
    const b = this.buf;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
  }
  int64(v: bigint): void {
    this.pos = this.buf.writeBigInt64BE(v, this.pos);
  }
  float64(v: number): void {
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }
  uuid(v: string): void {
    const n = this.buf.write(v, this.pos, 16, 'base64url');
    if (n !== 16) throw new ProtocolError(`invalid uuid ${v}`);
    this.pos += 16;
  }
  uvarint(v: number): void {
    let value = v;
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }
  varint(v: number): void {
    this.uvarint(zigzag32(v));
  }
  uvarlong(v: bigint): void {
    let value = v;
    while (value >= 0x80n) {
      this.buf[this.pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buf[this.pos++] = Number(value);
  }
  varlong(v: bigint | number): void {
    if (typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) < 2 ** 52) {
      this.uvarint(zigzag32(v));
    } else {
      this.uvarlong(zigzag64(BigInt(v)));
    }
  }
  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  utf8(s: string, byteLength: number): void {
    if (byteLength > 0) this.buf.write(s, this.pos, byteLength, 'utf8');
    this.pos += byteLength;
  }
}

function outOfRange(type: string, v: unknown): RangeError {
  return new RangeError(`${String(v)} is not a valid ${type}`);
}

/** UUID helpers: 16 bytes on the wire, a 22-character base64url string in values. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
