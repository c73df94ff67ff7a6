/**
 * ListTransactions (API key 66): request and response schemas for every version
 * Kafka 4.3 accepts (v0-2; v2 from Kafka 4.1), flexible from v0+.
 */
import { message } from '../schema.js';

export const listTransactionsRequest = message({
  name: 'ListTransactionsRequest',
  apiKey: 66,
  kind: 'request',
  valid: '0-2',
  flexible: '0+',
  fields: [
    { name: 'stateFilters', type: '[]string', versions: '0+' },
    { name: 'producerIdFilters', type: '[]int64', versions: '0+' },
    { name: 'durationFilter', type: 'int64', versions: '1+', default: -1n },
    { name: 'transactionalIdPattern', type: 'string', versions: '2+', nullable: '2+', default: null },
  ],
});

export const listTransactionsResponse = message({
  name: 'ListTransactionsResponse',
  apiKey: 66,
  kind: 'response',
  valid: '0-2',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'unknownStateFilters', type: '[]string', versions: '0+' },
    { name: 'transactionStates', type: '[]TransactionState', versions: '0+', fields: [
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'transactionState', type: 'string', versions: '0+' },
    ] },
  ],
});
