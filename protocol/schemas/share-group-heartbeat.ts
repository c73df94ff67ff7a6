/**
 * ShareGroupHeartbeat (API key 76, KIP-932): request and response schemas for
 * the version Kafka 4.3 accepts (v1 only: v0 was the early-access version of
 * Kafka 4.0 and is no longer valid), flexible from v0+. A share group's
 * member joins, stays and leaves by this heartbeat, as a consumer group's
 * does by ConsumerGroupHeartbeat; there is no assignor choice, instance id or
 * regex subscription.
 */
import { message } from '../schema.js';

export const shareGroupHeartbeatRequest = message({
  name: 'ShareGroupHeartbeatRequest',
  apiKey: 76,
  kind: 'request',
  valid: '1',
  flexible: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+', nullable: '0+', default: null },
  ],
});

export const shareGroupHeartbeatResponse = message({
  name: 'ShareGroupHeartbeatResponse',
  apiKey: 76,
  kind: 'response',
  valid: '1',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullable: '0+', default: null },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'heartbeatIntervalMs', type: 'int32', versions: '0+' },
    { name: 'assignment', type: 'Assignment', versions: '0+', nullable: '0+', default: null, fields: [
      { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: [
        { name: 'topicId', type: 'uuid', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ] },
    ] },
  ],
});
