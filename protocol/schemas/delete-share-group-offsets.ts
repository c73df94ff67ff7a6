/**
 * DeleteShareGroupOffsets (API key 92, KIP-932): request and response schemas
 * for the version Kafka 4.3 accepts (v0), flexible from v0+. Deletes a share
 * group's offsets (its share-partition state) for whole topics; the group
 * must be empty.
 */
import { message } from '../schema.js';

export const deleteShareGroupOffsetsRequest = message({
  name: 'DeleteShareGroupOffsetsRequest',
  apiKey: 92,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'topics', type: '[]DeleteShareGroupOffsetsRequestTopic', versions: '0+', fields: [
      { name: 'topicName', type: 'string', versions: '0+' },
    ] },
  ],
});

export const deleteShareGroupOffsetsResponse = message({
  name: 'DeleteShareGroupOffsetsResponse',
  apiKey: 92,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'responses', type: '[]DeleteShareGroupOffsetsResponseTopic', versions: '0+', fields: [
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    ] },
  ],
});
