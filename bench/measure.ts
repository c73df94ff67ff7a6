/**
 * Timing helpers for benchmarks: seconds per call, the best of a few rounds
 * after a warm-up (the machine is shared; the best round damps the noise).
 */

/** Seconds per call of the synchronous `fn`: best of `rounds` rounds of about `ms` each. */
export function measure(fn: () => unknown, ms = 500, rounds = 3): number {
  const warmEnd = performance.now() + ms / 2;
  while (performance.now() < warmEnd) fn();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    let iterations = 0;
    let batch = 1;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let i = 0; i < batch; i++) fn();
      iterations += batch;
      elapsed = performance.now() - start;
      if (elapsed < ms / 10) batch *= 2;
    }
    best = Math.min(best, elapsed / 1000 / iterations);
  }
  return best;
}

/** Milliseconds of CPU time (user + system, all threads) this process has used: a clock that a loaded machine does not stretch. */
export function cpuClock(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Seconds per call of the asynchronous `fn` (awaited one at a time): best of `rounds` rounds. `clock`
 * (milliseconds) is wall time by default; cpuClock measures CPU seconds per call instead.
 */
export async function measureAsync(fn: () => Promise<unknown>, ms = 500, rounds = 3, clock: () => number = () => performance.now()): Promise<number> {
  const warmEnd = clock() + ms / 2;
  while (clock() < warmEnd) await fn();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    let iterations = 0;
    const start = clock();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let i = 0; i < 8; i++) await fn();
      iterations += 8;
      elapsed = clock() - start;
    }
    best = Math.min(best, elapsed / 1000 / iterations);
  }
  return best;
}

/** The median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}
