/**
 * Connection creation rates, as Kafka's ConnectionQuotas limits them:
 *
 * - Broker-wide, max.connection.creation.rate (dynamic, cluster-wide): every
 *   new connection is recorded; one over the rate makes the acceptor wait
 *   the throttle time (at most one quota window) before it accepts it and
 *   those behind it (recordConnection → the delay). The connections wait; none
 *   is closed for it.
 * - Per IP address, connection_creation_rate of the ip quota entity (a named
 *   address, or the default entity for every address without its own): a
 *   connection over its address's rate is not accepted: it is "unrecorded"
 *   (from the address's rate and the broker-wide one) and closed once the
 *   throttle time (at most one window) has passed (recordIpConnection → that
 *   delay). An address is measured only while a rate applies to it.
 *
 * Rates are quota-rate.ts's over quota.window.num samples of
 * quota.window.size.seconds. Address names are compared in one form: IPv4 as
 * dotted quads (an IPv4-mapped IPv6 address is its IPv4 address), IPv6
 * compressed; a quota set on a host name applies to the address it resolved
 * to when set. A per-address rate idle for an hour is dropped.
 */
import { isIP } from 'node:net';
import { QuotaRate, recordAndGetThrottleTimeMs, type RateWindow } from './quota-rate.js';

/** Kafka's QuotaConfig.IP_CONNECTION_RATE_DEFAULT and the default of max.connection.creation.rate: no limit. */
export const UNLIMITED_CONNECTION_RATE = 2147483647;

const SENSOR_EXPIRY_MS = 3600_000;
const SWEEP_INTERVAL_MS = 60_000;

export class ConnectionRates {
  private readonly brokerRate = new QuotaRate();
  /** Rates of addresses with a quota, by address. */
  private readonly ipRates = new Map<string, { rate: QuotaRate; lastUsedMs: number }>();
  /** connection_creation_rate per address, and the default entity's. */
  private readonly ipQuotas = new Map<string, number>();
  private defaultIpQuota = UNLIMITED_CONNECTION_RATE;
  /** Connections closed for their address's rate, and acceptor delays for the broker-wide rate (ms), since start. */
  ipThrottledTotal = 0;
  brokerThrottleMsTotal = 0;
  private lastSweepMs = 0;

  constructor(
    private readonly window: RateWindow,
    /** max.connection.creation.rate, read at each connection (it is dynamic). */
    private readonly maxConnectionCreationRate: () => number,
  ) {}

  /** Sets (rate) or removes (undefined) the connection_creation_rate of an address, or of the default entity (null). */
  updateIpQuota(ip: string | null, rate: number | undefined): void {
    if (ip === null) {
      this.defaultIpQuota = rate ?? UNLIMITED_CONNECTION_RATE;
      return;
    }
    const address = canonicalAddress(ip);
    if (rate === undefined) this.ipQuotas.delete(address);
    else this.ipQuotas.set(address, rate);
  }

  /** The connection_creation_rate that applies to an address. */
  rateFor(ip: string): number {
    return this.ipQuotas.get(canonicalAddress(ip)) ?? this.defaultIpQuota;
  }

  /** Records a new connection broker-wide: how long the acceptor waits before taking it (0: at once). */
  recordConnection(nowMs: number): number {
    const bound = this.maxConnectionCreationRate();
    if (bound >= UNLIMITED_CONNECTION_RATE) return 0;
    const ms = recordAndGetThrottleTimeMs(this.brokerRate, this.window, 1, bound, nowMs, this.window.windowMs);
    if (ms > 0) this.brokerThrottleMsTotal += ms;
    return ms;
  }

  /**
   * Records a new connection from `ip`: 0 when it is accepted, else the time after which it is closed (it is
   * not counted then, neither for the address nor broker-wide).
   */
  recordIpConnection(ip: string, nowMs: number): number {
    const address = canonicalAddress(ip);
    const bound = this.ipQuotas.get(address) ?? this.defaultIpQuota;
    if (bound >= UNLIMITED_CONNECTION_RATE) return 0;
    this.sweep(nowMs);
    let entry = this.ipRates.get(address);
    if (entry === undefined) this.ipRates.set(address, (entry = { rate: new QuotaRate(), lastUsedMs: nowMs }));
    entry.lastUsedMs = nowMs;
    const ms = recordAndGetThrottleTimeMs(entry.rate, this.window, 1, bound, nowMs, this.window.windowMs);
    if (ms <= 0) return 0;
    entry.rate.record(this.window, -1, nowMs);
    if (this.maxConnectionCreationRate() < UNLIMITED_CONNECTION_RATE) this.brokerRate.record(this.window, -1, nowMs);
    this.ipThrottledTotal++;
    return ms;
  }

  /** Drops the rates of addresses idle for an hour (checked once a minute). */
  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    for (const [address, e] of this.ipRates) if (nowMs - e.lastUsedMs >= SENSOR_EXPIRY_MS) this.ipRates.delete(address);
  }
}

/** One form per address (see the top of this file); a name that is not an address is kept as it is. */
export function canonicalAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  try {
    const host = new URL(`http://[${ip}]/`).hostname;
    const inner = host.slice(1, -1);
    const v4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(inner);
    if (v4) {
      const hi = parseInt(v4[1]!, 16);
      const lo = parseInt(v4[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return inner;
  } catch {
    return ip;
  }
}
