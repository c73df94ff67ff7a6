/**
 * AlterClientQuotas checked and planned as Kafka's controller does it
 * (ClientQuotaControlManager.alterClientQuotas): one result per distinct
 * entity, and the new values of each entity that passed. Nothing changes
 * here; the caller stores and applies the plan (or not, for validate_only).
 *
 * For each entry, in request order:
 * 1. Its entity types become a map (a type given twice keeps the last name).
 *    A key given twice in its ops, or an entity seen before in the request,
 *    answers "Ignoring duplicate entity <entity>" for that entity (Kafka first
 *    records "Duplicate quota key ..." and then overwrites it so); a first
 *    occurrence that passed stays planned, as in Kafka.
 * 2. The entity: none → "Invalid empty client quota entity"; a type other
 *    than user, client-id, ip → "Unhandled client quota entity type: <t>"; an
 *    empty name → "Empty <t> not supported"; ip with user or client-id →
 *    Kafka's "Invalid quota entity combination, IP entity shouldnot be
 *    combined with User or ClientId" (its missing space kept); an ip name that
 *    is neither an address nor a resolvable host → "<name> is not a valid IP
 *    or resolvable host.".
 * 3. Each op: a removal drops the key if set (not checked, as in Kafka); a
 *    value needs a key of the entity's kind ("Invalid configuration key
 *    <k>"), above 0 ("Quota <k> must be greater than 0"), whole for long and
 *    int keys ("<k> cannot be a fractional value.") and within their range
 *    ("Proposed value for <k> is too large for an INT." / "for a LONG.").
 *    The first failing op fails the entity, which then changes nothing.
 * Every failure is INVALID_REQUEST.
 */
import { isIP } from 'node:net';
import { ErrorCode } from '../../../protocol/index.js';
import { CLIENT_ID, entityKey, entityToString, IP, IP_QUOTA_KEYS, USER, USER_AND_CLIENT_QUOTA_KEYS, type QuotaEntity, type QuotaKeyType } from './client-quota-entity.js';
import type { ClientQuotasImage } from './client-quotas-image.js';

/** One entry of AlterClientQuotas, as the request carries it. */
export interface QuotaAlteration {
  readonly entity: ReadonlyArray<{ readonly entityType: string; readonly entityName: string | null }>;
  readonly ops: ReadonlyArray<{ readonly key: string; readonly value: number; readonly remove: boolean }>;
}

/** The outcome for one distinct entity of the request. */
export interface QuotaAlterationResult {
  readonly entity: QuotaEntity;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** An entity whose values change: its values after the change (empty: none left). */
export interface QuotaChange {
  readonly entity: QuotaEntity;
  readonly values: ReadonlyMap<string, number>;
}

export interface QuotaAlterationPlan {
  readonly results: QuotaAlterationResult[];
  readonly changes: QuotaChange[];
}

/** Whether a name is a host that resolves (an ip entity's name that is not an address). */
export type HostResolves = (host: string) => Promise<boolean>;

const LONG_MAX = 9223372036854775807;
const INT_MAX = 2147483647;

/** Checks the alterations against the current quotas (see the top of this file). */
export async function planQuotaAlterations(image: Pick<ClientQuotasImage, 'valuesOf'>, alterations: readonly QuotaAlteration[], resolves: HostResolves): Promise<QuotaAlterationPlan> {
  const results = new Map<string, QuotaAlterationResult>();
  const changes = new Map<string, QuotaChange>();
  const fail = (entity: QuotaEntity, message: string): QuotaAlterationResult => ({ entity, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message });
  for (const alteration of alterations) {
    const entity = new Map<string, string | null>();
    for (const e of alteration.entity) entity.set(e.entityType, e.entityName);
    const key = entityKey(entity);
    const ops = new Map<string, number | null>();
    let duplicateKey = false;
    for (const op of alteration.ops) {
      if (ops.has(op.key)) duplicateKey = true;
      else ops.set(op.key, op.remove ? null : op.value);
    }
    if (duplicateKey || results.has(key)) {
      results.set(key, fail(results.get(key)?.entity ?? entity, `Ignoring duplicate entity ${entityToString(entity)}`));
      continue;
    }
    const problem = await entityProblem(entity, resolves);
    if (typeof problem === 'string') {
      results.set(key, fail(entity, problem));
      continue;
    }
    const values = new Map(image.valuesOf(entity));
    let opProblem: string | undefined;
    for (const [k, value] of ops) {
      if (value === null) {
        values.delete(k);
        continue;
      }
      opProblem = valueProblem(problem, k, value);
      if (opProblem !== undefined) break;
      values.set(k, value);
    }
    if (opProblem !== undefined) {
      results.set(key, fail(entity, opProblem));
      continue;
    }
    results.set(key, { entity, errorCode: ErrorCode.NONE, errorMessage: null });
    changes.set(key, { entity, values });
  }
  return { results: [...results.values()], changes: [...changes.values()] };
}

/** The entity's problem (step 2), or the quota keys it takes. */
async function entityProblem(entity: QuotaEntity, resolves: HostResolves): Promise<string | ReadonlyMap<string, QuotaKeyType>> {
  if (entity.size === 0) return 'Invalid empty client quota entity';
  for (const [type, name] of entity) {
    if (type !== USER && type !== CLIENT_ID && type !== IP) return `Unhandled client quota entity type: ${type}`;
    if (name === '') return `Empty ${type} not supported`;
  }
  if (entity.has(IP)) {
    if (entity.has(USER) || entity.has(CLIENT_ID)) return 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId';
    const ip = entity.get(IP) ?? null;
    if (ip !== null && isIP(ip) === 0 && !(await resolves(ip))) return `${ip} is not a valid IP or resolvable host.`;
    return IP_QUOTA_KEYS;
  }
  return USER_AND_CLIENT_QUOTA_KEYS;
}

/** A quota value's problem (step 3), or undefined. */
function valueProblem(keys: ReadonlyMap<string, QuotaKeyType>, key: string, value: number): string | undefined {
  const type = keys.get(key);
  if (type === undefined) return `Invalid configuration key ${key}`;
  if (value <= 0) return `Quota ${key} must be greater than 0`;
  if (type === 'double') return undefined;
  if (type === 'int' && value > INT_MAX) return `Proposed value for ${key} is too large for an INT.`;
  if (type === 'long' && value > LONG_MAX) return `Proposed value for ${key} is too large for a LONG.`;
  if (Math.abs(value % 1) > 1e-6) return `${key} cannot be a fractional value.`;
  return undefined;
}
