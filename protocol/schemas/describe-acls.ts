/**
 * DescribeAcls (API key 29): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-3, v0 deprecated), flexible from v2+.
 */
import { message } from '../schema.js';

export const describeAclsRequest = message({
  name: 'DescribeAclsRequest',
  apiKey: 29,
  kind: 'request',
  valid: '0-3',
  flexible: '2+',
  fields: [
    { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
    { name: 'resourceNameFilter', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: 3 },
    { name: 'principalFilter', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'hostFilter', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'operation', type: 'int8', versions: '0+' },
    { name: 'permissionType', type: 'int8', versions: '0+' },
  ],
});

export const describeAclsResponse = message({
  name: 'DescribeAclsResponse',
  apiKey: 29,
  kind: 'response',
  valid: '0-3',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'resources', type: '[]DescribeAclsResource', versions: '0+', fields: [
      { name: 'resourceType', type: 'int8', versions: '0+' },
      { name: 'resourceName', type: 'string', versions: '0+' },
      { name: 'patternType', type: 'int8', versions: '1+', default: 3 },
      { name: 'acls', type: '[]AclDescription', versions: '0+', fields: [
        { name: 'principal', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'operation', type: 'int8', versions: '0+' },
        { name: 'permissionType', type: 'int8', versions: '0+' },
      ] },
    ] },
  ],
});
