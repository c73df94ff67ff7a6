/**
 * DescribeTopicPartitions (API key 75): request and response schemas of v0
 * (KIP-966; Kafka 3.8+, the admin client's describeTopics from 3.9), flexible
 * from v0. A paginated Metadata for topics: at most response_partition_limit
 * partitions per answer, and a cursor (topic name, partition index) where
 * the next request starts.
 */
import { message } from '../schema.js';

export const describeTopicPartitionsRequest = message({
  name: 'DescribeTopicPartitionsRequest',
  apiKey: 75,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'topics', type: '[]TopicRequest', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
    ] },
    { name: 'responsePartitionLimit', type: 'int32', versions: '0+', default: 2000 },
    { name: 'cursor', type: 'Cursor', versions: '0+', nullable: '0+', default: null, fields: [
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'partitionIndex', type: 'int32', versions: '0+' },
    ] },
  ],
});

export const describeTopicPartitionsResponse = message({
  name: 'DescribeTopicPartitionsResponse',
  apiKey: 75,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+', ignorable: true },
    { name: 'topics', type: '[]DescribeTopicPartitionsResponseTopic', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'name', type: 'string', versions: '0+', nullable: '0+' },
      { name: 'topicId', type: 'uuid', versions: '0+', ignorable: true },
      { name: 'isInternal', type: 'bool', versions: '0+', default: false, ignorable: true },
      { name: 'partitions', type: '[]DescribeTopicPartitionsResponsePartition', versions: '0+', fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'leaderId', type: 'int32', versions: '0+' },
        { name: 'leaderEpoch', type: 'int32', versions: '0+', default: -1, ignorable: true },
        { name: 'replicaNodes', type: '[]int32', versions: '0+' },
        { name: 'isrNodes', type: '[]int32', versions: '0+' },
        { name: 'eligibleLeaderReplicas', type: '[]int32', versions: '0+', nullable: '0+', default: null },
        { name: 'lastKnownElr', type: '[]int32', versions: '0+', nullable: '0+', default: null },
        { name: 'offlineReplicas', type: '[]int32', versions: '0+', ignorable: true },
      ] },
      { name: 'topicAuthorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
    ] },
    { name: 'nextCursor', type: 'Cursor', versions: '0+', nullable: '0+', default: null, fields: [
      { name: 'topicName', type: 'string', versions: '0+' },
      { name: 'partitionIndex', type: 'int32', versions: '0+' },
    ] },
  ],
});
