/**
 * DeleteRecords (API key 21): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-2), flexible from v2+.
 */
import { message } from '../schema.js';

export const deleteRecordsRequest = message({
  name: 'DeleteRecordsRequest',
  apiKey: 21,
  kind: 'request',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'topics', type: '[]DeleteRecordsTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]DeleteRecordsPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'offset', type: 'int64', versions: '0+' },
      ] },
    ] },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
});

export const deleteRecordsResponse = message({
  name: 'DeleteRecordsResponse',
  apiKey: 21,
  kind: 'response',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'topics', type: '[]DeleteRecordsTopicResult', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]DeleteRecordsPartitionResult', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'lowWatermark', type: 'int64', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ] },
    ] },
  ],
});
