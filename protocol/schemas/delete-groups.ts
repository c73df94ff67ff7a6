/**
 * DeleteGroups (API key 42): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-2, v0 deprecated), flexible from v2+.
 */
import { message } from '../schema.js';

export const deleteGroupsRequest = message({
  name: 'DeleteGroupsRequest',
  apiKey: 42,
  kind: 'request',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'groupsNames', type: '[]string', versions: '0+' },
  ],
});

export const deleteGroupsResponse = message({
  name: 'DeleteGroupsResponse',
  apiKey: 42,
  kind: 'response',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]DeletableGroupResult', versions: '0+', fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
    ] },
  ],
});
