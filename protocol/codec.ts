/**
 * Schema-driven codec: one mechanism for every version of every API.
 *
 * For a (message, version) pair the schema is compiled once into a plan (the
 * fields present in that version, their encodings, defaults and tags), and
 * each struct of the plan into three specialised functions (read, size,
 * write) generated from it, so that decoding and encoding run straight-line
 * code with fixed property names instead of interpreting the plan per value.
 * The generated code is built only from our own schema modules (field names
 * are checked to be plain identifiers), never from input. Tagged fields, which
 * are rare, go through the generic interpreter below.
 *
 * Encoding is two-pass: a size pass, then one allocation and a write pass.
 * `records` fields decode as slices of the input (no copy); `encodeChunks`
 * emits record bytes as separate chunks so that cached or file buffers go to
 * the socket without being concatenated.
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

/** The generated functions of one struct in one version. */
interface CompiledStruct {
  read(r: Reader): Struct;
  size(o: Struct, chunked: boolean): number;
  write(out: Out, o: Struct): void;
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
  readonly compiled: CompiledStruct;
}

/** Encoder state: in chunk mode record bytes are not copied but emitted as separate chunks. */
interface Out {
  readonly w: Writer;
  readonly chunks: Buffer[] | undefined;
  chunkStart: number;
  /** Record bytes emitted as chunks so far. */
  recordBytes: number;
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
  const plan = { all, fixed, tagged, flexible, minSize, compiled: undefined as unknown as CompiledStruct };
  plan.compiled = generateStruct(plan);
  return plan;
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

// ---------------------------------------------------------------- helpers used by generated code

function notNullable(name: string): ProtocolError {
  return new ProtocolError(`${name} is not nullable in this version`);
}

function stringSize(s: string, compact: boolean): number {
  const n = Buffer.byteLength(s, 'utf8');
  return (compact ? uvarintSize(n + 1) : 2) + n;
}

function writeString(w: Writer, s: string, compact: boolean): void {
  const n = Buffer.byteLength(s, 'utf8');
  if (compact) w.uvarint(n + 1);
  else w.int16(n);
  w.utf8(s, n);
}

function bytesSize(b: Buffer, compact: boolean): number {
  return (compact ? uvarintSize(b.length + 1) : 4) + b.length;
}

function writeBytes(w: Writer, b: Buffer, compact: boolean): void {
  if (compact) w.uvarint(b.length + 1);
  else w.int32(b.length);
  w.raw(b);
}

function recordsLength(v: Value): number {
  if (v === null || v === undefined) return -1;
  if (Buffer.isBuffer(v)) return v.length;
  let n = 0;
  for (const b of v as readonly Buffer[]) n += b.length;
  return n;
}

function recordsSize(v: Value, compact: boolean, chunked: boolean): number {
  const n = recordsLength(v);
  if (n < 0) return compact ? 1 : 4;
  return (compact ? uvarintSize(n + 1) : 4) + (chunked ? 0 : n);
}

function writeRecords(out: Out, v: Value, compact: boolean): void {
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
      for (const part of v as readonly Buffer[]) if (part.length > 0) out.chunks.push(part);
    }
    out.chunkStart = w.pos;
  } else if (Buffer.isBuffer(v)) {
    w.raw(v);
  } else {
    for (const part of v as readonly Buffer[]) w.raw(part);
  }
}

function toBigInt(v: Value): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number);
}

const EMPTY_STRUCT: Struct = Object.freeze({});

/** What generated code may reference besides its own constants. */
const helpers = {
  ProtocolError,
  Buffer,
  notNullable,
  stringSize,
  writeString,
  bytesSize,
  writeBytes,
  recordsSize,
  writeRecords,
  toBigInt,
  uvarintSize,
  readTaggedFields,
  taggedSize,
  writeTaggedFields,
  EMPTY_STRUCT,
};

// ---------------------------------------------------------------- code generation

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Collects the values generated code refers to; they become constants of the generated closure. */
interface Refs {
  /** The name under which generated code sees `value`. */
  ref(value: unknown): string;
  /** Compiles `body` (which must `return` something) with the collected constants and the helpers in scope. */
  build<T>(body: string): T;
}

function newRefs(): Refs {
  const values: unknown[] = [];
  return {
    ref(value) {
      let i = values.indexOf(value);
      if (i < 0) i = values.push(value) - 1;
      return `k${i}`;
    },
    build<T>(body: string): T {
      const consts = values.map((_, i) => `const k${i} = K[${i}];`).join('\n');
      const factory = new Function('K', 'H', `'use strict';\n${consts}\n${body}`) as (k: unknown[], h: typeof helpers) => T;
      return factory(values, helpers);
    },
  };
}

function literal(v: Value): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? String(v) : undefined;
    case 'bigint':
      return `${v}n`;
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v);
    default:
      return undefined;
  }
}

/** An expression for the default value of a field (a fresh object/array/buffer where needed). */
function defaultExpr(refs: Refs, p: FieldPlan): string {
  const d = p.def();
  if (Array.isArray(d)) return '[]';
  return literal(d) ?? `${refs.ref(p.def)}()`;
}

function primReadExpr(prim: PrimitiveType, compact: boolean, nullable: boolean): string {
  switch (prim) {
    case 'string':
      return compact ? `r.compactString(${nullable})` : `r.string(${nullable})`;
    case 'bytes':
      return compact ? `r.compactBytes(${nullable})` : `r.bytes(${nullable})`;
    case 'records':
      // records are always nullable on the wire
      return compact ? 'r.compactBytes(true)' : 'r.bytes(true)';
    default:
      return `r.${prim}()`;
  }
}

function nullWrite(compact: boolean, wide: boolean): string {
  if (compact) return 'w.uvarint(0);';
  return wide ? 'w.int32(-1);' : 'w.int16(-1);';
}

/** Statements writing value `v` (already defaulted) of a primitive type; `name` for errors. */
function primWrite(prim: PrimitiveType, compact: boolean, nullable: boolean, name: string): string {
  const nullCase = (wide: boolean): string => (nullable ? nullWrite(compact, wide) : `throw H.notNullable(${JSON.stringify(name)});`);
  switch (prim) {
    case 'int64':
      return 'w.int64(H.toBigInt(v));';
    case 'string':
      return `if (v === null) { ${nullCase(false)} } else H.writeString(w, v, ${compact});`;
    case 'bytes':
      return `if (v === null) { ${nullCase(true)} } else H.writeBytes(w, v, ${compact});`;
    case 'records':
      return `H.writeRecords(out, v, ${compact});`;
    default:
      return `w.${prim}(v);`;
  }
}

/** An expression adding the size of value `v` (already defaulted) of a variable-size primitive. */
function primSizeExpr(prim: PrimitiveType, compact: boolean): string {
  switch (prim) {
    case 'string':
      return `(v === null ? ${compact ? 1 : 2} : H.stringSize(v, ${compact}))`;
    case 'bytes':
      return `(v === null ? ${compact ? 1 : 4} : H.bytesSize(v, ${compact}))`;
    case 'records':
      return `H.recordsSize(v, ${compact}, chunked)`;
    default:
      return String(PRIM_SIZE[prim]);
  }
}

interface CompiledArray {
  read(r: Reader): Value[] | null;
  size(v: Value, chunked: boolean): number;
  write(out: Out, v: Value): void;
}

function generateArray(p: FieldPlan): CompiledArray {
  const refs = newRefs();
  const name = JSON.stringify(p.name);
  const s = p.struct ? refs.ref(p.struct.compiled) : '';
  const minElement = p.struct ? Math.max(1, p.struct.minSize) : (PRIM_SIZE[p.prim!] ?? 1);
  const readElement = p.struct ? `${s}.read(r)` : primReadExpr(p.prim!, p.compact, false);
  const fixedElement = p.struct ? undefined : PRIM_SIZE[p.prim!];
  let sizeLoop: string;
  let writeLoop: string;
  if (p.struct) {
    sizeLoop = `for (let i = 0; i < a.length; i++) n += ${s}.size(a[i], chunked);`;
    writeLoop = `for (let i = 0; i < a.length; i++) ${s}.write(out, a[i]);`;
  } else {
    sizeLoop =
      fixedElement !== undefined
        ? `n += a.length * ${fixedElement};`
        : `for (let i = 0; i < a.length; i++) { let v = a[i]; if (v === undefined) v = ${literal(primDefault(p.prim!, undefined)) ?? 'H.Buffer.alloc(0)'}; n += ${primSizeExpr(p.prim!, p.compact)}; }`;
    writeLoop = `for (let i = 0; i < a.length; i++) { let v = a[i]; if (v === undefined) v = ${literal(primDefault(p.prim!, undefined)) ?? 'H.Buffer.alloc(0)'}; ${primWrite(p.prim!, p.compact, false, p.name)} }`;
  }
  const nullSize = p.compact ? 1 : 4;
  const defaultValue = p.def() === null ? 'null' : '[]';
  return refs.build<CompiledArray>(`return {
  read(r) {
    const n = r.arrayLength(${p.compact}, ${p.nullable}, ${minElement});
    if (n === null) return null;
    const a = new Array(n);
    for (let i = 0; i < n; i++) a[i] = ${readElement};
    return a;
  },
  size(a, chunked) {
    if (a === undefined) a = ${defaultValue};
    if (a === null) return ${nullSize};
    let n = ${p.compact ? 'H.uvarintSize(a.length + 1)' : '4'};
    ${sizeLoop}
    return n;
  },
  write(out, a) {
    const w = out.w;
    if (a === undefined) a = ${defaultValue};
    if (a === null) { ${p.nullable ? nullWrite(p.compact, true) : `throw H.notNullable(${name});`} return; }
    ${p.compact ? 'w.uvarint(a.length + 1);' : 'w.int32(a.length);'}
    ${writeLoop}
  },
};`);
}

function generateStruct(plan: Omit<StructPlan, 'compiled'>): CompiledStruct {
  const refs = newRefs();
  const props: string[] = [];
  const sizeStatements: string[] = [];
  const writeStatements: string[] = [];
  let fixedSize = 0;
  for (const p of plan.all) {
    if (!IDENTIFIER.test(p.name) || p.name === '__proto__') throw new Error(`schema field name ${JSON.stringify(p.name)} is not a plain identifier`);
    const inFixedPart = p.present && p.tag === undefined;
    if (!inFixedPart) {
      props.push(`${p.name}: ${defaultExpr(refs, p)}`);
      continue;
    }
    const get = `v = o.${p.name}; if (v === undefined) v = ${defaultExpr(refs, p)};`;
    if (p.array) {
      const a = refs.ref(generateArray(p));
      props.push(`${p.name}: ${a}.read(r)`);
      sizeStatements.push(`n += ${a}.size(o.${p.name}, chunked);`);
      writeStatements.push(`${a}.write(out, o.${p.name});`);
    } else if (p.struct) {
      const s = refs.ref(p.struct.compiled);
      if (p.nullable) {
        props.push(`${p.name}: r.int8() < 0 ? null : ${s}.read(r)`);
        sizeStatements.push(`${get} n += v === null ? 1 : 1 + ${s}.size(v, chunked);`);
        writeStatements.push(`${get} if (v === null) w.int8(-1); else { w.int8(1); ${s}.write(out, v); }`);
      } else {
        props.push(`${p.name}: ${s}.read(r)`);
        sizeStatements.push(`v = o.${p.name}; n += ${s}.size(v == null ? H.EMPTY_STRUCT : v, chunked);`);
        writeStatements.push(`v = o.${p.name}; if (v === null) throw H.notNullable(${JSON.stringify(p.name)}); ${s}.write(out, v === undefined ? H.EMPTY_STRUCT : v);`);
      }
    } else {
      const prim = p.prim!;
      props.push(`${p.name}: ${primReadExpr(prim, p.compact, p.nullable)}`);
      const fixed = PRIM_SIZE[prim];
      if (fixed !== undefined) fixedSize += fixed;
      else sizeStatements.push(`${get} n += ${primSizeExpr(prim, p.compact)};`);
      writeStatements.push(`${get} ${primWrite(prim, p.compact, p.nullable, p.name)}`);
    }
  }
  const self = refs.ref(plan);
  // The common case, an empty tagged-field section, is a single 0 byte handled inline.
  const readTags = plan.flexible ? `if (r.pos < r.end && r.buf[r.pos] === 0) r.pos++; else H.readTaggedFields(r, ${self}, o);` : '';
  let sizeTags = '';
  let writeTags = '';
  if (plan.flexible && plan.tagged.length === 0) {
    fixedSize += 1;
    writeTags = 'w.buf[w.pos++] = 0;';
  } else if (plan.flexible) {
    sizeTags = `n += H.taggedSize(o, ${self});`;
    writeTags = `H.writeTaggedFields(out, o, ${self});`;
  }
  return refs.build<CompiledStruct>(`return {
  read(r) {
    const o = { ${props.join(', ')} };
    ${readTags}
    return o;
  },
  size(o, chunked) {
    let v;
    let n = ${fixedSize};
    ${sizeStatements.join('\n    ')}
    ${sizeTags}
    return n;
  },
  write(out, o) {
    const w = out.w;
    let v;
    ${writeStatements.join('\n    ')}
    ${writeTags}
  },
};`);
}

// ---------------------------------------------------------------- tagged fields (generic interpreter)

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

/** Reads a tagged field's value (tagged fields carry no nullable-struct marker). */
function readTaggedValue(r: Reader, p: FieldPlan): Value {
  if (p.array) {
    const elementSize = p.struct ? Math.max(1, p.struct.minSize) : (PRIM_SIZE[p.prim!] ?? 1);
    const n = r.arrayLength(p.compact, p.nullable, elementSize);
    if (n === null) return null;
    const out: Value[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = p.struct ? p.struct.compiled.read(r) : readPrim(r, p.prim!, p.compact, false);
    return out;
  }
  if (p.struct) return p.struct.compiled.read(r);
  return readPrim(r, p.prim!, p.compact, p.nullable);
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
    o[p.name] = readTaggedValue(sub, p);
    if (sub.pos !== sub.end) throw new ProtocolError(`tagged field ${p.name} has ${sub.end - sub.pos} trailing bytes`);
  }
}

/** Size of a tagged field's value (never chunked). */
function taggedValueSize(v: Value, p: FieldPlan): number {
  if (p.array) return arrayFor(p).size(v, false);
  if (p.struct) return p.struct.compiled.size((v ?? EMPTY_STRUCT) as Struct, false);
  if (v === null) return p.compact ? 1 : p.prim === 'string' ? 2 : 4;
  switch (p.prim) {
    case 'string':
      return stringSize(v as string, p.compact);
    case 'bytes':
      return bytesSize(v as Buffer, p.compact);
    case 'records':
      return recordsSize(v, p.compact, false);
    default:
      return PRIM_SIZE[p.prim!]!;
  }
}

function writeTaggedValue(out: Out, v: Value, p: FieldPlan): void {
  if (p.array) return arrayFor(p).write(out, v);
  if (p.struct) {
    if (v === null) throw notNullable(p.name);
    return p.struct.compiled.write(out, (v ?? EMPTY_STRUCT) as Struct);
  }
  const w = out.w;
  switch (p.prim!) {
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
        if (!p.nullable) throw notNullable(p.name);
        if (p.compact) return w.uvarint(0);
        return p.prim === 'string' ? w.int16(-1) : w.int32(-1);
      }
      return p.prim === 'string' ? writeString(w, v as string, p.compact) : writeBytes(w, v as Buffer, p.compact);
    case 'records':
      return writeRecords(out, v, p.compact);
  }
}

const generatedArrays = new WeakMap<FieldPlan, CompiledArray>();
function arrayFor(p: FieldPlan): CompiledArray {
  let a = generatedArrays.get(p);
  if (!a) {
    a = generateArray(p);
    generatedArrays.set(p, a);
  }
  return a;
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

function taggedSize(o: Struct, plan: StructPlan): number {
  let count = 0;
  let n = 0;
  for (const p of plan.tagged) {
    const v = o[p.name];
    if (isDefault(v, p)) continue;
    count++;
    const size = taggedValueSize(v, p);
    n += uvarintSize(p.tag!) + uvarintSize(size) + size;
  }
  return n + uvarintSize(count);
}

function writeTaggedFields(out: Out, o: Struct, plan: StructPlan): void {
  const w = out.w;
  let count = 0;
  for (const p of plan.tagged) if (!isDefault(o[p.name], p)) count++;
  w.uvarint(count);
  if (count === 0) return;
  // tagged values are written inline (never chunked)
  const inline: Out = { w, chunks: undefined, chunkStart: 0, recordBytes: 0 };
  for (const p of plan.tagged) {
    const v = o[p.name];
    if (isDefault(v, p)) continue;
    w.uvarint(p.tag!);
    w.uvarint(taggedValueSize(v, p));
    writeTaggedValue(inline, v, p);
  }
}

// ---------------------------------------------------------------- API

/** Decodes a message body; `records` fields are slices of `buf`. */
export function decode<M extends MessageDef>(def: M, version: number, buf: Buffer, start = 0, end = buf.length): MessageValue<M> {
  return planFor(def, version).compiled.read(new Reader(buf, start, end)) as MessageValue<M>;
}

/** Decodes a message body from a reader positioned at its start. */
export function decodeFrom<M extends MessageDef>(def: M, version: number, r: Reader): MessageValue<M> {
  return planFor(def, version).compiled.read(r) as MessageValue<M>;
}

/** Size in bytes of the encoded body. */
export function encodedSize<M extends MessageDef>(def: M, version: number, value: MessageInput<M> | MessageValue<M>): number {
  return planFor(def, version).compiled.size(value as Struct, false);
}

/** Encodes a message body into one buffer. */
export function encode<M extends MessageDef>(def: M, version: number, value: MessageInput<M> | MessageValue<M>): Buffer {
  const compiled = planFor(def, version).compiled;
  const size = compiled.size(value as Struct, false);
  const out: Out = { w: Writer.alloc(size), chunks: undefined, chunkStart: 0, recordBytes: 0 };
  compiled.write(out, value as Struct);
  if (out.w.pos !== size) throw new ProtocolError(`${def.name} v${version}: wrote ${out.w.pos} of ${size} bytes`);
  return out.w.buf;
}

/**
 * Encodes `prefix` bytes of room (filled by `fillPrefix`, e.g. a frame size and
 * header) followed by the body, as chunks: record sections are emitted as the
 * caller's own buffers, everything else comes from one allocation.
 * `fillPrefix` gets a writer at offset 0 and the total size of all chunks; it
 * runs after the body is written and must write at most `prefixSize` bytes.
 */
export function encodeChunks<M extends MessageDef>(
  def: M,
  version: number,
  value: MessageInput<M> | MessageValue<M>,
  prefixSize = 0,
  fillPrefix?: (w: Writer, totalSize: number) => void,
): Buffer[] {
  const compiled = planFor(def, version).compiled;
  const ownSize = prefixSize + compiled.size(value as Struct, true);
  const w = Writer.alloc(ownSize);
  const chunks: Buffer[] = [];
  const out: Out = { w, chunks, chunkStart: 0, recordBytes: 0 };
  w.pos = prefixSize;
  compiled.write(out, value as Struct);
  if (w.pos !== ownSize) throw new ProtocolError(`${def.name} v${version}: wrote ${w.pos} of ${ownSize} bytes`);
  if (fillPrefix) {
    // the prefix is filled last, once the record bytes are counted; the chunks already view its memory
    w.pos = 0;
    fillPrefix(w, ownSize + out.recordBytes);
    w.pos = ownSize;
  }
  if (out.chunkStart < ownSize) chunks.push(w.buf.subarray(out.chunkStart, ownSize));
  return chunks;
}
