/**
 * EndTxn (API key 26): request and response schemas for every version
 * Kafka 4.3 accepts (v0-5), flexible from v3+. v5 (KIP-890 part 2, a
 * transaction version 2 client) answers the producer id and epoch of the
 * client's next transaction.
 */
import { message } from '../schema.js';

export const endTxnRequest = message({
  name: 'EndTxnRequest',
  apiKey: 26,
  kind: 'request',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'committed', type: 'bool', versions: '0+' },
  ],
});

export const endTxnResponse = message({
  name: 'EndTxnResponse',
  apiKey: 26,
  kind: 'response',
  valid: '0-5',
  flexible: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '5+', default: -1n, ignorable: true },
    { name: 'producerEpoch', type: 'int16', versions: '5+', default: -1, ignorable: true },
  ],
});
