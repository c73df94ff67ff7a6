/**
 * ACLs and ACL filters (Kafka's AclBinding and AclBindingFilter): what
 * CreateAcls stores, what DescribeAcls and DeleteAcls select, and the checks
 * a new ACL or a filter must pass.
 *
 * An ACL is a resource pattern (type, name, LITERAL or PREFIXED) and an
 * entry (principal, host, operation, ALLOW or DENY). A filter is the same
 * with wildcards: resource type ANY, name null, pattern type ANY or MATCH,
 * principal and host null, operation ANY, permission type ANY. Matching
 * (Kafka's ResourcePatternFilter.matches and AccessControlEntryFilter.matches):
 * - pattern type ANY: any pattern type, and a name must be equal;
 * - pattern type MATCH: every ACL that would apply to a resource of that name
 *   (LITERAL of the name or "*", PREFIXED of a prefix of it);
 * - LITERAL or PREFIXED: that pattern type and an equal name.
 *
 * Checks (Kafka's KafkaApis and AclControlManager.validateNewAcl, in their
 * order), each an INVALID_REQUEST with Kafka's message; and one Kafka's KRaft
 * controller leaves out: a principal that does not parse is refused too, as
 * ZooKeeper-era Kafka refused it, instead of being stored and failing every
 * later authorization.
 */
import { CLUSTER_NAME, parsePrincipal, principalProblem, type AclOperationName, type PatternTypeName, type PermissionTypeName, type ResourceTypeName } from './acl-types.js';

export interface AclBinding {
  readonly resourceType: ResourceTypeName;
  readonly resourceName: string;
  readonly patternType: PatternTypeName;
  readonly principal: string;
  readonly host: string;
  readonly operation: AclOperationName;
  readonly permissionType: PermissionTypeName;
}

export interface AclBindingFilter {
  readonly resourceType: ResourceTypeName;
  /** null: any name. */
  readonly resourceName: string | null;
  readonly patternType: PatternTypeName;
  /** null: any principal. */
  readonly principal: string | null;
  /** null: any host. */
  readonly host: string | null;
  readonly operation: AclOperationName;
  readonly permissionType: PermissionTypeName;
}

/** One key per distinct ACL (the seven fields), for sets of ACLs. */
export function aclKey(acl: AclBinding): string {
  return [acl.resourceType, acl.resourceName, acl.patternType, acl.principal, acl.host, acl.operation, acl.permissionType].join('\u0000');
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(filter: AclBindingFilter, acl: AclBinding): boolean {
  return patternMatches(filter, acl) && entryMatches(filter, acl);
}

function patternMatches(f: AclBindingFilter, acl: AclBinding): boolean {
  if (f.resourceType !== 'ANY' && f.resourceType !== acl.resourceType) return false;
  if (f.patternType !== 'ANY' && f.patternType !== 'MATCH' && f.patternType !== acl.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === 'ANY' || f.patternType === acl.patternType) return f.resourceName === acl.resourceName;
  // MATCH: the ACLs that apply to a resource of the filter's name
  if (acl.patternType === 'LITERAL') return f.resourceName === acl.resourceName || acl.resourceName === '*';
  if (acl.patternType === 'PREFIXED') return f.resourceName.startsWith(acl.resourceName);
  return false;
}

function entryMatches(f: AclBindingFilter, acl: AclBinding): boolean {
  if (f.principal !== null && f.principal !== acl.principal) return false;
  if (f.host !== null && f.host !== acl.host) return false;
  if (f.operation !== 'ANY' && f.operation !== acl.operation) return false;
  return f.permissionType === 'ANY' || f.permissionType === acl.permissionType;
}

/** The problem of an ACL to create (INVALID_REQUEST), or undefined when it may be stored. */
export function newAclProblem(acl: AclBinding): string | undefined {
  if (acl.resourceType === 'CLUSTER' && acl.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (acl.resourceName === '') return 'Invalid empty resource name';
  if (acl.resourceType === 'UNKNOWN' || acl.resourceType === 'ANY') return `Invalid resourceType ${acl.resourceType}`;
  if (acl.patternType !== 'LITERAL' && acl.patternType !== 'PREFIXED') return `Invalid patternType ${acl.patternType}`;
  if (acl.operation === 'UNKNOWN' || acl.operation === 'ANY') return `Invalid operation ${acl.operation}`;
  if (acl.permissionType !== 'ALLOW' && acl.permissionType !== 'DENY') return `Invalid permissionType ${acl.permissionType}`;
  if (parsePrincipal(acl.principal) === undefined) return principalProblem(acl.principal);
  return undefined;
}

/** The problem of a DeleteAcls filter (INVALID_REQUEST, AclControlManager.validateFilter), or undefined. */
export function filterProblem(filter: AclBindingFilter): string | undefined {
  if (filter.resourceType === 'UNKNOWN' || filter.patternType === 'UNKNOWN') return 'Unknown patternFilter.';
  if (filter.operation === 'UNKNOWN' || filter.permissionType === 'UNKNOWN') return 'Unknown entryFilter.';
  return undefined;
}
