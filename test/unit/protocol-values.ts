/**
 * Test helper: message values generated from our schemas (seeded, reproducible),
 * written from the schema rules in notes/wire-encoding.md rather than from the
 * codec, so that round trips check the codec against the schema semantics.
 *
 * Modes:
 * - 'full': every field non-null and different from its default, arrays of 1-3
 *   elements, every tagged field present on the wire;
 * - 'empty': nulls wherever nullable, empty arrays, empty strings/bytes, tagged
 *   fields left at their defaults (so omitted on the wire);
 * - 'extreme': integer extremes, long unicode strings, float specials;
 * - 'random': a random mix of all of the above.
 */
import { inRange, parseVersions, ZERO_UUID, type FieldDef, type MessageDef } from '../../protocol/index.js';

export type Mode = 'full' | 'empty' | 'extreme' | 'random';

export type Rng = () => number;

/** mulberry32: small seeded PRNG, uniform in [0, 1). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ['topic-a', 'ünïcødé-grüße', '日本語のトピック', '🚀 rocket 🛰️', 'x', 'ascii with spaces', 'Ωμέγα'];
const PRIMS = new Set(['bool', 'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'float64', 'string', 'bytes', 'uuid', 'records']);

function isStruct(f: FieldDef): boolean {
  return !PRIMS.has(f.type.startsWith('[]') ? f.type.slice(2) : f.type);
}

/** The value a field holds when absent: its explicit default or the type's implicit one. */
export function defaultOf(f: FieldDef): unknown {
  if (f.default === null) return null;
  if (f.type.startsWith('[]')) return [];
  if (isStruct(f)) return defaultStructOf(f.fields ?? []);
  if (f.default !== undefined) return f.default;
  switch (f.type) {
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

function defaultStructOf(fields: readonly FieldDef[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = defaultOf(f);
  return o;
}

interface Ctx {
  readonly version: number;
  readonly flexible: boolean;
  readonly mode: Mode;
  readonly rng: Rng;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}
function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}
function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

function primValue(type: string, ctx: Ctx, avoid: unknown): unknown {
  const { rng, mode } = ctx;
  const extreme = mode === 'extreme' || (mode === 'random' && rng() < 0.3);
  for (let attempt = 0; ; attempt++) {
    let v: unknown;
    switch (type) {
      case 'bool':
        v = mode === 'full' ? avoid !== true : rng() < 0.5;
        break;
      case 'int8':
        v = extreme ? pick(rng, [-128, 127]) : int(rng, -128, 127);
        break;
      case 'int16':
        v = extreme ? pick(rng, [-32768, 32767]) : int(rng, -32768, 32767);
        break;
      case 'uint16':
        v = extreme ? pick(rng, [0, 65535]) : int(rng, 0, 65535);
        break;
      case 'int32':
        v = extreme ? pick(rng, [-(2 ** 31), 2 ** 31 - 1]) : int(rng, -(2 ** 31), 2 ** 31 - 1);
        break;
      case 'uint32':
        v = extreme ? pick(rng, [0, 2 ** 32 - 1]) : int(rng, 0, 2 ** 32 - 1);
        break;
      case 'int64':
        v = extreme
          ? pick(rng, [-(2n ** 63n), 2n ** 63n - 1n, -1n, 2n ** 53n + 1n])
          : BigInt.asIntN(64, (BigInt(int(rng, 0, 2 ** 32 - 1)) << 32n) | BigInt(int(rng, 0, 2 ** 32 - 1)));
        break;
      case 'float64':
        v = extreme ? pick(rng, [Number.NaN, Number.POSITIVE_INFINITY, -0, Number.MIN_VALUE, -Number.MAX_VALUE]) : (rng() - 0.5) * 1e6;
        break;
      case 'string':
        v = extreme ? pick(rng, STRINGS).repeat(int(rng, 20, 60)) : mode === 'empty' ? '' : pick(rng, STRINGS) + String(int(rng, 0, 999));
        break;
      case 'bytes':
        v = mode === 'empty' ? Buffer.alloc(0) : randomBytes(rng, extreme ? int(rng, 200, 400) : int(rng, 1, 24));
        break;
      case 'records':
        v = mode === 'empty' ? Buffer.alloc(0) : randomBytes(rng, extreme ? int(rng, 300, 600) : int(rng, 1, 80));
        break;
      case 'uuid':
        v = mode === 'empty' ? ZERO_UUID : randomBytes(rng, 16).toString('base64url');
        break;
      default:
        throw new Error(`unknown type ${type}`);
    }
    if (mode !== 'full' || !sameValue(v, avoid) || attempt > 20) return v;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return Object.is(a, b);
}

function arrayLength(ctx: Ctx): number {
  switch (ctx.mode) {
    case 'full':
      return int(ctx.rng, 1, 3);
    case 'empty':
      return 0;
    case 'extreme':
      return 1;
    case 'random':
      return int(ctx.rng, 0, 3);
  }
}

function fieldValue(f: FieldDef, ctx: Ctx): unknown {
  const { version, rng, mode } = ctx;
  const nullable = inRange(parseVersions(f.nullable), version);
  const tagged = f.tag !== undefined;
  if (tagged && (mode === 'empty' || (mode === 'random' && rng() < 0.4))) return defaultOf(f);
  if (nullable && (mode === 'empty' || (mode === 'random' && rng() < 0.25))) return null;
  const base = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
  if (f.type.startsWith('[]')) {
    const n = arrayLength(ctx);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(isStruct(f) ? structValue(f.fields ?? [], ctx) : primValue(base, ctx, undefined));
    return out;
  }
  if (isStruct(f)) return structValue(f.fields ?? [], ctx);
  return primValue(base, ctx, defaultOf(f));
}

function fieldPresent(f: FieldDef, ctx: Ctx): boolean {
  if (!inRange(parseVersions(f.versions), ctx.version)) return false;
  if (f.tag === undefined) return true;
  return ctx.flexible && inRange(parseVersions(f.tagged), ctx.version);
}

function structValue(fields: readonly FieldDef[], ctx: Ctx): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = fieldPresent(f, ctx) ? fieldValue(f, ctx) : defaultOf(f);
  return o;
}

/** A full message value for `def` at `version` (absent fields hold their defaults, as decode returns them). */
export function generateMessage(def: MessageDef, version: number, mode: Mode, seed: number): Record<string, unknown> {
  const ctx: Ctx = { version, flexible: inRange(parseVersions(def.flexible), version), mode, rng: seededRng(seed) };
  return structValue(def.fields, ctx);
}

/** Tagged fields that exist in this version of the message, anywhere in its tree (for coverage checks). */
export function taggedFieldCount(def: MessageDef, version: number): number {
  if (!inRange(parseVersions(def.flexible), version)) return 0;
  const count = (fields: readonly FieldDef[]): number => {
    let n = 0;
    for (const f of fields) {
      if (!inRange(parseVersions(f.versions), version)) continue;
      if (f.tag !== undefined && inRange(parseVersions(f.tagged), version)) n++;
      if (f.fields) n += count(f.fields);
    }
    return n;
  };
  return count(def.fields);
}
