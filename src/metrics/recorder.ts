/**
 * What the broker's hot paths report to the metrics. BrokerMetrics (broker-metrics.ts) implements it with
 * prom-client, which is loaded only when gregor.metrics.enabled is true; the services' metrics are
 * undefined otherwise, so every call site is `services.metrics?.…` and costs nothing when metrics are off.
 * Everything that can be read from state (connections, logs, groups, caches) is not reported here: the
 * metrics read it when scraped.
 */
import type { ApiDef } from '../../protocol/index.js';

export interface MetricsRecorder {
  /**
   * A request was handled: seconds from its arrival to the start of its handling (queue) and from there
   * to its encoded response (processing). `response` is the response body (its error codes are counted),
   * undefined when none is sent (Produce with acks=0).
   */
  requestHandled(api: ApiDef, version: number, queueSeconds: number, processingSeconds: number, response: unknown): void;
  /** The response was handed to the kernel: seconds spent sending it, and since the request arrived. */
  responseSent(api: ApiDef, sendSeconds: number, totalSeconds: number): void;
  /** Produce appended `records` records to `topic`, from `bytes` bytes of record data in the request. */
  produced(topic: string, records: number, bytes: number): void;
  /** Fetch answered with these record sections of `topic` (bytes, or file regions that know their record count). */
  fetched(topic: string, records: readonly FetchedSection[]): void;
}

/** A record section of a Fetch answer: its bytes, or a region of a segment file still to be streamed. */
export type FetchedSection = Buffer | { readonly length: number; readonly records: number };
