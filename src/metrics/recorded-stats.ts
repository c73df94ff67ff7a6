/**
 * RecordedStats: what the hot paths report (MetricsRecorder, StorageObserver), kept in plain numbers,
 * maps and PlainHistograms: request counts, error codes and latencies, record bytes and counts per topic,
 * storage latencies. It does not load prom-client, so the broker creates it at start (every request is
 * counted from the first) and loads the exporter (broker-metrics.ts, prom-client) only after it is ready.
 * Each update is a map look-up by a number or a topic name and a few additions.
 */
import { errorInfo, type ApiDef } from '../../protocol/index.js';
import type { StorageObserver } from '../../storage/index.js';
import { PlainHistogram, type HistogramSeries } from './plain-histogram.js';
import { countRecords } from './record-count.js';
import type { FetchedSection, MetricsRecorder } from './recorder.js';
import { forEachResponseError } from './response-errors.js';

export const METRIC_PREFIX = 'gregor_';
/** Request phases: from 100 µs to long polls of 30 s. */
const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** fdatasync: from 50 µs (page cache on a fast disk) to 10 s (a stalled one). */
const FSYNC_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
/** Appends and reads of the page cache: from 5 µs. */
const IO_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

export interface TopicTraffic {
  records: number;
  bytes: number;
}

/** The latency series of one API. */
interface ApiSeries {
  readonly queue: HistogramSeries;
  readonly processing: HistogramSeries;
  readonly send: HistogramSeries;
  readonly total: HistogramSeries;
}

/** A count with its labels. */
export interface LabelledCount<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  value: number;
}

interface RequestSeries extends LabelledCount<'api' | 'version'> {
  readonly times: ApiSeries;
  /** Counts one error code of a response (made once: no closure per request). */
  onError: (code: number) => void;
}

function histogram(name: string, help: string, buckets: readonly number[]): PlainHistogram {
  return new PlainHistogram(`${METRIC_PREFIX}${name}`, help, buckets);
}

export class RecordedStats implements MetricsRecorder, StorageObserver {
  readonly queueTime = histogram('request_queue_seconds', 'Time a request waited on its connection, from its arrival to the start of its handling, by API.', REQUEST_BUCKETS);
  readonly processingTime = histogram(
    'request_processing_seconds',
    'Time from the start of handling a request to its encoded response, by API (long-poll fetches and acks=all produce waits included).',
    REQUEST_BUCKETS,
  );
  readonly sendTime = histogram('request_send_seconds', 'Time from writing a response to the socket until the kernel took all of it, by API.', REQUEST_BUCKETS);
  readonly totalTime = histogram('request_duration_seconds', 'Time from the arrival of a request to its response sent (queue + processing + send), by API.', REQUEST_BUCKETS);
  readonly fsyncTime = histogram('storage_fsync_seconds', 'Latency of each fdatasync of a segment file (.log, .index, .timeindex).', FSYNC_BUCKETS);
  readonly appendTime = histogram('storage_append_seconds', 'Latency of each append to a partition log (write and index, not the fsync an acks=all append waits for).', IO_BUCKETS);
  readonly readTime = histogram('storage_read_seconds', 'Latency of each read of a partition log (batch cache or segment files).', IO_BUCKETS);
  /** Records and bytes produced and fetched, by topic (the exporter drops deleted topics). */
  readonly trafficIn = new Map<string, TopicTraffic>();
  readonly trafficOut = new Map<string, TopicTraffic>();
  /** By api key * 256 + version. */
  private readonly requestSeries = new Map<number, RequestSeries>();
  /** By api key. */
  private readonly apiSeries = new Map<number, ApiSeries>();
  /** By (api key * 256 + version) * 65536 + error code. */
  private readonly errorSeries = new Map<number, LabelledCount<'api' | 'version' | 'error'>>();
  private readonly fsyncSeries = this.fsyncTime.seriesOf();
  private readonly appendSeries = this.appendTime.seriesOf();
  private readonly readSeries = this.readTime.seriesOf();

  /** Every histogram, for the exporter's registry. */
  get histograms(): readonly PlainHistogram[] {
    return [this.queueTime, this.processingTime, this.sendTime, this.totalTime, this.fsyncTime, this.appendTime, this.readTime];
  }

  /** Requests by API and version. */
  requestCounts(): Iterable<LabelledCount<'api' | 'version'>> {
    return this.requestSeries.values();
  }

  /** Error codes in responses by API, version and error name. */
  errorCounts(): Iterable<LabelledCount<'api' | 'version' | 'error'>> {
    return this.errorSeries.values();
  }

  // ---------------------------------------------------------------- MetricsRecorder

  requestHandled(api: ApiDef, version: number, queueSeconds: number, processingSeconds: number, response: unknown): void {
    const key = api.key * 256 + version;
    let r = this.requestSeries.get(key);
    if (!r) {
      const series: RequestSeries = { labels: { api: api.name, version: String(version) }, value: 0, times: this.apiSeriesOf(api), onError: () => undefined };
      series.onError = (code) => this.errorSeen(series, key, code);
      this.requestSeries.set(key, series);
      r = series;
    }
    r.value++;
    this.queueTime.observe(r.times.queue, queueSeconds);
    this.processingTime.observe(r.times.processing, processingSeconds);
    if (response !== undefined) forEachResponseError(api.response, version, response, r.onError);
  }

  responseSent(api: ApiDef, sendSeconds: number, totalSeconds: number): void {
    const times = this.apiSeriesOf(api);
    this.sendTime.observe(times.send, sendSeconds);
    this.totalTime.observe(times.total, totalSeconds);
  }

  produced(topic: string, records: number, bytes: number): void {
    add(this.trafficIn, topic, records, bytes);
  }

  fetched(topic: string, records: readonly FetchedSection[]): void {
    let bytes = 0;
    let regionRecords = 0;
    const buffers: Buffer[] = [];
    for (const c of records) {
      bytes += c.length;
      if (Buffer.isBuffer(c)) buffers.push(c);
      else regionRecords += c.records;
    }
    if (bytes > 0) add(this.trafficOut, topic, countRecords(buffers) + regionRecords, bytes);
  }

  // ---------------------------------------------------------------- StorageObserver

  fsync(seconds: number): void {
    this.fsyncTime.observe(this.fsyncSeries, seconds);
  }

  append(seconds: number): void {
    this.appendTime.observe(this.appendSeries, seconds);
  }

  read(seconds: number): void {
    this.readTime.observe(this.readSeries, seconds);
  }

  // ---------------------------------------------------------------- helpers

  private errorSeen(r: RequestSeries, requestKey: number, code: number): void {
    const key = requestKey * 65536 + (code & 0xffff);
    let e = this.errorSeries.get(key);
    if (!e) {
      e = { labels: { api: r.labels.api, version: r.labels.version, error: errorInfo(code).name }, value: 0 };
      this.errorSeries.set(key, e);
    }
    e.value++;
  }

  private apiSeriesOf(api: ApiDef): ApiSeries {
    let times = this.apiSeries.get(api.key);
    if (!times) {
      const byApi = { api: api.name };
      times = {
        queue: this.queueTime.seriesOf(byApi),
        processing: this.processingTime.seriesOf(byApi),
        send: this.sendTime.seriesOf(byApi),
        total: this.totalTime.seriesOf(byApi),
      };
      this.apiSeries.set(api.key, times);
    }
    return times;
  }
}

function add(map: Map<string, TopicTraffic>, topic: string, records: number, bytes: number): void {
  const t = map.get(topic);
  if (t) {
    t.records += records;
    t.bytes += bytes;
  } else {
    map.set(topic, { records, bytes });
  }
}
