/**
 * DescribeAcls: v0-3.
 * Behavior: as Kafka's AclApis. The session needs DESCRIBE on the cluster
 * (else the top-level CLUSTER_AUTHORIZATION_FAILED); without an authorizer
 * (authorizer.class.name empty) SECURITY_DISABLED "No Authorizer is configured
 * on the broker" and no resources. With one: the ACLs the filter matches
 * (acl-binding.ts: ANY, a name, MATCH for the ACLs that apply to a resource),
 * grouped by resource pattern. A filter Kafka cannot parse (a code 0 =
 * UNKNOWN, or at v0 a pattern type other than LITERAL or ANY) closes the
 * connection; another unknown code matches nothing.
 * Version notes: v1+ pattern types (v0 reads ANY as LITERAL, as Kafka, so it
 * describes LITERAL ACLs only); v2+ flexible; v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import type { AclBinding } from '../security/acl/acl-binding.js';
import { ACL_OPERATIONS, codeOfName, nameOfCode, PATTERN_TYPES, PERMISSION_TYPES, RESOURCE_TYPES } from '../security/acl/acl-types.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

const UNKNOWN = 0;
const ANY = 1;
const LITERAL = 3;

export const describeAclsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeAcls)!,
  request: schemas.describeAclsRequest,
  response: schemas.describeAclsResponse,
  handle(ctx, req) {
    let patternType = req.patternTypeFilter;
    if (ctx.version === 0 && patternType === ANY) patternType = LITERAL;
    if ((ctx.version === 0 && patternType !== LITERAL) || [patternType, req.resourceTypeFilter, req.permissionType, req.operation].includes(UNKNOWN)) {
      // Kafka fails to parse the request: the connection closes
      ctx.connection.close('DescribeAcls filter Kafka cannot parse');
      return undefined;
    }
    if (!authorizeCluster(ctx, 'DESCRIBE')) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: errorInfo(ErrorCode.CLUSTER_AUTHORIZATION_FAILED).message, resources: [] };
    }
    const authorizer = ctx.services.authorizer;
    if (authorizer === undefined) return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: [] };
    const matching = authorizer.matching({
      resourceType: nameOfCode(RESOURCE_TYPES, req.resourceTypeFilter),
      resourceName: req.resourceNameFilter,
      patternType: nameOfCode(PATTERN_TYPES, patternType),
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: nameOfCode(ACL_OPERATIONS, req.operation),
      permissionType: nameOfCode(PERMISSION_TYPES, req.permissionType),
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: byResource(matching) };
  },
});

/** Kafka's DescribeAclsResponse.aclsResources: one entry per resource pattern with its ACLs. */
function byResource(acls: readonly AclBinding[]) {
  const resources = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: Array<{ principal: string; host: string; operation: number; permissionType: number }> }>();
  for (const acl of acls) {
    const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.resourceName}`;
    let resource = resources.get(key);
    if (!resource) {
      resource = { resourceType: codeOfName(RESOURCE_TYPES, acl.resourceType), resourceName: acl.resourceName, patternType: codeOfName(PATTERN_TYPES, acl.patternType), acls: [] };
      resources.set(key, resource);
    }
    resource.acls.push({ principal: acl.principal, host: acl.host, operation: codeOfName(ACL_OPERATIONS, acl.operation), permissionType: codeOfName(PERMISSION_TYPES, acl.permissionType) });
  }
  return [...resources.values()];
}
