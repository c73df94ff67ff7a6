/**
 * OffsetDelete (API key 47): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0), flexible from no version.
 */
import { message } from '../schema.js';

export const offsetDeleteRequest = message({
  name: 'OffsetDeleteRequest',
  apiKey: 47,
  kind: 'request',
  valid: '0',
  flexible: 'none',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]OffsetDeleteRequestTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]OffsetDeleteRequestPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
      ] },
    ] },
  ],
});

export const offsetDeleteResponse = message({
  name: 'OffsetDeleteResponse',
  apiKey: 47,
  kind: 'response',
  valid: '0',
  flexible: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    { name: 'topics', type: '[]OffsetDeleteResponseTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]OffsetDeleteResponsePartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ] },
    ] },
  ],
});
