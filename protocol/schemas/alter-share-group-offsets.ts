/**
 * AlterShareGroupOffsets (API key 91, KIP-932): request and response schemas
 * for the version Kafka 4.3 accepts (v0), flexible from v0+. Sets a share
 * group's start offsets (SPSO) per partition; the group must be empty.
 */
import { message } from '../schema.js';

export const alterShareGroupOffsetsRequest = message({
  name: 'AlterShareGroupOffsetsRequest',
  apiKey: 91,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]AlterShareGroupOffsetsRequestTopic', versions: '0+', fields: [
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]AlterShareGroupOffsetsRequestPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'startOffset', type: 'int64', versions: '0+' },
      ] },
    ] },
  ],
});

export const alterShareGroupOffsetsResponse = message({
  name: 'AlterShareGroupOffsetsResponse',
  apiKey: 91,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'responses', type: '[]AlterShareGroupOffsetsResponseTopic', versions: '0+', fields: [
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]AlterShareGroupOffsetsResponsePartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
      ] },
    ] },
  ],
});
