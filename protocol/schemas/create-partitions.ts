/**
 * CreatePartitions (API key 37): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-3), flexible from v2+.
 */
import { message } from '../schema.js';

export const createPartitionsRequest = message({
  name: 'CreatePartitionsRequest',
  apiKey: 37,
  kind: 'request',
  valid: '0-3',
  flexible: '2+',
  fields: [
    { name: 'topics', type: '[]CreatePartitionsTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'count', type: 'int32', versions: '0+' },
      { name: 'assignments', type: '[]CreatePartitionsAssignment', versions: '0+', nullable: '0+', fields: [
        { name: 'brokerIds', type: '[]int32', versions: '0+' },
      ] },
    ] },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const createPartitionsResponse = message({
  name: 'CreatePartitionsResponse',
  apiKey: 37,
  kind: 'response',
  valid: '0-3',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]CreatePartitionsTopicResult', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    ] },
  ],
});
