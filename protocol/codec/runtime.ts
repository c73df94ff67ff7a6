/**
 * What compiled codecs run against: the encoder state, the shape of a
 * compiled struct, and the value helpers that both the generated functions
 * (generate.ts) and the tagged-field interpreter (tagged.ts) call.
 *
 * Encoding is two-pass: `size` first, then one allocation and `write`. In
 * chunk mode (`Out.chunks` set, `size(o, true)`) the bytes of `records` fields
 * are not copied: the writer's bytes so far are cut into a chunk, the
 * caller's record buffers follow as chunks of their own, and writing goes on
 * after them, so cached or file buffers reach the socket without being
 * concatenated; a lazy part (bytes not in memory yet, schema.ts's LazyChunk)
 * is emitted the same way, as itself. `size` in chunk mode leaves the record
 * bytes out; the encoder counts them in `recordBytes` instead.
 */
import { ProtocolError } from '../errors.js';
import { uvarintSize, type Reader, type Writer } from '../primitives.js';
import type { FrameChunk } from '../schema.js';
import type { Struct, Value } from './plan.js';

/** Encoder state: in chunk mode record bytes are not copied but emitted as separate chunks. */
export interface Out {
  readonly w: Writer;
  readonly chunks: FrameChunk[] | undefined;
  chunkStart: number;
  /** Record bytes emitted as chunks so far. */
  recordBytes: number;
}

/** The generated functions of one struct in one version. */
export interface CompiledStruct {
  read(r: Reader): Struct;
  size(o: Struct, chunked: boolean): number;
  write(out: Out, o: Struct): void;
}

/** What a non-nullable struct field encodes when its value is left out: every field at its default. */
export const EMPTY_STRUCT: Struct = Object.freeze({});

export function notNullable(name: string): ProtocolError {
  return new ProtocolError(`${name} is not nullable in this version`);
}

export function stringSize(s: string, compact: boolean): number {
  const n = Buffer.byteLength(s, 'utf8');
  return (compact ? uvarintSize(n + 1) : 2) + n;
}

export function writeString(w: Writer, s: string, compact: boolean): void {
  const n = Buffer.byteLength(s, 'utf8');
  if (compact) w.uvarint(n + 1);
  else w.int16(n);
  w.utf8(s, n);
}

export function bytesSize(b: Buffer, compact: boolean): number {
  return (compact ? uvarintSize(b.length + 1) : 4) + b.length;
}

export function writeBytes(w: Writer, b: Buffer, compact: boolean): void {
  if (compact) w.uvarint(b.length + 1);
  else w.int32(b.length);
  w.raw(b);
}

/** Length of a records value (one buffer or a list of chunks); -1 for null. */
function recordsLength(v: Value): number {
  if (v === null || v === undefined) return -1;
  if (Buffer.isBuffer(v)) return v.length;
  let n = 0;
  for (const b of v as readonly FrameChunk[]) n += b.length;
  return n;
}

/** Size of a records field: its length prefix, plus its bytes unless they go out as chunks. */
export function recordsSize(v: Value, compact: boolean, chunked: boolean): number {
  const n = recordsLength(v);
  if (n < 0) return compact ? 1 : 4;
  return (compact ? uvarintSize(n + 1) : 4) + (chunked ? 0 : n);
}

export function writeRecords(out: Out, v: Value, compact: boolean): void {
  const w = out.w;
  const n = recordsLength(v);
  if (n < 0) return compact ? w.uvarint(0) : w.int32(-1);
  if (compact) w.uvarint(n + 1);
  else w.int32(n);
  if (out.chunks) {
    out.recordBytes += n;
    out.chunks.push(w.buf.subarray(out.chunkStart, w.pos));
    if (Buffer.isBuffer(v)) {
      if (v.length > 0) out.chunks.push(v);
    } else {
      for (const part of v as readonly FrameChunk[]) if (part.length > 0) out.chunks.push(part);
    }
    out.chunkStart = w.pos;
  } else if (Buffer.isBuffer(v)) {
    w.raw(v);
  } else {
    for (const part of v as readonly FrameChunk[]) {
      if (!Buffer.isBuffer(part)) throw new ProtocolError('records read when written can only be encoded as chunks');
      w.raw(part);
    }
  }
}

/** int64 values may be given as numbers when encoding. */
export function toBigInt(v: Value): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number);
}
