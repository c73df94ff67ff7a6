/**
 * CreateAcls: v0-3.
 * Behavior: as Kafka's AclApis with its KRaft controller. Without an
 * authorizer (authorizer.class.name empty) every creation gets
 * SECURITY_DISABLED "No Authorizer is configured." and nothing is stored.
 * With one: the session needs ALTER on the cluster (else every creation gets
 * CLUSTER_AUTHORIZATION_FAILED); each ACL is checked on its own, INVALID_REQUEST
 * with Kafka's words (acl-binding.ts newAclProblem: a CLUSTER resource not
 * named kafka-cluster, an empty name, ANY or UNKNOWN resource type, a pattern
 * type other than LITERAL or PREFIXED, ANY or UNKNOWN operation or permission
 * type, a principal that is not "Type:name"); the valid ones are stored
 * durably and apply at once, an ACL already there is kept once (NONE), a
 * failed write is KAFKA_STORAGE_ERROR. A request Kafka cannot parse (a code
 * 0 = UNKNOWN in any enum field) closes the connection, as Kafka's does.
 * Version notes: v1+ pattern types (v0 creates LITERAL ACLs); v2+ flexible;
 * v3 same as v2.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, schemas } from '../../protocol/index.js';
import { newAclProblem, type AclBinding } from '../security/acl/acl-binding.js';
import { ACL_OPERATIONS, nameOfCode, PATTERN_TYPES, PERMISSION_TYPES, RESOURCE_TYPES } from '../security/acl/acl-types.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import { defineHandler } from './handler.js';

const UNKNOWN = 0;

export const createAclsHandler = defineHandler({
  api: apiByKey(ApiKey.CreateAcls)!,
  request: schemas.createAclsRequest,
  response: schemas.createAclsResponse,
  async handle(ctx, req) {
    const failAll = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })) });
    if (req.creations.some((c) => [c.resourcePatternType, c.resourceType, c.permissionType, c.operation].includes(UNKNOWN))) {
      // Kafka fails to parse the request: the connection closes
      ctx.connection.close('CreateAcls with UNKNOWN elements');
      return undefined;
    }
    if (!authorizeCluster(ctx, 'ALTER')) return failAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorInfo(ErrorCode.CLUSTER_AUTHORIZATION_FAILED).message);
    const authorizer = ctx.services.authorizer;
    if (authorizer === undefined) return failAll(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const acls: AclBinding[] = req.creations.map((c) => ({
      resourceType: nameOfCode(RESOURCE_TYPES, c.resourceType),
      resourceName: c.resourceName,
      patternType: nameOfCode(PATTERN_TYPES, c.resourcePatternType),
      principal: c.principal,
      host: c.host,
      operation: nameOfCode(ACL_OPERATIONS, c.operation),
      permissionType: nameOfCode(PERMISSION_TYPES, c.permissionType),
    }));
    const problems = acls.map(newAclProblem);
    let stored = { errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
    try {
      await authorizer.createAcls(acls.filter((_, i) => problems[i] === undefined));
    } catch (err) {
      if (!isKnownError(err)) throw err;
      stored = { errorCode: errorCodeOf(err), errorMessage: err.message };
    }
    return {
      throttleTimeMs: 0,
      results: problems.map((problem) => (problem === undefined ? stored : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem })),
    };
  },
});
