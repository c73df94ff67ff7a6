import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { buildRecordBatch, buildTransactionMarkerBatch, Compression, readBatchHeader } from '../../protocol/records/index.js';
import { LogManager, type LogConfig, type LogManagerOptions, type PartitionLog } from '../../storage/index.js';
import { checkAgainstModel, KeyedModel, readLog, recordCount, rng } from './cleaner-helpers.js';
import { removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const T0 = 1_700_000_000_000;
const managers: LogManager[] = [];
let now = T0;

async function open(config: Partial<LogConfig> = {}, extra: Partial<LogManagerOptions> = {}): Promise<LogManager> {
  const m = await LogManager.open({
    logDir: extra.logDir ?? tempLogDir(),
    nodeId: 1,
    defaults: testConfig({ cleanupPolicy: 'compact', segmentBytes: 4096, indexIntervalBytes: 512, deleteRetentionMs: 10_000, ...config }),
    clock: () => now,
    cacheBytes: 0,
    ...extra,
    cleaner: { enable: false, ...extra.cleaner },
  });
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
  now = T0;
});

async function cleanAndCheck(m: LogManager, log: PartitionLog, model: KeyedModel): Promise<number> {
  await m.cleanNow(log.topic, log.partition);
  const cleanedTo = m.cleanerCheckpoint(log.topic, log.partition) ?? log.logStartOffset;
  checkAgainstModel(await readLog(log), model, cleanedTo);
  return cleanedTo;
}

describe('compaction', () => {
  test.each([1, 2, 3, 4, 5])('keeps the latest record of every key with its offset, timestamp and batch metadata over many segments and cleanings (seed %i)', async (seed) => {
    const m = await open();
    const log = await m.createLog('table', 0, 'id-table');
    const random = rng(seed);
    const model = new KeyedModel(random, { keys: 150 });
    for (let round = 0; round < 6; round++) {
      const batches = 40 + Math.floor(random() * 80);
      for (let i = 0; i < batches; i++) {
        now += 10;
        await model.appendBatch(log, now);
      }
      const before = recordCount(await readLog(log));
      const cleanedTo = await cleanAndCheck(m, log, model);
      expect(cleanedTo).toBe(log.segmentList.at(-1)!.baseOffset);
      expect(recordCount(await readLog(log))).toBeLessThan(before);
    }
    expect(log.segmentCount).toBeGreaterThan(1);
    const stats = m.stats();
    expect(stats.cleanerRuns).toBe(6);
    expect(stats.cleanerBytesReclaimed).toBeGreaterThan(0);
    expect(stats.cleanerRecordsRemoved).toBeGreaterThan(0);
    // reopened from disk (a clean shutdown), the log reads the same
    const logDir = m.logDir;
    const expected = await readLog(log);
    await m.close();
    const again = await open({}, { logDir });
    const reopened = again.getLog('table', 0)!;
    expect(await readLog(reopened)).toEqual(expected);
    expect(again.cleanerCheckpoint('table', 0)).toBe(log.segmentList.at(-1)!.baseOffset);
  });

  test('tombstones stay for delete.retention.ms after their segment is cleaned, then go with the values they deleted', async () => {
    const m = await open({ deleteRetentionMs: 60_000 });
    const log = await m.createLog('deletes', 0, 'id-deletes');
    const append = async (key: string, value: string | null): Promise<void> => {
      now += 1;
      await log.append(await buildRecordBatch([{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: now }]), { leaderEpoch: 0 });
    };
    for (let i = 0; i < 200; i++) await append(`k${i % 20}`, `v${i}`);
    for (let i = 0; i < 10; i++) await append(`k${i}`, null);
    for (let i = 0; i < 200; i++) await append(`other${i % 5}`, `w${i}`);
    await m.cleanNow('deletes', 0);
    const keysOf = async (): Promise<Map<string, (string | null)[]>> => {
      const out = new Map<string, (string | null)[]>();
      for (const b of await readLog(log)) for (const r of b.records) out.set(r.key, [...(out.get(r.key) ?? []), r.value]);
      return out;
    };
    let keys = await keysOf();
    for (let i = 0; i < 10; i++) expect(keys.get(`k${i}`)).toEqual([null]);
    for (let i = 10; i < 20; i++) expect(keys.get(`k${i}`)).toHaveLength(1);
    // the batches holding the tombstones carry the delete horizon (attribute bit, baseTimestamp)
    const withHorizon = (await readLog(log)).filter((b) => (b.header.attributes & 0x40) !== 0);
    expect(withHorizon.length).toBe(10);
    for (const b of withHorizon) {
      expect(b.header.baseTimestamp).toBe(now + 60_000);
      // the records keep their own timestamps
      expect(b.records[0]!.timestamp).toBeLessThan(b.header.baseTimestamp);
    }
    // before the horizon, another cleaning keeps them
    now += 30_000;
    await m.cleanNow('deletes', 0);
    keys = await keysOf();
    for (let i = 0; i < 10; i++) expect(keys.get(`k${i}`)).toEqual([null]);
    // after it, they go; the live keys stay
    now += 31_000;
    await m.cleanNow('deletes', 0);
    keys = await keysOf();
    for (let i = 0; i < 10; i++) expect(keys.has(`k${i}`)).toBe(false);
    for (let i = 10; i < 20; i++) expect(keys.get(`k${i}`)).toEqual([`v${180 + i}`]);
    for (let i = 0; i < 5; i++) expect(keys.get(`other${i}`)!.at(-1)).toBe(`w${195 + i}`);
  });

  test('the brute-force model holds with tombstones expiring between cleanings', async () => {
    const m = await open({ deleteRetentionMs: 5_000 });
    const log = await m.createLog('expiring', 0, 'id-expiring');
    const random = rng(77);
    const model = new KeyedModel(random, { keys: 60, tombstoneShare: 0.3 });
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 60; i++) {
        now += 100;
        await model.appendBatch(log, now);
      }
      await cleanAndCheck(m, log, model);
    }
    // every tombstone below the cleaned offset whose horizon passed is gone
    now += 10_000;
    for (let i = 0; i < 30; i++) {
      now += 1;
      await model.appendBatch(log, now);
    }
    const cleanedTo = await cleanAndCheck(m, log, model);
    await m.cleanNow('expiring', 0);
    const afterSecond = m.cleanerCheckpoint('expiring', 0)!;
    expect(afterSecond).toBeGreaterThanOrEqual(cleanedTo);
    for (const b of await readLog(log)) {
      for (const r of b.records) {
        if (r.value === null && r.offset < afterSecond) expect(b.header.baseTimestamp).toBeGreaterThan(now);
      }
    }
  });

  test('a dedupe buffer smaller than the dirty keys cleans in several rounds, each making progress', async () => {
    const m = await open({}, { cleaner: { dedupeBufferSize: 2048 } });
    const log = await m.createLog('small-map', 0, 'id-small-map');
    const model = new KeyedModel(rng(9), { keys: 400, maxRecords: 8 });
    for (let i = 0; i < 300; i++) {
      now += 10;
      await model.appendBatch(log, now);
    }
    const active = log.segmentList.at(-1)!.baseOffset;
    let previous = -1;
    let rounds = 0;
    while ((m.cleanerCheckpoint('small-map', 0) ?? 0) < active) {
      await cleanAndCheck(m, log, model);
      const checkpoint = m.cleanerCheckpoint('small-map', 0)!;
      expect(checkpoint).toBeGreaterThan(previous);
      previous = checkpoint;
      rounds++;
    }
    expect(rounds).toBeGreaterThan(3);
  });

  test('batches keeping every record are copied byte for byte; an emptied batch stays as a header when it is the last of its producer', async () => {
    const m = await open({ segmentBytes: 100_000 });
    const log = await m.createLog('producers', 0, 'id-producers');
    const batchOf = (key: string, value: string, producerId: number, baseSequence: number): Promise<Buffer> =>
      buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(value), timestamp: now }, { key: Buffer.from(`${key}-2`), value: Buffer.from(value), timestamp: now }], {
        producerId,
        producerEpoch: 3,
        baseSequence,
        compression: Compression.lz4,
      });
    // producer 7 writes a and a-2 twice; producer 8 writes b and b-2 once; then other keys overwrite a, a-2
    const first = await batchOf('a', '1', 7, 0);
    const second = await batchOf('a', '2', 7, 2);
    const kept = await batchOf('b', '1', 8, 0);
    await log.append(first, { leaderEpoch: 0 });
    await log.append(second, { leaderEpoch: 0 });
    await log.append(Buffer.from(kept), { leaderEpoch: 0 });
    await log.append(await buildRecordBatch([{ key: Buffer.from('a'), value: Buffer.from('3') }, { key: Buffer.from('a-2'), value: Buffer.from('3') }]), { leaderEpoch: 0 });
    await log.append(await buildRecordBatch([{ key: Buffer.from('end'), value: Buffer.from('x') }]), { leaderEpoch: 0 });
    const storedKept = (await log.read(4, 1 << 20)).chunks[0]!;
    const keptBytes = Buffer.from(storedKept.subarray(0, 12 + storedKept.readInt32BE(8)));
    await log.append(await buildRecordBatch([{ key: Buffer.from('z'), value: Buffer.from('z') }]), { leaderEpoch: 0 });
    // roll: everything before the last batch is cleanable
    log.updateConfig({ segmentMs: 1 });
    now += 10;
    await log.append(await buildRecordBatch([{ key: Buffer.from('y'), value: Buffer.from('y') }]), { leaderEpoch: 0 });
    await m.cleanNow('producers', 0);
    const batches = await readLog(log);
    const at = (offset: number) => batches.find((b) => b.header.baseOffset === offset);
    // producer 7's first batch lost both records and is not its last: gone
    expect(at(0)).toBeUndefined();
    // its second batch lost both records but is its last: kept empty, with sequence and epoch
    expect(at(2)!.records).toEqual([]);
    expect(at(2)!.header.lastOffsetDelta).toBe(1);
    expect(at(2)!.header.baseSequence).toBe(2);
    expect(at(2)!.header.producerEpoch).toBe(3);
    expect(at(2)!.header.producerId).toBe(7);
    expect(at(2)!.header.attributes & 0x07).toBe(0);
    // producer 8's batch kept everything: the same bytes
    const read = (await log.read(4, 1 << 20)).chunks[0]!;
    expect(Buffer.from(read.subarray(0, 12 + read.readInt32BE(8))).equals(keptBytes)).toBe(true);
    expect(readBatchHeader(keptBytes).crc).toBe(readBatchHeader(read).crc);
  });

  test('a transactional record never removes an older value of its key (it may be aborted); a later plain record removes it', async () => {
    const m = await open();
    const log = await m.createLog('txn', 0, 'id-txn');
    const append = async (key: string, value: string, transactional = false): Promise<void> => {
      now += 1;
      const batch = await buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(value), timestamp: now }], transactional ? { producerId: 9, producerEpoch: 0, baseSequence: 0, transactional: true } : {});
      await log.append(batch, { leaderEpoch: 0 });
    };
    await append('a', 'committed');
    await append('b', 'old');
    await append('a', 'aborted', true);
    await append('b', 'in-transaction', true);
    await log.append(buildTransactionMarkerBatch({ commit: false, producerId: 9, producerEpoch: 0, coordinatorEpoch: 0, timestamp: now }), { leaderEpoch: 0 });
    await append('b', 'new');
    for (let i = 0; i < 200; i++) await append(`f${i % 10}`, `w${i}`);
    await m.cleanNow('txn', 0);
    const values = (key: string): Promise<(string | null)[]> => readLog(log).then((bs) => bs.flatMap((b) => b.records).filter((r) => r.key === key).map((r) => r.value));
    expect(await values('a')).toEqual(['committed', 'aborted']);
    expect(await values('b')).toEqual(['new']);
    // the transaction marker stays
    expect((await readLog(log)).some((b) => (b.header.attributes & 0x20) !== 0)).toBe(true);
  });

  test('min.compaction.lag.ms keeps young segments dirty; max.compaction.lag.ms cleans below the dirty ratio', async () => {
    const m = await open({ minCompactionLagMs: 60_000, minCleanableDirtyRatio: 0.99 });
    const log = await m.createLog('lag', 0, 'id-lag');
    const model = new KeyedModel(rng(5), { keys: 20 });
    for (let i = 0; i < 100; i++) {
      now += 10;
      await model.appendBatch(log, now);
    }
    // everything is younger than the lag: nothing to clean
    expect(await m.cleanNow('lag', 0)).toBe(0);
    now += 61_000;
    for (let i = 0; i < 20; i++) {
      now += 10;
      await model.appendBatch(log, now);
    }
    expect(await m.cleanNow('lag', 0)).toBe(1);
    const cleanedTo = m.cleanerCheckpoint('lag', 0)!;
    // the young segments written after the pause stay dirty
    expect(cleanedTo).toBeLessThan(log.segmentList.at(-1)!.baseOffset);
    checkAgainstModel(await readLog(log), model, cleanedTo);

    // the background pass skips a log below its dirty ratio...
    const m2 = await open({ minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 50_000 });
    const log2 = await m2.createLog('maxlag', 0, 'id-maxlag');
    const model2 = new KeyedModel(rng(6), { keys: 20 });
    for (let i = 0; i < 100; i++) {
      now += 10;
      await model2.appendBatch(log2, now);
    }
    await m2.cleanNow('maxlag', 0);
    for (let i = 0; i < 20; i++) {
      now += 10;
      await model2.appendBatch(log2, now);
    }
    const before = m2.stats().cleanerRuns;
    // (a background pass is what the loop runs: log.cleaner.enable is off in these tests)
    expect(await m2.runCleanerPass()).toBe(0);
    // ...until its dirty records are older than max.compaction.lag.ms
    now += 60_000;
    expect(await m2.runCleanerPass()).toBe(1);
    expect(m2.stats().cleanerRuns).toBe(before + 1);
    checkAgainstModel(await readLog(log2), model2, m2.cleanerCheckpoint('maxlag', 0)!);
  });

  test('max.compaction.lag.ms rolls the active segment of a compacted log', async () => {
    const m = await open({ segmentBytes: 1_000_000, maxCompactionLagMs: 5_000 });
    const log = await m.createLog('rolling', 0, 'id-rolling');
    const model = new KeyedModel(rng(8), { keys: 5 });
    await model.appendBatch(log, now);
    now += 6_000;
    await model.appendBatch(log, now);
    expect(log.segmentCount).toBe(2);
  });

  test('retention.ms deletes old segments only when cleanup.policy includes delete', async () => {
    const m = await open({ retentionMs: 1_000 });
    const log = await m.createLog('kept', 0, 'id-kept');
    const model = new KeyedModel(rng(3), { keys: 10 });
    for (let i = 0; i < 50; i++) await model.appendBatch(log, now);
    now += 10_000;
    await model.appendBatch(log, now);
    const segments = log.segmentCount;
    expect(await log.applyRetention()).toBe(0);
    expect(log.segmentCount).toBe(segments);
    log.updateConfig({ cleanupPolicy: 'compact,delete' });
    expect(await log.applyRetention()).toBe(segments - 1);
  });

  test('cleanup.policy changes live: compact starts cleaning, delete stops it', async () => {
    const m = await open({ cleanupPolicy: 'delete', minCleanableDirtyRatio: 0.1 });
    const log = await m.createLog('switch', 0, 'id-switch');
    const model = new KeyedModel(rng(4), { keys: 10 });
    for (let i = 0; i < 100; i++) await model.appendBatch(log, now);
    expect(await m.runCleanerPass()).toBe(0);
    log.updateConfig({ cleanupPolicy: 'compact' });
    expect(await m.runCleanerPass()).toBe(1);
    checkAgainstModel(await readLog(log), model, m.cleanerCheckpoint('switch', 0)!);
    for (let i = 0; i < 100; i++) await model.appendBatch(log, now);
    log.updateConfig({ cleanupPolicy: 'delete' });
    expect(await m.runCleanerPass()).toBe(0);
    expect(() => log.updateConfig({ cleanupPolicy: 'compact,shred' })).toThrow(/cleanupPolicy/);
  });

  test('the background cleaner cleans a log once its dirty ratio passes min.cleanable.dirty.ratio', async () => {
    const m = await open({ minCleanableDirtyRatio: 0.5 }, { cleaner: { enable: true, backoffMs: 20 } });
    const log = await m.createLog('background', 0, 'id-background');
    const model = new KeyedModel(rng(11), { keys: 30 });
    for (let i = 0; i < 200; i++) {
      now += 10;
      await model.appendBatch(log, now);
    }
    const deadline = Date.now() + 20_000;
    while (m.stats().cleanerRuns === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(m.stats().cleanerRuns).toBeGreaterThan(0);
    await m.close();
    const reopened = (await open({}, { logDir: m.logDir })).getLog('background', 0)!;
    checkAgainstModel(await readLog(reopened), model, reopened.segmentList[0]!.baseOffset);
  });

  test('reads running during a cleaning see a consistent log', async () => {
    const m = await open({ segmentBytes: 2048 }, { cleaner: { ioBufferSize: 512 } });
    const log = await m.createLog('reads', 0, 'id-reads');
    const model = new KeyedModel(rng(12), { keys: 50 });
    for (let i = 0; i < 400; i++) {
      now += 10;
      await model.appendBatch(log, now);
    }
    let reads = 0;
    let done = false;
    const reader = (async () => {
      while (!done) {
        checkAgainstModel(await readLog(log), model, 0);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const appender = (async () => {
      for (let i = 0; i < 50; i++) {
        now += 10;
        await model.appendBatch(log, now);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await m.cleanNow('reads', 0);
    await appender;
    done = true;
    await reader;
    expect(reads).toBeGreaterThan(1);
    checkAgainstModel(await readLog(log), model, m.cleanerCheckpoint('reads', 0)!);
  });

  test('a log truncated below its cleaner checkpoint is mapped again from its start', async () => {
    const m = await open();
    const log = await m.createLog('truncated', 0, 'id-truncated');
    const append = async (key: string, value: string): Promise<void> => {
      now += 1;
      await log.append(await buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(value), timestamp: now }]), { leaderEpoch: 0 });
    };
    for (let i = 0; i < 300; i++) await append(`k${i % 20}`, `v${i}`);
    await m.cleanNow('truncated', 0);
    const checkpoint = m.cleanerCheckpoint('truncated', 0)!;
    await log.truncateTo(Math.floor(checkpoint / 2));
    // written twice below the old checkpoint, never again: the second must replace the first
    await append('dup', 'first');
    await append('dup', 'second');
    for (let i = 0; i < 300; i++) await append(`f${i % 10}`, `w${i}`);
    await m.cleanNow('truncated', 0);
    const below = m.cleanerCheckpoint('truncated', 0)!;
    expect(below).toBeGreaterThan(checkpoint);
    const dups = (await readLog(log)).flatMap((b) => b.records).filter((r) => r.key === 'dup');
    expect(dups.map((r) => r.value)).toEqual(['second']);
  });

  test('a log deleted and created again under the same name starts without a cleaner checkpoint', async () => {
    const m = await open();
    const log = await m.createLog('again', 0, 'id-again-1');
    const model = new KeyedModel(rng(14), { keys: 20 });
    for (let i = 0; i < 100; i++) await model.appendBatch(log, now);
    await m.cleanNow('again', 0);
    expect(m.cleanerCheckpoint('again', 0)).toBeGreaterThan(0);
    await m.deleteLog('again', 0);
    const fresh = await m.createLog('again', 0, 'id-again-2');
    expect(m.cleanerCheckpoint('again', 0)).toBeUndefined();
    const model2 = new KeyedModel(rng(15), { keys: 20 });
    for (let i = 0; i < 100; i++) await model2.appendBatch(fresh, now);
    await m.cleanNow('again', 0);
    checkAgainstModel(await readLog(fresh), model2, m.cleanerCheckpoint('again', 0)!);
    const logDir = m.logDir;
    await m.close();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`${logDir}/cleaner-offset-checkpoint`, 'utf8')).toBe(`0\n1\nagain 0 ${fresh.segmentList.at(-1)!.baseOffset}\n`);
  });

  test('a corrupt batch makes the log uncleanable until restart; the log is left as it was', async () => {
    const m = await open();
    const log = await m.createLog('corrupt', 0, 'id-corrupt');
    const model = new KeyedModel(rng(16), { keys: 30, codecs: [Compression.none] });
    for (let i = 0; i < 120; i++) await model.appendBatch(log, now);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const first = log.segmentList[0]!;
    const bytes = readFileSync(first.logPath);
    bytes[bytes.length - 3]! ^= 0xff;
    writeFileSync(first.logPath, bytes);
    const segmentFiles = (): string[] => readdirSync(log.dir).filter((f) => /^\d{20}\./.test(f)).sort();
    const files = segmentFiles();
    expect(await m.cleanNow('corrupt', 0)).toBe(0);
    expect(m.stats().cleanerUncleanablePartitions).toBe(1);
    expect(m.cleanerCheckpoint('corrupt', 0)).toBeUndefined();
    const after = segmentFiles();
    expect(after.filter((f) => !files.includes(f)), 'new files').toEqual([]);
    expect(files.filter((f) => !after.includes(f)), 'files gone').toEqual([]);
    expect(await m.cleanNow('corrupt', 0)).toBe(0);
  });

  test('an unclean restart keeps a cleaned log whole although its offsets have gaps, even when the broker passes no topic config', async () => {
    const m = await open();
    const log = await m.createLog('gaps', 0, 'id-gaps');
    const model = new KeyedModel(rng(13), { keys: 40 });
    for (let i = 0; i < 300; i++) {
      now += 10;
      await model.appendBatch(log, now);
    }
    await m.cleanNow('gaps', 0);
    const expected = await readLog(log);
    const logDir = m.logDir;
    await m.close();
    // no clean-shutdown marker, no recovery point: every segment is rescanned, under the default policy
    const { unlinkSync } = await import('node:fs');
    unlinkSync(`${logDir}/.kafka_cleanshutdown`);
    unlinkSync(`${logDir}/recovery-point-offset-checkpoint`);
    const again = await open({ cleanupPolicy: 'delete' }, { logDir });
    const reopened = again.getLog('gaps', 0)!;
    expect(await readLog(reopened)).toEqual(expected);
    expect(readdirSync(reopened.dir).filter((f) => /\.(cleaned|swap)$/.test(f))).toEqual([]);
  });
});
