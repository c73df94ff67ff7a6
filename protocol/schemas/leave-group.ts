/**
 * LeaveGroup (API key 13): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-5), flexible from v4+.
 */
import { message } from '../schema.js';

export const leaveGroupRequest = message({
  name: 'LeaveGroupRequest',
  apiKey: 13,
  kind: 'request',
  valid: '0-5',
  flexible: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0-2' },
    { name: 'members', type: '[]MemberIdentity', versions: '3+', fields: [
      { name: 'memberId', type: 'string', versions: '3+' },
      { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: null },
      { name: 'reason', type: 'string', versions: '5+', nullable: '5+', default: null, ignorable: true },
    ] },
  ],
});

export const leaveGroupResponse = message({
  name: 'LeaveGroupResponse',
  apiKey: 13,
  kind: 'response',
  valid: '0-5',
  flexible: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'members', type: '[]MemberResponse', versions: '3+', fields: [
      { name: 'memberId', type: 'string', versions: '3+' },
      { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+' },
      { name: 'errorCode', type: 'int16', versions: '3+' },
    ] },
  ],
});
