/**
 * InitializeShareGroupState (API key 83, KIP-932): request and response
 * schemas for the version Kafka 4.3 accepts (v0), flexible from v0+. An
 * inter-broker call: the group coordinator asks the share coordinator to
 * create (or reset) the durable state of share-partitions at a state epoch
 * and start offset.
 */
import { message } from '../schema.js';

export const initializeShareGroupStateRequest = message({
  name: 'InitializeShareGroupStateRequest',
  apiKey: 83,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]InitializeStateData', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'stateEpoch', type: 'int32', versions: '0+' },
        { name: 'startOffset', type: 'int64', versions: '0+' },
      ] },
    ] },
  ],
});

export const initializeShareGroupStateResponse = message({
  name: 'InitializeShareGroupStateResponse',
  apiKey: 83,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'results', type: '[]InitializeStateResult', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
      ] },
    ] },
  ],
});
