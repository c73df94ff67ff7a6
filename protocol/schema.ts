/**
 * The schema language of our API modules (protocol/schemas/*.ts): one
 * `message()` per request and per response, covering every version.
 *
 * A field has a type (a primitive, `[]primitive`, or a struct / `[]struct`
 * with nested `fields`), the versions it exists in, the versions in which it
 * may be null, an optional tag (tagged fields live in the tagged-field section
 * of flexible versions), a default, and `flexible: 'none'` for the one field
 * that keeps its non-compact encoding in flexible versions (the request
 * header's client id). Version ranges are written as Kafka writes them:
 * `'3+'`, `'0-4'`, `'5'`, `'none'`.
 *
 * The TypeScript type of a message's value is inferred from its schema
 * (`MessageValue<typeof produceRequest>`): every field present, int64 as
 * bigint, uuid as a 22-character base64url string, records as a Buffer (or a
 * list of Buffers when encoding, so record chunks are never concatenated).
 */

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint16'
  | 'uint32'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

export type DefaultValue = number | bigint | boolean | string | null;

export interface FieldDef {
  readonly name: string;
  /** A primitive, `[]primitive`, or a struct name / `[]StructName` (with `fields`). */
  readonly type: string;
  readonly versions: string;
  readonly nullable?: string;
  readonly tag?: number;
  readonly tagged?: string;
  readonly default?: DefaultValue;
  readonly ignorable?: boolean;
  /** Field-level flexible override ('none' keeps the non-compact encoding). */
  readonly flexible?: string;
  readonly fields?: readonly FieldDef[];
}

export interface MessageDef<F extends readonly FieldDef[] = readonly FieldDef[]> {
  readonly name: string;
  readonly apiKey: number;
  readonly kind: 'request' | 'response';
  /** Valid versions, e.g. '0-11'. */
  readonly valid: string;
  /** Flexible versions, e.g. '9+' or 'none'. */
  readonly flexible: string;
  readonly fields: F;
}

export function message<const F extends readonly FieldDef[]>(def: MessageDef<F>): MessageDef<F> {
  return def;
}

/**
 * Record bytes that are not in memory when their frame is encoded (a range of a segment file): the codec
 * counts their `length` and emits the part as a chunk of its own, and whoever writes the frame copies the
 * bytes out piece by piece with `readInto` as it goes. Only chunked encoding (encodeChunks and the response
 * frames built on it) accepts them.
 */
export interface LazyChunk {
  readonly length: number;
  /** Fills `into` with this part's bytes from `from` on; throws when they cannot be the bytes it stood for. */
  readInto(into: Buffer, from: number): void;
}

/** One chunk of an encoded frame: bytes, or bytes read when the frame is written. */
export type FrameChunk = Buffer | LazyChunk;

/** Records as carried in a value: a slice of the input when decoded; chunks when encoding. */
export type RecordsValue = Buffer | readonly FrameChunk[];

interface PrimitiveValues {
  bool: boolean;
  int8: number;
  int16: number;
  int32: number;
  int64: bigint;
  uint16: number;
  uint32: number;
  float64: number;
  string: string;
  bytes: Buffer;
  uuid: string;
  records: RecordsValue;
}

type Nullable<F extends FieldDef, T> = F extends { nullable: string } ? T | null : T;

export type FieldValue<F extends FieldDef> = F extends { fields: infer S extends readonly FieldDef[] }
  ? F['type'] extends `[]${string}`
    ? Nullable<F, StructValue<S>[]>
    : Nullable<F, StructValue<S>>
  : F['type'] extends `[]${infer P extends keyof PrimitiveValues}`
    ? Nullable<F, PrimitiveValues[P][]>
    : F['type'] extends keyof PrimitiveValues
      ? Nullable<F, PrimitiveValues[F['type']]>
      : unknown;

export type StructValue<S extends readonly FieldDef[]> = {
  -readonly [K in S[number] as K['name']]: FieldValue<K>;
};

/** The value of a message: every field of every version, as decoded (absent ones hold their defaults). */
export type MessageValue<M extends MessageDef> = StructValue<M['fields']>;

type DeepPartial<T> = T extends Buffer | bigint | string | number | boolean | null | readonly Buffer[]
  ? T
  : T extends readonly (infer E)[]
    ? DeepPartial<E>[]
    : { [K in keyof T]?: DeepPartial<T[K]> };

/** What encode accepts: any field may be left out and then takes its default. */
export type MessageInput<M extends MessageDef> = DeepPartial<MessageValue<M>>;

/** A parsed version range. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 1, max: 0 };

export function parseVersions(spec: string | undefined): VersionRange {
  if (spec === undefined || spec === 'none') return NONE;
  if (spec.endsWith('+')) return { min: Number(spec.slice(0, -1)), max: Number.MAX_SAFE_INTEGER };
  const dash = spec.indexOf('-');
  if (dash >= 0) return { min: Number(spec.slice(0, dash)), max: Number(spec.slice(dash + 1)) };
  const v = Number(spec);
  return { min: v, max: v };
}

export function inRange(r: VersionRange, version: number): boolean {
  return version >= r.min && version <= r.max;
}
