/**
 * Transactions on a compacted topic, end to end: a kafkajs transactional producer commits one transaction
 * and aborts another, a plain producer then writes newer values of the committed keys, and the background
 * cleaner (small segments, delete.retention.ms 100) removes the superseded and aborted records and, once
 * their delete horizon has passed, both markers (the ABORT one with its aborted_transactions entry); the
 * marker of the producer's last transaction stays. A read_committed Fetch sees the LSO at the high
 * watermark and the latest value of every key, before and after a restart, and the same transactional id
 * commits again afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { readTransactionMarker } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { decodeRecords, fetchRequestBody } from '../helpers/fetch-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'txn-table';
const READ_COMMITTED = 1;
const CONFIG = { 'transaction.state.log.num.partitions': 1, 'log.cleaner.backoff.ms': 50, 'gregor.flush.acks.all': false };

let dataDir: string;
let broker: RunningBroker | undefined;
let client: RawClient | undefined;
const producers: Producer[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-txn-compaction-'));
});
afterAll(async () => {
  for (const p of producers) await p.disconnect().catch(() => undefined);
  client?.close();
  await broker?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<RunningBroker> {
  broker = await startBroker({ port: 0, logLevel: 'silent', dataDir, config: CONFIG });
  client = await RawClient.connect(broker.port);
  return broker;
}

async function stop(): Promise<void> {
  for (const p of producers.splice(0)) await p.disconnect().catch(() => undefined);
  client?.close();
  client = undefined;
  await broker?.close();
  broker = undefined;
}

function kafkaOf(b: RunningBroker): Kafka {
  return new Kafka({ clientId: 'txn-compaction', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A read_committed Fetch of the whole partition: LSO, high watermark, aborted_transactions and the records. */
async function fetchCommitted() {
  const res = await client!.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchRequestBody(TOPIC, [{ partition: 0, fetchOffset: 0 }], 8 << 20, undefined, READ_COMMITTED));
  const p = res.responses[0]!.partitions[0]!;
  return {
    errorCode: p.errorCode,
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    abortedTxns: p.abortedTransactions?.map((t) => ({ producerId: Number(t.producerId), firstOffset: Number(t.firstOffset) })) ?? [],
    records: await decodeRecords(p.records as Buffer | null),
  };
}

/**
 * key → value as a read_committed consumer ends up with (Kafka's consumer): the records of a producer are
 * skipped from the first offset of an aborted transaction listed up to its ABORT marker; markers are skipped.
 */
async function committedTable(): Promise<Map<string, string>> {
  const f = await fetchCommitted();
  expect(f.lastStableOffset).toBe(f.highWatermark);
  const pending = [...f.abortedTxns].sort((x, y) => x.firstOffset - y.firstOffset);
  const aborting = new Set<number>();
  const out = new Map<string, string>();
  for (const r of f.records) {
    const b = r.batch!;
    while (pending.length > 0 && pending[0]!.firstOffset <= r.offset) aborting.add(pending.shift()!.producerId);
    if ((b.attributes & 0x20) !== 0) {
      aborting.delete(b.producerId);
      continue;
    }
    if ((b.attributes & 0x10) !== 0 && aborting.has(b.producerId)) continue;
    if (r.key !== null && r.value !== null) out.set(r.key, r.value);
  }
  return out;
}

/** The COMMIT and ABORT markers in the partition's log on the broker, by offset. */
async function markers(b: RunningBroker): Promise<{ offset: number; commit: boolean }[]> {
  const log = b.broker.logs.getLog(TOPIC, 0)!;
  const out: { offset: number; commit: boolean }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { chunks } = await log.read(offset, 1 << 20);
    if (chunks.length === 0) break;
    for (const chunk of chunks) {
      for (let pos = 0; pos < chunk.length; pos += 12 + chunk.readInt32BE(pos + 8)) {
        const m = readTransactionMarker(chunk, pos);
        if (m !== null) out.push({ offset: m.offset, commit: m.commit });
        offset = Number(chunk.readBigInt64BE(pos)) + chunk.readInt32BE(pos + 23) + 1;
      }
    }
  }
  return out;
}

describe('transactions on a compacted topic', () => {
  it('the cleaner removes the superseded and aborted records, then their markers after delete.retention.ms; the LSO is the high watermark, also after a restart', async () => {
    const b = await start();
    const kafka = kafkaOf(b);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '1024' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '100' },
          ],
        },
      ],
    });
    await admin.disconnect();

    const txp = kafka.producer({ transactionalId: 'tx-table', idempotent: true, maxInFlightRequests: 1 });
    producers.push(txp);
    await txp.connect();
    const t1 = await txp.transaction();
    await t1.send({ topic: TOPIC, messages: ['a', 'b', 'c'].map((k) => ({ key: k, value: `${k}-txn1` })) });
    await t1.commit();
    const t2 = await txp.transaction();
    await t2.send({ topic: TOPIC, messages: ['a', 'd'].map((k) => ({ key: k, value: `${k}-aborted` })) });
    await t2.abort();
    await until(async () => (await markers(b)).length === 2, 'the markers of the first two transactions');
    const [commit1, abort2] = (await markers(b)).map((m) => m.offset) as [number, number];
    expect((await fetchCommitted()).abortedTxns.length).toBe(1);

    // newer values of the committed keys from a plain producer, then the producer's last transaction
    const plain = kafka.producer();
    producers.push(plain);
    await plain.connect();
    await plain.send({ topic: TOPIC, messages: ['a', 'b', 'c'].map((k) => ({ key: k, value: `${k}-plain` })) });
    const t3 = await txp.transaction();
    await t3.send({ topic: TOPIC, messages: [{ key: 'e', value: 'e-txn3' }] });
    await t3.commit();
    await until(async () => (await markers(b)).length === 3, 'the third marker');
    const last = (await markers(b))[2]!.offset;

    // the cleaner runs as writes keep coming (fillers roll the small segments)
    let i = 0;
    await until(async () => {
      await plain.send({ topic: TOPIC, messages: [{ key: `filler-${i % 3}`, value: `f${i++}-${'x'.repeat(300)}` }] });
      const offsets = (await markers(b)).map((m) => m.offset);
      return !offsets.includes(commit1) && !offsets.includes(abort2);
    }, 'the cleaner to remove the first two markers');
    expect((await markers(b)).map((m) => m.offset)).toEqual([last]);
    const expected = new Map([
      ['a', 'a-plain'],
      ['b', 'b-plain'],
      ['c', 'c-plain'],
      ['e', 'e-txn3'],
    ]);
    const before = await committedTable();
    for (const [k, v] of expected) expect(before.get(k)).toBe(v);
    expect(before.has('d')).toBe(false);
    const f = await fetchCommitted();
    expect(f.errorCode).toBe(ErrorCode.NONE);
    expect(f.abortedTxns).toEqual([]);
    expect(f.records.some((r) => r.value?.endsWith('-aborted') === true || r.value?.endsWith('-txn1') === true)).toBe(false);

    // after a restart: the same log, the LSO at the high watermark, and the transactional id goes on
    const end = f.highWatermark;
    await stop();
    const again = await start();
    const g = await fetchCommitted();
    expect([g.highWatermark, g.lastStableOffset]).toEqual([end, end]);
    expect(await committedTable()).toEqual(before);
    const txp2 = kafkaOf(again).producer({ transactionalId: 'tx-table', idempotent: true, maxInFlightRequests: 1 });
    producers.push(txp2);
    await txp2.connect();
    const t4 = await txp2.transaction();
    await t4.send({ topic: TOPIC, messages: [{ key: 'a', value: 'a-txn4' }] });
    await t4.commit();
    await until(async () => {
      const h = await fetchCommitted();
      return h.lastStableOffset === h.highWatermark && h.highWatermark > end;
    }, 'the fourth transaction to be stable');
    expect((await committedTable()).get('a')).toBe('a-txn4');
  }, 120_000);
});
