/**
 * PushTelemetry: v0.
 * Behavior: as a Kafka 4.3 broker without a telemetry receiver and without
 * client-metrics subscriptions (src/metrics/client-metrics-manager.ts):
 * unlisted in ApiVersions like GetTelemetrySubscriptions; a push is checked
 * as Kafka checks it and its metrics are dropped. Errors: INVALID_REQUEST
 * for the zero (or a reserved) client instance id and for a push after the
 * terminating one, UNKNOWN_SUBSCRIPTION_ID, THROTTLING_QUOTA_EXCEEDED (a
 * push within the push interval that is not the first after a get, nor
 * terminating), UNSUPPORTED_COMPRESSION_TYPE, TELEMETRY_TOO_LARGE (above
 * telemetry.max.bytes).
 * Version notes: v0 only (flexible).
 */
import { ApiKey, apiByKey, schemas } from '../../protocol/index.js';
import { defineHandler } from './handler.js';

export const pushTelemetryHandler = defineHandler({
  api: apiByKey(ApiKey.PushTelemetry)!,
  request: schemas.pushTelemetryRequest,
  response: schemas.pushTelemetryResponse,
  handle(ctx, req) {
    const errorCode = ctx.services.clientMetrics.push({
      clientInstanceId: req.clientInstanceId,
      subscriptionId: req.subscriptionId,
      terminating: req.terminating,
      compressionType: req.compressionType,
      metricsBytes: req.metrics.length,
    });
    return { throttleTimeMs: 0, errorCode };
  },
});
