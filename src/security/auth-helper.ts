/**
 * What handlers ask the authorizer, as Kafka's AuthHelper asks it: one call
 * per check, each a one-liner in the handler at the place Kafka's KafkaApis
 * checks. The requester is the request's session principal, from the
 * connection's address (in Java's form, acl-types.ts hostAddressOf).
 *
 * Without an authorizer (authorizer.class.name empty) every check allows,
 * every filter keeps everything, and authorized operations are every
 * operation the resource type supports, as Kafka answers without one.
 *
 * `explicit` (Kafka's logIfDenied): true when the request named the resource
 * (a refusal goes to the audit log at info); false when filtering what the
 * client did not name (all topics of Metadata, groups of ListGroups).
 */
import { apiByKey } from '../../protocol/index.js';
import type { ConnectionInfo } from '../connection-info.js';
import type { RequestContext } from '../handlers/handler.js';
import { CLUSTER_NAME, hostAddressOf, operationsBitField, SUPPORTED_OPERATIONS, type AclOperation, type ResourceType } from './acl/acl-types.js';
import type { Requester } from './acl/standard-authorizer.js';

/** What the checks read of a request context. */
export type AuthContext = Pick<RequestContext, 'services' | 'session' | 'connection' | 'header'>;

export type { AclOperation, ResourceType } from './acl/acl-types.js';

/** Each connection's address in Java's form, computed once. */
const hosts = new WeakMap<ConnectionInfo, string>();

function requesterOf(ctx: AuthContext): Requester {
  let host = hosts.get(ctx.connection);
  if (host === undefined) hosts.set(ctx.connection, (host = hostAddressOf(ctx.connection.remoteAddress)));
  return { principal: ctx.session.principal, host, api: apiByKey(ctx.header.apiKey)?.name ?? String(ctx.header.apiKey) };
}

/** Whether an authorizer is configured (some answers differ without one, as in Kafka). */
export function hasAuthorizer(ctx: AuthContext): boolean {
  return ctx.services.authorizer !== undefined;
}

/** Kafka's authorize: may the session do `op` on the resource? Always without an authorizer. */
export function authorize(ctx: AuthContext, op: AclOperation, resourceType: ResourceType, name: string, explicit = true): boolean {
  const authorizer = ctx.services.authorizer;
  return authorizer === undefined || authorizer.authorize(requesterOf(ctx), op, resourceType, name, explicit);
}

/** authorize on the CLUSTER resource (kafka-cluster). */
export function authorizeCluster(ctx: AuthContext, op: AclOperation, explicit = true): boolean {
  return authorize(ctx, op, 'CLUSTER', CLUSTER_NAME, explicit);
}

/** Kafka's filterByAuthorized: the names among `names` the session may `op` (each asked once). */
export function authorizedNames(ctx: AuthContext, op: AclOperation, resourceType: ResourceType, names: Iterable<string>, explicit = true): Set<string> {
  const authorizer = ctx.services.authorizer;
  const unique = new Set(names);
  if (authorizer === undefined) return unique;
  const who = requesterOf(ctx);
  const allowed = new Set<string>();
  for (const name of unique) if (authorizer.authorize(who, op, resourceType, name, explicit)) allowed.add(name);
  return allowed;
}

/**
 * For requests that name topics by id (ShareFetch, ShareAcknowledge): whether the session may `op` the topic
 * of an id, each id asked once; an id of no topic is allowed (the request answers it as unknown).
 */
export function authorizedTopicIds(ctx: AuthContext, op: AclOperation): (topicId: string) => boolean {
  if (ctx.services.authorizer === undefined) return () => true;
  const decided = new Map<string, boolean>();
  return (topicId) => {
    let allowed = decided.get(topicId);
    if (allowed === undefined) {
      const name = ctx.services.topics.getById(topicId)?.name;
      decided.set(topicId, (allowed = name === undefined || authorize(ctx, op, 'TOPIC', name)));
    }
    return allowed;
  };
}

/** Kafka's authorizeByResourceType: may the session do `op` on some resource of the type? */
export function authorizeByResourceType(ctx: AuthContext, op: AclOperation, resourceType: ResourceType): boolean {
  const authorizer = ctx.services.authorizer;
  return authorizer === undefined || authorizer.authorizeByResourceType(requesterOf(ctx), op, resourceType);
}

/** Kafka's authorizedOperations: the bit set (1 << code) of the operations the session may do on the resource. */
export function authorizedOperations(ctx: AuthContext, resourceType: ResourceType, name: string): number {
  const supported = SUPPORTED_OPERATIONS[resourceType];
  const authorizer = ctx.services.authorizer;
  if (authorizer === undefined) return operationsBitField(supported);
  const who = requesterOf(ctx);
  return operationsBitField(supported.filter((op) => authorizer.authorize(who, op, resourceType, name, false)));
}

/** authorizedOperations of the cluster. */
export function clusterAuthorizedOperations(ctx: AuthContext): number {
  return authorizedOperations(ctx, 'CLUSTER', CLUSTER_NAME);
}

/** The int32 that says "authorized operations not asked for" (Kafka's schema default, Integer.MIN_VALUE). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
