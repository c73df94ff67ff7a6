/**
 * GetTelemetrySubscriptions (API key 71): request and response schemas of v0
 * (KIP-714 client metrics, Kafka 3.7+), flexible from v0: the client asks
 * which of its metrics the broker wants pushed, how often and how.
 */
import { message } from '../schema.js';

export const getTelemetrySubscriptionsRequest = message({
  name: 'GetTelemetrySubscriptionsRequest',
  apiKey: 71,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'clientInstanceId', type: 'uuid', versions: '0+' },
  ],
});

export const getTelemetrySubscriptionsResponse = message({
  name: 'GetTelemetrySubscriptionsResponse',
  apiKey: 71,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'clientInstanceId', type: 'uuid', versions: '0+' },
    { name: 'subscriptionId', type: 'int32', versions: '0+' },
    { name: 'acceptedCompressionTypes', type: '[]int8', versions: '0+' },
    { name: 'pushIntervalMs', type: 'int32', versions: '0+' },
    { name: 'telemetryMaxBytes', type: 'int32', versions: '0+' },
    { name: 'deltaTemporality', type: 'bool', versions: '0+' },
    { name: 'requestedMetrics', type: '[]string', versions: '0+' },
  ],
});
