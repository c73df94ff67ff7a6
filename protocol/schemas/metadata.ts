/**
 * Metadata (API key 3): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-12, v0-3 deprecated) and Kafka 4.3's v13 (a
 * top-level error code in the response, KIP-1102), flexible from v9+.
 */
import { message } from '../schema.js';

export const metadataRequest = message({
  name: 'MetadataRequest',
  apiKey: 3,
  kind: 'request',
  valid: '0-13',
  flexible: '9+',
  fields: [
    { name: 'topics', type: '[]MetadataRequestTopic', versions: '0+', nullable: '1+', fields: [
      { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
      { name: 'name', type: 'string', versions: '0+', nullable: '10+' },
    ] },
    { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+', default: true },
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
    { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
  ],
});

export const metadataResponse = message({
  name: 'MetadataResponse',
  apiKey: 3,
  kind: 'response',
  valid: '0-13',
  flexible: '9+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+', ignorable: true },
    { name: 'brokers', type: '[]MetadataResponseBroker', versions: '0+', fields: [
      { name: 'nodeId', type: 'int32', versions: '0+' },
      { name: 'host', type: 'string', versions: '0+' },
      { name: 'port', type: 'int32', versions: '0+' },
      { name: 'rack', type: 'string', versions: '1+', nullable: '1+', default: null, ignorable: true },
    ] },
    { name: 'clusterId', type: 'string', versions: '2+', nullable: '2+', default: null, ignorable: true },
    { name: 'controllerId', type: 'int32', versions: '1+', default: -1, ignorable: true },
    { name: 'topics', type: '[]MetadataResponseTopic', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'name', type: 'string', versions: '0+', nullable: '12+' },
      { name: 'topicId', type: 'uuid', versions: '10+', ignorable: true },
      { name: 'isInternal', type: 'bool', versions: '1+', default: false, ignorable: true },
      { name: 'partitions', type: '[]MetadataResponsePartition', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'leaderId', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '7+', default: -1, ignorable: true },
        { name: 'replicaNodes', type: '[]int32', versions: '0+' },
        { name: 'isrNodes', type: '[]int32', versions: '0+' },
        { name: 'offlineReplicas', type: '[]int32', versions: '5+', ignorable: true },
      ] },
      { name: 'topicAuthorizedOperations', type: 'int32', versions: '8+', default: -2147483648 },
    ] },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '8-10', default: -2147483648 },
    { name: 'errorCode', type: 'int16', versions: '13+', default: 0, ignorable: true },
  ],
});
