/**
 * Compaction of transactional data on real partition logs: the aborted-transaction index (`.txnindex`)
 * travels with the segments a cleaning replaces into the cleaned one (segment-swap.ts, with a power loss
 * before each file-system step of the swap), and Kafka's cleaner rules for transactions: aborted records
 * removed, markers removed once their transaction has no batch left and their delete horizon has passed
 * (an ABORT marker with its .txnindex entry), and producer state that survives it.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { ATTR_CONTROL, ATTR_DELETE_HORIZON, buildRecordBatch, readTransactionMarker } from '../../protocol/records/index.js';
import { createLogger } from '../../src/logger.js';
import { ProducerStateManager } from '../../src/produce/producer-state-manager.js';
import { decodeSnapshot, snapshotFileName } from '../../src/produce/producer-snapshot.js';
import { LogManager, type LogConfig, type PartitionLog } from '../../storage/index.js';
import type { AbortedTxn } from '../../storage/transaction-index.js';
import { CrashingFs, readLog, type ReadBatch } from './cleaner-helpers.js';
import { removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const logger = createLogger('silent', false);
const DAY = 86_400_000;
const CONFIG: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 1500, indexIntervalBytes: 200 };
const E0 = { leaderEpoch: 0 };

const managers: LogManager[] = [];
const states: ProducerStateManager[] = [];
afterEach(async () => {
  for (const s of states.splice(0)) await s.close();
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
});
afterAll(() => removeTempDirs());

function producerState(clock?: () => number): ProducerStateManager {
  const s = new ProducerStateManager({ logger, expirationMs: DAY, expirationCheckIntervalMs: 60_000, verifyTransaction: () => ErrorCode.NONE, ...(clock ? { clock } : {}) });
  states.push(s);
  return s;
}

async function open(
  logDir: string,
  opts: { fs?: CrashingFs; clock?: () => number; firstUnstableOffset?: (log: PartitionLog) => Promise<number>; config?: Partial<LogConfig> } = {},
): Promise<{ m: LogManager; log: PartitionLog }> {
  const { config, ...rest } = opts;
  const m = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig({ ...CONFIG, ...config }), cacheBytes: 0, cleaner: { enable: false }, ...rest });
  managers.push(m);
  return { m, log: m.getLog('t', 0) ?? (await m.createLog('t', 0, '')) };
}

/** Appends keyed records: `tag` goes into each value (`key:tag`). */
class Writer {
  private readonly seqs = new Map<number, number>();
  constructor(
    private readonly s: ProducerStateManager,
    private readonly log: PartitionLog,
    /** The records' timestamp (default: a fixed one). */
    private readonly clock: () => number = () => 1_700_000_000_000,
  ) {}

  /** The next batch of `producerId` has sequence `seq` (a Writer over a reopened log). */
  setSequence(producerId: number, seq: number): void {
    this.seqs.set(producerId, seq);
  }

  /** Returns the batch's base offset. */
  async put(keys: readonly string[], tag: string, producerId = -1, transactional = false): Promise<number> {
    const seq = this.seqs.get(producerId) ?? 0;
    if (producerId >= 0) this.seqs.set(producerId, seq + keys.length);
    const records = keys.map((k) => ({ key: Buffer.from(k), value: Buffer.from(`${k}:${tag}`), timestamp: this.clock() }));
    const batch = await buildRecordBatch(records, producerId >= 0 ? { producerId, producerEpoch: 0, baseSequence: seq, transactional } : {});
    return (await this.s.append(this.log, batch, E0)).baseOffset;
  }

  /** Returns the marker's offset. */
  async end(producerId: number, commit: boolean): Promise<number> {
    return (await this.s.appendTxnMarker(this.log, { commit, producerId, producerEpoch: 0, coordinatorEpoch: 0 }, E0)).offset;
  }
}

const txnIndexFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.txnindex')).sort();

/** Every .txnindex sits beside its .log and holds only aborts whose marker is in that segment. */
function checkTxnIndexPlacement(log: PartitionLog): void {
  const bases = log.segmentBaseOffsets;
  for (const name of txnIndexFiles(log.dir)) {
    const base = Number(name.slice(0, 20));
    const i = bases.indexOf(base);
    expect(i, `${name} has a segment`).toBeGreaterThanOrEqual(0);
    const end = bases[i + 1] ?? log.logEndOffset;
    for (const t of log.collectAbortedTransactions(base, end)) {
      if (t.lastOffset >= base && t.lastOffset < end) continue;
      // (an abort from an earlier segment overlapping the range is fine; one from a later segment too)
      expect(t.lastOffset < base || t.lastOffset >= end).toBe(true);
    }
  }
}

/** Records in transactional batches of aborted transactions (below `below`). */
function abortedRecords(batches: readonly ReadBatch[], aborted: readonly AbortedTxn[], below = Number.POSITIVE_INFINITY): number {
  let n = 0;
  for (const b of batches) {
    const h = b.header;
    if (h.baseOffset >= below) break;
    if ((h.attributes & 0x30) === 0x10 && aborted.some((t) => t.producerId === h.producerId && h.baseOffset >= t.firstOffset && h.baseOffset < t.lastOffset)) n += b.records.length;
  }
  return n;
}

/** The values a read_committed consumer sees: records of aborted transactions dropped, markers skipped. */
function committedValues(batches: readonly ReadBatch[], aborted: readonly AbortedTxn[]): string[] {
  const out: string[] = [];
  for (const b of batches) {
    const h = b.header;
    if ((h.attributes & 0x20) !== 0) continue;
    if ((h.attributes & 0x10) !== 0 && aborted.some((t) => t.producerId === h.producerId && h.baseOffset >= t.firstOffset && h.baseOffset <= t.lastOffset)) continue;
    for (const r of b.records) if (r.value !== null) out.push(r.value);
  }
  return out;
}

/**
 * A compacted log whose closed segments hold committed and aborted transactions of several producers
 * interleaved with plain writes of the same keys, every transaction complete, and a few more plain writes
 * so that the transactions' segments are all closed.
 */
async function writeTransactionalLog(dir: string): Promise<{ aborted: AbortedTxn[]; logEnd: number }> {
  const { m, log } = await open(dir);
  const s = producerState();
  const w = new Writer(s, log);
  for (let round = 0; round < 6; round++) {
    await w.put(['a', 'b', 'c'], `plain${round}`);
    await w.put(['a', 'b'], `t1-${round}`, 1, true);
    await w.put(['c', 'd'], `t2-${round}`, 2, true);
    await w.put(['a'], `t1b-${round}`, 1, true);
    await w.end(1, round % 2 === 0); // producer 1: commit, abort, commit, …
    await w.put(['b', 'e'], `plain${round}b`);
    await w.end(2, round % 3 !== 1); // producer 2: abort at rounds 1 and 4
  }
  for (let i = 0; i < 8; i++) await w.put(['z'], `tail${i}`);
  const aborted = log.collectAbortedTransactions(0, log.logEndOffset);
  const logEnd = log.logEndOffset;
  await s.close();
  states.splice(states.indexOf(s), 1);
  await m.close();
  managers.splice(managers.indexOf(m), 1);
  return { aborted, logEnd };
}

describe('compaction of transactional data', () => {
  it('a cleaning carries the .txnindex entries of the segments it replaces into the cleaned segment', async () => {
    const dir = tempLogDir();
    const { aborted, logEnd } = await writeTransactionalLog(dir);
    expect(aborted.length).toBe(5);
    const { m, log } = await open(dir);
    const before = await readLog(log);
    const activeBase = log.activeSegmentBaseOffset;
    const filesBefore = txnIndexFiles(log.dir);
    expect(filesBefore.length).toBeGreaterThan(1);
    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(log.segmentBaseOffsets.length).toBeLessThan(filesBefore.length + 3);
    expect(log.collectAbortedTransactions(0, logEnd)).toEqual(aborted);
    checkTxnIndexPlacement(log);
    // what a read_committed consumer reads of each key's latest value is unchanged
    const after = await readLog(log);
    const latest = (vals: string[]): Map<string, string> => new Map(vals.map((v) => [v.split(':')[0] as string, v]));
    expect(latest(committedValues(after, aborted))).toEqual(latest(committedValues(before, aborted)));
    // the records of aborted transactions are gone from the cleaned segments (their markers stay, with the index entries)
    expect(abortedRecords(before, aborted)).toBeGreaterThan(0);
    expect(abortedRecords(after, aborted, activeBase)).toBe(0);
    expect(abortedRecords(after, aborted)).toBe(abortedRecords(before, aborted.filter((t) => t.firstOffset >= activeBase)));
    await m.close();
    managers.splice(0);
    // and after a restart
    const again = await open(dir);
    expect(again.log.collectAbortedTransactions(0, logEnd)).toEqual(aborted);
    checkTxnIndexPlacement(again.log);
  });

  it('the cleaning stops before the segment holding the LSO: an ongoing transaction is never cleaned; committed records enter the map', async () => {
    const dir = tempLogDir();
    const s = producerState();
    const m = await LogManager.open({
      logDir: dir,
      nodeId: 1,
      defaults: testConfig(CONFIG),
      cacheBytes: 0,
      cleaner: { enable: false },
      firstUnstableOffset: (l) => s.lastStableOffset(l),
    });
    managers.push(m);
    const log = await m.createLog('t', 0, '');
    const w = new Writer(s, log);
    const values = async (): Promise<string[]> => (await readLog(log)).flatMap((b) => b.records.map((r) => r.value ?? 'null'));
    const filler = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await w.put(['z'], `fill${i}`);
    };
    await w.put(['a', 'b', 'c'], 'v1'); // 0-2
    await w.put(['a'], 't1', 1, true); // 3
    await w.end(1, true); // 4
    await w.put(['d'], 't3', 3, true); // 5
    await w.end(3, false); // 6
    await filler(30);
    const txnFirst = log.logEndOffset;
    await w.put(['b', 'c'], 't2', 2, true); // producer 2's transaction, ongoing
    await w.put(['b'], 'late'); // a later plain value of b
    await filler(60);
    expect(await s.lastStableOffset(log)).toBe(txnFirst);
    const lsoSegment = log.segmentBaseOffsets.filter((b) => b <= txnFirst).pop() as number;
    expect(lsoSegment).toBeGreaterThan(0);
    const fromLso = async (): Promise<ReadBatch[]> => (await readLog(log)).filter((b) => b.header.baseOffset >= lsoSegment);
    const untouched = await fromLso();

    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(m.cleanerCheckpoint('t', 0)).toBeLessThanOrEqual(lsoSegment);
    expect(await fromLso()).toEqual(untouched);
    let vals = await values();
    // a's plain value went: the committed transaction's record of a is in the map
    expect(vals).not.toContain('a:v1');
    expect(vals).toContain('a:t1');
    expect(vals).not.toContain('d:t3'); // aborted
    // the ongoing transaction's records stay, though a later plain b exists; b:v1 and c:v1 too (not mapped past the LSO)
    expect(vals).toEqual(expect.arrayContaining(['b:v1', 'c:v1', 'b:t2', 'c:t2', 'b:late']));

    await w.end(2, true);
    await filler(60);
    expect(await s.lastStableOffset(log)).toBe(log.logEndOffset);
    expect(await m.cleanNow('t', 0)).toBe(1);
    vals = await values();
    // now committed: b:t2 goes to the later plain b, and c:t2 replaces c:v1
    expect(vals).not.toContain('b:t2');
    expect(vals).not.toContain('b:v1');
    expect(vals).not.toContain('c:v1');
    expect(vals).toEqual(expect.arrayContaining(['a:t1', 'c:t2', 'b:late']));
  });

  it('a power loss before any file-system step of the swap leaves the old segments with their .txnindex or the cleaned one with all their entries', async () => {
    const template = tempLogDir();
    const { aborted, logEnd } = await writeTransactionalLog(template);
    // How many steps does the whole cleaning take?
    const probeDir = tempLogDir();
    cpSync(template, probeDir, { recursive: true });
    const probeFs = new CrashingFs();
    const probe = await open(probeDir, { fs: probeFs });
    probeFs.armed = true;
    expect(await probe.m.cleanNow('t', 0)).toBe(1);
    probeFs.armed = false;
    const total = probeFs.steps;
    await probe.m.close();
    managers.splice(0);

    const crashedAt: string[] = [];
    for (let k = 1; k <= total; k++) {
      const dir = tempLogDir();
      cpSync(template, dir, { recursive: true });
      const fs = new CrashingFs();
      const crashing = await open(dir, { fs });
      fs.armed = true;
      fs.crashAt = k;
      await crashing.m.cleanNow('t', 0).catch(() => 0);
      expect(fs.crashed).toBe(true);
      crashedAt.push(fs.crashedAt as string);
      await crashing.m.close().catch(() => undefined);
      managers.splice(0);
      const { m, log } = await open(dir);
      const what = `crash before step ${k} (${fs.crashedAt})`;
      expect(readdirSync(log.dir).filter((f) => /\.(cleaned|swap)$/.test(f)), what).toEqual([]);
      expect(log.collectAbortedTransactions(0, logEnd), what).toEqual(aborted);
      checkTxnIndexPlacement(log);
      // the log's own replay finds nothing missing from the index either
      const s = producerState();
      await s.lastStableOffset(log);
      expect(log.collectAbortedTransactions(0, logEnd), what).toEqual(aborted);
      await s.close();
      states.splice(0);
      await m.close();
      managers.splice(0);
    }
    // the crashes hit each rename of the .txnindex through the swap
    expect(crashedAt.some((c) => /^rename .*\.txnindex\.cleaned → .*\.txnindex\.swap$/.test(c))).toBe(true);
    expect(crashedAt.some((c) => /^rename .*\.txnindex\.swap → \d{20}\.txnindex$/.test(c))).toBe(true);
    expect(crashedAt.some((c) => /^rename .*\.txnindex → .*\.txnindex\.deleted$/.test(c))).toBe(true);
  }, 300_000);

  it('a power loss before any file-system step of a cleaning that removes markers leaves each ABORT marker with its .txnindex entry or neither, and no transaction without its marker', async () => {
    // A log cleaned once (aborted records removed, delete horizons written into the emptied transactions'
    // markers), then cleaned again two days later: past the horizons and producer.id.expiration.ms.
    const template = tempLogDir();
    const { logEnd } = await writeTransactionalLog(template);
    const first = await open(template);
    expect(await first.m.cleanNow('t', 0)).toBe(1);
    const before = await markersOf(first.log);
    await first.m.close();
    managers.splice(0);
    const later = Date.now() + 2 * DAY;
    const clock = (): number => later;

    const probeDir = tempLogDir();
    cpSync(template, probeDir, { recursive: true });
    const probeFs = new CrashingFs();
    const probe = await open(probeDir, { fs: probeFs, clock });
    probeFs.armed = true;
    expect(await probe.m.cleanNow('t', 0)).toBe(1);
    probeFs.armed = false;
    const total = probeFs.steps;
    expect(total).toBeGreaterThan(10);
    const after = await markersOf(probe.log);
    await checkMarkersAndEntries(probe.log, logEnd, 'no crash');
    await probe.m.close();
    managers.splice(0);
    // the cleaning removes COMMIT and ABORT markers (and the ABORT ones' entries)
    expect(after.commits.length).toBeLessThan(before.commits.length);
    expect(after.aborts.length).toBeLessThan(before.aborts.length);

    for (let k = 1; k <= total; k++) {
      const dir = tempLogDir();
      cpSync(template, dir, { recursive: true });
      const fs = new CrashingFs();
      const crashing = await open(dir, { fs, clock });
      fs.armed = true;
      fs.crashAt = k;
      await crashing.m.cleanNow('t', 0).catch(() => 0);
      expect(fs.crashed).toBe(true);
      await crashing.m.close().catch(() => undefined);
      managers.splice(0);
      const what = `crash before step ${k} (${fs.crashedAt})`;
      const { m, log } = await open(dir, { clock });
      expect(readdirSync(log.dir).filter((f) => /\.(cleaned|swap)$/.test(f)), what).toEqual([]);
      await checkMarkersAndEntries(log, logEnd, what);
      if (k % 4 === 0) {
        // the recovered log cleaned again ends as the uncrashed one
        expect(await m.cleanNow('t', 0)).toBe(1);
        await checkMarkersAndEntries(log, logEnd, `${what}, cleaned again`);
        expect(await markersOf(log), what).toEqual(after);
      }
      await m.close();
      managers.splice(0);
    }
  }, 300_000);
});

/** The offsets of the log's COMMIT and ABORT markers. */
async function markersOf(log: PartitionLog): Promise<{ commits: number[]; aborts: number[] }> {
  const commits: number[] = [];
  const aborts: number[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { chunks } = await log.read(offset, 256 * 1024);
    if (chunks.length === 0) throw new Error(`nothing read at ${offset} below the log end ${log.logEndOffset}`);
    for (const chunk of chunks) {
      for (let pos = 0; pos < chunk.length; pos += 12 + chunk.readInt32BE(pos + 8)) {
        const marker = readTransactionMarker(chunk, pos);
        if (marker !== null) (marker.commit ? commits : aborts).push(marker.offset);
        offset = Number(chunk.readBigInt64BE(pos)) + chunk.readInt32BE(pos + 23) + 1;
      }
    }
  }
  return { commits, aborts };
}

/**
 * Every ABORT marker has its .txnindex entry and every entry its marker; replaying the whole log (no
 * snapshot) leaves no transaction open: the LSO is the high watermark.
 */
async function checkMarkersAndEntries(log: PartitionLog, logEnd: number, what: string): Promise<void> {
  const { aborts } = await markersOf(log);
  expect(log.collectAbortedTransactions(0, logEnd).map((t) => t.lastOffset), what).toEqual(aborts);
  checkTxnIndexPlacement(log);
  const s = producerState();
  for (const f of readdirSync(log.dir).filter((n) => n.endsWith('.snapshot'))) rmSync(`${log.dir}/${f}`);
  expect(await s.lastStableOffset(log), what).toBe(log.highWatermark);
  expect((await s.ongoingTransactions(log)).size, what).toBe(0);
  await s.close();
  states.splice(states.indexOf(s), 1);
}

const RETENTION = 60_000; // delete.retention.ms of the marker tests
const T0 = 1_700_000_000_000;

/** A compacted log bounded by its producer state's LSO, on a clock the test moves; `s` also serves as the marker writer. */
async function openTxnLog(dir: string, clock: () => number): Promise<{ m: LogManager; log: PartitionLog; s: ProducerStateManager; w: Writer }> {
  const s = producerState(clock);
  const { m, log } = await open(dir, { clock, config: { deleteRetentionMs: RETENTION }, firstUnstableOffset: (l) => s.lastStableOffset(l) });
  return { m, log, s, w: new Writer(s, log, clock) };
}

async function closeAll(): Promise<void> {
  for (const s of states.splice(0)) await s.close();
  for (const m of managers.splice(0)) await m.close();
}

/** The control batch at `offset`, if the log still has it. */
async function markerAt(log: PartitionLog, offset: number): Promise<ReadBatch | undefined> {
  return (await readLog(log)).find((b) => b.header.baseOffset === offset && (b.header.attributes & ATTR_CONTROL) !== 0);
}

const hasHorizon = (b: ReadBatch | undefined): boolean => b !== undefined && (b.header.attributes & ATTR_DELETE_HORIZON) !== 0;

async function fill(w: Writer, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) await w.put(['z'], `${tag}${i}`);
}

describe('removal of transaction markers (delete.retention.ms, KIP-534 delete horizon)', () => {
  it('a COMMIT marker stays while its record is the latest of its key; once superseded it gets a delete horizon and goes after it; the LSO is the high watermark after a restart', async () => {
    let now = T0;
    const clock = (): number => now;
    const dir = tempLogDir();
    const { m, log, s, w } = await openTxnLog(dir, clock);
    await w.put(['a'], 't1', 1, true);
    const commit = await w.end(1, true);
    // producer 1 goes on: the marker is not its last batch
    await w.put(['k'], 't1b', 1, true);
    await w.end(1, true);
    await fill(w, 40, 'f');

    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(await markerAt(log, commit)).toBeDefined();
    expect(hasHorizon(await markerAt(log, commit))).toBe(false);
    now += 2 * RETENTION;
    expect(await m.cleanNow('t', 0)).toBe(1);
    // a:t1 is still the latest value of a: its marker stays, without a horizon, whatever the time
    expect(hasHorizon(await markerAt(log, commit))).toBe(false);

    await w.put(['a'], 'plain');
    await fill(w, 40, 'g');
    expect(await m.cleanNow('t', 0)).toBe(1);
    const values = (await readLog(log)).flatMap((b) => b.records.map((r) => r.value));
    expect(values).not.toContain('a:t1');
    expect(values).toContain('a:plain');
    // the transaction is empty now: the marker is rebuilt with its delete horizon (baseTimestamp), its record kept
    const marked = await markerAt(log, commit);
    expect(hasHorizon(marked)).toBe(true);
    expect(marked?.header.baseTimestamp).toBe(now + RETENTION);
    expect(marked?.header.recordCount).toBe(1);
    expect(marked?.header.producerId).toBe(1);

    now += RETENTION - 1;
    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(await markerAt(log, commit)).toBeDefined();
    now += 1;
    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(await markerAt(log, commit)).toBeUndefined();
    expect(await s.lastStableOffset(log)).toBe(log.highWatermark);
    expect((await s.ongoingTransactions(log)).size).toBe(0);
    const end = log.logEndOffset;

    await closeAll();
    const again = await openTxnLog(dir, clock);
    expect(again.log.logEndOffset).toBe(end);
    expect(await again.s.lastStableOffset(again.log)).toBe(again.log.highWatermark);
    expect(await markerAt(again.log, commit)).toBeUndefined();
    // and from the log alone (no snapshot)
    await closeAll();
    for (const f of readdirSync(dir + '/t-0').filter((n) => n.endsWith('.snapshot'))) rmSync(`${dir}/t-0/${f}`);
    const replayed = await openTxnLog(dir, clock);
    expect(await replayed.s.lastStableOffset(replayed.log)).toBe(replayed.log.highWatermark);
    expect((await replayed.s.ongoingTransactions(replayed.log)).size).toBe(0);
  });

  it('a COMMIT marker in a later group of segments than its transaction\'s kept record stays (the bookkeeping spans the groups)', async () => {
    let now = T0;
    const clock = (): number => now;
    const dir = tempLogDir();
    const { m, log, w } = await openTxnLog(dir, clock);
    await w.put(['a'], 't1', 1, true);
    // distinct keys: nothing to remove, so every segment stays full and is a group of its own
    let n = 0;
    const distinct = async (segments: number): Promise<void> => {
      const target = log.segmentBaseOffsets.length + segments;
      while (log.segmentBaseOffsets.length < target) await w.put([`k${n}`], `v${n++}`);
    };
    await distinct(2);
    const commit = await w.end(1, true);
    await w.put(['b'], 't1b', 1, true);
    await w.end(1, true);
    await distinct(2);
    const segmentOf = (offset: number): number => log.segmentBaseOffsets.filter((b) => b <= offset).pop() as number;
    expect(segmentOf(commit)).toBeGreaterThan(segmentOf(0));

    expect(await m.cleanNow('t', 0)).toBe(1);
    now += 2 * RETENTION;
    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(segmentOf(commit)).toBeGreaterThan(segmentOf(0));
    expect((await readLog(log)).flatMap((b) => b.records.map((r) => r.value))).toContain('a:t1');
    const marker = await markerAt(log, commit);
    expect(marker).toBeDefined();
    expect(hasHorizon(marker)).toBe(false);
    await closeAll();
    for (const f of readdirSync(`${dir}/t-0`).filter((f) => f.endsWith('.snapshot'))) rmSync(`${dir}/t-0/${f}`);
    const again = await openTxnLog(dir, clock);
    expect(await again.s.lastStableOffset(again.log)).toBe(again.log.highWatermark);
  });

  it('an ABORT marker and its .txnindex entry go together; the marker that is an active producer last batch stays, with its entry', async () => {
    let now = T0;
    const clock = (): number => now;
    const dir = tempLogDir();
    const { m, log, s, w } = await openTxnLog(dir, clock);
    await w.put(['b'], 'live');
    await w.put(['b'], 't2', 2, true);
    const abort2 = await w.end(2, false);
    await w.put(['c'], 't2b', 2, true);
    await w.end(2, true);
    await w.put(['d'], 't3', 3, true);
    const abort3 = await w.end(3, false); // producer 3's last batch
    await fill(w, 40, 'f');
    const entryOf = (marker: number): AbortedTxn | undefined => log.collectAbortedTransactions(0, log.logEndOffset).find((t) => t.lastOffset === marker);
    expect(entryOf(abort2)).toBeDefined();
    expect(entryOf(abort3)).toBeDefined();

    // the aborted records go; the markers get their horizon and keep their entries
    expect(await m.cleanNow('t', 0)).toBe(1);
    let values = (await readLog(log)).flatMap((b) => b.records.map((r) => r.value));
    expect(values).not.toContain('b:t2');
    expect(values).not.toContain('d:t3');
    expect(values).toContain('b:live');
    expect(hasHorizon(await markerAt(log, abort2))).toBe(true);
    expect(entryOf(abort2)).toBeDefined();
    expect(entryOf(abort3)).toBeDefined();

    now += RETENTION;
    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(await markerAt(log, abort2)).toBeUndefined();
    expect(entryOf(abort2)).toBeUndefined();
    // producer 3 is active (within producer.id.expiration.ms) and the marker is its last batch: kept, entry too
    expect(await markerAt(log, abort3)).toBeDefined();
    expect(entryOf(abort3)).toBeDefined();
    checkTxnIndexPlacement(log);
    values = (await readLog(log)).flatMap((b) => b.records.map((r) => r.value));
    expect(values).toContain('b:live');
    expect(await s.lastStableOffset(log)).toBe(log.highWatermark);
    const entries = log.collectAbortedTransactions(0, log.logEndOffset);

    // a restart replaying the whole log writes no entry back
    await closeAll();
    for (const f of readdirSync(`${dir}/t-0`).filter((n) => n.endsWith('.snapshot'))) rmSync(`${dir}/t-0/${f}`);
    const again = await openTxnLog(dir, clock);
    expect(await again.s.lastStableOffset(again.log)).toBe(again.log.highWatermark);
    expect(again.log.collectAbortedTransactions(0, again.log.logEndOffset)).toEqual(entries);
    expect((await again.s.producersOf(again.log)).get(3)?.epoch).toBe(0);
  });

  it('an old producer state snapshot naming a transaction whose batches and marker were cleaned away holds no LSO, nor the first offset of a later transaction', async () => {
    let now = T0;
    const clock = (): number => now;
    const dir = tempLogDir();
    const { m, log, s, w } = await openTxnLog(dir, clock);
    const first = await w.put(['a'], 't1', 1, true);
    // segments roll while the transaction is open: the snapshot at each new segment's base has it ongoing
    const segmentsBefore = log.segmentBaseOffsets.length;
    while (log.segmentBaseOffsets.length < segmentsBefore + 2) await w.put(['z'], 'f');
    const snapshotAt = log.segmentBaseOffsets[log.segmentBaseOffsets.length - 1] as number;
    const snapshotPath = `${log.dir}/${snapshotFileName(snapshotAt)}`;
    await expect.poll(() => existsSync(snapshotPath)).toBe(true);
    const oldSnapshot = readFileSync(snapshotPath);
    expect(decodeSnapshot(oldSnapshot).find((e) => e.producerId === 1)?.currentTxnFirstOffset).toBe(first);
    const commit = await w.end(1, true);
    await w.put(['a'], 'plain');
    await fill(w, 40, 'g');

    expect(await m.cleanNow('t', 0)).toBe(1);
    expect(hasHorizon(await markerAt(log, commit))).toBe(true);
    // past the horizon, and producer 1 idle past producer.id.expiration.ms: its last batch, the marker, goes
    now += DAY + RETENTION;
    expect(await m.cleanNow('t', 0)).toBe(1);
    expect((await readLog(log)).some((b) => b.header.baseOffset === first)).toBe(false);
    expect(await markerAt(log, commit)).toBeUndefined();
    expect(await s.lastStableOffset(log)).toBe(log.highWatermark);

    const fromOldSnapshot = async (): Promise<Awaited<ReturnType<typeof openTxnLog>>> => {
      await closeAll();
      for (const f of readdirSync(`${dir}/t-0`).filter((n) => n.endsWith('.snapshot'))) rmSync(`${dir}/t-0/${f}`);
      writeFileSync(snapshotPath, oldSnapshot);
      return openTxnLog(dir, clock);
    };
    // a restart from the old snapshot alone (as after an unclean shutdown that lost the newer ones)
    const again = await fromOldSnapshot();
    expect(await again.s.lastStableOffset(again.log)).toBe(again.log.highWatermark);
    expect((await again.s.ongoingTransactions(again.log)).size).toBe(0);
    expect((await again.s.producersOf(again.log)).get(1)?.currentTxnFirstOffset).toBe(-1);

    // producer 1 opens a new transaction; from the old snapshot again, it holds the LSO at its own first offset
    again.w.setSequence(1, 1);
    const next = await again.w.put(['x'], 't2', 1, true);
    expect(await again.s.lastStableOffset(again.log)).toBe(next);
    const third = await fromOldSnapshot();
    expect(await third.s.lastStableOffset(third.log)).toBe(next);
    expect([...(await third.s.ongoingTransactions(third.log))]).toEqual([[1, next]]);
    third.w.setSequence(1, 2);
    await third.w.end(1, true);
    expect(await third.s.lastStableOffset(third.log)).toBe(third.log.highWatermark);
  });
});
