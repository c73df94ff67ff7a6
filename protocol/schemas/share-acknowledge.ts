/**
 * ShareAcknowledge (API key 79, KIP-932): request and response schemas for
 * every version Kafka 4.3 accepts (v1-2; v0 was Kafka 4.0's early access),
 * flexible from v0+. A share consumer acknowledges the records it acquired
 * by ShareFetch (per offset range, one acknowledge type per offset or one for
 * the range: 0 gap, 1 accept, 2 release, 3 reject, 4 renew) within its share
 * session. v2 adds IsRenewAck and the response's AcquisitionLockTimeoutMs
 * (renew acknowledgements, KIP-1222).
 */
import { message } from '../schema.js';

export const shareAcknowledgeRequest = message({
  name: 'ShareAcknowledgeRequest',
  apiKey: 79,
  kind: 'request',
  valid: '1-2',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'shareSessionEpoch', type: 'int32', versions: '0+' },
    { name: 'isRenewAck', type: 'bool', versions: '2+', default: false },
    { name: 'topics', type: '[]AcknowledgeTopic', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]AcknowledgePartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'acknowledgementBatches', type: '[]AcknowledgementBatch', versions: '0+', fields: [
          { name: 'firstOffset', type: 'int64', versions: '0+' },
          { name: 'lastOffset', type: 'int64', versions: '0+' },
          { name: 'acknowledgeTypes', type: '[]int8', versions: '0+' },
        ] },
      ] },
    ] },
  ],
});

export const shareAcknowledgeResponse = message({
  name: 'ShareAcknowledgeResponse',
  apiKey: 79,
  kind: 'response',
  valid: '1-2',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'acquisitionLockTimeoutMs', type: 'int32', versions: '2+', ignorable: true },
    { name: 'responses', type: '[]ShareAcknowledgeTopicResponse', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '0+', fields: [
          { name: 'leaderId', type: 'int32', versions: '0+' },
          { name: 'leaderEpoch', type: 'int32', versions: '0+' },
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
