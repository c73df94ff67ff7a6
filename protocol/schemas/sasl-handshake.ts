/**
 * SaslHandshake (API key 17): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-1, v0 deprecated), flexible from no version.
 */
import { message } from '../schema.js';

export const saslHandshakeRequest = message({
  name: 'SaslHandshakeRequest',
  apiKey: 17,
  kind: 'request',
  valid: '0-1',
  flexible: 'none',
  fields: [
    { name: 'mechanism', type: 'string', versions: '0+' },
  ],
});

export const saslHandshakeResponse = message({
  name: 'SaslHandshakeResponse',
  apiKey: 17,
  kind: 'response',
  valid: '0-1',
  flexible: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: '[]string', versions: '0+' },
  ],
});
