/**
 * The error codes in a response body: every errorCode field (and *ErrorCode, e.g. partitionErrorCode),
 * however deeply nested, of the fields the response version has. The walk follows a plan compiled once
 * per response schema and version, which visits only the struct fields that can contain error codes
 * (never record sections, names or other leaves).
 */
import { inRange, parseVersions, type FieldDef, type MessageDef } from '../../protocol/index.js';

interface Plan {
  /** Error-code fields of this struct. */
  readonly codes: readonly string[];
  /** Struct (or struct array) fields that contain error codes somewhere below. */
  readonly children: readonly { readonly name: string; readonly plan: Plan }[];
}

const plans = new WeakMap<MessageDef, Map<number, Plan>>();

function isErrorCodeField(f: FieldDef): boolean {
  return f.type === 'int16' && (f.name === 'errorCode' || f.name.endsWith('ErrorCode'));
}

function compile(fields: readonly FieldDef[], version: number): Plan | null {
  const codes: string[] = [];
  const children: { name: string; plan: Plan }[] = [];
  for (const f of fields) {
    if (!inRange(parseVersions(f.versions), version)) continue;
    if (isErrorCodeField(f)) codes.push(f.name);
    else if (f.fields) {
      const plan = compile(f.fields, version);
      if (plan) children.push({ name: f.name, plan });
    }
  }
  return codes.length === 0 && children.length === 0 ? null : { codes, children };
}

function planOf(def: MessageDef, version: number): Plan | null {
  let byVersion = plans.get(def);
  if (!byVersion) {
    byVersion = new Map();
    plans.set(def, byVersion);
  }
  let plan = byVersion.get(version);
  if (plan === undefined) {
    plan = compile(def.fields, version) ?? { codes: [], children: [] };
    byVersion.set(version, plan);
  }
  return plan;
}

function walk(value: unknown, plan: Plan, onError: (code: number) => void): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) walk(v, plan, onError);
    return;
  }
  const struct = value as Record<string, unknown>;
  for (const name of plan.codes) {
    const code = struct[name];
    if (typeof code === 'number' && code !== 0) onError(code);
  }
  for (const child of plan.children) walk(struct[child.name], child.plan, onError);
}

/** Calls `onError` for every non-zero error code in `response`, a body of `def` at `version`. */
export function forEachResponseError(def: MessageDef, version: number, response: unknown, onError: (code: number) => void): void {
  const plan = planOf(def, version);
  if (plan) walk(response, plan, onError);
}
