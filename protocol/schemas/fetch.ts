/**
 * Fetch (API key 1): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-17, v0-3 deprecated) and Kafka 4.3's v18 (a
 * follower's high watermark in the request, KIP-1166; the response is v17's),
 * flexible from v12+.
 */
import { message } from '../schema.js';

export const fetchRequest = message({
  name: 'FetchRequest',
  apiKey: 1,
  kind: 'request',
  valid: '0-18',
  flexible: '12+',
  fields: [
    { name: 'clusterId', type: 'string', versions: '12+', nullable: '12+', tag: 0, tagged: '12+', default: null, ignorable: true },
    { name: 'replicaId', type: 'int32', versions: '0-14', default: -1 },
    { name: 'replicaState', type: 'ReplicaState', versions: '15+', tag: 1, tagged: '15+', fields: [
      { name: 'replicaId', type: 'int32', versions: '15+', default: -1 },
      { name: 'replicaEpoch', type: 'int64', versions: '15+', default: -1n },
    ] },
    { name: 'maxWaitMs', type: 'int32', versions: '0+' },
    { name: 'minBytes', type: 'int32', versions: '0+' },
    { name: 'maxBytes', type: 'int32', versions: '3+', default: 2147483647, ignorable: true },
    { name: 'isolationLevel', type: 'int8', versions: '4+', default: 0, ignorable: true },
    { name: 'sessionId', type: 'int32', versions: '7+', default: 0, ignorable: true },
    { name: 'sessionEpoch', type: 'int32', versions: '7+', default: -1, ignorable: true },
    { name: 'topics', type: '[]FetchTopic', versions: '0+', fields: [
      { name: 'topic', type: 'string', versions: '0-12', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
      { name: 'partitions', type: '[]FetchPartition', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'currentLeaderEpoch', type: 'int32', versions: '9+', default: -1, ignorable: true },
        { name: 'fetchOffset', type: 'int64', versions: '0+' },
        { name: 'lastFetchedEpoch', type: 'int32', versions: '12+', default: -1 },
        { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n, ignorable: true },
        { name: 'partitionMaxBytes', type: 'int32', versions: '0+' },
        { name: 'replicaDirectoryId', type: 'uuid', versions: '17+', tag: 0, tagged: '17+', ignorable: true },
        { name: 'highWatermark', type: 'int64', versions: '18+', tag: 1, tagged: '18+', default: 9223372036854775807n, ignorable: true },
      ] },
    ] },
    { name: 'forgottenTopicsData', type: '[]ForgottenTopic', versions: '7+', fields: [
      { name: 'topic', type: 'string', versions: '7-12', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
      { name: 'partitions', type: '[]int32', versions: '7+' },
    ] },
    { name: 'rackId', type: 'string', versions: '11+', ignorable: true },
  ],
});

export const fetchResponse = message({
  name: 'FetchResponse',
  apiKey: 1,
  kind: 'response',
  valid: '0-18',
  flexible: '12+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '7+', ignorable: true },
    { name: 'sessionId', type: 'int32', versions: '7+', default: 0 },
    { name: 'responses', type: '[]FetchableTopicResponse', versions: '0+', fields: [
      { name: 'topic', type: 'string', versions: '0-12', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'highWatermark', type: 'int64', versions: '0+' },
        { name: 'lastStableOffset', type: 'int64', versions: '4+', default: -1n, ignorable: true },
        { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n, ignorable: true },
        { name: 'divergingEpoch', type: 'EpochEndOffset', versions: '12+', tag: 0, tagged: '12+', fields: [
          { name: 'epoch', type: 'int32', versions: '12+', default: -1 },
          { name: 'endOffset', type: 'int64', versions: '12+', default: -1n },
        ] },
        { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '12+', tag: 1, tagged: '12+', fields: [
          { name: 'leaderId', type: 'int32', versions: '12+', default: -1 },
          { name: 'leaderEpoch', type: 'int32', versions: '12+', default: -1 },
        ] },
        { name: 'snapshotId', type: 'SnapshotId', versions: '12+', tag: 2, tagged: '12+', fields: [
          { name: 'endOffset', type: 'int64', versions: '0+', default: -1n },
          { name: 'epoch', type: 'int32', versions: '0+', default: -1 },
        ] },
        { name: 'abortedTransactions', type: '[]AbortedTransaction', versions: '4+', nullable: '4+', ignorable: true, fields: [
          { name: 'producerId', type: 'int64', versions: '4+' },
          { name: 'firstOffset', type: 'int64', versions: '4+' },
        ] },
        { name: 'preferredReadReplica', type: 'int32', versions: '11+', default: -1 },
        { name: 'records', type: 'records', versions: '0+', nullable: '0+' },
      ] },
    ] },
    { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '16+', tag: 0, tagged: '16+', fields: [
      { name: 'nodeId', type: 'int32', versions: '16+' },
      { name: 'host', type: 'string', versions: '16+' },
      { name: 'port', type: 'int32', versions: '16+' },
      { name: 'rack', type: 'string', versions: '16+', nullable: '16+', default: null },
    ] },
  ],
});
