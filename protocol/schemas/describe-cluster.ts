/**
 * DescribeCluster (API key 60): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-1) and Kafka 4.3's v2 (fenced brokers, KIP-1073),
 * flexible from v0+.
 */
import { message } from '../schema.js';

export const describeClusterRequest = message({
  name: 'DescribeClusterRequest',
  apiKey: 60,
  kind: 'request',
  valid: '0-2',
  flexible: '0+',
  fields: [
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '0+' },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
    { name: 'includeFencedBrokers', type: 'bool', versions: '2+' },
  ],
});

export const describeClusterResponse = message({
  name: 'DescribeClusterResponse',
  apiKey: 60,
  kind: 'response',
  valid: '0-2',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'endpointType', type: 'int8', versions: '1+', default: 1 },
    { name: 'clusterId', type: 'string', versions: '0+' },
    { name: 'controllerId', type: 'int32', versions: '0+', default: -1 },
    { name: 'brokers', type: '[]DescribeClusterBroker', versions: '0+', fields: [
      { name: 'brokerId', type: 'int32', versions: '0+' },
      { name: 'host', type: 'string', versions: '0+' },
      { name: 'port', type: 'int32', versions: '0+' },
      { name: 'rack', type: 'string', versions: '0+', nullable: '0+', default: null },
      { name: 'isFenced', type: 'bool', versions: '2+' },
    ] },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
  ],
});
