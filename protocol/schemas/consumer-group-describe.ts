/**
 * ConsumerGroupDescribe (API key 69): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0) and Kafka 4.3's v1 (each member's MemberType: -1
 * unknown, 0 classic, 1 consumer, KIP-1099; the request is unchanged),
 * flexible from v0+.
 */
import { message } from '../schema.js';

export const consumerGroupDescribeRequest = message({
  name: 'ConsumerGroupDescribeRequest',
  apiKey: 69,
  kind: 'request',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'groupIds', type: '[]string', versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '0+' },
  ],
});

const topicPartitions = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'topicName', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

const assignment = [
  { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: topicPartitions },
] as const;

export const consumerGroupDescribeResponse = message({
  name: 'ConsumerGroupDescribeResponse',
  apiKey: 69,
  kind: 'response',
  valid: '0-1',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'groups', type: '[]DescribedGroup', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+', default: null },
      { name: 'groupId', type: 'string', versions: '0+' },
      { name: 'groupState', type: 'string', versions: '0+' },
      { name: 'groupEpoch', type: 'int32', versions: '0+' },
      { name: 'assignmentEpoch', type: 'int32', versions: '0+' },
      { name: 'assignorName', type: 'string', versions: '0+' },
      { name: 'members', type: '[]Member', versions: '0+', fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'instanceId', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'memberEpoch', type: 'int32', versions: '0+' },
        { name: 'clientId', type: 'string', versions: '0+' },
        { name: 'clientHost', type: 'string', versions: '0+' },
        { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
        { name: 'subscribedTopicRegex', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'assignment', type: 'Assignment', versions: '0+', fields: assignment },
        { name: 'targetAssignment', type: 'Assignment', versions: '0+', fields: assignment },
        { name: 'memberType', type: 'int8', versions: '1+', default: -1, ignorable: true },
      ] },
      { name: 'authorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
    ] },
  ],
});
