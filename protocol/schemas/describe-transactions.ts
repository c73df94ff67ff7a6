/**
 * DescribeTransactions (API key 65): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0), flexible from v0+.
 */
import { message } from '../schema.js';

export const describeTransactionsRequest = message({
  name: 'DescribeTransactionsRequest',
  apiKey: 65,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'transactionalIds', type: '[]string', versions: '0+' },
  ],
});

export const describeTransactionsResponse = message({
  name: 'DescribeTransactionsResponse',
  apiKey: 65,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'transactionStates', type: '[]TransactionState', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'transactionalId', type: 'string', versions: '0+' },
      { name: 'transactionState', type: 'string', versions: '0+' },
      { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
      { name: 'transactionStartTimeMs', type: 'int64', versions: '0+' },
      { name: 'producerId', type: 'int64', versions: '0+' },
      { name: 'producerEpoch', type: 'int16', versions: '0+' },
      { name: 'topics', type: '[]TopicData', versions: '0+', fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
    ] },
  ],
});
