/**
 * DescribeUserScramCredentials (API key 50, KIP-554): request and response
 * schemas for every version Kafka 3.9.0 and 4.3 accept (v0), flexible from v0+.
 */
import { message } from '../schema.js';

export const describeUserScramCredentialsRequest = message({
  name: 'DescribeUserScramCredentialsRequest',
  apiKey: 50,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'users', type: '[]UserName', versions: '0+', nullable: '0+', fields: [
      { name: 'name', type: 'string', versions: '0+' },
    ] },
  ],
});

export const describeUserScramCredentialsResponse = message({
  name: 'DescribeUserScramCredentialsResponse',
  apiKey: 50,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'results', type: '[]DescribeUserScramCredentialsResult', versions: '0+', fields: [
      { name: 'user', type: 'string', versions: '0+' },
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
      { name: 'credentialInfos', type: '[]CredentialInfo', versions: '0+', fields: [
        { name: 'mechanism', type: 'int8', versions: '0+' },
        { name: 'iterations', type: 'int32', versions: '0+' },
      ] },
    ] },
  ],
});
