/**
 * SaslAuthenticate (API key 36): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-2), flexible from v2+.
 */
import { message } from '../schema.js';

export const saslAuthenticateRequest = message({
  name: 'SaslAuthenticateRequest',
  apiKey: 36,
  kind: 'request',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'authBytes', type: 'bytes', versions: '0+' },
  ],
});

export const saslAuthenticateResponse = message({
  name: 'SaslAuthenticateResponse',
  apiKey: 36,
  kind: 'response',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: 0n, ignorable: true },
  ],
});
