/**
 * ShareGroupDescribe (API key 77, KIP-932): request and response schemas for
 * the version Kafka 4.3 accepts (v1 only: v0 was Kafka 4.0's early access),
 * flexible from v0+. Like ConsumerGroupDescribe without instance ids,
 * assignor choice or target assignments; each member's assignment carries
 * topic names beside the ids.
 */
import { message } from '../schema.js';

export const shareGroupDescribeRequest = message({
  name: 'ShareGroupDescribeRequest',
  apiKey: 77,
  kind: 'request',
  valid: '1',
  flexible: '0+',
  fields: [
    { name: 'groupIds', type: '[]string', versions: '0+' },
    { name: 'includeAuthorizedOperations', type: 'bool', versions: '0+' },
  ],
});

export const shareGroupDescribeResponse = message({
  name: 'ShareGroupDescribeResponse',
  apiKey: 77,
  kind: 'response',
  valid: '1',
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
        { name: 'rackId', type: 'string', versions: '0+', nullable: '0+', default: null },
        { name: 'memberEpoch', type: 'int32', versions: '0+' },
        { name: 'clientId', type: 'string', versions: '0+' },
        { name: 'clientHost', type: 'string', versions: '0+' },
        { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
        { name: 'assignment', type: 'Assignment', versions: '0+', fields: [
          { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: [
            { name: 'topicId', type: 'uuid', versions: '0+' },
            { name: 'topicName', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]int32', versions: '0+' },
          ] },
        ] },
      ] },
      { name: 'authorizedOperations', type: 'int32', versions: '0+', default: -2147483648 },
    ] },
  ],
});
