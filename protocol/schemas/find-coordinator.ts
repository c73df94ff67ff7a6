/**
 * FindCoordinator (API key 10): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-6, v0 deprecated), flexible from v3+.
 */
import { message } from '../schema.js';

export const findCoordinatorRequest = message({
  name: 'FindCoordinatorRequest',
  apiKey: 10,
  kind: 'request',
  valid: '0-6',
  flexible: '3+',
  fields: [
    { name: 'key', type: 'string', versions: '0-3' },
    { name: 'keyType', type: 'int8', versions: '1+', default: 0 },
    { name: 'coordinatorKeys', type: '[]string', versions: '4+' },
  ],
});

export const findCoordinatorResponse = message({
  name: 'FindCoordinatorResponse',
  apiKey: 10,
  kind: 'response',
  valid: '0-6',
  flexible: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0-3' },
    { name: 'errorMessage', type: 'string', versions: '1-3', nullable: '1-3', ignorable: true },
    { name: 'nodeId', type: 'int32', versions: '0-3' },
    { name: 'host', type: 'string', versions: '0-3' },
    { name: 'port', type: 'int32', versions: '0-3' },
    { name: 'coordinators', type: '[]Coordinator', versions: '4+', fields: [
      { name: 'key', type: 'string', versions: '4+' },
      { name: 'nodeId', type: 'int32', versions: '4+' },
      { name: 'host', type: 'string', versions: '4+' },
      { name: 'port', type: 'int32', versions: '4+' },
      { name: 'errorCode', type: 'int16', versions: '4+' },
      { name: 'errorMessage', type: 'string', versions: '4+', nullable: '4+', ignorable: true },
    ] },
  ],
});
