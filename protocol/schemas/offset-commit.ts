/**
 * OffsetCommit (API key 8): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-9, v0-1 deprecated) and Kafka 4.3's v10 (topics
 * by id instead of by name, KIP-848), flexible from v8+.
 */
import { message } from '../schema.js';

export const offsetCommitRequest = message({
  name: 'OffsetCommitRequest',
  apiKey: 8,
  kind: 'request',
  valid: '0-10',
  flexible: '8+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationIdOrMemberEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
    { name: 'memberId', type: 'string', versions: '1+', ignorable: true },
    { name: 'groupInstanceId', type: 'string', versions: '7+', nullable: '7+', default: null },
    { name: 'retentionTimeMs', type: 'int64', versions: '2-4', default: -1n, ignorable: true },
    { name: 'topics', type: '[]OffsetCommitRequestTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0-9', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
      { name: 'partitions', type: '[]OffsetCommitRequestPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'committedOffset', type: 'int64', versions: '0+' },
        { name: 'committedLeaderEpoch', type: 'int32', versions: '6+', default: -1, ignorable: true },
        { name: 'commitTimestamp', type: 'int64', versions: '1', default: -1n },
        { name: 'committedMetadata', type: 'string', versions: '0+', nullable: '0+' },
      ] },
    ] },
  ],
});

export const offsetCommitResponse = message({
  name: 'OffsetCommitResponse',
  apiKey: 8,
  kind: 'response',
  valid: '0-10',
  flexible: '8+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    { name: 'topics', type: '[]OffsetCommitResponseTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0-9', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
      { name: 'partitions', type: '[]OffsetCommitResponsePartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ] },
    ] },
  ],
});
