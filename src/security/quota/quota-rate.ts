/**
 * How Kafka measures a quota'd rate, and how long a client that went over it
 * is throttled: Kafka's Rate over a windowed sum of samples (metrics.stats
 * Rate, SampledStat, WindowedSum), a Sensor's quota check, and QuotaUtils.
 *
 * A QuotaRate keeps up to `samples` + 1 samples (quota.window.num, 11: ten
 * whole windows and the current one, plus one slot that may overlap the
 * monitored window), each `windowMs` long (quota.window.size.seconds, 1 s):
 *
 * 1. record(v, now): the current sample takes v, unless it is complete (at
 *    least windowMs old), in which case the next slot is reset to start now
 *    and takes it.
 * 2. Before measuring, a sample whose last event is samples × windowMs old or
 *    more is reset to start now (empty).
 * 3. measure(now) = sum of the samples / windowSize(now) per second, where
 *    windowSize = now − start of the oldest sample, raised to (samples − 1)
 *    whole windows when shorter (a rate measured over one second would be far
 *    too high; so a new client may send up to (samples − 1) windows' worth at
 *    once), at least 1 ms.
 * 4. A value is recorded first and the rate checked after (the value counts
 *    even when it violates the quota, as in Kafka, which "unrecords" it by
 *    recording its negation where it must not count).
 * 5. throttleTimeMs (QuotaUtils.throttleTime): with O the observed rate and T
 *    the quota over the window W, the delay X that brings O back to T if
 *    nothing more is recorded: O × W / (W + X) = T, so X = (O − T) / T × W,
 *    rounded; bounded variants cap it (request time and connection rates: at
 *    one window).
 */

/** quota.window.num and quota.window.size.seconds, as a rate reads them. */
export interface RateWindow {
  /** Samples kept (quota.window.num). */
  readonly samples: number;
  /** Length of one sample (quota.window.size.seconds × 1000). */
  readonly windowMs: number;
}

interface Sample {
  value: number;
  eventCount: number;
  startMs: number;
  lastEventMs: number;
}

/** Kafka's Rate (per second) over a WindowedSum. */
export class QuotaRate {
  private readonly slots: Sample[] = [];
  private current = 0;

  /** Adds `value` at `nowMs` (step 1). */
  record(window: RateWindow, value: number, nowMs: number): void {
    let sample = this.currentSample(nowMs);
    if (nowMs - sample.startMs >= window.windowMs) sample = this.advance(window, nowMs);
    sample.value += value;
    sample.eventCount += 1;
    sample.lastEventMs = nowMs;
  }

  /** The rate per second at `nowMs` (steps 2-3). */
  measure(window: RateWindow, nowMs: number): number {
    const size = this.windowSize(window, nowMs);
    let sum = 0;
    for (const s of this.slots) sum += s.value;
    return sum / (size / 1000);
  }

  /** The window the rate is measured over at `nowMs`, in ms (step 3). */
  windowSize(window: RateWindow, nowMs: number): number {
    this.purgeObsolete(window, nowMs);
    let elapsed = nowMs - this.oldest(nowMs).startMs;
    const fullWindows = Math.floor(elapsed / window.windowMs);
    const minFullWindows = window.samples - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * window.windowMs;
    return Math.max(elapsed, 1);
  }

  private currentSample(nowMs: number): Sample {
    if (this.slots.length === 0) this.slots.push(newSample(nowMs));
    return this.slots[this.current]!;
  }

  private advance(window: RateWindow, nowMs: number): Sample {
    this.current = (this.current + 1) % (window.samples + 1);
    if (this.current >= this.slots.length) {
      const s = newSample(nowMs);
      this.slots.push(s);
      return s;
    }
    const s = this.slots[this.current]!;
    reset(s, nowMs);
    return s;
  }

  private oldest(nowMs: number): Sample {
    if (this.slots.length === 0) this.slots.push(newSample(nowMs));
    let oldest = this.slots[0]!;
    for (const s of this.slots) if (s.startMs < oldest.startMs) oldest = s;
    return oldest;
  }

  private purgeObsolete(window: RateWindow, nowMs: number): void {
    const expireAge = window.samples * window.windowMs;
    for (const s of this.slots) if (nowMs - s.lastEventMs >= expireAge) reset(s, nowMs);
  }
}

function newSample(nowMs: number): Sample {
  return { value: 0, eventCount: 0, startMs: nowMs, lastEventMs: nowMs };
}

function reset(s: Sample, nowMs: number): void {
  s.value = 0;
  s.eventCount = 0;
  s.startMs = nowMs;
  s.lastEventMs = nowMs;
}

/**
 * Records `value` into `rate` and checks it against the upper bound `bound` (Kafka's Sensor.record with its
 * quota check, then QuotaUtils.throttleTime): 0 when the rate is within the bound, else the throttle time
 * in ms, at most `maxThrottleMs`.
 */
export function recordAndGetThrottleTimeMs(rate: QuotaRate, window: RateWindow, value: number, bound: number, nowMs: number, maxThrottleMs = Infinity): number {
  rate.record(window, value, nowMs);
  const observed = rate.measure(window, nowMs);
  if (observed <= bound) return 0;
  return Math.min(throttleTimeMs(observed, bound, rate.windowSize(window, nowMs)), maxThrottleMs);
}

/** QuotaUtils.throttleTime: the delay that brings the observed rate back to the bound over the window (step 5). */
export function throttleTimeMs(observed: number, bound: number, windowSizeMs: number): number {
  return Math.round(((observed - bound) / bound) * windowSizeMs);
}
