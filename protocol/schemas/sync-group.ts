/**
 * SyncGroup (API key 14): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-5), flexible from v4+.
 */
import { message } from '../schema.js';

export const syncGroupRequest = message({
  name: 'SyncGroupRequest',
  apiKey: 14,
  kind: 'request',
  valid: '0-5',
  flexible: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: null },
    { name: 'protocolType', type: 'string', versions: '5+', nullable: '5+', default: null, ignorable: true },
    { name: 'protocolName', type: 'string', versions: '5+', nullable: '5+', default: null, ignorable: true },
    { name: 'assignments', type: '[]SyncGroupRequestAssignment', versions: '0+', fields: [
      { name: 'memberId', type: 'string', versions: '0+' },
      { name: 'assignment', type: 'bytes', versions: '0+' },
    ] },
  ],
});

export const syncGroupResponse = message({
  name: 'SyncGroupResponse',
  apiKey: 14,
  kind: 'response',
  valid: '0-5',
  flexible: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'protocolType', type: 'string', versions: '5+', nullable: '5+', default: null, ignorable: true },
    { name: 'protocolName', type: 'string', versions: '5+', nullable: '5+', default: null, ignorable: true },
    { name: 'assignment', type: 'bytes', versions: '0+' },
  ],
});
