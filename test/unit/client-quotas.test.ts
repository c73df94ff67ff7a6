/**
 * The parts of client quotas that are arithmetic and lookup, on a clock the
 * test sets: Kafka's windowed rate and throttle time, the eight levels of
 * quota precedence and which clients share a rate, the bounded request-time
 * throttle, and the connection rates per address.
 */
import { describe, expect, it } from 'vitest';
import { ClientQuotaManager } from '../../src/security/quota/client-quota-manager.js';
import { canonicalAddress, ConnectionRates } from '../../src/security/quota/connection-rates.js';
import { QuotaRate, recordAndGetThrottleTimeMs, throttleTimeMs } from '../../src/security/quota/quota-rate.js';

const WINDOW = { samples: 11, windowMs: 1000 };
const T0 = 1_000_000;

describe('QuotaRate (Kafka\'s Rate over a WindowedSum)', () => {
  it('measures over at least ten whole windows, then over the time since the oldest sample', () => {
    const r = new QuotaRate();
    r.record(WINDOW, 1000, T0);
    expect(r.windowSize(WINDOW, T0)).toBe(10_000);
    expect(r.measure(WINDOW, T0)).toBe(100);
    r.record(WINDOW, 1000, T0 + 10_500);
    expect(r.windowSize(WINDOW, T0 + 10_500)).toBe(10_500);
    expect(r.measure(WINDOW, T0 + 10_500)).toBeCloseTo(2000 / 10.5);
  });

  it('drops a sample whose last record is quota.window.num windows old', () => {
    const r = new QuotaRate();
    r.record(WINDOW, 5000, T0);
    r.record(WINDOW, 1000, T0 + 5000);
    expect(r.measure(WINDOW, T0 + 10_999)).toBeCloseTo(6000 / 10.999);
    // at 11 s the first sample goes; the second is measured over ten windows again
    expect(r.measure(WINDOW, T0 + 11_000)).toBeCloseTo(1000 / 10.0);
  });

  it('throttles for the time that brings the rate back to the quota: (O - T) / T × W (QuotaUtils.throttleTime)', () => {
    const r = new QuotaRate();
    expect(recordAndGetThrottleTimeMs(r, WINDOW, 1_000_000, 200_000, T0)).toBe(0);
    expect(recordAndGetThrottleTimeMs(r, WINDOW, 1_000_000, 200_000, T0)).toBe(0);
    // 3 MB over 10 s = 300 kB/s against 200 kB/s: (300 - 200) / 200 × 10 s
    expect(recordAndGetThrottleTimeMs(r, WINDOW, 1_000_000, 200_000, T0)).toBe(5000);
    expect(throttleTimeMs(300, 200, 10_000)).toBe(5000);
    // bounded (request time, connection rates): at most the cap
    expect(recordAndGetThrottleTimeMs(r, WINDOW, 1_000_000, 200_000, T0, 1000)).toBe(1000);
  });
});

describe('ClientQuotaManager: Kafka\'s quota precedence', () => {
  /** The bound that applies to (user, clientId): what may be recorded at once, over ten windows. */
  const boundFor = (m: ClientQuotaManager, user: string, clientId: string): number | undefined => {
    const v = m.maxValueInQuotaWindow(user, clientId, T0);
    return v === Infinity ? undefined : v / 10;
  };

  it('applies the most specific of the eight levels that is set', () => {
    const m = new ClientQuotaManager('produce', WINDOW);
    const levels: Array<[string | null | undefined, string | null | undefined, number]> = [
      ['alice', 'app', 1], // /config/users/alice/clients/app
      ['alice', null, 2], // /config/users/alice/clients/<default>
      ['alice', undefined, 3], // /config/users/alice
      [null, 'app', 4], // /config/users/<default>/clients/app
      [null, null, 5], // /config/users/<default>/clients/<default>
      [null, undefined, 6], // /config/users/<default>
      [undefined, 'app', 7], // /config/clients/app
      [undefined, null, 8], // /config/clients/<default>
    ];
    for (const [user, clientId, bound] of levels) m.updateQuota(user, clientId, bound);
    for (const [user, clientId, bound] of levels) {
      expect(boundFor(m, 'alice', 'app')).toBe(bound);
      m.updateQuota(user, clientId, undefined);
    }
    expect(boundFor(m, 'alice', 'app')).toBeUndefined();
  });

  it('matches users and client ids by name, and defaults everyone else', () => {
    const m = new ClientQuotaManager('fetch', WINDOW);
    m.updateQuota('alice', undefined, 100);
    m.updateQuota(null, undefined, 50);
    m.updateQuota(undefined, 'app', 30);
    expect(boundFor(m, 'alice', 'other')).toBe(100);
    expect(boundFor(m, 'bob', 'app')).toBe(50);
    expect(boundFor(m, 'ANONYMOUS', '')).toBe(50);
  });

  it('lets the clients of one quota entity share its rate', () => {
    const m = new ClientQuotaManager('produce', WINDOW);
    m.updateQuota(undefined, 'app', 100);
    // only client-id quotas: every user of client id "app" records into one rate
    expect(m.maybeRecordAndGetThrottleTimeMs('alice', 'app', 600, T0)).toBe(0);
    expect(m.maybeRecordAndGetThrottleTimeMs('bob', 'app', 600, T0)).toBeGreaterThan(0);
    // another client id has no quota: not throttled
    expect(m.maybeRecordAndGetThrottleTimeMs('alice', 'other', 10_000, T0)).toBe(0);
  });

  it('measures nothing for a kind of quota never set, and follows a change at once', () => {
    const m = new ClientQuotaManager('produce', WINDOW);
    expect(m.quotasEnabled).toBe(false);
    expect(m.maybeRecordAndGetThrottleTimeMs('u', 'c', 1e12, T0)).toBe(0);
    m.updateQuota('u', undefined, 1e9);
    expect(m.maybeRecordAndGetThrottleTimeMs('u', 'c', 1000, T0)).toBe(0);
    m.updateQuota('u', undefined, 10);
    expect(m.maybeRecordAndGetThrottleTimeMs('u', 'c', 1000, T0)).toBeGreaterThan(0);
    m.updateQuota('u', undefined, undefined);
    expect(m.maybeRecordAndGetThrottleTimeMs('u', 'c', 1000, T0)).toBe(0);
  });

  it('bounds the request-time throttle at one window (ClientRequestQuotaManager)', () => {
    const m = new ClientQuotaManager('request', WINDOW, WINDOW.windowMs);
    m.updateQuota(undefined, null, 1);
    expect(m.maybeRecordAndGetThrottleTimeMs('u', 'c', 500, T0)).toBe(1000);
  });
});

describe('ConnectionRates', () => {
  it('closes connections over an address\'s rate after at most one window, and does not count them', () => {
    const q = new ConnectionRates(WINDOW, () => 2147483647);
    q.updateIpQuota('127.0.0.1', 1);
    const throttles = Array.from({ length: 15 }, () => q.recordIpConnection('::ffff:127.0.0.1', T0));
    // ten windows' worth at first, then each one over (unrecorded, so the next is over too)
    expect(throttles.filter((t) => t === 0)).toHaveLength(10);
    for (const t of throttles.slice(10)) expect(t).toBeGreaterThan(0);
    for (const t of throttles) expect(t).toBeLessThanOrEqual(1000);
    expect(q.recordIpConnection('10.0.0.1', T0)).toBe(0);
    // the default entity applies to every address without its own
    q.updateIpQuota(null, 1);
    expect(q.rateFor('10.0.0.1')).toBe(1);
    expect(q.rateFor('127.0.0.1')).toBe(1);
    q.updateIpQuota('127.0.0.1', 5);
    expect(q.rateFor('127.0.0.1')).toBe(5);
  });

  it('delays the acceptor over max.connection.creation.rate, read at each connection', () => {
    let rate = 2147483647;
    const q = new ConnectionRates(WINDOW, () => rate);
    expect(q.recordConnection(T0)).toBe(0);
    rate = 1;
    const delays = Array.from({ length: 12 }, () => q.recordConnection(T0));
    expect(delays.some((d) => d > 0 && d <= 1000)).toBe(true);
  });

  it('compares addresses in one form', () => {
    expect(canonicalAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalAddress('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalAddress('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(canonicalAddress('10.0.0.7')).toBe('10.0.0.7');
  });
});
