/**
 * The plan of a message in one version: what the schema (protocol/schema.ts)
 * says is on the wire for that version, worked out once so that nothing per
 * value has to ask "is this field in this version?" again.
 *
 * A struct's plan lists every field of the schema (`all`: absent fields still
 * decode, as their default), the fields of the fixed part in schema order
 * (`fixed`), and, in flexible versions, the tagged fields in ascending tag
 * order (`tagged`). Each field plan fixes its encoding for the version:
 * compact (flexible versions, unless the field says `flexible: 'none'`),
 * nullable, tagged or not, and how to make its default.
 *
 * Plans are plain data. The code generator (generate.ts) turns each struct
 * plan into read/size/write functions; the tagged-field interpreter
 * (tagged.ts) walks the `tagged` list itself.
 */
import { ZERO_UUID } from '../primitives.js';
import { inRange, parseVersions, type DefaultValue, type FieldDef, type MessageDef, type PrimitiveType } from '../schema.js';

export type Value = unknown;
export type Struct = Record<string, Value>;

export interface FieldPlan {
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

export interface StructPlan {
  /** Every field of the schema, in order (absent ones are decoded as their default). */
  readonly all: readonly FieldPlan[];
  /** Fields in the fixed (non-tagged) sequence for this version. */
  readonly fixed: readonly FieldPlan[];
  /** Tagged fields for this version, in ascending tag order. */
  readonly tagged: readonly FieldPlan[];
  readonly flexible: boolean;
  /** Fewest bytes the struct takes on the wire (bounds array lengths before allocating). */
  readonly minSize: number;
}

/** Wire size of the fixed-size primitives. */
export const PRIM_SIZE: Partial<Record<PrimitiveType, number>> = {
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

/** The schema's default of a primitive field, else the type's zero value. */
export function primDefault(prim: PrimitiveType, d: DefaultValue | undefined): Value {
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

/** The plan of message `def` in `version` (the caller has checked that the version is valid). */
export function planMessage(def: MessageDef, version: number): StructPlan {
  return planStruct(def.fields, version, isFlexible(def, version));
}

/** True when `version` of this message uses the flexible (compact, tagged) encoding. */
export function isFlexible(def: MessageDef, version: number): boolean {
  return inRange(parseVersions(def.flexible), version);
}

function planStruct(fields: readonly FieldDef[], version: number, flexible: boolean): StructPlan {
  const all: FieldPlan[] = [];
  for (const f of fields) all.push(planField(f, version, flexible));
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

function planField(f: FieldDef, version: number, flexible: boolean): FieldPlan {
  const array = f.type.startsWith('[]');
  const base = array ? f.type.slice(2) : f.type;
  const struct = f.fields ? planStruct(f.fields, version, flexible) : undefined;
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
