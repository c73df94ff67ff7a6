/**
 * PlainHistogram: a Prometheus histogram whose observations are a few array and number updates, for the
 * per-request and per-append hot paths (prom-client's Histogram validates and hashes the label object of
 * every observation: several microseconds per request, measured with bench/metrics.ts). Callers look a
 * series up once (seriesOf) and keep it. It is exposed through a prom-client Registry like prom-client's
 * own metrics (registry.registerMetric): the same exposition, cumulative `le` buckets, +Inf, _sum, _count.
 */
import type { Metric, Registry } from 'prom-client';

export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExposedValue {
  metricName: string;
  labels: Record<string, string | number>;
  /** The series' labels, printed after `labels` (as prom-client prints `le` first). */
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
}

export class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) throw new RangeError(`buckets of ${name} must increase`);
  }

  /** The series of these label values (created at first use, kept for good). */
  seriesOf(labels: Readonly<Record<string, string>> = {}): HistogramSeries {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  observe(s: HistogramSeries, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  register(registry: Registry): void {
    // the registry reads name, help, type, aggregator and get(): the shape of prom-client's metrics
    registry.registerMetric(this as unknown as Metric);
  }

  /** Registry.resetMetrics(). */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** What the registry formats (as prom-client's Histogram.get()). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ metricName: bucket, labels: { le: this.bounds[i]! }, sharedLabels: s.labels, value: cumulative });
      }
      values.push({ metricName: bucket, labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
