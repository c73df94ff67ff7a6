/**
 * OffsetFetch (API key 9): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-9, v0 deprecated) and Kafka 4.3's v10 (topics by
 * id instead of by name, KIP-848), flexible from v6+.
 */
import { message } from '../schema.js';

export const offsetFetchRequest = message({
  name: 'OffsetFetchRequest',
  apiKey: 9,
  kind: 'request',
  valid: '0-10',
  flexible: '6+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0-7' },
    { name: 'topics', type: '[]OffsetFetchRequestTopic', versions: '0-7', nullable: '2-7', fields: [
      { name: 'name', type: 'string', versions: '0-7' },
      { name: 'partitionIndexes', type: '[]int32', versions: '0-7' },
    ] },
    { name: 'groups', type: '[]OffsetFetchRequestGroup', versions: '8+', fields: [
      { name: 'groupId', type: 'string', versions: '8+' },
      { name: 'memberId', type: 'string', versions: '9+', nullable: '9+', default: null, ignorable: true },
      { name: 'memberEpoch', type: 'int32', versions: '9+', default: -1, ignorable: true },
      { name: 'topics', type: '[]OffsetFetchRequestTopics', versions: '8+', nullable: '8+', fields: [
        { name: 'name', type: 'string', versions: '8-9', ignorable: true },
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'partitionIndexes', type: '[]int32', versions: '8+' },
      ] },
    ] },
    { name: 'requireStable', type: 'bool', versions: '7+', default: false },
  ],
});

export const offsetFetchResponse = message({
  name: 'OffsetFetchResponse',
  apiKey: 9,
  kind: 'response',
  valid: '0-10',
  flexible: '6+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    { name: 'topics', type: '[]OffsetFetchResponseTopic', versions: '0-7', fields: [
      { name: 'name', type: 'string', versions: '0-7' },
      { name: 'partitions', type: '[]OffsetFetchResponsePartition', versions: '0-7', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0-7' },
        { name: 'committedOffset', type: 'int64', versions: '0-7' },
        { name: 'committedLeaderEpoch', type: 'int32', versions: '5-7', default: -1, ignorable: true },
        { name: 'metadata', type: 'string', versions: '0-7', nullable: '0-7' },
        { name: 'errorCode', type: 'int16', versions: '0-7' },
      ] },
    ] },
    { name: 'errorCode', type: 'int16', versions: '2-7', default: 0, ignorable: true },
    { name: 'groups', type: '[]OffsetFetchResponseGroup', versions: '8+', fields: [
      { name: 'groupId', type: 'string', versions: '8+' },
      { name: 'topics', type: '[]OffsetFetchResponseTopics', versions: '8+', fields: [
        { name: 'name', type: 'string', versions: '8-9', ignorable: true },
        { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
        { name: 'partitions', type: '[]OffsetFetchResponsePartitions', versions: '8+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '8+' },
          { name: 'committedOffset', type: 'int64', versions: '8+' },
          { name: 'committedLeaderEpoch', type: 'int32', versions: '8+', default: -1, ignorable: true },
          { name: 'metadata', type: 'string', versions: '8+', nullable: '8+' },
          { name: 'errorCode', type: 'int16', versions: '8+' },
        ] },
      ] },
      { name: 'errorCode', type: 'int16', versions: '8+', default: 0 },
    ] },
  ],
});
