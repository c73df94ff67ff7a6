/**
 * IncrementalAlterConfigs (API key 44): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-1), flexible from v1+.
 */
import { message } from '../schema.js';

export const incrementalAlterConfigsRequest = message({
  name: 'IncrementalAlterConfigsRequest',
  apiKey: 44,
  kind: 'request',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'resources', type: '[]AlterConfigsResource', versions: '0+', fields: [
      { name: 'resourceType', type: 'int8', versions: '0+' },
      { name: 'resourceName', type: 'string', versions: '0+' },
      { name: 'configs', type: '[]AlterableConfig', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'configOperation', type: 'int8', versions: '0+' },
        { name: 'value', type: 'string', versions: '0+', nullable: '0+' },
      ] },
    ] },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const incrementalAlterConfigsResponse = message({
  name: 'IncrementalAlterConfigsResponse',
  apiKey: 44,
  kind: 'response',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'responses', type: '[]AlterConfigsResourceResponse', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
      { name: 'resourceType', type: 'int8', versions: '0+' },
      { name: 'resourceName', type: 'string', versions: '0+' },
    ] },
  ],
});
