/**
 * DescribeGroups (API key 15): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-5) and Kafka 4.3's v6 (GROUP_ID_NOT_FOUND with an
 * error message for an unknown group, KIP-1043), flexible from v5+.
 */
import { message } from '../schema.js';

export const describeGroupsRequest = message({
  name: 'DescribeGroupsRequest',
  apiKey: 15,
  kind: 'request',
  valid: '0-6',
  flexible: '5+',
  fields: [
    { name: 'groups', type: '[]string', versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '3+' },
  ],
});

export const describeGroupsResponse = message({
  name: 'DescribeGroupsResponse',
  apiKey: 15,
  kind: 'response',
  valid: '0-6',
  flexible: '5+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'groups', type: '[]DescribedGroup', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '6+', nullable: '6+', default: null, ignorable: true },
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'groupState', type: 'string', versions: '0+' },
      { name: 'protocolType', type: 'string', versions: '0+' },
      { name: 'protocolData', type: 'string', versions: '0+' },
      { name: 'members', type: '[]DescribedGroupMember', versions: '0+', fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'groupInstanceId', type: 'string', versions: '4+', nullable: '4+', default: null, ignorable: true },
        { name: 'clientId', type: 'string', versions: '0+' },
        { name: 'clientHost', type: 'string', versions: '0+' },
        { name: 'memberMetadata', type: 'bytes', versions: '0+' },
        { name: 'memberAssignment', type: 'bytes', versions: '0+' },
      ] },
      { name: 'authorizedOperations', type: 'int32', versions: '3+', default: -2147483648 },
    ] },
  ],
});
