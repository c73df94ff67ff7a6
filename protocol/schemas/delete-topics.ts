/**
 * DeleteTopics (API key 20): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-6, v0 deprecated), flexible from v4+.
 */
import { message } from '../schema.js';

export const deleteTopicsRequest = message({
  name: 'DeleteTopicsRequest',
  apiKey: 20,
  kind: 'request',
  valid: '0-6',
  flexible: '4+',
  fields: [
    { name: 'topics', type: '[]DeleteTopicState', versions: '6+', fields: [
      { name: 'name', type: 'string', versions: '6+', nullable: '6+', default: null },
      { name: 'topicId', type: 'uuid', versions: '6+' },
    ] },
    { name: 'topicNames', type: '[]string', versions: '0-5', ignorable: true },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
});

export const deleteTopicsResponse = message({
  name: 'DeleteTopicsResponse',
  apiKey: 20,
  kind: 'response',
  valid: '0-6',
  flexible: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'responses', type: '[]DeletableTopicResult', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+', nullable: '6+' },
      { name: 'topicId', type: 'uuid', versions: '6+', ignorable: true },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '5+', nullable: '5+', default: null, ignorable: true },
    ] },
  ],
});
