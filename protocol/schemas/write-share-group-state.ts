/**
 * WriteShareGroupState (API key 85, KIP-932): request and response schemas
 * for every version Kafka 4.3 accepts (v0-1), flexible from v0+. An
 * inter-broker call: a share-partition's leader writes the changed state
 * batches (delivery state 0 available, 2 acknowledged, 4 archived, with
 * their delivery counts) and start offset (-1: unchanged) to the share
 * coordinator. v1 adds DeliveryCompleteCount (KIP-1226: the offsets at or
 * past the start offset whose delivery is complete, for the lag).
 */
import { message } from '../schema.js';

export const writeShareGroupStateRequest = message({
  name: 'WriteShareGroupStateRequest',
  apiKey: 85,
  kind: 'request',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]WriteStateData', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'stateEpoch', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '0+' },
        { name: 'startOffset', type: 'int64', versions: '0+' },
        { name: 'deliveryCompleteCount', type: 'int32', versions: '1+', default: -1, ignorable: true },
        { name: 'stateBatches', type: '[]StateBatch', versions: '0+', fields: [
          { name: 'firstOffset', type: 'int64', versions: '0+' },
          { name: 'lastOffset', type: 'int64', versions: '0+' },
          { name: 'deliveryState', type: 'int8', versions: '0+' },
          { name: 'deliveryCount', type: 'int16', versions: '0+' },
        ] },
      ] },
    ] },
  ],
});

export const writeShareGroupStateResponse = message({
  name: 'WriteShareGroupStateResponse',
  apiKey: 85,
  kind: 'response',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'results', type: '[]WriteStateResult', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
      ] },
    ] },
  ],
});
