/**
 * Schema-driven codec: one mechanism for every version of every API.
 *
 * For a (message, version) pair the schema is compiled once into a plan (the
 * fields present in that version, their encodings, defaults and tags), cached,
 * and interpreted by `decode` / `encode`. Encoding is two-pass: a size pass,
 * then one allocation and a write pass. `records` fields decode as slices of
 * the input (no copy); `encodeChunks` emits record bytes as separate chunks so
 * that cached or file buffers go to the socket without being concatenated.
 */
import { ProtocolError } from './errors.js';
import { Reader, Writer, uvarintSize, ZERO_UUID } from './primitives.js';
import {
  inRange,
  parseVersions,
  type DefaultValue,
  type FieldDef,
  type MessageDef,
  type MessageInput,
  type MessageValue,
  type PrimitiveType,
} from './schema.js';

type Value = unknown;
type Struct = Record<string, Value>;

interface FieldPlan {
  readonly name: string;
  /** Primitive type of the field or of its array elements; undefined for structs. */
  readonly prim: PrimitiveType | undefined;
  readonly array: boolean;
  readonly struct: StructPlan | undefined;
  readonly compact: boolean;
  readonly nullable: boolean;
  readonly tag: number | undefined;
  /** Present on the wire in this version (in the fixed part or as a tag). */
  readonly present: boolean;
  readonly def: () => Value;
}

interface StructPlan {
  /** Every field of the schema, in order (absent ones are decoded as their default). */
  readonly all: readonly FieldPlan[];
  /** Fields in the fixed (non-tagged) sequence for this version. */
  readonly fixed: readonly FieldPlan[];
  /** Tagged fields for this version, in ascending tag order. */
  readonly tagged: readonly FieldPlan[];
  readonly flexible: boolean;
  readonly minSize: number;
}

const PRIM_SIZE: Partial<Record<PrimitiveType, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

function primDefault(prim: PrimitiveType, d: DefaultValue | undefined): Value {
  if (d !== undefined) return d;
  switch (prim) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'uuid':
      return ZERO_UUID;
    case 'records':
      return null;
    default:
      return 0;
  }
}

function compileStruct(fields: readonly FieldDef[], version: number, flexible: boolean): StructPlan {
  const all: FieldPlan[] = [];
  for (const f of fields) all.push(compileField(f, version, flexible));
  const fixed = all.filter((p) => p.present && p.tag === undefined);
  const tagged = all.filter((p) => p.present && p.tag !== undefined).sort((a, b) => a.tag! - b.tag!);
  let minSize = flexible ? 1 : 0;
  for (const p of fixed) minSize += fieldMinSize(p);
  return { all, fixed, tagged, flexible, minSize };
}

function fieldMinSize(p: FieldPlan): number {
  if (p.array) return p.compact ? 1 : 4;
  if (p.struct) return p.nullable ? 1 : p.struct.minSize;
  const fixed = PRIM_SIZE[p.prim!];
  if (fixed !== undefined) return fixed;
  if (p.compact) return 1;
  return p.prim === 'string' ? 2 : 4;
}

function compileField(f: FieldDef, version: number, flexible: boolean): FieldPlan {
  const array = f.type.startsWith('[]');
  const base = array ? f.type.slice(2) : f.type;
  const struct = f.fields ? compileStruct(f.fields, version, flexible) : undefined;
  const prim = struct ? undefined : (base as PrimitiveType);
  const tag = f.tag !== undefined && inRange(parseVersions(f.tagged), version) ? f.tag : undefined;
  const present = inRange(parseVersions(f.versions), version) && (f.tag === undefined || (tag !== undefined && flexible));
  const nullable = inRange(parseVersions(f.nullable), version);
  const compact = flexible && f.flexible !== 'none';
  let def: () => Value;
  if (f.default === null) def = () => null;
  else if (array) def = () => [];
  else if (struct) {
    const s = struct;
    def = () => defaultStruct(s);
  } else {
    const d = primDefault(prim!, f.default);
    def = prim === 'bytes' ? () => Buffer.alloc(0) : () => d;
  }
  return { name: f.name, prim, array, struct, compact, nullable, tag, present, def };
}

function defaultStruct(plan: StructPlan): Struct {
  const o: Struct = {};
  for (const p of plan.all) o[p.name] = p.def();
  return o;
}

const planCache = new WeakMap<MessageDef, Map<number, StructPlan>>();

function planFor(def: MessageDef, version: number): StructPlan {
  let byVersion = planCache.get(def);
  if (!byVersion) {
    byVersion = new Map();
    planCache.set(def, byVersion);
  }
  let plan = byVersion.get(version);
  if (!plan) {
    if (!inRange(parseVersions(def.valid), version)) {
      throw new ProtocolError(`${def.name} has no version ${version}`, 35);
    }
    plan = compileStruct(def.fields, version, inRange(parseVersions(def.flexible), version));
    byVersion.set(version, plan);
  }
  return plan;
}

/** True when `version` of this message uses the flexible (compact, tagged) encoding. */
export function isFlexible(def: MessageDef, version: number): boolean {
  return inRange(parseVersions(def.flexible), version);
}

// ---------------------------------------------------------------- decoding

function readPrim(r: Reader, prim: PrimitiveType, compact: boolean, nullable: boolean): Value {
  switch (prim) {
    case 'bool':
      return r.bool();
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'uint16':
      return r.uint16();
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'int64':
      return r.int64();
    case 'float64':
      return r.float64();
    case 'uuid':
      return r.uuid();
    case 'string':
      return compact ? r.compactString(nullable) : r.string(nullable);
    case 'bytes':
      return compact ? r.compactBytes(nullable) : r.bytes(nullable);
    case 'records':
      // records are always nullable on the wire
      return compact ? r.compactBytes(true) : r.bytes(true);
  }
}

function readField(r: Reader, p: FieldPlan): Value {
  if (p.array) {
    const elementSize = p.struct ? Math.max(1, p.struct.minSize) : (PRIM_SIZE[p.prim!] ?? 1);
    const n = r.arrayLength(p.compact, p.nullable, elementSize);
    if (n === null) return null;
    const out: Value[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = p.struct ? readStruct(r, p.struct) : readPrim(r, p.prim!, p.compact, false);
    }
    return out;
  }
  if (p.struct) {
    if (p.nullable && p.tag === undefined) {
      const marker = r.int8();
      if (marker < 0) return null;
    }
    return readStruct(r, p.struct);
  }
  return readPrim(r, p.prim!, p.compact, p.nullable);
}

function readStruct(r: Reader, plan: StructPlan): Struct {
  const o: Struct = {};
  for (const p of plan.all) {
    o[p.name] = p.present && p.tag === undefined ? readField(r, p) : p.def();
  }
  if (plan.flexible) readTaggedFields(r, plan, o);
  return o;
}

function readTaggedFields(r: Reader, plan: StructPlan, o: Struct): void {
  const count = r.uvarint();
  let lastTag = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    if (tag <= lastTag) throw new ProtocolError(`tagged fields out of order (${tag} after ${lastTag})`);
    lastTag = tag;
    const start = r.pos;
    r.need(size);
    const p = plan.tagged.find((t) => t.tag === tag);
    if (!p) continue; // unknown tag: skipped
    const sub = new Reader(r.buf, start, start + size);
    o[p.name] = readField(sub, p);
    if (sub.pos !== sub.end) throw new ProtocolError(`tagged field ${p.name} has ${sub.end - sub.pos} trailing bytes`);
  }
}

/** Decodes a message body; `records` fields are slices of `buf`. */
export function decode<M extends MessageDef>(def: M, version: number, buf: Buffer, start = 0, end = buf.length): MessageValue<M> {
  const r = new Reader(buf, start, end);
  const value = readStruct(r, planFor(def, version));
  return value as MessageValue<M>;
}

/** Decodes a message body from a reader positioned at its start. */
export function decodeFrom<M extends MessageDef>(def: M, version: number, r: Reader): MessageValue<M> {
  return readStruct(r, planFor(def, version)) as MessageValue<M>;
}

// ---------------------------------------------------------------- encoding

/** Encoder state: in chunk mode record bytes are not copied but emitted as separate chunks. */
interface Out {
  readonly w: Writer;
  readonly chunks: Buffer[] | undefined;
  chunkStart: number;
}

function recordsLength(v: Value): number {
  if (v === null || v === undefined) return -1;
  if (Buffer.isBuffer(v)) return v.length;
  let n = 0;
  for (const b of v as readonly Buffer[]) n += b.length;
  return n;
}

function lengthPrefixSize(n: number, compact: boolean, wide: boolean): number {
  if (compact) return uvarintSize(n + 1);
  return wide ? 4 : 2;
}

function primSize(v: Value, prim: PrimitiveType, compact: boolean, chunked: boolean): number {
  const fixed = PRIM_SIZE[prim];
  if (fixed !== undefined) return fixed;
  if (prim === 'string') {
    if (v === null || v === undefined) return compact ? 1 : 2;
    const n = Buffer.byteLength(v as string, 'utf8');
    return lengthPrefixSize(n, compact, false) + n;
  }
  if (prim === 'bytes') {
    if (v === null || v === undefined) return compact ? 1 : 4;
    const n = (v as Buffer).length;
    return lengthPrefixSize(n, compact, true) + n;
  }
  // records
  const n = recordsLength(v);
  if (n < 0) return compact ? 1 : 4;
  return lengthPrefixSize(n, compact, true) + (chunked ? 0 : n);
}

function fieldSize(v: Value, p: FieldPlan, chunked: boolean): number {
  if (v === undefined) v = p.def();
  if (p.array) {
    if (v === null) return p.compact ? 1 : 4;
    const arr = v as Value[];
    let n = p.compact ? uvarintSize(arr.length + 1) : 4;
    for (const e of arr) n += p.struct ? structSize(e as Struct, p.struct, chunked) : primSize(e, p.prim!, p.compact, chunked);
    return n;
  }
  if (p.struct) {
    if (p.nullable && p.tag === undefined) return v === null ? 1 : 1 + structSize(v as Struct, p.struct, chunked);
    return structSize((v ?? {}) as Struct, p.struct, chunked);
  }
  return primSize(v, p.prim!, p.compact, chunked);
}

function structSize(o: Struct, plan: StructPlan, chunked: boolean): number {
  let n = 0;
  for (const p of plan.fixed) n += fieldSize(o[p.name], p, chunked);
  if (plan.flexible) {
    let count = 0;
    for (const p of plan.tagged) {
      const v = o[p.name];
      if (isDefault(v, p)) continue;
      count++;
      const size = fieldSize(v, p, false);
      n += uvarintSize(p.tag!) + uvarintSize(size) + size;
    }
    n += uvarintSize(count);
  }
  return n;
}

/** Tagged fields equal to their default are omitted, as Kafka does. */
function isDefault(v: Value, p: FieldPlan): boolean {
  if (v === undefined) return true;
  const d = p.def();
  if (v === null || d === null) return v === d;
  if (p.array) return (v as Value[]).length === 0;
  if (p.struct) return p.struct.all.every((f) => isDefault((v as Struct)[f.name], f));
  if (Buffer.isBuffer(v)) return Buffer.isBuffer(d) && v.equals(d);
  return v === d;
}

function writePrim(out: Out, v: Value, prim: PrimitiveType, compact: boolean, nullable: boolean, name: string): void {
  const w = out.w;
  switch (prim) {
    case 'bool':
      return w.bool(v as boolean);
    case 'int8':
      return w.int8(v as number);
    case 'int16':
      return w.int16(v as number);
    case 'uint16':
      return w.uint16(v as number);
    case 'int32':
      return w.int32(v as number);
    case 'uint32':
      return w.uint32(v as number);
    case 'int64':
      return w.int64(BigInt(v as bigint));
    case 'float64':
      return w.float64(v as number);
    case 'uuid':
      return w.uuid(v as string);
    case 'string': {
      if (v === null || v === undefined) {
        if (!nullable && v === null) throw new ProtocolError(`${name} is not nullable in this version`);
        if (v === null) return compact ? w.uvarint(0) : w.int16(-1);
        v = '';
      }
      const s = v as string;
      const n = Buffer.byteLength(s, 'utf8');
      if (compact) w.uvarint(n + 1);
      else w.int16(n);
      return w.utf8(s, n);
    }
    case 'bytes': {
      if (v === null) {
        if (!nullable) throw new ProtocolError(`${name} is not nullable in this version`);
        return compact ? w.uvarint(0) : w.int32(-1);
      }
      const b = (v ?? Buffer.alloc(0)) as Buffer;
      if (compact) w.uvarint(b.length + 1);
      else w.int32(b.length);
      return w.raw(b);
    }
    case 'records': {
      const n = recordsLength(v);
      if (n < 0) return compact ? w.uvarint(0) : w.int32(-1);
      if (compact) w.uvarint(n + 1);
      else w.int32(n);
      const parts = Buffer.isBuffer(v) ? [v] : (v as readonly Buffer[]);
      if (out.chunks) {
        out.chunks.push(w.buf.subarray(out.chunkStart, w.pos));
        for (const part of parts) if (part.length > 0) out.chunks.push(part);
        out.chunkStart = w.pos;
      } else {
        for (const part of parts) w.raw(part);
      }
      return;
    }
  }
}

function writeField(out: Out, v: Value, p: FieldPlan): void {
  if (v === undefined) v = p.def();
  const w = out.w;
  if (p.array) {
    if (v === null) {
      if (!p.nullable) throw new ProtocolError(`${p.name} is not nullable in this version`);
      return p.compact ? w.uvarint(0) : w.int32(-1);
    }
    const arr = v as Value[];
    if (p.compact) w.uvarint(arr.length + 1);
    else w.int32(arr.length);
    for (const e of arr) {
      if (p.struct) writeStruct(out, e as Struct, p.struct);
      else writePrim(out, e, p.prim!, p.compact, false, p.name);
    }
    return;
  }
  if (p.struct) {
    if (p.nullable && p.tag === undefined) {
      if (v === null) return w.int8(-1);
      w.int8(1);
    } else if (v === null) {
      throw new ProtocolError(`${p.name} is not nullable in this version`);
    }
    return writeStruct(out, (v ?? {}) as Struct, p.struct);
  }
  writePrim(out, v, p.prim!, p.compact, p.nullable, p.name);
}

function writeStruct(out: Out, o: Struct, plan: StructPlan): void {
  for (const p of plan.fixed) writeField(out, o[p.name], p);
  if (!plan.flexible) return;
  const present = plan.tagged.filter((p) => !isDefault(o[p.name], p));
  out.w.uvarint(present.length);
  for (const p of present) {
    const v = o[p.name];
    out.w.uvarint(p.tag!);
    out.w.uvarint(fieldSize(v, p, false));
    // tagged values are written inline (never chunked)
    const inline: Out = { w: out.w, chunks: undefined, chunkStart: 0 };
    writeField(inline, v, p);
  }
}

/** Size in bytes of the encoded body. */
export function encodedSize<M extends MessageDef>(def: M, version: number, value: MessageInput<M> | MessageValue<M>): number {
  return structSize(value as Struct, planFor(def, version), false);
}

/** Encodes a message body into one buffer. */
export function encode<M extends MessageDef>(def: M, version: number, value: MessageInput<M> | MessageValue<M>): Buffer {
  const plan = planFor(def, version);
  const size = structSize(value as Struct, plan, false);
  const out: Out = { w: Writer.alloc(size), chunks: undefined, chunkStart: 0 };
  writeStruct(out, value as Struct, plan);
  if (out.w.pos !== size) throw new ProtocolError(`${def.name} v${version}: wrote ${out.w.pos} of ${size} bytes`);
  return out.w.buf;
}

/**
 * Encodes `prefix` bytes of room (filled by `fillPrefix`, e.g. a frame size and
 * header) followed by the body, as chunks: record sections are emitted as the
 * caller's own buffers, everything else comes from one allocation.
 */
export function encodeChunks<M extends MessageDef>(
  def: M,
  version: number,
  value: MessageInput<M> | MessageValue<M>,
  prefixSize = 0,
  fillPrefix?: (w: Writer, totalSize: number) => void,
): Buffer[] {
  const plan = planFor(def, version);
  const ownSize = prefixSize + structSize(value as Struct, plan, true);
  const recordBytes = structSize(value as Struct, plan, false) - (ownSize - prefixSize);
  const w = Writer.alloc(ownSize);
  const out: Out = { w, chunks: [], chunkStart: 0 };
  if (fillPrefix) fillPrefix(w, ownSize + recordBytes);
  w.pos = prefixSize;
  writeStruct(out, value as Struct, plan);
  if (w.pos !== ownSize) throw new ProtocolError(`${def.name} v${version}: wrote ${w.pos} of ${ownSize} bytes`);
  if (out.chunkStart < w.pos) out.chunks!.push(w.buf.subarray(out.chunkStart, w.pos));
  return out.chunks!;
}
