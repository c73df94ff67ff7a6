/**
 * AlterConfigs (API key 33): request and response schemas for every version
 * Kafka 3.9.0 accepts (v0-2), flexible from v2+.
 */
import { message } from '../schema.js';

export const alterConfigsRequest = message({
  name: 'AlterConfigsRequest',
  apiKey: 33,
  kind: 'request',
  valid: '0-2',
  flexible: '2+',
  fields: [
    { name: 'resources', type: '[]AlterConfigsResource', versions: '0+', fields: [
      { name: 'resourceType', type: 'int8', versions: '0+' },
      { name: 'resourceName', type: 'string', versions: '0+' },
      { name: 'configs', type: '[]AlterableConfig', versions: '0+', fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'value', type: 'string', versions: '0+', nullable: '0+' },
      ] },
    ] },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const alterConfigsResponse = message({
  name: 'AlterConfigsResponse',
  apiKey: 33,
  kind: 'response',
  valid: '0-2',
  flexible: '2+',
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
