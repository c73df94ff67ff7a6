/**
 * DescribeClientQuotas (API key 48): request and response schemas for every
 * version Kafka 4.3 accepts (v0-1, the same as Kafka 3.9.0's), flexible from
 * v1. A filter component matches an entity type exactly (match_type 0, with a
 * name), its default (1, match null) or any specified name (2, match null).
 */
import { message } from '../schema.js';

export const describeClientQuotasRequest = message({
  name: 'DescribeClientQuotasRequest',
  apiKey: 48,
  kind: 'request',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'components', type: '[]ComponentData', versions: '0+', fields: [
      { name: 'entityType', type: 'string', versions: '0+' },
      { name: 'matchType', type: 'int8', versions: '0+' },
      { name: 'match', type: 'string', versions: '0+', nullable: '0+' },
    ] },
    { name: 'strict', type: 'bool', versions: '0+' },
  ],
});

export const describeClientQuotasResponse = message({
  name: 'DescribeClientQuotasResponse',
  apiKey: 48,
  kind: 'response',
  valid: '0-1',
  flexible: '1+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullable: '0+' },
    { name: 'entries', type: '[]EntryData', versions: '0+', nullable: '0+', fields: [
      { name: 'entity', type: '[]EntityData', versions: '0+', fields: [
        { name: 'entityType', type: 'string', versions: '0+' },
        { name: 'entityName', type: 'string', versions: '0+', nullable: '0+' },
      ] },
      { name: 'values', type: '[]ValueData', versions: '0+', fields: [
        { name: 'key', type: 'string', versions: '0+' },
        { name: 'value', type: 'float64', versions: '0+' },
      ] },
    ] },
  ],
});
