/**
 * ListGroups (API key 16): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-5), flexible from v3+.
 */
import { message } from '../schema.js';

export const listGroupsRequest = message({
  name: 'ListGroupsRequest',
  apiKey: 16,
  kind: 'request',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'statesFilter', type: '[]string', versions: '4+' },
    { name: 'typesFilter', type: '[]string', versions: '5+' },
  ],
});

export const listGroupsResponse = message({
  name: 'ListGroupsResponse',
  apiKey: 16,
  kind: 'response',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'groups', type: '[]ListedGroup', versions: '0+', fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'protocolType', type: 'string', versions: '0+' },
      { name: 'groupState', type: 'string', versions: '4+', ignorable: true },
      { name: 'groupType', type: 'string', versions: '5+', ignorable: true },
    ] },
  ],
});
