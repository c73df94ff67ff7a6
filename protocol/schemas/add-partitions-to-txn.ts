/**
 * AddPartitionsToTxn (API key 24): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-5), flexible from v3+.
 */
import { message } from '../schema.js';

const addPartitionsToTxnTopic = [
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

export const addPartitionsToTxnRequest = message({
  name: 'AddPartitionsToTxnRequest',
  apiKey: 24,
  kind: 'request',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'transactions', type: '[]AddPartitionsToTxnTransaction', versions: '4+', fields: [
      { name: 'transactionalId', type: 'string', versions: '4+' },
      { name: 'producerId', type: 'int64', versions: '4+' },
      { name: 'producerEpoch', type: 'int16', versions: '4+' },
      { name: 'verifyOnly', type: 'bool', versions: '4+', default: false },
      { name: 'topics', type: '[]AddPartitionsToTxnTopic', versions: '4+', fields: addPartitionsToTxnTopic },
    ] },
    { name: 'v3AndBelowTransactionalId', type: 'string', versions: '0-3' },
    { name: 'v3AndBelowProducerId', type: 'int64', versions: '0-3' },
    { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: '0-3' },
    { name: 'v3AndBelowTopics', type: '[]AddPartitionsToTxnTopic', versions: '0-3', fields: addPartitionsToTxnTopic },
  ],
});

const addPartitionsToTxnPartitionResult = [
  { name: 'partitionIndex', type: 'int32', versions: '0+' },
  { name: 'partitionErrorCode', type: 'int16', versions: '0+' },
] as const;

const addPartitionsToTxnTopicResult = [
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'resultsByPartition', type: '[]AddPartitionsToTxnPartitionResult', versions: '0+', fields: addPartitionsToTxnPartitionResult },
] as const;

export const addPartitionsToTxnResponse = message({
  name: 'AddPartitionsToTxnResponse',
  apiKey: 24,
  kind: 'response',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '4+', ignorable: true },
    { name: 'resultsByTransaction', type: '[]AddPartitionsToTxnResult', versions: '4+', fields: [
      { name: 'transactionalId', type: 'string', versions: '4+' },
      { name: 'topicResults', type: '[]AddPartitionsToTxnTopicResult', versions: '4+', fields: addPartitionsToTxnTopicResult },
    ] },
    { name: 'resultsByTopicV3AndBelow', type: '[]AddPartitionsToTxnTopicResult', versions: '0-3', fields: addPartitionsToTxnTopicResult },
  ],
});
