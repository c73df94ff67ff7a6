/**
 * DescribeShareGroupOffsets (API key 90, KIP-932): request and response
 * schemas for every version Kafka 4.3 accepts (v0-1), flexible from v0+. The
 * admin view of share groups' start offsets (SPSO) per partition; a null
 * topic list asks for every topic of the group. v1 adds each partition's Lag
 * (KIP-1226; -1 unknown).
 */
import { message } from '../schema.js';

export const describeShareGroupOffsetsRequest = message({
  name: 'DescribeShareGroupOffsetsRequest',
  apiKey: 90,
  kind: 'request',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'groups', type: '[]DescribeShareGroupOffsetsRequestGroup', versions: '0+', fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'topics', type: '[]DescribeShareGroupOffsetsRequestTopic', versions: '0+', nullable: '0+', fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
    ] },
  ],
});

export const describeShareGroupOffsetsResponse = message({
  name: 'DescribeShareGroupOffsetsResponse',
  apiKey: 90,
  kind: 'response',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'groups', type: '[]DescribeShareGroupOffsetsResponseGroup', versions: '0+', fields: [
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'topics', type: '[]DescribeShareGroupOffsetsResponseTopic', versions: '0+', fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]DescribeShareGroupOffsetsResponsePartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'startOffset', type: 'int64', versions: '0+' },
          { name: 'leaderEpoch', type: 'int32', versions: '0+' },
          { name: 'lag', type: 'int64', versions: '1+', default: -1n, ignorable: true },
          { name: 'errorCode', type: 'int16', versions: '0+' },
          { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
        ] },
      ] },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    ] },
  ],
});
