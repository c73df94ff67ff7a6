/**
 * Heartbeat (API key 12): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-4), flexible from v4+.
 */
import { message } from '../schema.js';

export const heartbeatRequest = message({
  name: 'HeartbeatRequest',
  apiKey: 12,
  kind: 'request',
  valid: '0-4',
  flexible: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: null },
  ],
});

export const heartbeatResponse = message({
  name: 'HeartbeatResponse',
  apiKey: 12,
  kind: 'response',
  valid: '0-4',
  flexible: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
});
