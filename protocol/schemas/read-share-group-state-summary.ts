/**
 * ReadShareGroupStateSummary (API key 87, KIP-932): request and response
 * schemas for every version Kafka 4.3 accepts (v0-1), flexible from v0+. An
 * inter-broker call: the group coordinator reads the summary of
 * share-partitions' state (state and leader epoch, start offset, without the
 * batches) to describe a share group's offsets. v1 adds the response's
 * DeliveryCompleteCount (KIP-1226, for the lag; -1 unknown).
 */
import { message } from '../schema.js';

export const readShareGroupStateSummaryRequest = message({
  name: 'ReadShareGroupStateSummaryRequest',
  apiKey: 87,
  kind: 'request',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]ReadStateSummaryData', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '0+' },
      ] },
    ] },
  ],
});

export const readShareGroupStateSummaryResponse = message({
  name: 'ReadShareGroupStateSummaryResponse',
  apiKey: 87,
  kind: 'response',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'results', type: '[]ReadStateSummaryResult', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'stateEpoch', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '0+' },
        { name: 'startOffset', type: 'int64', versions: '0+' },
        { name: 'deliveryCompleteCount', type: 'int32', versions: '1+', default: -1, ignorable: true },
      ] },
    ] },
  ],
});
