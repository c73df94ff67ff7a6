/**
 * TxnOffsetCommit (API key 28): request and response schemas for every version
 * Kafka 4.3 accepts (v0-5), flexible from v3+. v5 is v4 (KIP-890 part 2:
 * from a transaction version 2 client, whose commit adds the group's offsets
 * partition to the transaction itself).
 */
import { message } from '../schema.js';

export const txnOffsetCommitRequest = message({
  name: 'TxnOffsetCommitRequest',
  apiKey: 28,
  kind: 'request',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '3+', default: -1 },
    { name: 'memberId', type: 'string', versions: '3+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullable: '3+', default: null },
    { name: 'topics', type: '[]TxnOffsetCommitRequestTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]TxnOffsetCommitRequestPartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'committedOffset', type: 'int64', versions: '0+' },
        { name: 'committedLeaderEpoch', type: 'int32', versions: '2+', default: -1, ignorable: true },
        { name: 'committedMetadata', type: 'string', versions: '0+', nullable: '0+' },
      ] },
    ] },
  ],
});

export const txnOffsetCommitResponse = message({
  name: 'TxnOffsetCommitResponse',
  apiKey: 28,
  kind: 'response',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'topics', type: '[]TxnOffsetCommitResponseTopic', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'partitions', type: '[]TxnOffsetCommitResponsePartition', versions: '0+', fields: [
        { name: 'partitionIndex', type: 'int32', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ] },
    ] },
  ],
});
