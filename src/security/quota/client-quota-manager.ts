/**
 * One kind of client quota enforced (Kafka's ClientQuotaManager with its
 * DefaultQuotaCallback, and ClientRequestQuotaManager for request time):
 * produce bytes (producer_byte_rate), fetch bytes (consumer_byte_rate) or
 * request time (request_percentage).
 *
 * Quotas are set on (user, client-id) pairs, users and client ids, each with
 * its default; a request is measured against the most specific one that
 * matches its principal's name and client id, in Kafka's order:
 *   1. /config/users/<user>/clients/<client-id>
 *   2. /config/users/<user>/clients/<default>
 *   3. /config/users/<user>
 *   4. /config/users/<default>/clients/<client-id>
 *   5. /config/users/<default>/clients/<default>
 *   6. /config/users/<default>
 *   7. /config/clients/<client-id>
 *   8. /config/clients/<default>
 * Clients that match the same quota entity share one rate (a sensor named by
 * Kafka's metric tags): with only client-id quotas, every user of a client id
 * shares it; with only user quotas, every client id of a user; (user,
 * client-id) when those are set, or when several levels are and the level
 * that matches asks for it. A client no quota matches is measured without a
 * bound (it is never throttled). Nothing is measured for a kind until a quota
 * of that kind has been set once (Kafka's quotasEnabled, kept until restart).
 *
 * Each sensor's rate is quota-rate.ts's (quota.window.num samples of
 * quota.window.size.seconds); a record over the bound returns the throttle
 * time (request time: at most one window, ClientRequestQuotaManager's
 * boundedThrottleTime). A sensor idle for an hour is dropped (Kafka's
 * InactiveSensorExpirationTimeSeconds).
 */
import { QuotaRate, recordAndGetThrottleTimeMs, type RateWindow } from './quota-rate.js';

/** Kafka's QuotaType of a client quota manager. */
export type ClientQuotaType = 'produce' | 'fetch' | 'request';

/** How a sensor is named: Kafka's metric tags ('' when the level does not use the part). */
export interface QuotaTags {
  readonly user: string;
  readonly clientId: string;
}

/** What the metrics read of one sensor. */
export interface QuotaSensorStats extends QuotaTags {
  /** The measured rate now: bytes per second, or percent of one thread for request time. */
  readonly rate: number;
  /** The bound that applies, or undefined when none does. */
  readonly bound: number | undefined;
}

/** A level of quota entity: the user part and the client-id part, each absent (undefined), default (null) or named. */
interface QuotaLevel {
  readonly user: string | null | undefined;
  readonly clientId: string | null | undefined;
}

// Kafka's QuotaTypes: which levels have had a quota
const CLIENT_ID_QUOTAS = 1;
const USER_QUOTAS = 2;
const USER_CLIENT_ID_QUOTAS = 4;

const SENSOR_EXPIRY_MS = 3600_000;
const SWEEP_INTERVAL_MS = 60_000;

interface Sensor {
  readonly tags: QuotaTags;
  readonly rate: QuotaRate;
  /** The bound, resolved at `generation`. */
  bound: number | undefined;
  generation: number;
  lastUsedMs: number;
}

export class ClientQuotaManager {
  /** Quota bounds by level (levelKey). */
  private readonly overrides = new Map<string, number>();
  private enabledLevels = 0;
  /** Bumped at each quota change: sensors and resolutions older than it are looked up again. */
  private generation = 0;
  private readonly sensors = new Map<string, Sensor>();
  /** user → client id → the sensor a request of theirs records into (at `generation`). */
  private readonly resolved = new Map<string, Map<string, { sensor: Sensor; generation: number }>>();
  private lastSweepMs = 0;
  /** Throttle time given by this quota (ms) and how many times, since start. */
  throttleTimeMsTotal = 0;
  throttledTotal = 0;

  constructor(
    readonly type: ClientQuotaType,
    /** quota.window.num and quota.window.size.seconds (read-only in Kafka: read at start). */
    private readonly window: RateWindow,
    /** The longest throttle a record may return (request time: one window). */
    private readonly maxThrottleMs = Infinity,
  ) {}

  /** Whether a quota of this kind has been set since start (Kafka's quotasEnabled). */
  get quotasEnabled(): boolean {
    return this.enabledLevels !== 0;
  }

  /**
   * Sets (bound) or removes (undefined) the quota of one entity: `user` / `clientId` undefined when the
   * entity has no such part, null for the default.
   */
  updateQuota(user: string | null | undefined, clientId: string | null | undefined, bound: number | undefined): void {
    if (user !== undefined) this.enabledLevels |= clientId !== undefined ? USER_CLIENT_ID_QUOTAS : USER_QUOTAS;
    else if (clientId !== undefined) this.enabledLevels |= CLIENT_ID_QUOTAS;
    const key = levelKey({ user, clientId });
    if (bound === undefined) this.overrides.delete(key);
    else this.overrides.set(key, bound);
    this.generation++;
  }

  /**
   * Records `value` for a request of (user, clientId) at `nowMs` and returns the throttle time in ms (0:
   * within its quota). Nothing is recorded while no quota of this kind was ever set.
   */
  maybeRecordAndGetThrottleTimeMs(user: string, clientId: string, value: number, nowMs: number): number {
    if (!this.quotasEnabled) return 0;
    const sensor = this.sensorFor(user, clientId, nowMs);
    if (sensor.bound === undefined) {
      sensor.rate.record(this.window, value, nowMs);
      return 0;
    }
    const ms = recordAndGetThrottleTimeMs(sensor.rate, this.window, value, sensor.bound, nowMs, this.maxThrottleMs);
    return ms > 0 ? ms : 0;
  }

  /** Records without a quota check (Kafka's recordNoThrottle; its "unrecord" with a negative value). */
  recordNoThrottle(user: string, clientId: string, value: number, nowMs: number): void {
    if (!this.quotasEnabled) return;
    this.sensorFor(user, clientId, nowMs).rate.record(this.window, value, nowMs);
  }

  /**
   * The most that can be recorded at once without being throttled for sure (Kafka's
   * getMaxValueInQuotaWindow: the quota × the whole windows kept); Infinity without a quota.
   */
  maxValueInQuotaWindow(user: string, clientId: string, nowMs: number): number {
    if (!this.quotasEnabled) return Infinity;
    const bound = this.sensorFor(user, clientId, nowMs).bound;
    return bound === undefined ? Infinity : (bound * (this.window.samples - 1) * this.window.windowMs) / 1000;
  }

  /** Counts a throttle this quota imposed (the channel is muted for it). */
  throttled(ms: number): void {
    this.throttleTimeMsTotal += ms;
    this.throttledTotal++;
  }

  /** Each live sensor's rate and bound now (metrics). */
  sensorStats(nowMs: number): QuotaSensorStats[] {
    this.sweep(nowMs, true);
    const out: QuotaSensorStats[] = [];
    for (const s of this.sensors.values()) {
      this.refresh(s);
      out.push({ user: s.tags.user, clientId: s.tags.clientId, rate: s.rate.measure(this.window, nowMs), bound: s.bound });
    }
    return out;
  }

  private sensorFor(user: string, clientId: string, nowMs: number): Sensor {
    this.sweep(nowMs, false);
    let byClient = this.resolved.get(user);
    const hit = byClient?.get(clientId);
    if (hit !== undefined && hit.generation === this.generation && this.sensors.get(tagsKey(hit.sensor.tags)) === hit.sensor) {
      hit.sensor.lastUsedMs = nowMs;
      return hit.sensor;
    }
    const tags = this.quotaMetricTags(user, clientId);
    const key = tagsKey(tags);
    let sensor = this.sensors.get(key);
    if (sensor === undefined) {
      sensor = { tags, rate: new QuotaRate(), bound: undefined, generation: -1, lastUsedMs: nowMs };
      this.sensors.set(key, sensor);
    }
    this.refresh(sensor);
    sensor.lastUsedMs = nowMs;
    if (byClient === undefined) this.resolved.set(user, (byClient = new Map()));
    byClient.set(clientId, { sensor, generation: this.generation });
    return sensor;
  }

  /** The sensor's bound at the current generation. */
  private refresh(sensor: Sensor): void {
    if (sensor.generation === this.generation) return;
    sensor.bound = this.quotaLimit(sensor.tags);
    sensor.generation = this.generation;
  }

  /** Drops sensors idle for an hour (checked once a minute; `force` at each metrics read). */
  private sweep(nowMs: number, force: boolean): void {
    if (!force && nowMs - this.lastSweepMs < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    for (const [key, s] of this.sensors) if (nowMs - s.lastUsedMs >= SENSOR_EXPIRY_MS) this.sensors.delete(key);
    for (const [user, byClient] of this.resolved) {
      for (const [clientId, r] of byClient) if (nowMs - r.sensor.lastUsedMs >= SENSOR_EXPIRY_MS) byClient.delete(clientId);
      if (byClient.size === 0) this.resolved.delete(user);
    }
  }

  /** The sensor a (user, client id) records into: Kafka's DefaultQuotaCallback.quotaMetricTags. */
  private quotaMetricTags(user: string, clientId: string): QuotaTags {
    switch (this.enabledLevels) {
      case 0:
      case CLIENT_ID_QUOTAS:
        return { user: '', clientId };
      case USER_QUOTAS:
        return { user, clientId: '' };
      case USER_CLIENT_ID_QUOTAS:
        return { user, clientId };
      default: {
        const has = (level: QuotaLevel): boolean => this.overrides.has(levelKey(level));
        if (has({ user, clientId }) || has({ user, clientId: null })) return { user, clientId }; // 1, 2
        if (has({ user, clientId: undefined })) return { user, clientId: '' }; // 3
        if (has({ user: null, clientId }) || has({ user: null, clientId: null })) return { user, clientId }; // 4, 5
        if (has({ user: null, clientId: undefined })) return { user, clientId: '' }; // 6
        return { user: '', clientId }; // 7, 8
      }
    }
  }

  /** The bound of a sensor: Kafka's DefaultQuotaCallback.quotaLimit. */
  private quotaLimit(tags: QuotaTags): number | undefined {
    const { user, clientId } = tags;
    const levels: QuotaLevel[] =
      user !== '' && clientId !== ''
        ? [{ user, clientId }, { user, clientId: null }, { user: null, clientId }, { user: null, clientId: null }]
        : user !== ''
          ? [{ user, clientId: undefined }, { user: null, clientId: undefined }]
          : clientId !== ''
            ? [{ user: undefined, clientId }, { user: undefined, clientId: null }]
            : [];
    for (const level of levels) {
      const bound = this.overrides.get(levelKey(level));
      if (bound !== undefined) return bound;
    }
    return undefined;
  }
}

function levelKey(level: QuotaLevel): string {
  return JSON.stringify([level.user === undefined ? 0 : level.user, level.clientId === undefined ? 0 : level.clientId]);
}

function tagsKey(tags: QuotaTags): string {
  return JSON.stringify([tags.user, tags.clientId]);
}
