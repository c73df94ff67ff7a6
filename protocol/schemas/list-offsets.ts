/**
 * ListOffsets (API key 2): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-9, v0 deprecated) and Kafka 4.3's v10 (a timeout
 * for reads from tiered storage, KIP-1075) and v11 (timestamp -6, the
 * earliest offset pending upload to tiered storage, KIP-1023), flexible from
 * v6+.
 */
import { message } from '../schema.js';

export const listOffsetsRequest = message({
  name: 'ListOffsetsRequest',
  apiKey: 2,
  kind: 'request',
  valid: '0-11',
  flexible: '6+',
  fields: [
    { name: 'replicaId', type: 'int32', versions: '0+' },
    { name: 'isolationLevel', type: 'int8', versions: '2+' },
    { name: 'topics', type: '[]ListOffsetsTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]ListOffsetsPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'currentLeaderEpoch', type: 'int32', versions: '4+', default: -1, ignorable: true },
        { name: 'timestamp', type: 'int64', versions: '0+' },
        { name: 'maxNumOffsets', type: 'int32', versions: '0', default: 1 },
      ] },
    ] },
    { name: 'timeoutMs', type: 'int32', versions: '10+', ignorable: true },
  ],
});

export const listOffsetsResponse = message({
  name: 'ListOffsetsResponse',
  apiKey: 2,
  kind: 'response',
  valid: '0-11',
  flexible: '6+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    { name: 'topics', type: '[]ListOffsetsTopicResponse', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]ListOffsetsPartitionResponse', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'oldStyleOffsets', type: '[]int64', versions: '0' },
        { name: 'timestamp', type: 'int64', versions: '1+', default: -1n },
        { name: 'offset', type: 'int64', versions: '1+', default: -1n },
        { name: 'leaderEpoch', type: 'int32', versions: '4+', default: -1 },
      ] },
    ] },
  ],
});
