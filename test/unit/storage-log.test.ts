import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { FaultyFs, LogManager, OffsetOutOfRangeError, type LogConfig, type PartitionLog } from '../../storage/index.js';
import { assertSameBatch, assertSameBatches, baseOffsetOf, makeBatch, readAll, removeTempDirs, splitBatches, tempLogDir, testConfig } from './storage-helpers.js';

const managers: LogManager[] = [];
async function open(config: Partial<LogConfig> = {}, extra: Partial<Parameters<typeof LogManager.open>[0]> = {}): Promise<LogManager> {
  const m = await LogManager.open({ logDir: extra.logDir ?? tempLogDir(), nodeId: 1, defaults: testConfig(config), ...extra });
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
});

interface Appended {
  baseOffset: number;
  lastOffset: number;
  timestamp: number;
  bytes: Buffer;
}

/** Appends `n` batches of 1-5 records with varied sizes and timestamps; returns them as stored. */
async function fill(log: PartitionLog, n: number, opts: { timestamps?: (i: number) => number; payload?: (i: number) => number } = {}): Promise<Appended[]> {
  const out: Appended[] = [];
  for (let i = 0; i < n; i++) {
    const records = 1 + (i % 5);
    const timestamp = opts.timestamps ? opts.timestamps(i) : 1_000_000 + i * 10;
    const batch = makeBatch({ records, seed: i + 1, timestamp, payload: opts.payload ? opts.payload(i) : 30 + ((i * 37) % 200) });
    const info = await log.append(batch, { leaderEpoch: 0 });
    expect(info.lastOffset - info.baseOffset + 1).toBe(records);
    out.push({ baseOffset: info.baseOffset, lastOffset: info.lastOffset, timestamp, bytes: Buffer.from(batch) });
  }
  return out;
}

function concatChunks(chunks: Buffer[]): Buffer {
  return Buffer.concat(chunks);
}

describe('append and read', () => {
  test('appends assign consecutive offsets across many segment rolls and read back byte for byte', async () => {
    const m = await open({ segmentBytes: 1500, indexIntervalBytes: 200 }, { cacheBytes: 0 });
    const log = await m.createLog('rolls', 0, 'id-rolls');
    const appended = await fill(log, 300);
    expect(log.segmentCount).toBeGreaterThan(30);
    expect(log.logEndOffset).toBe(appended.at(-1)!.lastOffset + 1);
    const stored = await readAll(log, 700);
    assertSameBatches(stored, appended.map((a) => a.bytes));
    // Segment files are named by their 20-digit base offset, which is the first offset in each.
    const files = readdirSync(log.dir).filter((f) => f.endsWith('.log')).sort();
    expect(files.length).toBe(log.segmentCount);
    for (const f of files) {
      expect(f).toMatch(/^\d{20}\.log$/);
      const data = readFileSync(`${log.dir}/${f}`);
      if (data.length > 0) expect(baseOffsetOf(data)).toBe(Number(f.slice(0, 20)));
    }
  });

  test('the offset and leader epoch are patched into the caller buffer in place', async () => {
    const m = await open();
    const log = await m.createLog('patch', 0, 'x');
    await fill(log, 3);
    const batch = makeBatch({ records: 4 });
    const before = Buffer.from(batch);
    const info = await log.append(batch, { leaderEpoch: 7 });
    expect(info).toMatchObject({ baseOffset: 6, lastOffset: 9, appendTime: -1, recordCount: 4, sizeInBytes: batch.length, logStartOffset: 0 });
    expect(baseOffsetOf(batch)).toBe(6);
    expect(batch.readInt32BE(12)).toBe(7);
    // Bytes 16.. (magic, CRC and everything it covers) are untouched.
    expect(batch.subarray(16)).toEqual(before.subarray(16));
  });

  test('several batches in one append get consecutive offsets', async () => {
    const m = await open();
    const log = await m.createLog('multi', 0, 'x');
    const buf = Buffer.concat([makeBatch({ records: 2, seed: 1 }), makeBatch({ records: 3, seed: 2 }), makeBatch({ records: 1, seed: 3 })]);
    const info = await log.append(buf, { leaderEpoch: 0 });
    expect(info).toMatchObject({ baseOffset: 0, lastOffset: 5, recordCount: 6 });
    expect(splitBatches(buf).map((b) => baseOffsetOf(b))).toEqual([0, 2, 5]);
    assertSameBatches(await readAll(log), splitBatches(buf).map((b) => Buffer.from(b)));
  });

  test('logAppendTime sets the timestamp type and maxTimestamp and keeps the CRC valid', async () => {
    const m = await open({}, { cacheBytes: 0 });
    const log = await m.createLog('lat', 0, 'x');
    const info = await log.append(makeBatch({ records: 2, timestamp: 5 }), { leaderEpoch: 0, logAppendTime: 1_234_567 });
    expect(info.appendTime).toBe(1_234_567);
    const [stored] = await readAll(log);
    expect(stored!.readInt16BE(21) & 0x08).toBe(0x08);
    expect(Number(stored!.readBigInt64BE(35))).toBe(1_234_567);
    const { crc32c } = await import('@node-rs/crc32');
    expect(stored!.readUInt32BE(17)).toBe(crc32c(stored!.subarray(21)) >>> 0);
    expect(await log.offsetForTimestamp(1_234_567)).toMatchObject({ offset: 0, timestamp: 1_234_567 });
  });

  test('malformed input is rejected with a clear error and nothing is written', async () => {
    const m = await open();
    const log = await m.createLog('bad', 0, 'x');
    const good = makeBatch();
    await expect(log.append(Buffer.alloc(0), { leaderEpoch: 0 })).rejects.toThrow(RangeError);
    await expect(log.append(good.subarray(0, good.length - 1), { leaderEpoch: 0 })).rejects.toThrow(/malformed record batch/);
    const v1 = Buffer.from(good);
    v1.writeInt8(1, 16);
    await expect(log.append(v1, { leaderEpoch: 0 })).rejects.toThrow(/magic/);
    expect(log.logEndOffset).toBe(0);
    expect(log.sizeInBytes).toBe(0);
  });

  test('a read at an offset inside a batch returns that whole batch', async () => {
    for (const cacheBytes of [0, 1 << 20]) {
      const m = await open({ segmentBytes: 1000, indexIntervalBytes: 100 }, { cacheBytes });
      const log = await m.createLog('mid', 0, 'x');
      const appended = await fill(log, 60);
      for (const a of appended) {
        for (let o = a.baseOffset; o <= a.lastOffset; o++) {
          const r = await log.read(o, 1);
          expect(r.chunks.length).toBe(1);
          assertSameBatch(r.chunks[0], a.bytes);
        }
      }
    }
  });

  test('maxBytes: whole batches only, at least one even when it is larger, empty at the log end', async () => {
    for (const cacheBytes of [0, 1 << 20]) {
      const m = await open({ segmentBytes: 4000 }, { cacheBytes });
      const log = await m.createLog('max', 0, 'x');
      const appended = await fill(log, 80);
      const sizes = appended.map((a) => a.bytes.length);
      for (let i = 0; i < appended.length; i += 7) {
        const a = appended[i]!;
        // Exactly one batch fits; one byte less still returns that one batch (KIP-74).
        for (const maxBytes of [0, 1, sizes[i]! - 1, sizes[i]!]) {
          const r = await log.read(a.baseOffset, maxBytes);
          expect(r.chunks.length === 1 && r.chunks[0]!.equals(a.bytes)).toBe(true);
          expect(r.size).toBe(sizes[i]);
        }
        // Two batches exactly, and one byte short of two.
        if (i + 1 < appended.length) {
          const two = sizes[i]! + sizes[i + 1]!;
          const r2 = await log.read(a.baseOffset, two);
          expect(r2.size).toBe(two);
          expect(concatChunks(r2.chunks)).toEqual(Buffer.concat([a.bytes, appended[i + 1]!.bytes]));
          expect((await log.read(a.baseOffset, two - 1)).size).toBe(sizes[i]);
        }
      }
      // A large maxBytes returns everything, across segments.
      const all = await log.read(0, 1 << 24);
      expect(concatChunks(all.chunks)).toEqual(Buffer.concat(appended.map((a) => a.bytes)));
      expect(all.size).toBe(log.sizeInBytes);
      expect(await log.read(log.logEndOffset, 1000)).toEqual({ chunks: [], size: 0 });
    }
  });

  test('maxOffset excludes batches that end at or after it', async () => {
    const m = await open({ segmentBytes: 2000 }, { cacheBytes: 0 });
    const log = await m.createLog('maxoff', 0, 'x');
    const appended = await fill(log, 30);
    const cut = appended[10]!;
    const r = await log.read(0, 1 << 20, cut.baseOffset);
    expect(concatChunks(r.chunks)).toEqual(Buffer.concat(appended.slice(0, 10).map((a) => a.bytes)));
    expect((await log.read(cut.baseOffset, 1 << 20, cut.baseOffset)).size).toBe(0);
    // A maxOffset inside a batch excludes that batch too.
    expect((await log.read(cut.baseOffset, 1 << 20, cut.lastOffset)).size).toBe(0);
  });

  test('offsets outside [logStartOffset, logEndOffset] are out of range', async () => {
    const m = await open();
    const log = await m.createLog('oor', 0, 'x');
    await fill(log, 5);
    await expect(log.read(log.logEndOffset + 1, 100)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await expect(log.read(-1, 100)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await log.deleteRecordsBefore(3);
    await expect(log.read(2, 100)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    const r = await log.read(3, 100);
    expect(r.size).toBeGreaterThan(0);
  });

  test('tailing reads are served from the batch cache without file reads', async () => {
    const m = await open({}, { cacheBytes: 1 << 20 });
    const log = await m.createLog('tail', 0, 'x');
    await fill(log, 10);
    const before = m.stats();
    let next = 10 * 3; // sum of 1..5 twice
    expect(log.logEndOffset).toBe(next);
    for (let i = 0; i < 20; i++) {
      await fill(log, 1);
      const r = await log.read(next, 1 << 20);
      expect(r.size).toBeGreaterThan(0);
      next = log.logEndOffset;
    }
    const after = m.stats();
    expect(after.cacheHits - before.cacheHits).toBe(20);
    expect(after.cacheMisses).toBe(before.cacheMisses);
  });

  test('the batch cache is bounded by bytes; evicted batches are read from the files', async () => {
    const m = await open({}, { cacheBytes: 2000 });
    const log = await m.createLog('bounded', 0, 'x');
    const appended = await fill(log, 50, { payload: () => 200 });
    expect(m.stats().cacheBytes).toBeLessThanOrEqual(2000);
    assertSameBatches(await readAll(log, 1000), appended.map((a) => a.bytes));
    expect(m.stats().cacheMisses).toBeGreaterThan(0);
  });

  test('onAppend listeners are called after each append until unsubscribed', async () => {
    const m = await open();
    const log = await m.createLog('listen', 0, 'x');
    const seen: number[] = [];
    const off = log.onAppend(() => seen.push(log.logEndOffset));
    await log.append(makeBatch({ records: 2 }), { leaderEpoch: 0 });
    await log.append(makeBatch({ records: 1 }), { leaderEpoch: 0 });
    off();
    await log.append(makeBatch({ records: 1 }), { leaderEpoch: 0 });
    expect(seen).toEqual([2, 3]);
  });
});

describe('indexes', () => {
  test('index files point at the batch holding each indexed offset, and every offset reads its batch', async () => {
    for (const indexIntervalBytes of [0, 150, 4096]) {
      const m = await open({ segmentBytes: 5000, indexIntervalBytes }, { cacheBytes: 0 });
      const log = await m.createLog('idx', 0, 'x');
      const appended = await fill(log, 120);
      await m.close();
      // Brute force: every batch's position in its segment file.
      const where = new Map<number, { file: string; position: number; lastOffset: number }>();
      const logFiles = readdirSync(log.dir).filter((f) => f.endsWith('.log'));
      for (const f of logFiles) {
        const data = readFileSync(`${log.dir}/${f}`);
        let pos = 0;
        for (const b of splitBatches(data)) {
          where.set(baseOffsetOf(b), { file: f, position: pos, lastOffset: baseOffsetOf(b) + b.readInt32BE(23) });
          pos += b.length;
        }
        const base = Number(f.slice(0, 20));
        const index = readFileSync(`${log.dir}/${f.replace('.log', '.index')}`);
        expect(index.length % 8).toBe(0);
        for (let i = 0; i < index.length; i += 8) {
          const offset = base + index.readInt32BE(i);
          const position = index.readInt32BE(i + 4);
          const batch = [...where.values()].find((w) => w.file === f && w.position === position);
          expect(batch?.lastOffset).toBe(offset);
        }
        const timeindex = readFileSync(`${log.dir}/${f.replace('.log', '.timeindex')}`);
        expect(timeindex.length % 12).toBe(0);
        let lastTs = -1;
        for (let i = 0; i < timeindex.length; i += 12) {
          const ts = Number(timeindex.readBigInt64BE(i));
          expect(ts).toBeGreaterThan(lastTs);
          lastTs = ts;
          const offset = base + timeindex.readInt32BE(i + 8);
          // The entry's offset is the last offset of the batch carrying that timestamp.
          const carrier = appended.find((a) => a.lastOffset === offset);
          expect(carrier?.timestamp).toBe(ts);
        }
        if (indexIntervalBytes === 0 && data.length > 0) expect(index.length / 8).toBe(splitBatches(data).length - 1);
      }
      const m2 = await open({ segmentBytes: 5000, indexIntervalBytes }, { cacheBytes: 0, logDir: m.logDir });
      const log2 = m2.getLog('idx', 0)!;
      for (const a of appended) {
        const r = await log2.read(a.lastOffset, 1);
        assertSameBatch(r.chunks[0], a.bytes);
      }
    }
  });

  test('timestamp look-ups match a brute-force scan (earliest, latest, max, and every timestamp)', async () => {
    const m = await open({ segmentBytes: 3000, indexIntervalBytes: 120 }, { cacheBytes: 0 });
    const log = await m.createLog('ts', 0, 'x');
    // Timestamps that go up and down.
    const ts = (i: number): number => 10_000 + ((i * 7919) % 1000) * 3 + i;
    const appended = await fill(log, 150, { timestamps: ts });
    expect(await log.offsetForTimestamp(-2)).toEqual({ offset: 0, timestamp: -1, leaderEpoch: 0 });
    expect(await log.offsetForTimestamp(-1)).toEqual({ offset: log.logEndOffset, timestamp: -1, leaderEpoch: 0 });
    const max = Math.max(...appended.map((a) => a.timestamp));
    const maxBatch = appended.find((a) => a.timestamp === max)!;
    expect(await log.offsetForTimestamp(-3)).toEqual({ offset: maxBatch.baseOffset, timestamp: max, leaderEpoch: 0 });
    const min = Math.min(...appended.map((a) => a.timestamp));
    for (let t = min - 5; t <= max + 5; t += 7) {
      const expected = appended.find((a) => a.timestamp >= t);
      const got = await log.offsetForTimestamp(t);
      expect(got).toEqual(expected ? { offset: expected.baseOffset, timestamp: expected.timestamp, leaderEpoch: 0 } : null);
    }
    for (const a of appended) {
      const expected = appended.find((b) => b.timestamp >= a.timestamp)!;
      expect((await log.offsetForTimestamp(a.timestamp))?.offset).toBe(expected.baseOffset);
    }
  });

  test('a record look-up supplied by the broker refines timestamp answers inside the batch', async () => {
    const calls: { baseOffset: number; timestamp: number; minOffset: number }[] = [];
    const m = await open(
      {},
      {
        findRecordByTimestamp: (batch, timestamp, minOffset) => {
          calls.push({ baseOffset: baseOffsetOf(batch), timestamp, minOffset });
          return { offset: baseOffsetOf(batch) + batch.readInt32BE(23), timestamp: timestamp + 1 };
        },
      },
    );
    const log = await m.createLog('lookup', 0, 'x');
    await fill(log, 10, { timestamps: (i) => 100 + i * 10 });
    expect(await log.offsetForTimestamp(135)).toEqual({ offset: 14, timestamp: 136, leaderEpoch: 0 });
    expect(calls).toEqual([{ baseOffset: 10, timestamp: 135, minOffset: 0 }]);
  });

  test('a full offset index rolls the segment', async () => {
    const m = await open({ segmentIndexBytes: 40, indexIntervalBytes: 0 });
    const log = await m.createLog('fullidx', 0, 'x');
    const appended = await fill(log, 30);
    // 40 bytes hold 5 offset entries (8 bytes) or 3 time entries (12 bytes).
    expect(log.segmentCount).toBeGreaterThan(5);
    assertSameBatches(await readAll(log), appended.map((a) => a.bytes));
  });
});

describe('rolling by time, retention, deleteRecords, truncation', () => {
  test('segment.ms rolls a segment whose first append is older than segment.ms', async () => {
    let now = 1_000_000;
    const m = await open({ segmentMs: 1000 }, { clock: () => now });
    const log = await m.createLog('segms', 0, 'x');
    await fill(log, 3, { timestamps: () => now });
    now += 999;
    await fill(log, 1, { timestamps: () => now });
    expect(log.segmentCount).toBe(1);
    now += 2;
    await fill(log, 1, { timestamps: () => now });
    expect(log.segmentCount).toBe(2);
  });

  test('retention.ms deletes old segments by their largest timestamp, never the active one', async () => {
    let now = 10_000_000;
    const m = await open({ segmentBytes: 800, retentionMs: 5000, fileDeleteDelayMs: 0 }, { clock: () => now });
    const log = await m.createLog('rms', 0, 'x');
    const appended = await fill(log, 40, { timestamps: (i) => (i < 20 ? 1_000_000 : now) });
    const segments = log.segmentCount;
    await m.checkRetention();
    expect(log.segmentCount).toBeLessThan(segments);
    // The new log start is the first batch with a recent timestamp's segment base; everything kept reads back.
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeLessThanOrEqual(appended[20]!.baseOffset);
    const kept = await readAll(log);
    assertSameBatches(kept, appended.filter((a) => a.lastOffset >= log.logStartOffset).map((a) => a.bytes));
    // Everything expires: the active segment stays.
    now += 1_000_000;
    await m.checkRetention();
    expect(log.segmentCount).toBe(1);
    expect(log.logEndOffset).toBe(appended.at(-1)!.lastOffset + 1);
    // The new log start is checkpointed.
    const cp = readFileSync(`${m.logDir}/log-start-offset-checkpoint`, 'utf8');
    expect(cp).toContain(`rms 0 ${log.logStartOffset}\n`);
  });

  test('retention.bytes deletes the oldest segments while the log stays above the limit', async () => {
    const m = await open({ segmentBytes: 1000, retentionBytes: 3000 });
    const log = await m.createLog('rbytes', 0, 'x');
    const appended = await fill(log, 100, { payload: () => 100 });
    expect(log.sizeInBytes).toBeGreaterThan(6000);
    await m.checkRetention();
    // At least retention.bytes are kept, and deleting the oldest remaining segment would go below it.
    const sizes = readdirSync(log.dir).filter((f) => f.endsWith('.log')).sort().map((f) => readFileSync(`${log.dir}/${f}`).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(log.sizeInBytes);
    expect(log.sizeInBytes).toBeGreaterThanOrEqual(3000);
    expect(log.sizeInBytes - sizes[0]!).toBeLessThan(3000);
    assertSameBatches(await readAll(log), appended.filter((a) => a.baseOffset >= log.logStartOffset).map((a) => a.bytes));
    // Deleted segment files are renamed *.deleted until file.delete.delay.ms.
    expect(readdirSync(log.dir).some((f) => f.endsWith('.log.deleted'))).toBe(true);
  });

  test('deleteRecordsBefore moves the log start, deletes whole segments below it, and is checkpointed', async () => {
    const m = await open({ segmentBytes: 1000 });
    const log = await m.createLog('delrec', 0, 'x');
    const appended = await fill(log, 60);
    const mid = appended[30]!;
    const target = mid.baseOffset + (mid.lastOffset > mid.baseOffset ? 1 : 0);
    const segmentsBefore = log.segmentCount;
    expect(await log.deleteRecordsBefore(target)).toBe(target);
    expect(log.logStartOffset).toBe(target);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    // A read at the new start returns its whole batch (which begins before the log start).
    assertSameBatch((await log.read(target, 1)).chunks[0], mid.bytes);
    expect(await log.deleteRecordsBefore(5)).toBe(target);
    await expect(log.deleteRecordsBefore(log.highWatermark + 1)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(readFileSync(`${m.logDir}/log-start-offset-checkpoint`, 'utf8')).toBe(`0\n1\ndelrec 0 ${target}\n`);
    expect((await log.offsetForTimestamp(-2))?.offset).toBe(target);
    // Survives a restart.
    await m.close();
    const m2 = await open({ segmentBytes: 1000 }, { logDir: m.logDir });
    expect(m2.getLog('delrec', 0)!.logStartOffset).toBe(target);
  });

  test('truncateTo removes whole batches from the offset on, across segments, and appends continue from there', async () => {
    const m = await open({ segmentBytes: 1000, indexIntervalBytes: 100 });
    const log = await m.createLog('trunc', 0, 'x');
    const appended = await fill(log, 60);
    const cut = appended[25]!;
    await log.truncateTo(cut.baseOffset);
    expect(log.logEndOffset).toBe(cut.baseOffset);
    assertSameBatches(await readAll(log), appended.slice(0, 25).map((a) => a.bytes));
    // Mid-batch: the batch containing the offset goes.
    const mid = appended[20]!;
    await log.truncateTo(mid.lastOffset);
    expect(log.logEndOffset).toBe(mid.baseOffset);
    const more = await fill(log, 10);
    expect(more[0]!.baseOffset).toBe(mid.baseOffset);
    const all = [...appended.slice(0, 20), ...more];
    assertSameBatches(await readAll(log), all.map((a) => a.bytes));
    for (const a of all) expect((await log.offsetForTimestamp(a.timestamp))?.offset).toBe(all.find((b) => b.timestamp >= a.timestamp)!.baseOffset);
    // Reopen: the truncated log is what is on disk.
    await m.close();
    const m2 = await open({ segmentBytes: 1000 }, { logDir: m.logDir, cacheBytes: 0 });
    assertSameBatches(await readAll(m2.getLog('trunc', 0)!), all.map((a) => a.bytes));
  });

  test('truncateTo below the log start empties the log and restarts it there', async () => {
    const m = await open({ segmentBytes: 1000 });
    const log = await m.createLog('trunc2', 0, 'x');
    await fill(log, 30);
    await log.deleteRecordsBefore(40);
    await log.truncateTo(10);
    expect(log.logStartOffset).toBe(10);
    expect(log.logEndOffset).toBe(10);
    expect(log.segmentCount).toBe(1);
    expect((await log.append(makeBatch(), { leaderEpoch: 0 })).baseOffset).toBe(10);
  });
});

describe('durability policy and leader epochs', () => {
  test('concurrent sync appends share fdatasync calls (group commit) and are all durable', async () => {
    const fs = new FaultyFs();
    const m = await open({}, { fs });
    const log = await m.createLog('group', 0, 'x');
    const before = fs.calls.fdatasync ?? 0;
    const infos = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(makeBatch({ seed: i }), { leaderEpoch: 0, sync: true })));
    const syncs = (fs.calls.fdatasync ?? 0) - before;
    expect(infos.map((i) => i.baseOffset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(10);
    expect(log.recoveryPoint).toBe(50);
  });

  test('appends without sync leave data unflushed; flush.messages flushes after that many records', async () => {
    const fs = new FaultyFs();
    const m = await open({ flushMessages: 10 }, { fs });
    const log = await m.createLog('flushmsg', 0, 'x');
    for (let i = 0; i < 3; i++) await log.append(makeBatch({ records: 3 }), { leaderEpoch: 0 });
    expect(log.recoveryPoint).toBe(0);
    expect(log.unflushedMessages).toBe(9);
    await log.append(makeBatch({ records: 3 }), { leaderEpoch: 0 });
    await log.flush(); // waits for the background flush the 10th message started
    expect(log.recoveryPoint).toBe(12);
    expect(log.unflushedMessages).toBe(0);
  });

  test('flush.ms flushes logs whose oldest unflushed append is older than flush.ms', async () => {
    let now = 1_000;
    const fs = new FaultyFs();
    const m = await open({ flushMs: 100 }, { fs, clock: () => now, flushCheckIntervalMs: 5 });
    const log = await m.createLog('flushms', 0, 'x');
    await log.append(makeBatch(), { leaderEpoch: 0 });
    expect(log.recoveryPoint).toBe(0);
    now += 100;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (log.recoveryPoint === 1) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    expect(log.unflushedMessages).toBe(0);
  });

  test('the leader epoch cache answers OffsetForLeaderEpoch and follows truncation and log start moves', async () => {
    const m = await open({ segmentBytes: 1000 });
    const log = await m.createLog('epochs', 0, 'x');
    for (const [epoch, n] of [[0, 5], [2, 5], [5, 5]] as const) {
      for (let i = 0; i < n; i++) await log.append(makeBatch({ records: 2 }), { leaderEpoch: epoch });
    }
    expect(log.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 10 });
    expect(log.endOffsetForEpoch(1)).toEqual({ leaderEpoch: 0, endOffset: 10 });
    expect(log.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: 20 });
    expect(log.endOffsetForEpoch(5)).toEqual({ leaderEpoch: 5, endOffset: 30 });
    expect(log.endOffsetForEpoch(6)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(log.endOffsetForEpoch(-1)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    await log.flush();
    await m.close();
    expect(readFileSync(`${log.dir}/leader-epoch-checkpoint`, 'utf8')).toBe('0\n3\n0 0\n2 10\n5 20\n');
    const m2 = await open({ segmentBytes: 1000 }, { logDir: m.logDir });
    const log2 = m2.getLog('epochs', 0)!;
    expect(log2.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: 20 });
    await log2.truncateTo(15);
    expect(log2.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: 14 });
    expect(log2.endOffsetForEpoch(5)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    await log2.deleteRecordsBefore(12);
    expect(log2.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 12 });
  });

  test('the file-handle cache keeps at most maxOpenFiles descriptors across many partitions', async () => {
    const m = await open({ segmentBytes: 600 }, { maxOpenFiles: 5, cacheBytes: 0 });
    const logs: PartitionLog[] = [];
    for (let p = 0; p < 12; p++) logs.push(await m.createLog('many', p, 'x'));
    const expected = new Map<number, Buffer[]>();
    for (let round = 0; round < 10; round++) {
      for (const log of logs) {
        const batch = makeBatch({ seed: round * 100 + log.partition, payload: 100 });
        await log.append(batch, { leaderEpoch: 0, sync: round % 3 === 0 });
        expected.set(log.partition, [...(expected.get(log.partition) ?? []), Buffer.from(batch)]);
        expect(m.stats().openFiles).toBeLessThanOrEqual(5);
      }
    }
    for (const log of logs) assertSameBatches(await readAll(log), expected.get(log.partition)!);
    expect(m.stats().openFiles).toBeLessThanOrEqual(5);
  });
});
