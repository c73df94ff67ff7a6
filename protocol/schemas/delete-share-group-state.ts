/**
 * DeleteShareGroupState (API key 86, KIP-932): request and response schemas
 * for the version Kafka 4.3 accepts (v0), flexible from v0+. An inter-broker
 * call: the group coordinator asks the share coordinator to delete the
 * durable state of share-partitions (a deleted group, topic or offsets).
 */
import { message } from '../schema.js';

export const deleteShareGroupStateRequest = message({
  name: 'DeleteShareGroupStateRequest',
  apiKey: 86,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]DeleteStateData', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionData', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
      ] },
    ] },
  ],
});

export const deleteShareGroupStateResponse = message({
  name: 'DeleteShareGroupStateResponse',
  apiKey: 86,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'results', type: '[]DeleteStateResult', versions: '0+', fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]PartitionResult', versions: '0+', fields: [
        { name: 'partition', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
      ] },
    ] },
  ],
});
