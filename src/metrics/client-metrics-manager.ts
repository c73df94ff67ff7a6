/**
 * Client metrics (KIP-714) as a Kafka broker without a telemetry receiver and without client-metrics
 * subscriptions answers them (Kafka's ClientMetricsManager): no client is asked for any metric, and what a
 * client pushes anyway is checked and dropped. Kafka's ApiVersions does not list GetTelemetrySubscriptions and
 * PushTelemetry unless a telemetry receiver (a metrics reporter implementing ClientTelemetry) is configured,
 * so clients do not send them to such a broker; one that does is answered by this manager, as Kafka's is.
 *
 * One ClientInstance per client instance id (the id a client got from its first GetTelemetrySubscriptions,
 * or a new one for the zero id), in an LRU of at most 16384 that forgets an instance after three push
 * intervals without a request. An instance keeps the times of its last get and push and whether it sent its
 * terminating push:
 *
 * - GetTelemetrySubscriptions answers the subscription: no requested metrics, the default push interval (5
 *   minutes), the compression types a push may use (zstd, lz4, gzip, snappy), telemetry.max.bytes, delta
 *   temporality, and a subscription id derived from the subscription and the instance id. A get less than a
 *   push interval after the instance's last get or push: THROTTLING_QUOTA_EXCEEDED.
 * - PushTelemetry: the zero (or a reserved) instance id: INVALID_REQUEST; then, in Kafka's order, a push
 *   after the terminating one: INVALID_REQUEST; another subscription id: UNKNOWN_SUBSCRIPTION_ID (a
 *   terminating push with the right id marks the instance terminating); a push less
 *   than a push interval after the last one, unless it is the first since a get or a terminating push:
 *   THROTTLING_QUOTA_EXCEEDED; a compression type Kafka does not know: UNSUPPORTED_COMPRESSION_TYPE; metrics
 *   above telemetry.max.bytes: TELEMETRY_TOO_LARGE. An accepted push is dropped (no receiver).
 */
import { LRUCache } from 'lru-cache';
import { ErrorCode, ZERO_UUID } from '../../protocol/index.js';
import { crc32c } from '../../protocol/records/index.js';

/** Kafka's ClientMetricsConfigs.DEFAULT_INTERVAL_MS: the push interval of a client without subscriptions. */
export const DEFAULT_PUSH_INTERVAL_MS = 5 * 60 * 1000;
/** zstd, lz4, gzip, snappy: what Kafka's broker accepts, in its order of preference. */
export const ACCEPTED_COMPRESSION_TYPES: readonly number[] = [4, 3, 1, 2];
/** none, gzip, snappy, lz4, zstd. */
const KNOWN_COMPRESSION_TYPES = new Set([0, 1, 2, 3, 4]);
const MAX_INSTANCES = 16384;
/** Kafka's reserved ids: the zero id and the metadata topic id (…0001). */
const RESERVED_IDS = new Set([ZERO_UUID, 'AAAAAAAAAAAAAAAAAAAAAQ']);

interface ClientInstance {
  readonly subscriptionId: number;
  lastGetMs: number;
  lastPushMs: number;
  terminating: boolean;
}

export interface TelemetrySubscription {
  readonly errorCode: number;
  readonly clientInstanceId: string;
  readonly subscriptionId: number;
  readonly pushIntervalMs: number;
  readonly telemetryMaxBytes: number;
}

export interface TelemetryPush {
  readonly clientInstanceId: string;
  readonly subscriptionId: number;
  readonly terminating: boolean;
  readonly compressionType: number;
  readonly metricsBytes: number;
}

export class ClientMetricsManager {
  private readonly instances = new LRUCache<string, ClientInstance>({ max: MAX_INSTANCES, ttl: 3 * DEFAULT_PUSH_INTERVAL_MS, updateAgeOnGet: true });

  /** @param telemetryMaxBytes read at each request (telemetry.max.bytes). */
  constructor(private readonly telemetryMaxBytes: () => number) {}

  getSubscription(requestedId: string, now = Date.now()): TelemetrySubscription {
    const clientInstanceId = requestedId === ZERO_UUID ? newInstanceId() : requestedId;
    const instance = this.instanceOf(clientInstanceId);
    const telemetryMaxBytes = this.telemetryMaxBytes();
    if (now - Math.max(instance.lastGetMs, instance.lastPushMs) < DEFAULT_PUSH_INTERVAL_MS) {
      return { errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, clientInstanceId: ZERO_UUID, subscriptionId: 0, pushIntervalMs: 0, telemetryMaxBytes: 0 };
    }
    instance.lastGetMs = now;
    return { errorCode: ErrorCode.NONE, clientInstanceId, subscriptionId: instance.subscriptionId, pushIntervalMs: DEFAULT_PUSH_INTERVAL_MS, telemetryMaxBytes };
  }

  /** The error code of a push (NONE when accepted; its metrics are dropped either way). */
  push(p: TelemetryPush, now = Date.now()): number {
    if (RESERVED_IDS.has(p.clientInstanceId)) return ErrorCode.INVALID_REQUEST;
    const instance = this.instanceOf(p.clientInstanceId);
    if (instance.terminating) return ErrorCode.INVALID_REQUEST;
    if (p.subscriptionId !== instance.subscriptionId) return ErrorCode.UNKNOWN_SUBSCRIPTION_ID;
    if (p.terminating) instance.terminating = true;
    const firstSinceGet = instance.lastGetMs > instance.lastPushMs;
    if (firstSinceGet || now - Math.max(instance.lastGetMs, instance.lastPushMs) >= DEFAULT_PUSH_INTERVAL_MS) instance.lastPushMs = now;
    else if (!p.terminating) return ErrorCode.THROTTLING_QUOTA_EXCEEDED;
    if (!KNOWN_COMPRESSION_TYPES.has(p.compressionType)) return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
    if (p.metricsBytes > this.telemetryMaxBytes()) return ErrorCode.TELEMETRY_TOO_LARGE;
    return ErrorCode.NONE;
  }

  private instanceOf(clientInstanceId: string): ClientInstance {
    let instance = this.instances.get(clientInstanceId);
    if (instance === undefined) {
      instance = { subscriptionId: subscriptionIdOf(clientInstanceId), lastGetMs: 0, lastPushMs: 0, terminating: false };
      this.instances.set(clientInstanceId, instance);
    }
    return instance;
  }
}

/** A random version 4 UUID in Kafka's base64url form, never a reserved one. */
function newInstanceId(): string {
  for (;;) {
    const id = Buffer.from(crypto.randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    if (!RESERVED_IDS.has(id)) return id;
  }
}

/** The subscription (no metrics, the default interval) hashed with the instance id, after Kafka's formula. */
function subscriptionIdOf(clientInstanceId: string): number {
  const crc = crc32c(Buffer.from(`[]${DEFAULT_PUSH_INTERVAL_MS}`, 'utf8')) | 0;
  const id = Buffer.from(clientInstanceId, 'base64url');
  const hash = id.length === 16 ? id.readInt32BE(0) ^ id.readInt32BE(4) ^ id.readInt32BE(8) ^ id.readInt32BE(12) : 0;
  return crc ^ hash;
}
