/**
 * DeleteAcls: v0-3.
 * Behavior: as Kafka's AclApis with its KRaft controller. Without an
 * authorizer (authorizer.class.name empty) every filter gets SECURITY_DISABLED
 * "No Authorizer is configured." and no matching ACLs. With one: the session
 * needs ALTER on the cluster (else every filter gets
 * CLUSTER_AUTHORIZATION_FAILED); a filter with an unknown resource type or
 * pattern type gets INVALID_REQUEST "Unknown patternFilter.", an unknown
 * operation or permission type "Unknown entryFilter."; the ACLs the other
 * filters match (acl-binding.ts) are removed in one durable change, and each
 * filter answers the ACLs it matched (an ACL two filters match in both). A
 * failed write is KAFKA_STORAGE_ERROR for every filter. A filter Kafka cannot
 * parse (a code 0 = UNKNOWN, or at v0 a pattern type other than LITERAL or
 * ANY) closes the connection.
 * Version notes: v1+ pattern types (v0 reads ANY as LITERAL, as Kafka); v2+
 * flexible; v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import { filterProblem, type AclBinding, type AclBindingFilter } from '../security/acl/acl-binding.js';
import { ACL_OPERATIONS, codeOfName, nameOfCode, PATTERN_TYPES, PERMISSION_TYPES, RESOURCE_TYPES } from '../security/acl/acl-types.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import { defineHandler } from './handler.js';

const UNKNOWN = 0;
const ANY = 1;
const LITERAL = 3;

export const deleteAclsHandler = defineHandler({
  api: apiByKey(ApiKey.DeleteAcls)!,
  request: schemas.deleteAclsRequest,
  response: schemas.deleteAclsResponse,
  async handle(ctx, req) {
    const failAll = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
    const patternTypes = req.filters.map((f) => (ctx.version === 0 && f.patternTypeFilter === ANY ? LITERAL : f.patternTypeFilter));
    const unparsable = req.filters.some(
      (f, i) => (ctx.version === 0 && patternTypes[i] !== LITERAL) || [patternTypes[i], f.resourceTypeFilter, f.operation, f.permissionType].includes(UNKNOWN),
    );
    if (unparsable) {
      // Kafka fails to parse the request: the connection closes
      ctx.connection.close('DeleteAcls filter Kafka cannot parse');
      return undefined;
    }
    if (!authorizeCluster(ctx, 'ALTER')) return failAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorInfo(ErrorCode.CLUSTER_AUTHORIZATION_FAILED).message);
    const authorizer = ctx.services.authorizer;
    if (authorizer === undefined) return failAll(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const filters: AclBindingFilter[] = req.filters.map((f, i) => ({
      resourceType: nameOfCode(RESOURCE_TYPES, f.resourceTypeFilter),
      resourceName: f.resourceNameFilter,
      patternType: nameOfCode(PATTERN_TYPES, patternTypes[i]!),
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: nameOfCode(ACL_OPERATIONS, f.operation),
      permissionType: nameOfCode(PERMISSION_TYPES, f.permissionType),
    }));
    const problems = filters.map(filterProblem);
    const valid = filters.filter((_, i) => problems[i] === undefined);
    let deleted: AclBinding[][];
    try {
      deleted = await authorizer.deleteAcls(valid);
    } catch (err) {
      if (!isKnownError(err)) throw err;
      return failAll(errorCodeOf(err), err.message);
    }
    let next = 0;
    return {
      throttleTimeMs: 0,
      filterResults: problems.map((problem) => {
        if (problem !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] };
        return { errorCode: ErrorCode.NONE, errorMessage: null, matchingAcls: (deleted[next++] ?? []).map(matchingAcl) };
      }),
    };
  },
});

function matchingAcl(acl: AclBinding) {
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    resourceType: codeOfName(RESOURCE_TYPES, acl.resourceType),
    resourceName: acl.resourceName,
    patternType: codeOfName(PATTERN_TYPES, acl.patternType),
    principal: acl.principal,
    host: acl.host,
    operation: codeOfName(ACL_OPERATIONS, acl.operation),
    permissionType: codeOfName(PERMISSION_TYPES, acl.permissionType),
  };
}
