/**
 * InitProducerId (API key 22): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-5), flexible from v2+.
 */
import { message } from '../schema.js';

export const initProducerIdRequest = message({
  name: 'InitProducerIdRequest',
  apiKey: 22,
  kind: 'request',
  valid: '0-5',
  flexible: '2+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '3+', default: -1n },
    { name: 'producerEpoch', type: 'int16', versions: '3+', default: -1 },
  ],
});

export const initProducerIdResponse = message({
  name: 'InitProducerIdResponse',
  apiKey: 22,
  kind: 'response',
  valid: '0-5',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+', default: -1n },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
  ],
});
