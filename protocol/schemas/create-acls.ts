/**
 * CreateAcls (API key 30): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-3, v0 deprecated), flexible from v2+.
 */
import { message } from '../schema.js';

export const createAclsRequest = message({
  name: 'CreateAclsRequest',
  apiKey: 30,
  kind: 'request',
  valid: '0-3',
  flexible: '2+',
  fields: [
    { name: 'creations', type: '[]AclCreation', versions: '0+', fields: [
      { name: 'resourceType', type: 'int8', versions: '0+' },
      { name: 'resourceName', type: 'string', versions: '0+' },
      { name: 'resourcePatternType', type: 'int8', versions: '1+', default: 3 },
      { name: 'principal', type: 'string', versions: '0+' },
      { name: 'host', type: 'string', versions: '0+' },
      { name: 'operation', type: 'int8', versions: '0+' },
      { name: 'permissionType', type: 'int8', versions: '0+' },
    ] },
  ],
});

export const createAclsResponse = message({
  name: 'CreateAclsResponse',
  apiKey: 30,
  kind: 'response',
  valid: '0-3',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]AclCreationResult', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    ] },
  ],
});
