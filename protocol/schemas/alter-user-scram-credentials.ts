/**
 * AlterUserScramCredentials (API key 51, KIP-554): request and response
 * schemas for every version Kafka 3.9.0 and 4.3 accept (v0), flexible from v0+.
 */
import { message } from '../schema.js';

export const alterUserScramCredentialsRequest = message({
  name: 'AlterUserScramCredentialsRequest',
  apiKey: 51,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'deletions', type: '[]ScramCredentialDeletion', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'mechanism', type: 'int8', versions: '0+' },
    ] },
    { name: 'upsertions', type: '[]ScramCredentialUpsertion', versions: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
      { name: 'mechanism', type: 'int8', versions: '0+' },
      { name: 'iterations', type: 'int32', versions: '0+' },
      { name: 'salt', type: 'bytes', versions: '0+' },
      { name: 'saltedPassword', type: 'bytes', versions: '0+' },
    ] },
  ],
});

export const alterUserScramCredentialsResponse = message({
  name: 'AlterUserScramCredentialsResponse',
  apiKey: 51,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'results', type: '[]AlterUserScramCredentialsResult', versions: '0+', fields: [
      { name: 'user', type: 'string', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    ] },
  ],
});
