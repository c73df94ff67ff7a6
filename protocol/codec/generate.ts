/**
 * The code generator: turns a struct plan (plan.ts) into three specialised
 * functions — read, size, write — so that decoding and encoding run
 * straight-line code with fixed property names instead of interpreting the
 * plan per value (a generic interpreter makes polymorphic calls per field,
 * which V8 runs several times slower).
 *
 * - read builds the value as one object literal, fields in schema order
 *   (absent fields take their default), so every value of a struct has the
 *   same hidden class;
 * - size adds the fixed-size fields as one constant and the rest per value;
 * - write fills a buffer sized by `size` (runtime.ts: two passes, records as
 *   chunks);
 * - a flexible struct's tagged-field section: an empty one (the common case)
 *   is one 0 byte handled inline, anything else goes to the interpreter in
 *   tagged.ts.
 *
 * Nested structs and arrays get functions of their own, referenced by the
 * parent's code as constants. The source is built only from our own schema
 * modules (field names are checked to be plain identifiers), never from
 * input; values that cannot be written as literals are passed in as
 * constants of the generated closure.
 */
import { ProtocolError } from '../errors.js';
import { uvarintSize, type Reader } from '../primitives.js';
import type { PrimitiveType } from '../schema.js';
import { PRIM_SIZE, primDefault, type FieldPlan, type StructPlan, type Value } from './plan.js';
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
import { readTaggedFields, taggedSize, writeTaggedFields, type TaggedField } from './tagged.js';

/** What generated code may reference (as `H.name`) besides its own constants. */
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

const compiledStructs = new WeakMap<StructPlan, CompiledStruct>();

/** The read/size/write functions of a struct plan, generated once per plan. */
export function compileStruct(plan: StructPlan): CompiledStruct {
  let compiled = compiledStructs.get(plan);
  if (!compiled) {
    compiled = generateStruct(plan);
    compiledStructs.set(plan, compiled);
  }
  return compiled;
}

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
  const s = p.struct ? refs.ref(compileStruct(p.struct)) : '';
  const minElement = p.struct ? Math.max(1, p.struct.minSize) : (PRIM_SIZE[p.prim!] ?? 1);
  const readElement = p.struct ? `${s}.read(r)` : primReadExpr(p.prim!, p.compact, false);
  const fixedElement = p.struct ? undefined : PRIM_SIZE[p.prim!];
  let sizeLoop: string;
  let writeLoop: string;
  if (p.struct) {
    sizeLoop = `for (let i = 0; i < a.length; i++) n += ${s}.size(a[i], chunked);`;
    writeLoop = `for (let i = 0; i < a.length; i++) ${s}.write(out, a[i]);`;
  } else {
    const elementDefault = literal(primDefault(p.prim!, undefined)) ?? 'H.Buffer.alloc(0)';
    sizeLoop =
      fixedElement !== undefined
        ? `n += a.length * ${fixedElement};`
        : `for (let i = 0; i < a.length; i++) { let v = a[i]; if (v === undefined) v = ${elementDefault}; n += ${primSizeExpr(p.prim!, p.compact)}; }`;
    writeLoop = `for (let i = 0; i < a.length; i++) { let v = a[i]; if (v === undefined) v = ${elementDefault}; ${primWrite(p.prim!, p.compact, false, p.name)} }`;
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

function generateStruct(plan: StructPlan): CompiledStruct {
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
      const s = refs.ref(compileStruct(p.struct));
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
  let readTags = '';
  let sizeTags = '';
  let writeTags = '';
  if (plan.flexible) {
    const tagged = refs.ref(plan.tagged.map((field): TaggedField => ({ field, struct: field.struct ? compileStruct(field.struct) : undefined })));
    // The common case, an empty tagged-field section, is a single 0 byte handled inline.
    readTags = `if (r.pos < r.end && r.buf[r.pos] === 0) r.pos++; else H.readTaggedFields(r, ${tagged}, o);`;
    if (plan.tagged.length === 0) {
      fixedSize += 1;
      writeTags = 'w.buf[w.pos++] = 0;';
    } else {
      sizeTags = `n += H.taggedSize(o, ${tagged});`;
      writeTags = `H.writeTaggedFields(out, o, ${tagged});`;
    }
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
