/**
 * ApiVersions (API key 18): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-4), flexible from v3+.
 */
import { message } from '../schema.js';

export const apiVersionsRequest = message({
  name: 'ApiVersionsRequest',
  apiKey: 18,
  kind: 'request',
  valid: '0-4',
  flexible: '3+',
  fields: [
    { name: 'clientSoftwareName', type: 'string', versions: '3+', ignorable: true },
    { name: 'clientSoftwareVersion', type: 'string', versions: '3+', ignorable: true },
  ],
});

export const apiVersionsResponse = message({
  name: 'ApiVersionsResponse',
  apiKey: 18,
  kind: 'response',
  valid: '0-4',
  flexible: '3+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'apiKeys', type: '[]ApiVersion', versions: '0+', fields: [
      { name: 'apiKey', type: 'int16', versions: '0+' },
      { name: 'minVersion', type: 'int16', versions: '0+' },
      { name: 'maxVersion', type: 'int16', versions: '0+' },
    ] },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+', ignorable: true },
    { name: 'supportedFeatures', type: '[]SupportedFeatureKey', versions: '3+', tag: 0, tagged: '3+', ignorable: true, fields: [
      { name: 'name', type: 'string', versions: '3+' },
      { name: 'minVersion', type: 'int16', versions: '3+' },
      { name: 'maxVersion', type: 'int16', versions: '3+' },
    ] },
    { name: 'finalizedFeaturesEpoch', type: 'int64', versions: '3+', tag: 1, tagged: '3+', default: -1n, ignorable: true },
    { name: 'finalizedFeatures', type: '[]FinalizedFeatureKey', versions: '3+', tag: 2, tagged: '3+', ignorable: true, fields: [
      { name: 'name', type: 'string', versions: '3+' },
      { name: 'maxVersionLevel', type: 'int16', versions: '3+' },
      { name: 'minVersionLevel', type: 'int16', versions: '3+' },
    ] },
    { name: 'zkMigrationReady', type: 'bool', versions: '3+', tag: 3, tagged: '3+', default: false, ignorable: true },
  ],
});
