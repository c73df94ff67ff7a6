/**
 * Tagged fields (KIP-482), interpreted from the plan rather than generated:
 * they are rare, so the straight-line code of generate.ts stops at a struct's
 * tagged-field section and calls these three functions with the struct's
 * tagged fields.
 *
 * The section is an unsigned varint count, then per field its tag, the size
 * of its value and the value, in ascending tag order. Reading: tags out of
 * order are an error, unknown tags are skipped (a newer peer may send them),
 * and a value must use exactly its declared size. Writing: a field equal to
 * its default is left out, as Kafka does; values are always written inline
 * (never as record chunks), so their size is known before they are written.
 * A nullable struct starts with an unsigned varint marker, as Kafka writes
 * it in a tagged field: 1 present (then the struct), 0 null.
 */
import { ProtocolError } from '../errors.js';
import { Reader, uvarintSize } from '../primitives.js';
import type { PrimitiveType } from '../schema.js';
import { PRIM_SIZE, primDefault, type FieldPlan, type Struct, type Value } from './plan.js';
import {
  EMPTY_STRUCT,
  bytesSize,
  notNullable,
  recordsSize,
  stringSize,
  toBigInt,
  writeBytes,
  writeRecords,
  writeString,
  type CompiledStruct,
  type Out,
} from './runtime.js';

/** A tagged field of a struct, with the compiled functions of its struct type (or element struct type). */
export interface TaggedField {
  readonly field: FieldPlan;
  readonly struct: CompiledStruct | undefined;
}

/** Reads a tagged-field section into `o` (whose fields already hold their defaults). */
export function readTaggedFields(r: Reader, fields: readonly TaggedField[], o: Struct): void {
  const count = r.uvarint();
  let lastTag = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    if (tag <= lastTag) throw new ProtocolError(`tagged fields out of order (${tag} after ${lastTag})`);
    lastTag = tag;
    const start = r.pos;
    r.need(size);
    const t = fields.find((f) => f.field.tag === tag);
    if (!t) continue; // unknown tag: skipped
    const sub = new Reader(r.buf, start, start + size);
    o[t.field.name] = readTaggedValue(sub, t);
    if (sub.pos !== sub.end) throw new ProtocolError(`tagged field ${t.field.name} has ${sub.end - sub.pos} trailing bytes`);
  }
}

/** Size of the tagged-field section of `o`. */
export function taggedSize(o: Struct, fields: readonly TaggedField[]): number {
  let count = 0;
  let n = 0;
  for (const t of fields) {
    const v = o[t.field.name];
    if (isDefault(v, t.field)) continue;
    count++;
    const size = valueSize(v, t);
    n += uvarintSize(t.field.tag!) + uvarintSize(size) + size;
  }
  return n + uvarintSize(count);
}

/** Writes the tagged-field section of `o`. */
export function writeTaggedFields(out: Out, o: Struct, fields: readonly TaggedField[]): void {
  const w = out.w;
  let count = 0;
  for (const t of fields) if (!isDefault(o[t.field.name], t.field)) count++;
  w.uvarint(count);
  if (count === 0) return;
  // tagged values are written inline (never chunked)
  const inline: Out = { w, chunks: undefined, chunkStart: 0, recordBytes: 0 };
  for (const t of fields) {
    const v = o[t.field.name];
    if (isDefault(v, t.field)) continue;
    w.uvarint(t.field.tag!);
    w.uvarint(valueSize(v, t));
    writeValue(inline, v, t);
  }
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

// ---------------------------------------------------------------- reading

/** Reads a tagged field's value. */
function readTaggedValue(r: Reader, t: TaggedField): Value {
  const p = t.field;
  if (p.array) {
    const elementSize = p.struct ? Math.max(1, p.struct.minSize) : (PRIM_SIZE[p.prim!] ?? 1);
    const n = r.arrayLength(p.compact, p.nullable, elementSize);
    if (n === null) return null;
    const out: Value[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = t.struct ? t.struct.read(r) : readPrim(r, p.prim!, p.compact, false);
    return out;
  }
  if (t.struct) {
    if (p.nullable && r.uvarint() === 0) return null;
    return t.struct.read(r);
  }
  return readPrim(r, p.prim!, p.compact, p.nullable);
}

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
      return compact ? r.compactBytes(true) : r.bytes(true);
  }
}

// ---------------------------------------------------------------- sizing and writing

/** Size of a tagged field's value (never chunked). */
function valueSize(v: Value, t: TaggedField): number {
  const p = t.field;
  if (p.array) return arraySize(v, t);
  if (t.struct) {
    if (!p.nullable) return t.struct.size((v ?? EMPTY_STRUCT) as Struct, false);
    return v === null ? 1 : 1 + t.struct.size((v ?? EMPTY_STRUCT) as Struct, false);
  }
  return primSize(v, p.prim!, p.compact);
}

function primSize(v: Value, prim: PrimitiveType, compact: boolean): number {
  if (v === null) return compact ? 1 : prim === 'string' ? 2 : 4;
  switch (prim) {
    case 'string':
      return stringSize(v as string, compact);
    case 'bytes':
      return bytesSize(v as Buffer, compact);
    case 'records':
      return recordsSize(v, compact, false);
    default:
      return PRIM_SIZE[prim]!;
  }
}

function arraySize(a: Value, t: TaggedField): number {
  const p = t.field;
  if (a === null) return p.compact ? 1 : 4;
  const items = a as readonly Value[];
  let n = p.compact ? uvarintSize(items.length + 1) : 4;
  if (t.struct) {
    for (let i = 0; i < items.length; i++) n += t.struct.size(items[i] as Struct, false);
    return n;
  }
  const prim = p.prim!;
  const fixed = PRIM_SIZE[prim];
  if (fixed !== undefined) return n + items.length * fixed;
  for (let i = 0; i < items.length; i++) n += primSize(orDefault(items[i], prim), prim, p.compact);
  return n;
}

function writeValue(out: Out, v: Value, t: TaggedField): void {
  const p = t.field;
  if (p.array) return writeArray(out, v, t);
  if (t.struct) {
    if (p.nullable) {
      out.w.uvarint(v === null ? 0 : 1);
      if (v === null) return;
    } else if (v === null) {
      throw notNullable(p.name);
    }
    return t.struct.write(out, (v ?? EMPTY_STRUCT) as Struct);
  }
  writePrim(out, v, p.prim!, p.compact, p.nullable, p.name);
}

function writeArray(out: Out, a: Value, t: TaggedField): void {
  const p = t.field;
  const w = out.w;
  if (a === null) {
    if (!p.nullable) throw notNullable(p.name);
    return p.compact ? w.uvarint(0) : w.int32(-1);
  }
  const items = a as readonly Value[];
  if (p.compact) w.uvarint(items.length + 1);
  else w.int32(items.length);
  for (let i = 0; i < items.length; i++) {
    if (t.struct) t.struct.write(out, items[i] as Struct);
    else writePrim(out, orDefault(items[i], p.prim!), p.prim!, p.compact, false, p.name);
  }
}

/** An array element left out (undefined, not null) is encoded as the type's zero value. */
function orDefault(v: Value, prim: PrimitiveType): Value {
  return v === undefined ? primDefault(prim, undefined) : v;
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
      return w.int64(toBigInt(v));
    case 'float64':
      return w.float64(v as number);
    case 'uuid':
      return w.uuid(v as string);
    case 'string':
    case 'bytes':
      if (v === null) {
        if (!nullable) throw notNullable(name);
        if (compact) return w.uvarint(0);
        return prim === 'string' ? w.int16(-1) : w.int32(-1);
      }
      return prim === 'string' ? writeString(w, v as string, compact) : writeBytes(w, v as Buffer, compact);
    case 'records':
      return writeRecords(out, v, compact);
  }
}
