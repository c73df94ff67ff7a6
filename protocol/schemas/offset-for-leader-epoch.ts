/**
 * OffsetForLeaderEpoch (API key 23): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-4, v0-1 deprecated), flexible from v4+.
 */
import { message } from '../schema.js';

export const offsetForLeaderEpochRequest = message({
  name: 'OffsetForLeaderEpochRequest',
  apiKey: 23,
  kind: 'request',
  valid: '0-4',
  flexible: '4+',
  fields: [
    { name: 'replicaId', type: 'int32', versions: '3+', default: -2, ignorable: true },
    { name: 'topics', type: '[]OffsetForLeaderTopic', versions: '0+', fields: [
      { name: 'topic', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]OffsetForLeaderPartition', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'currentLeaderEpoch', type: 'int32', versions: '2+', default: -1, ignorable: true },
        { name: 'leaderEpoch', type: 'int32', versions: '0+' },
      ] },
    ] },
  ],
});

export const offsetForLeaderEpochResponse = message({
  name: 'OffsetForLeaderEpochResponse',
  apiKey: 23,
  kind: 'response',
  valid: '0-4',
  flexible: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+', ignorable: true },
    { name: 'topics', type: '[]OffsetForLeaderTopicResult', versions: '0+', fields: [
      { name: 'topic', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]EpochEndOffset', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '1+', default: -1, ignorable: true },
        { name: 'endOffset', type: 'int64', versions: '0+', default: -1n },
      ] },
    ] },
  ],
});
