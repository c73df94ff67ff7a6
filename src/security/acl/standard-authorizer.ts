/**
 * Gregor's standard authorizer (Kafka's StandardAuthorizer): selected by any
 * non-empty authorizer.class.name, as Kafka selects the class it names;
 * without one there is no authorizer and everything is allowed.
 *
 * It owns the ACLs and the decisions:
 * - configuration, read once at start as Kafka's configure() reads it:
 *   super.users, principals separated by ";" (each "Type:name", else the
 *   broker does not start), and allow.everyone.if.no.acl.found (false unless
 *   "true");
 * - the ACLs, loaded from the metadata store at start (an entry that is not a
 *   valid ACL stops the start: dropping a DENY silently would open access),
 *   changed by CreateAcls and DeleteAcls one change at a time, each stored
 *   durably before it applies: a change answers once it is on disk and
 *   decisions follow it from then on;
 * - decisions, by the rules of standard-authorizer-data.ts, remembered per
 *   (principal, host, operation, resource) until the ACLs change, so a
 *   Produce or Fetch of the same topics costs one lookup;
 * - the audit log, as Kafka's kafka.authorizer.logger: for a resource a
 *   request named explicitly, a refusal at info and an allowance at debug;
 *   filtering and authorized operations at trace;
 * - counts of decisions and of ACLs, for the metrics.
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';
import type { ConfigView } from '../../config/broker-config.js';
import type { Logger } from '../../logger.js';
import type { AclRecord, MetadataStore } from '../../metadata/metadata-store.js';
import type { KafkaPrincipal } from '../../session.js';
import { aclKey, filterMatches, newAclProblem, type AclBinding, type AclBindingFilter } from './acl-binding.js';
import {
  ACL_OPERATIONS,
  parsePrincipal,
  PATTERN_TYPES,
  PERMISSION_TYPES,
  principalProblem,
  principalString,
  RESOURCE_TYPES,
  type AclOperation,
  type ResourceType,
} from './acl-types.js';
import { authorizeByResourceType, EMPTY_INDEX, findRule, indexAcls, ruleAllows, ruleText, type AclIndex, type AuthorizerRules, type MatchingRule } from './standard-authorizer-data.js';

/** Who asks: the session's principal, from the client's address (hostAddressOf), in a request of an API. */
export interface Requester {
  readonly principal: KafkaPrincipal;
  readonly host: string;
  /** The request's API name, for the audit log. */
  readonly api: string;
}

/** What the authorizer keeps its ACLs in (the broker's metadata store). */
export type AclStore = Pick<MetadataStore, 'acls' | 'putAcls'>;

export interface StandardAuthorizerDeps {
  readonly config: ConfigView;
  readonly store: AclStore;
  readonly logger: Logger;
}

/** Decisions made since start, for gregor_authorizer_decisions_total. */
export interface AuthorizerStats {
  allowed: number;
  denied: number;
}

/** Most decisions remembered; the memory starts again when full. */
const MAX_REMEMBERED = 10_000;

/** SecurityUtils.resourceTypeName, for the audit log. */
const RESOURCE_TYPE_TEXT: Readonly<Record<ResourceType, string>> = {
  TOPIC: 'Topic',
  GROUP: 'Group',
  CLUSTER: 'Cluster',
  TRANSACTIONAL_ID: 'TransactionalId',
  DELEGATION_TOKEN: 'DelegationToken',
  USER: 'User',
};

/** Whether the configuration asks for an authorizer (authorizer.class.name set to anything). */
export function authorizerConfigured(config: ConfigView): boolean {
  return config.string('authorizer.class.name').trim() !== '';
}

/** super.users as Kafka's StandardAuthorizer reads it; throws Error for a principal that does not parse. */
export function superUsersOf(value: string): Set<string> {
  const users = new Set<string>();
  for (const part of value.split(';')) {
    const user = part.trim();
    if (user === '') continue;
    if (parsePrincipal(user) === undefined) throw new Error(principalProblem(user));
    users.add(user);
  }
  return users;
}

export class StandardAuthorizer {
  readonly stats: AuthorizerStats = { allowed: 0, denied: 0 };
  private readonly rules: AuthorizerRules;
  private readonly audit: Logger;
  private acls: readonly AclBinding[] = [];
  private index: AclIndex = EMPTY_INDEX;
  private remembered = new Map<string, MatchingRule>();
  private changes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly deps: StandardAuthorizerDeps) {
    const { config } = deps;
    this.rules = {
      superUsers: superUsersOf(config.string('super.users')),
      allowEveryoneIfNoAclFound: config.string('allow.everyone.if.no.acl.found').trim().toLowerCase() === 'true',
    };
    this.audit = deps.logger.child({ logger: 'kafka.authorizer.logger' });
  }

  /** The authorizer over the ACLs in `store` (loaded already); throws Error for a stored entry that is not an ACL. */
  static open(deps: StandardAuthorizerDeps): StandardAuthorizer {
    const authorizer = new StandardAuthorizer(deps);
    authorizer.replace(deps.store.acls().map(storedAcl));
    deps.logger.info(
      { superUsers: [...authorizer.rules.superUsers], allowEveryoneIfNoAclFound: authorizer.rules.allowEveryoneIfNoAclFound, acls: authorizer.acls.length },
      'authorizer started',
    );
    return authorizer;
  }

  get aclCount(): number {
    return this.acls.length;
  }

  /**
   * Whether `who` may do `op` on the resource. `explicit`: the request named the resource (a refusal is
   * logged at info, Kafka's logIfDenied); false for filtering and authorized operations.
   */
  authorize(who: Requester, op: AclOperation, resourceType: ResourceType, name: string, explicit = true): boolean {
    const key = `${who.principal.principalType}:${who.principal.name}\u0000${who.host}\u0000${op}\u0000${resourceType}\u0000${name}`;
    let rule = this.remembered.get(key);
    if (rule === undefined) {
      rule = findRule(this.index, this.rules, who.principal, who.host, op, resourceType, name);
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered = new Map();
      this.remembered.set(key, rule);
    }
    const allowed = ruleAllows(rule);
    if (allowed) this.stats.allowed++;
    else this.stats.denied++;
    const level = !explicit ? 'trace' : allowed ? 'debug' : 'info';
    if (this.audit.isLevelEnabled(level)) this.audit[level](auditText(who, allowed, op, resourceType, name, rule));
    return allowed;
  }

  /** Kafka's authorizeByResourceType: may `who` do `op` on some resource of the type (standard-authorizer-data.ts)? */
  authorizeByResourceType(who: Requester, op: AclOperation, resourceType: ResourceType): boolean {
    const allowed = authorizeByResourceType(this.index, this.rules, who.principal, who.host, op, resourceType);
    if (allowed) this.stats.allowed++;
    else this.stats.denied++;
    return allowed;
  }

  /** The ACLs a filter matches (DescribeAcls). */
  matching(filter: AclBindingFilter): AclBinding[] {
    return this.acls.filter((acl) => filterMatches(filter, acl));
  }

  /**
   * Adds ACLs (each valid: newAclProblem is undefined) once they are stored; an ACL already there is kept
   * once. Throws KafkaError KAFKA_STORAGE_ERROR when they cannot be stored (nothing changes then).
   */
  createAcls(acls: readonly AclBinding[]): Promise<void> {
    return this.change((current) => {
      const keys = new Set(current.map(aclKey));
      const added = acls.filter((acl) => {
        const key = aclKey(acl);
        if (keys.has(key)) return false;
        keys.add(key);
        return true;
      });
      return added.length === 0 ? undefined : { next: [...current, ...added], result: undefined };
    });
  }

  /**
   * Removes every ACL some filter matches, in one stored change; resolves with each filter's matches (an ACL
   * two filters match is in both). Throws KafkaError KAFKA_STORAGE_ERROR when the change cannot be stored.
   */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    return this.change((current) => {
      const matched = filters.map((f) => current.filter((acl) => filterMatches(f, acl)));
      const doomed = new Set(matched.flat());
      return { next: doomed.size === 0 ? undefined : current.filter((acl) => !doomed.has(acl)), result: matched };
    }).then((r) => r ?? filters.map(() => []));
  }

  /** Runs changes one at a time: each computes the next ACLs from the current ones, stores them, then applies them. */
  private change<R>(compute: (current: readonly AclBinding[]) => { next: readonly AclBinding[] | undefined; result: R } | undefined): Promise<R | undefined> {
    const run = async (): Promise<R | undefined> => {
      const computed = compute(this.acls);
      if (computed === undefined) return undefined;
      if (computed.next !== undefined) {
        try {
          await this.deps.store.putAcls(computed.next.map(recordOf));
        } catch (err) {
          throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing the ACLs failed: ${(err as Error).message}`);
        }
        const before = this.acls.length;
        this.replace(computed.next);
        this.deps.logger.info({ acls: this.acls.length, before }, 'ACLs changed');
      }
      return computed.result;
    };
    const next = this.changes.then(run, run);
    this.changes = next.catch(() => undefined);
    return next;
  }

  private replace(acls: readonly AclBinding[]): void {
    this.acls = acls;
    this.index = indexAcls(acls);
    this.remembered = new Map();
  }
}

/** A stored record as an ACL; throws Error when it is not one (the start stops). */
function storedAcl(r: AclRecord): AclBinding {
  const known = <T extends readonly string[]>(table: T, value: string, what: string): T[number] => {
    if (!table.includes(value)) throw new Error(`stored ACL ${JSON.stringify(r)} has an unknown ${what} '${value}'`);
    return value;
  };
  const acl: AclBinding = {
    resourceType: known(RESOURCE_TYPES, r.resourceType, 'resource type'),
    resourceName: r.resourceName,
    patternType: known(PATTERN_TYPES, r.patternType, 'pattern type'),
    principal: r.principal,
    host: r.host,
    operation: known(ACL_OPERATIONS, r.operation, 'operation'),
    permissionType: known(PERMISSION_TYPES, r.permissionType, 'permission type'),
  };
  const problem = newAclProblem(acl);
  if (problem !== undefined) throw new Error(`stored ACL ${JSON.stringify(r)} is not valid: ${problem}`);
  return acl;
}

function recordOf(acl: AclBinding): AclRecord {
  return { ...acl };
}

/** Kafka's audit line: "Principal = User:alice is Denied operation = READ from host = ... based on rule ...". */
function auditText(who: Requester, allowed: boolean, op: AclOperation, resourceType: ResourceType, name: string, rule: MatchingRule): string {
  return (
    `Principal = ${principalString(who.principal)} is ${allowed ? 'Allowed' : 'Denied'} operation = ${op} from host = ${who.host} ` +
    `on resource = ${RESOURCE_TYPE_TEXT[resourceType]}:LITERAL:${name} for request = ${who.api} based on rule ${ruleText(rule)}`
  );
}
