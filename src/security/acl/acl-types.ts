/**
 * Kafka's ACL vocabulary, by name and by the code the wire carries: resource
 * types, pattern types, operations and permission types (Kafka's
 * ResourceType, PatternType, AclOperation, AclPermissionType), the
 * operations each resource type has (AclEntry.supportedOperations), the
 * cluster resource's one name, and principals as ACLs write them
 * ("User:alice").
 *
 * Each table lists the names in code order: a name's index is its code, and
 * a code no table knows reads as UNKNOWN, as Kafka's fromCode reads it.
 * UNKNOWN and ANY are filter values: a stored ACL never has them (and never
 * MATCH, a filter-only pattern type).
 */
import type { KafkaPrincipal } from '../../session.js';

export const RESOURCE_TYPES = ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN', 'USER'] as const;
export const PATTERN_TYPES = ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED'] as const;
export const ACL_OPERATIONS = [
  'UNKNOWN',
  'ANY',
  'ALL',
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
  'IDEMPOTENT_WRITE',
  'CREATE_TOKENS',
  'DESCRIBE_TOKENS',
  'TWO_PHASE_COMMIT',
] as const;
export const PERMISSION_TYPES = ['UNKNOWN', 'ANY', 'DENY', 'ALLOW'] as const;

export type ResourceTypeName = (typeof RESOURCE_TYPES)[number];
export type PatternTypeName = (typeof PATTERN_TYPES)[number];
export type AclOperationName = (typeof ACL_OPERATIONS)[number];
export type PermissionTypeName = (typeof PERMISSION_TYPES)[number];

/** A resource an ACL can name (not a filter value). */
export type ResourceType = Exclude<ResourceTypeName, 'UNKNOWN' | 'ANY'>;
/** An operation an action asks for (ALL is an ACL's, never an action's). */
export type AclOperation = Exclude<AclOperationName, 'UNKNOWN' | 'ANY' | 'ALL'>;

/** The name of the one CLUSTER resource (Kafka's Resource.CLUSTER_NAME). */
export const CLUSTER_NAME = 'kafka-cluster';
/** A LITERAL resource name, or a host, that matches every name or host. */
export const WILDCARD = '*';

/** The name a table gives a code; UNKNOWN for a code it does not know (Kafka's fromCode). */
export function nameOfCode<T extends readonly string[]>(table: T, code: number): T[number] {
  return table[code] ?? 'UNKNOWN';
}

/** The code of a name in its table. */
export function codeOfName<T extends readonly string[]>(table: T, name: T[number]): number {
  return table.indexOf(name);
}

/** AclEntry.supportedOperations: what authorized-operations bit sets are made of, per resource type. */
export const SUPPORTED_OPERATIONS: Readonly<Record<ResourceType, readonly AclOperation[]>> = {
  TOPIC: ['READ', 'WRITE', 'CREATE', 'DESCRIBE', 'DELETE', 'ALTER', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'],
  GROUP: ['READ', 'DESCRIBE', 'DELETE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'],
  CLUSTER: ['CREATE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE', 'ALTER', 'DESCRIBE'],
  TRANSACTIONAL_ID: ['DESCRIBE', 'WRITE', 'TWO_PHASE_COMMIT'],
  DELEGATION_TOKEN: ['DESCRIBE'],
  USER: ['CREATE_TOKENS', 'DESCRIBE_TOKENS'],
};

/** Kafka's Utils.to32BitField of operations: bit `code` set for each. */
export function operationsBitField(operations: Iterable<AclOperation>): number {
  let bits = 0;
  for (const op of operations) bits |= 1 << codeOfName(ACL_OPERATIONS, op);
  return bits;
}

/** "User:alice", as ACLs and super.users name a principal (KafkaPrincipal.toString). */
export function principalString(principal: KafkaPrincipal): string {
  return `${principal.principalType}:${principal.name}`;
}

/**
 * Kafka's SecurityUtils.parseKafkaPrincipal: type and name split at the first colon; undefined for a string
 * without one (Kafka: "expected a string in format principalType:principalName but got ...").
 */
export function parsePrincipal(text: string): KafkaPrincipal | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { principalType: text.slice(0, colon), name: text.slice(colon + 1) };
}

/** Kafka's words for a principal that does not parse. */
export function principalProblem(text: string): string {
  return `expected a string in format principalType:principalName but got ${text}`;
}

/**
 * A client address as Kafka's authorizer compares it with an ACL's host (Java's
 * InetAddress.getHostAddress()): an IPv4 address as is, also when it arrives as IPv4-mapped IPv6
 * ("::ffff:10.0.0.1" → "10.0.0.1"); an IPv6 address as eight groups in lower-case hex without leading zeros
 * and without "::" ("::1" → "0:0:0:0:0:0:0:1"), its zone kept ("%eth0").
 */
export function hostAddressOf(remoteAddress: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (!remoteAddress.includes(':')) return remoteAddress;
  const percent = remoteAddress.indexOf('%');
  const zone = percent < 0 ? '' : remoteAddress.slice(percent);
  const address = percent < 0 ? remoteAddress : remoteAddress.slice(0, percent);
  const [head, tail] = address.includes('::') ? address.split('::', 2) : [address, undefined];
  const groupsOf = (part: string | undefined): string[] => (part === undefined || part === '' ? [] : part.split(':'));
  const left = groupsOf(head);
  const right = groupsOf(tail);
  // an embedded IPv4 tail ("::1.2.3.4") is two groups
  const expand = (groups: string[]): string[] =>
    groups.flatMap((g) => {
      const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(g);
      if (!v4) return [g];
      const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  const l = expand(left);
  const r = expand(right);
  const groups = tail === undefined ? l : [...l, ...Array<string>(Math.max(0, 8 - l.length - r.length)).fill('0'), ...r];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':') + zone;
}
