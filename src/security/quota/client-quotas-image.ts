/**
 * The client quotas set on the cluster, and DescribeClientQuotas over them:
 * Kafka's ClientQuotasImage (ClientQuotasImage.describe). Entities keep the
 * order they were first set in; each entity's values the order of their keys.
 *
 * A filter is a list of components, each on one entity type:
 * - match type 0 (EXACT): the entity's name of that type is `match`;
 * - 1 (DEFAULT): the entity is that type's default (a null name);
 * - 2 (SPECIFIED): the entity has that type, with any name or the default;
 * an entity matches when every component does; `strict` also requires it to
 * have no other types. A filter Kafka refuses throws a KafkaError with Kafka's
 * code and message: INVALID_REQUEST for an empty or repeated entity type, a
 * match string where none belongs or none where one does, an unknown match
 * type, or ip with user or client-id; UNSUPPORTED_VERSION for another entity
 * type.
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';
import { CLIENT_ID, entityKey, IP, USER, type QuotaEntity } from './client-quota-entity.js';

export const MATCH_TYPE_EXACT = 0;
export const MATCH_TYPE_DEFAULT = 1;
export const MATCH_TYPE_SPECIFIED = 2;

/** One filter component of DescribeClientQuotas. */
export interface QuotaFilterComponent {
  readonly entityType: string;
  readonly matchType: number;
  readonly match: string | null;
}

/** An entity with its quota values. */
export interface ClientQuotaEntry {
  readonly entity: QuotaEntity;
  readonly values: ReadonlyMap<string, number>;
}

export class ClientQuotasImage {
  private readonly byKey = new Map<string, ClientQuotaEntry>();

  /** Every entity with at least one value. */
  entries(): IterableIterator<ClientQuotaEntry> {
    return this.byKey.values();
  }

  /** The values set on an entity (empty when none). */
  valuesOf(entity: QuotaEntity): ReadonlyMap<string, number> {
    return this.byKey.get(entityKey(entity))?.values ?? new Map();
  }

  /** Replaces an entity's values; empty values remove it. */
  set(entity: QuotaEntity, values: ReadonlyMap<string, number>): void {
    const key = entityKey(entity);
    if (values.size === 0) this.byKey.delete(key);
    else this.byKey.set(key, { entity: this.byKey.get(key)?.entity ?? entity, values: new Map(values) });
  }

  /** The entries a DescribeClientQuotas filter matches (see the top of this file). */
  describe(components: readonly QuotaFilterComponent[], strict: boolean): ClientQuotaEntry[] {
    const exact = new Map<string, string | null>();
    const specified = new Set<string>();
    for (const c of components) {
      const type = c.entityType;
      if (type === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.');
      if (exact.has(type) || specified.has(type)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Entity type ${type} cannot appear more than once in the filter.`);
      if (type !== IP && type !== USER && type !== CLIENT_ID) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${type}`);
      switch (c.matchType) {
        case MATCH_TYPE_EXACT:
          if (c.match === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.');
          exact.set(type, c.match);
          break;
        case MATCH_TYPE_DEFAULT:
          if (c.match !== null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
          exact.set(type, null);
          break;
        case MATCH_TYPE_SPECIFIED:
          if (c.match !== null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
          specified.add(type);
          break;
        default:
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
      }
    }
    const named = (type: string): boolean => exact.has(type) || specified.has(type);
    if (named(IP) && (named(USER) || named(CLIENT_ID))) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.');
    }
    const out: ClientQuotaEntry[] = [];
    for (const e of this.byKey.values()) if (matches(e.entity, exact, specified, strict)) out.push(e);
    return out;
  }
}

function matches(entity: QuotaEntity, exact: ReadonlyMap<string, string | null>, specified: ReadonlySet<string>, strict: boolean): boolean {
  if (strict && entity.size !== exact.size + specified.size) return false;
  for (const [type, name] of exact) if (!entity.has(type) || entity.get(type) !== name) return false;
  for (const type of specified) if (!entity.has(type)) return false;
  return true;
}
