/**
 * PushTelemetry (API key 72): request and response schemas of v0 (KIP-714
 * client metrics, Kafka 3.7+), flexible from v0: the client pushes the
 * metrics of its subscription, encoded as OpenTelemetry MetricsData and
 * maybe compressed.
 */
import { message } from '../schema.js';

export const pushTelemetryRequest = message({
  name: 'PushTelemetryRequest',
  apiKey: 72,
  kind: 'request',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'clientInstanceId', type: 'uuid', versions: '0+' },
    { name: 'subscriptionId', type: 'int32', versions: '0+' },
    { name: 'terminating', type: 'bool', versions: '0+' },
    { name: 'compressionType', type: 'int8', versions: '0+' },
    { name: 'metrics', type: 'bytes', versions: '0+' },
  ],
});

export const pushTelemetryResponse = message({
  name: 'PushTelemetryResponse',
  apiKey: 72,
  kind: 'response',
  valid: '0',
  flexible: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
});
