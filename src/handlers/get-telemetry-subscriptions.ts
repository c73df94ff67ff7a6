/**
 * GetTelemetrySubscriptions: v0.
 * Behavior: as a Kafka 4.3 broker without a telemetry receiver and without
 * client-metrics subscriptions (src/metrics/client-metrics-manager.ts).
 * Such a broker does not list this API in ApiVersions, and neither does
 * Gregor (the handler is registered unlisted), so clients do not ask; a
 * client that asks anyway gets Kafka's answer: its client instance id (a
 * new one for the zero id), no requested metrics, a push interval of 5
 * minutes, the accepted compression types zstd, lz4, gzip, snappy,
 * telemetry.max.bytes, delta temporality and a subscription id; a second
 * request within the push interval gets THROTTLING_QUOTA_EXCEEDED with an
 * otherwise empty answer. Gregor does not collect client metrics (exposing
 * pushed metrics on /metrics would mean listing these APIs with a real
 * subscription).
 * Version notes: v0 only (flexible).
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { ACCEPTED_COMPRESSION_TYPES } from '../metrics/client-metrics-manager.js';
import { defineHandler } from './handler.js';

export const getTelemetrySubscriptionsHandler = defineHandler({
  api: apiByKey(ApiKey.GetTelemetrySubscriptions)!,
  request: schemas.getTelemetrySubscriptionsRequest,
  response: schemas.getTelemetrySubscriptionsResponse,
  handle(ctx, req) {
    const s = ctx.services.clientMetrics.getSubscription(req.clientInstanceId);
    if (s.errorCode !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: s.errorCode };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      clientInstanceId: s.clientInstanceId,
      subscriptionId: s.subscriptionId,
      acceptedCompressionTypes: [...ACCEPTED_COMPRESSION_TYPES],
      pushIntervalMs: s.pushIntervalMs,
      telemetryMaxBytes: s.telemetryMaxBytes,
      deltaTemporality: true,
      requestedMetrics: [],
    };
  },
});
