/**
 * DescribeLogDirs (API key 35): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-4, v0 deprecated) and Kafka 4.3's v5 (whether a
 * log dir is cordoned, KIP-1066), flexible from v2+.
 */
import { message } from '../schema.js';

export const describeLogDirsRequest = message({
  name: 'DescribeLogDirsRequest',
  apiKey: 35,
  kind: 'request',
  valid: '0-5',
  flexible: '2+',
  fields: [
    { name: 'topics', type: '[]DescribableLogDirTopic', versions: '0+', nullable: '0+', fields: [
      { name: 'topic', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]int32', versions: '0+' },
    ] },
  ],
});

export const describeLogDirsResponse = message({
  name: 'DescribeLogDirsResponse',
  apiKey: 35,
  kind: 'response',
  valid: '0-5',
  flexible: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '3+', ignorable: true },
    { name: 'results', type: '[]DescribeLogDirsResult', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'logDir', type: 'string', versions: '0+' },
      { name: 'topics', type: '[]DescribeLogDirsTopic', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]DescribeLogDirsPartition', versions: '0+', fields: [
          { name: 'partitionIndex', type: 'int32', versions: '0+' },
          { name: 'partitionSize', type: 'int64', versions: '0+' },
          { name: 'offsetLag', type: 'int64', versions: '0+' },
          { name: 'isFutureKey', type: 'bool', versions: '0+' },
        ] },
      ] },
      { name: 'totalBytes', type: 'int64', versions: '4+', default: -1n, ignorable: true },
      { name: 'usableBytes', type: 'int64', versions: '4+', default: -1n, ignorable: true },
      { name: 'isCordoned', type: 'bool', versions: '5+', default: false, ignorable: true },
    ] },
  ],
});
