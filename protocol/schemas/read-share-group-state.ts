/**
 * ReadShareGroupState (API key 84, KIP-932): request and response schemas for
 * the version Kafka 4.3 accepts (v0), flexible from v0+. An inter-broker
 * call: a share-partition's leader reads its durable state (state epoch,
 * start offset, the in-flight state batches) from the share coordinator when
 * it starts serving the partition, presenting its leader epoch.
 */
import { message } from '../schema.js';

export const readShareGroupStateRequest = message({
  name: 'ReadShareGroupStateRequest',
  apiKey: 84,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]ReadStateData', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '0+' },
      ] },
    ] },
  ],
});

export const readShareGroupStateResponse = message({
  name: 'ReadShareGroupStateResponse',
  apiKey: 84,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'results', type: '[]ReadStateResult', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'stateEpoch', type: 'int32', versions: '0+' },
        { name: 'startOffset', type: 'int64', versions: '0+' },
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
