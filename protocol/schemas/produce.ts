/**
 * Produce (API key 0): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-11) and Kafka 4.3's v12-13, flexible from v9+.
 * v12 is v11 on the wire (KIP-890: with transaction version 2 a produce
 * also adds its partition to the transaction); v13 names topics by id
 * instead of by name (KIP-516), in the request and in the response.
 */
import { message } from '../schema.js';

export const produceRequest = message({
  name: 'ProduceRequest',
  apiKey: 0,
  kind: 'request',
  valid: '0-13',
  flexible: '9+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '3+', nullable: '3+', default: null },
    { name: 'acks', type: 'int16', versions: '0+' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'topicData', type: '[]TopicProduceData', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0-12', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
      { name: 'partitionData', type: '[]PartitionProduceData', versions: '0+', fields: [
        { name: 'index', type: 'int32', versions: '0+' },
        { name: 'records', type: 'records', versions: '0+', nullable: '0+' },
      ] },
    ] },
  ],
});

export const produceResponse = message({
  name: 'ProduceResponse',
  apiKey: 0,
  kind: 'response',
  valid: '0-13',
  flexible: '9+',
  fields: [
    { name: 'responses', type: '[]TopicProduceResponse', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0-12', ignorable: true },
      { name: 'topicId', type: 'uuid', versions: '13+', ignorable: true },
      { name: 'partitionResponses', type: '[]PartitionProduceResponse', versions: '0+', fields: [
        { name: 'index', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'baseOffset', type: 'int64', versions: '0+' },
        { name: 'logAppendTimeMs', type: 'int64', versions: '2+', default: -1n, ignorable: true },
        { name: 'logStartOffset', type: 'int64', versions: '5+', default: -1n, ignorable: true },
        { name: 'recordErrors', type: '[]BatchIndexAndErrorMessage', versions: '8+', ignorable: true, fields: [
          { name: 'batchIndex', type: 'int32', versions: '8+' },
          { name: 'batchIndexErrorMessage', type: 'string', versions: '8+', nullable: '8+', default: null },
        ] },
        { name: 'errorMessage', type: 'string', versions: '8+', nullable: '8+', default: null, ignorable: true },
        { name: 'currentLeader', type: 'LeaderIdAndEpoch', versions: '10+', tag: 0, tagged: '10+', fields: [
          { name: 'leaderId', type: 'int32', versions: '10+', default: -1 },
          { name: 'leaderEpoch', type: 'int32', versions: '10+', default: -1 },
        ] },
      ] },
    ] },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', default: 0, ignorable: true },
    { name: 'nodeEndpoints', type: '[]NodeEndpoint', versions: '10+', tag: 0, tagged: '10+', fields: [
      { name: 'nodeId', type: 'int32', versions: '10+' },
      { name: 'host', type: 'string', versions: '10+' },
      { name: 'port', type: 'int32', versions: '10+' },
      { name: 'rack', type: 'string', versions: '10+', nullable: '10+', default: null },
    ] },
  ],
});
