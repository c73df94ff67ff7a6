/**
 * The transaction metrics of a real broker, scraped over HTTP while kafkajs transactional producers commit,
 * abort, time out and get fenced: the open transactions by state, the transactional ids, the committed and
 * aborted totals (aborts by reason), the markers written per partition, the last stable offset held below
 * the high watermark while a transaction is open, and the load time of `__transaction_state` after a
 * restart on the same data directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { parseExposition, samplesOf, valueOf, type Sample } from '../helpers/prometheus-text.js';

const TOPIC = 'txn-metrics';
const CONFIG = {
  'transaction.state.log.num.partitions': 3,
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': 100,
  'gregor.flush.acks.all': false,
};

async function scrape(broker: RunningBroker): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${broker.metricsPort!}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

/** Scrapes until `check` holds for a scrape (the test timeout bounds the wait); returns that scrape. */
async function scrapeUntil(broker: RunningBroker, check: (s: Sample[]) => boolean): Promise<Sample[]> {
  for (;;) {
    const s = await scrape(broker);
    if (check(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ongoing = (s: Sample[], state = 'Ongoing'): number => valueOf(s, 'gregor_transactions_ongoing', { state });
const aborted = (s: Sample[], reason: string): number => valueOf(s, 'gregor_transactions_aborted_total', { reason });
const markers = (s: Sample[], result: string): number => valueOf(s, 'gregor_transaction_markers_written_total', { result });
const lsoLag = (s: Sample[], partition: number): number => {
  const labels = { topic: TOPIC, partition: String(partition) };
  return valueOf(s, 'gregor_partition_high_watermark', labels) - valueOf(s, 'gregor_partition_last_stable_offset', labels);
};

describe('transaction metrics', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let kafka: Kafka;
  const producers: Producer[] = [];

  const producer = async (transactionalId: string, transactionTimeout = 60_000): Promise<Producer> => {
    const p = kafka.producer({ transactionalId, transactionTimeout, idempotent: true, maxInFlightRequests: 1 });
    producers.push(p);
    await p.connect();
    return p;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-txn-metrics-'));
    broker = await startBroker({ port: 0, dataDir, metrics: true, logLevel: 'silent', config: CONFIG });
    await broker.broker.topics.create({ name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: {} });
    kafka = new Kafka({ clientId: 'txn-metrics', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
  });
  afterAll(async () => {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await broker?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('reports every series at 0 before any transaction', async () => {
    const s = await scrape(broker);
    // the series exist from the start (rates and panels have data before the first transaction)
    const series = (name: string): string[] => samplesOf(s, name).map((x) => Object.values(x.labels).join(','));
    expect(series('gregor_transactions_ongoing').sort()).toEqual(['Ongoing', 'PrepareAbort', 'PrepareCommit']);
    expect(series('gregor_transactions_aborted_total').sort()).toEqual(['client', 'fenced', 'resumed', 'timeout']);
    expect(series('gregor_transaction_markers_written_total').sort()).toEqual(['abort', 'commit']);
    for (const name of ['gregor_transactional_ids', 'gregor_transactions_committed_total', 'gregor_transaction_coordinator_load_seconds']) expect(series(name), name).toEqual(['']);
    for (const state of ['Ongoing', 'PrepareCommit', 'PrepareAbort']) expect(ongoing(s, state)).toBe(0);
    expect(valueOf(s, 'gregor_transactional_ids')).toBe(0);
    expect(valueOf(s, 'gregor_transactions_committed_total')).toBe(0);
    for (const reason of ['client', 'timeout', 'fenced', 'resumed']) expect(aborted(s, reason)).toBe(0);
    expect(markers(s, 'commit')).toBe(0);
    expect(markers(s, 'abort')).toBe(0);
    // nothing to load at the first start: __transaction_state did not exist
    expect(valueOf(s, 'gregor_transaction_coordinator_load_seconds')).toBeLessThan(1);
  });

  it('counts an open transaction and its LSO lag, then a commit with one marker per partition', async () => {
    const p = await producer('tm-commit');
    const txn = await p.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }, { partition: 1, value: 'c' }] });
    const open = await scrape(broker);
    expect(ongoing(open)).toBe(1);
    expect(valueOf(open, 'gregor_transactional_ids')).toBe(1);
    // the LSO stays at each partition's first record of the transaction
    expect(lsoLag(open, 0)).toBe(1);
    expect(lsoLag(open, 1)).toBe(2);

    await txn.commit();
    const done = await scrapeUntil(broker, (s) => valueOf(s, 'gregor_transactions_committed_total') === 1);
    expect(markers(done, 'commit')).toBe(2);
    expect(markers(done, 'abort')).toBe(0);
    expect(ongoing(done)).toBe(0);
    expect(ongoing(done, 'PrepareCommit')).toBe(0);
    expect(lsoLag(done, 0)).toBe(0);
    expect(lsoLag(done, 1)).toBe(0);
  });

  it('counts an abort by the client under reason client', async () => {
    const p = await producer('tm-abort');
    const txn = await p.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: 'x' }] });
    await txn.abort();
    const s = await scrapeUntil(broker, (s) => aborted(s, 'client') === 1);
    expect(markers(s, 'abort')).toBe(1);
    expect(valueOf(s, 'gregor_transactions_committed_total')).toBe(1);
    expect(valueOf(s, 'gregor_transactional_ids')).toBe(2);
    expect(ongoing(s)).toBe(0);
    expect(lsoLag(s, 0)).toBe(0);
  });

  it('counts the coordinator\'s abort of a timed-out transaction under reason timeout', async () => {
    const p = await producer('tm-timeout', 300);
    const txn = await p.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 1, value: 'late' }] });
    // never ended: the coordinator aborts it after transaction.timeout.ms
    const s = await scrapeUntil(broker, (s) => aborted(s, 'timeout') === 1);
    expect(markers(s, 'abort')).toBe(2);
    expect(aborted(s, 'client')).toBe(1);
    expect(ongoing(s)).toBe(0);
    expect(lsoLag(s, 1)).toBe(0);
  });

  it('counts the abort of an open transaction whose transactional id is initialized again under reason fenced', async () => {
    const first = await producer('tm-fenced');
    const txn = await first.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: 'fenced' }] });
    // InitProducerId for the same id fences the first producer and aborts its transaction
    const second = await producer('tm-fenced');
    // (kafkajs initializes the transactional id at its first transaction; it retries until the abort is written)
    await second.transaction();
    const s = await scrapeUntil(broker, (s) => aborted(s, 'fenced') === 1);
    expect(markers(s, 'abort')).toBe(3);
    expect(aborted(s, 'timeout')).toBe(1);
    expect(valueOf(s, 'gregor_transactional_ids')).toBe(4);
    expect(ongoing(s)).toBe(0);
  });

  it('after a restart: the ids loaded from __transaction_state, its load time, and the counters from 0', async () => {
    for (const p of producers.splice(0)) await p.disconnect().catch(() => undefined);
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, metrics: true, logLevel: 'silent', config: CONFIG });
    await broker.broker.transactions.whenLoaded();
    const s = await scrape(broker);
    expect(valueOf(s, 'gregor_transactional_ids')).toBe(4);
    expect(valueOf(s, 'gregor_transaction_coordinator_load_seconds')).toBeGreaterThan(0);
    expect(valueOf(s, 'gregor_transactions_committed_total')).toBe(0);
    expect(markers(s, 'commit') + markers(s, 'abort')).toBe(0);
  });
});
