/**
 * The decision rules of Kafka's StandardAuthorizer (StandardAuthorizerData),
 * over an index of the ACLs. Plain data and functions: an index is built once
 * per set of ACLs and never changed (a change builds a new one).
 *
 * Whether a principal, from a host, may do an operation on a resource
 * (type and name; actions always name one resource, as Kafka's LITERAL
 * action patterns do):
 * 1. A super user (super.users holds "Type:name") may do anything.
 * 2. The ACLs that apply to the resource are those of its type whose pattern
 *    covers the name: LITERAL with the same name, LITERAL "*", PREFIXED with
 *    a prefix of the name.
 * 3. An applicable ACL matches the request when its principal is the
 *    requester's or User:* (Kafka's wildcard is the User type's only), its
 *    host is "*" or the requester's address (Java's form, acl-types.ts),
 *    and its operation is ALL, the asked one, or, for an ALLOW ACL only, one
 *    that implies it: DESCRIBE is implied by READ, WRITE, DELETE and ALTER,
 *    DESCRIBE_CONFIGS by ALTER_CONFIGS. (A DENY of READ does not deny DESCRIBE.)
 * 4. A matching DENY refuses, whatever ALLOWs match (deny overrides allow);
 *    otherwise a matching ALLOW allows.
 * 5. Nothing matched: when no ACL applies to the resource at all, the
 *    default (allow.everyone.if.no.acl.found, false unless set); when some
 *    apply (to other principals, hosts or operations), refused.
 *
 * authorizeByResourceType (Kafka's Authorizer default method, which
 * StandardAuthorizer keeps): may the principal do the operation on SOME
 * resource of the type? Used by InitProducerId without a transactional id
 * (IDEMPOTENT_WRITE on the cluster, or WRITE on any topic). First the
 * decision above for a resource named "hardcode" (so super users, and the
 * default when no ACL applies, are answered as for any name); then, over the
 * type's ACLs that match the principal (or User:*), the host and the
 * operation exactly (or ALL; no implied operations): a DENY of LITERAL "*"
 * refuses; else an ALLOW of LITERAL "*" allows; else an ALLOWed LITERAL name
 * not denied as LITERAL and not under a DENYed prefix, or an ALLOWed prefix not
 * under a DENYed prefix (a prefix of it, itself included), allows.
 */
import type { KafkaPrincipal } from '../../session.js';
import type { AclBinding } from './acl-binding.js';
import { WILDCARD, parsePrincipal, principalString, type AclOperation, type AclOperationName, type ResourceType } from './acl-types.js';

/** The authorizer's configuration: super.users and allow.everyone.if.no.acl.found. */
export interface AuthorizerRules {
  /** Principals as "Type:name". */
  readonly superUsers: ReadonlySet<string>;
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** A stored ACL with its principal parsed once. */
interface IndexedAcl {
  readonly acl: AclBinding;
  readonly principalType: string;
  readonly principalName: string;
  readonly allow: boolean;
}

interface TypeIndex {
  /** LITERAL ACLs by name ("*" among them). */
  readonly literal: Map<string, IndexedAcl[]>;
  /** PREFIXED ACLs by prefix. */
  readonly prefixed: Map<string, IndexedAcl[]>;
  /** Every ACL of the type, for authorizeByResourceType. */
  readonly all: IndexedAcl[];
}

/** The ACLs indexed for decisions (Kafka's AclCache). */
export interface AclIndex {
  readonly byType: ReadonlyMap<string, TypeIndex>;
  readonly count: number;
}

export const EMPTY_INDEX: AclIndex = { byType: new Map(), count: 0 };

/** Indexes stored ACLs (LITERAL or PREFIXED, principals that parse: CreateAcls and the store check them). */
export function indexAcls(acls: Iterable<AclBinding>): AclIndex {
  const byType = new Map<string, TypeIndex>();
  let count = 0;
  for (const acl of acls) {
    const principal = parsePrincipal(acl.principal);
    if (principal === undefined) continue;
    let index = byType.get(acl.resourceType);
    if (!index) byType.set(acl.resourceType, (index = { literal: new Map(), prefixed: new Map(), all: [] }));
    const entry: IndexedAcl = { acl, principalType: principal.principalType, principalName: principal.name, allow: acl.permissionType === 'ALLOW' };
    const byName = acl.patternType === 'PREFIXED' ? index.prefixed : index.literal;
    const list = byName.get(acl.resourceName);
    if (list) list.push(entry);
    else byName.set(acl.resourceName, [entry]);
    index.all.push(entry);
    count++;
  }
  return { byType, count };
}

/** Which rule decided, as Kafka's audit log names it. */
export type MatchingRule = { readonly kind: 'SuperUser' } | { readonly kind: 'Default'; readonly allowed: boolean } | { readonly kind: 'Acl'; readonly acl: AclBinding; readonly allowed: boolean };

export function ruleAllows(rule: MatchingRule): boolean {
  return rule.kind === 'SuperUser' || rule.allowed;
}

/** "SuperUser", "DefaultAllow", "DefaultDeny" or "MatchingAcl(...)": Kafka's audit wording. */
export function ruleText(rule: MatchingRule): string {
  if (rule.kind === 'SuperUser') return 'SuperUser';
  if (rule.kind === 'Default') return rule.allowed ? 'DefaultAllow' : 'DefaultDeny';
  const a = rule.acl;
  return `MatchingAcl(acl=StandardAcl(resourceType=${a.resourceType}, resourceName=${a.resourceName}, patternType=${a.patternType}, principal=${a.principal}, host=${a.host}, operation=${a.operation}, permissionType=${a.permissionType}))`;
}

const IMPLIES_DESCRIBE: ReadonlySet<AclOperationName> = new Set(['DESCRIBE', 'READ', 'WRITE', 'DELETE', 'ALTER']);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<AclOperationName> = new Set(['DESCRIBE_CONFIGS', 'ALTER_CONFIGS']);

/** The decision for one action (steps 1-5 above). */
export function findRule(index: AclIndex, rules: AuthorizerRules, principal: KafkaPrincipal, host: string, op: AclOperation, resourceType: ResourceType, name: string): MatchingRule {
  if (rules.superUsers.size > 0 && rules.superUsers.has(principalString(principal))) return { kind: 'SuperUser' };
  let hasResourceAcls = false;
  let allowAcl: AclBinding | undefined;
  const typeIndex = index.byType.get(resourceType);
  if (typeIndex !== undefined) {
    for (const list of applicableLists(typeIndex, name)) {
      for (const entry of list) {
        hasResourceAcls = true;
        const result = resultOf(entry, principal, host, op);
        if (result === 'DENIED') return { kind: 'Acl', acl: entry.acl, allowed: false };
        if (result === 'ALLOWED') allowAcl = entry.acl;
      }
    }
  }
  if (allowAcl !== undefined) return { kind: 'Acl', acl: allowAcl, allowed: true };
  return { kind: 'Default', allowed: hasResourceAcls ? false : rules.allowEveryoneIfNoAclFound };
}

/** The lists of ACLs whose pattern covers `name`: LITERAL of it, LITERAL "*", PREFIXED of each of its prefixes. */
function* applicableLists(index: TypeIndex, name: string): Generator<readonly IndexedAcl[]> {
  const literal = index.literal.get(name);
  if (literal) yield literal;
  if (name !== WILDCARD) {
    const wildcard = index.literal.get(WILDCARD);
    if (wildcard) yield wildcard;
  }
  if (index.prefixed.size === 0) return;
  if (index.prefixed.size < name.length) {
    for (const [prefix, list] of index.prefixed) if (name.startsWith(prefix)) yield list;
  } else {
    for (let end = 1; end <= name.length; end++) {
      const list = index.prefixed.get(name.slice(0, end));
      if (list) yield list;
    }
  }
}

/** Step 3: ALLOWED or DENIED when the ACL matches the request, undefined when it does not. */
function resultOf(entry: IndexedAcl, principal: KafkaPrincipal, host: string, op: AclOperation): 'ALLOWED' | 'DENIED' | undefined {
  const samePrincipal = entry.principalType === principal.principalType && entry.principalName === principal.name;
  if (!samePrincipal && !(entry.principalType === 'User' && entry.principalName === WILDCARD)) return undefined;
  const acl = entry.acl;
  if (acl.host !== WILDCARD && acl.host !== host) return undefined;
  if (acl.operation !== 'ALL') {
    if (entry.allow) {
      if (op === 'DESCRIBE') {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return undefined;
      } else if (op === 'DESCRIBE_CONFIGS') {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return undefined;
      } else if (acl.operation !== op) {
        return undefined;
      }
    } else if (acl.operation !== op) {
      return undefined;
    }
  }
  return entry.allow ? 'ALLOWED' : 'DENIED';
}

/** The resource name authorizeByResourceType asks about first (Kafka's). */
const PROBE_NAME = 'hardcode';

/** Kafka's Authorizer.authorizeByResourceType (see the top of this file). */
export function authorizeByResourceType(index: AclIndex, rules: AuthorizerRules, principal: KafkaPrincipal, host: string, op: AclOperation, resourceType: ResourceType): boolean {
  if (ruleAllows(findRule(index, rules, principal, host, op, resourceType, PROBE_NAME))) return true;
  const denyLiteral = new Set<string>();
  const denyPrefixed = new Set<string>();
  const allowLiteral = new Set<string>();
  const allowPrefixed = new Set<string>();
  let wildcardAllowed = false;
  for (const entry of index.byType.get(resourceType)?.all ?? []) {
    const acl = entry.acl;
    if (acl.host !== host && acl.host !== WILDCARD) continue;
    const samePrincipal = entry.principalType === principal.principalType && entry.principalName === principal.name;
    if (!samePrincipal && acl.principal !== 'User:*') continue;
    if (acl.operation !== op && acl.operation !== 'ALL') continue;
    if (!entry.allow) {
      if (acl.patternType === 'LITERAL') {
        if (acl.resourceName === WILDCARD) return false;
        denyLiteral.add(acl.resourceName);
      } else {
        denyPrefixed.add(acl.resourceName);
      }
      continue;
    }
    if (acl.patternType === 'LITERAL') {
      if (acl.resourceName === WILDCARD) wildcardAllowed = true;
      else allowLiteral.add(acl.resourceName);
    } else {
      allowPrefixed.add(acl.resourceName);
    }
  }
  if (wildcardAllowed) return true;
  const underDeniedPrefix = (name: string): boolean => {
    for (let end = 1; end <= name.length; end++) if (denyPrefixed.has(name.slice(0, end))) return true;
    return false;
  };
  for (const name of allowLiteral) if (!denyLiteral.has(name) && !underDeniedPrefix(name)) return true;
  for (const name of allowPrefixed) if (!underDeniedPrefix(name)) return true;
  return false;
}
