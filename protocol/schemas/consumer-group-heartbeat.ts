/**
 * ConsumerGroupHeartbeat (API key 68): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0) and Kafka 4.3's v1 (SubscribedTopicRegex, and the
 * consumer generates its own member id, KIP-1082), flexible from v0+.
 */
import { message } from '../schema.js';

export const consumerGroupHeartbeatRequest = message({
  name: 'ConsumerGroupHeartbeatRequest',
  apiKey: 68,
  kind: 'request',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'instanceId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '0+', default: -1 },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+', nullable: '0+', default: null },
    { name: 'subscribedTopicRegex', type: 'string', versions: '1+', nullable: '1+', default: null },
    { name: 'serverAssignor', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', nullable: '0+', default: null, fields: [
      { name: 'topicId', type: 'uuid', versions: '0+' },
      { name: 'partitions', type: '[]int32', versions: '0+' },
    ] },
  ],
});

const topicPartitions = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

export const consumerGroupHeartbeatResponse = message({
  name: 'ConsumerGroupHeartbeatResponse',
  apiKey: 68,
  kind: 'response',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'heartbeatIntervalMs', type: 'int32', versions: '0+' },
    { name: 'assignment', type: 'Assignment', versions: '0+', nullable: '0+', default: null, fields: [
      { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: topicPartitions },
    ] },
  ],
});
