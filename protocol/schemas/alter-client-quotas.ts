/**
 * AlterClientQuotas (API key 49): request and response schemas for every
 * version Kafka 4.3 accepts (v0-1, the same as Kafka 3.9.0's), flexible from
 * v1. An entity name of null is the entity type's default; an op with remove
 * set ignores its value.
 */
import { message } from '../schema.js';

export const alterClientQuotasRequest = message({
  name: 'AlterClientQuotasRequest',
  apiKey: 49,
  kind: 'request',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'entries', type: '[]EntryData', versions: '0+', fields: [
      { name: 'entity', type: '[]EntityData', versions: '0+', fields: [
        { name: 'entityType', type: 'string', versions: '0+' },
        { name: 'entityName', type: 'string', versions: '0+', nullable: '0+' },
      ] },
      { name: 'ops', type: '[]OpData', versions: '0+', fields: [
        { name: 'key', type: 'string', versions: '0+' },
        { name: 'value', type: 'float64', versions: '0+' },
        { name: 'remove', type: 'bool', versions: '0+' },
      ] },
    ] },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const alterClientQuotasResponse = message({
  name: 'AlterClientQuotasResponse',
  apiKey: 49,
  kind: 'response',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'entries', type: '[]EntryData', versions: '0+', fields: [
      { name: 'errorCode', type: 'int16', versions: '0+' },
      { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
      { name: 'entity', type: '[]EntityData', versions: '0+', fields: [
        { name: 'entityType', type: 'string', versions: '0+' },
        { name: 'entityName', type: 'string', versions: '0+', nullable: '0+' },
      ] },
    ] },
  ],
});
