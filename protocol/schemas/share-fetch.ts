/**
 * ShareFetch (API key 78, KIP-932): request and response schemas for every
 * version Kafka 4.3 accepts (v1-2; v0 was Kafka 4.0's early access), flexible
 * from v0+. A share consumer fetches records it then holds under an
 * acquisition lock, and may piggyback acknowledgements of earlier records;
 * the share session (ShareSessionEpoch: 0 opens, -1 closes) plays the part of
 * a fetch session. v1 adds MaxRecords, BatchSize and the response's
 * AcquisitionLockTimeoutMs (PartitionMaxBytes was v0's only); v2 adds
 * ShareAcquireMode (KIP-1206) and IsRenewAck (renew acknowledgements,
 * KIP-1222).
 */
import { message } from '../schema.js';

export const shareFetchRequest = message({
  name: 'ShareFetchRequest',
  apiKey: 78,
  kind: 'request',
  valid: '1-2',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
    { name: 'maxWaitMs', type: 'int32', versions: '0+' },
    { name: 'minBytes', type: 'int32', versions: '0+' },
    { name: 'maxBytes', type: 'int32', versions: '0+', default: 2147483647 },
    { name: 'maxRecords', type: 'int32', versions: '1+' },
    { name: 'batchSize', type: 'int32', versions: '1+' },
    { name: 'shareAcquireMode', type: 'int8', versions: '2+', default: 0, ignorable: true },
    { name: 'isRenewAck', type: 'bool', versions: '2+', default: false },
    { name: 'topics', type: '[]FetchTopic', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]FetchPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'partitionMaxBytes', type: 'int32', versions: '0' },
        { name: 'acknowledgementBatches', type: '[]AcknowledgementBatch', versions: '0+', fields: [
          { name: 'firstOffset', type: 'int64', versions: '0+' },
          { name: 'lastOffset', type: 'int64', versions: '0+' },
          { name: 'acknowledgeTypes', type: '[]int8', versions: '0+' },
        ] },
      ] },
    ] },
    { name: 'forgottenTopicsData', type: '[]ForgottenTopic', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]int32', versions: '0+' },
    ] },
  ],
});

export const shareFetchResponse = message({
  name: 'ShareFetchResponse',
  apiKey: 78,
  kind: 'response',
  valid: '1-2',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'acquisitionLockTimeoutMs', type: 'int32', versions: '1+' },
    { name: 'responses', type: '[]ShareFetchableTopicResponse', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'acknowledgeErrorCode', type: 'int16', versions: '0+' },
        { name: 'acknowledgeErrorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', fields: [
          { name: 'leaderId', type: 'int32', versions: '0+' },
          { name: 'leaderEpoch', type: 'int32', versions: '0+' },
        ] },
        // nullable in v0 only: from v1 on an empty partition carries empty records
        { name: 'records', type: 'records', versions: '0+', nullable: '0' },
        { name: 'acquiredRecords', type: '[]AcquiredRecords', versions: '0+', fields: [
          { name: 'firstOffset', type: 'int64', versions: '0+' },
          { name: 'lastOffset', type: 'int64', versions: '0+' },
          { name: 'deliveryCount', type: 'int16', versions: '0+' },
        ] },
      ] },
    ] },
    { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '0+', fields: [
      { name: 'nodeId', type: 'int32', versions: '0+' },
      { name: 'host', type: 'string', versions: '0+' },
      { name: 'port', type: 'int32', versions: '0+' },
      { name: 'rack', type: 'string', versions: '0+', nullable: '0+', default: null },
    ] },
  ],
});
