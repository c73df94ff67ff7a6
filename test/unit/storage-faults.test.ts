import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { FaultyFs, LogManager, StorageError, type PartitionLog } from '../../storage/index.js';
import { assertSameBatch, assertSameBatches, makeBatch, readAll, removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const managers: LogManager[] = [];
async function open(fs: FaultyFs | undefined, logDir = tempLogDir(), extra: Partial<Parameters<typeof LogManager.open>[0]> = {}): Promise<LogManager> {
  const m = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig({ segmentBytes: 2000 }), ...(fs ? { fs } : {}), ...extra });
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
});

describe('I/O failures', () => {
  for (const partial of [false, true]) {
    test(`ENOSPC on a write${partial ? ' after part of it landed' : ''} fails that append only and leaves no partial batch`, async () => {
      const fs = new FaultyFs();
      const m = await open(fs);
      const log = await m.createLog('enospc', 0, 'x');
      const before = [makeBatch({ seed: 1 }), makeBatch({ seed: 2 })];
      for (const b of before) await log.append(b, { leaderEpoch: 0 });
      fs.failNext('write', 'ENOSPC', { path: '.log', partial });
      const err = await log.append(makeBatch({ seed: 3, payload: 500 }), { leaderEpoch: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('ENOSPC');
      expect(log.logEndOffset).toBe(2);
      expect(readFileSync(`${log.dir}/00000000000000000000.log`).length).toBe(log.sizeInBytes);
      const after = makeBatch({ seed: 4 });
      expect((await log.append(after, { leaderEpoch: 0 })).baseOffset).toBe(2);
      assertSameBatches(await readAll(log), [...before, after]);
      expect(m.stats().offlinePartitions).toBe(0);
    });
  }

  test('EIO on fdatasync fails the sync append and takes the log offline; a restart recovers it', async () => {
    const fs = new FaultyFs();
    const m = await open(fs);
    const log = await m.createLog('eio', 0, 'x');
    const first = makeBatch({ seed: 1 });
    await log.append(first, { leaderEpoch: 0, sync: true });
    fs.failNext('fdatasync', 'EIO');
    const err = await log.append(makeBatch({ seed: 2 }), { leaderEpoch: 0, sync: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(/offline/);
    expect(m.stats().offlinePartitions).toBe(1);
    await expect(log.append(makeBatch({ seed: 3 }), { leaderEpoch: 0 })).rejects.toBeInstanceOf(StorageError);
    await expect(log.read(0, 100)).rejects.toBeInstanceOf(StorageError);
    // Other partitions keep working.
    const other = await m.createLog('eio-other', 0, 'y');
    await other.append(makeBatch(), { leaderEpoch: 0, sync: true });
    // Close reports the failure and leaves no clean-shutdown marker, so the next start recovers.
    await expect(m.close()).rejects.toBeInstanceOf(StorageError);
    const m2 = await open(undefined, m.logDir);
    const recovered = m2.getLog('eio', 0)!;
    expect((await readAll(recovered))[0]).toEqual(first);
  });

  test('a failed checkpoint write leaves the previous checkpoint intact', async () => {
    const fs = new FaultyFs();
    const m = await open(fs);
    const log = await m.createLog('cp', 0, 'x');
    await log.append(makeBatch({ records: 3 }), { leaderEpoch: 0 });
    await m.writeCheckpoints();
    const before = readFileSync(`${m.logDir}/log-start-offset-checkpoint`, 'utf8');
    fs.failNext('fsync', 'EIO', { path: 'log-start-offset-checkpoint' });
    await expect(log.deleteRecordsBefore(2)).rejects.toBeInstanceOf(StorageError);
    expect(readFileSync(`${m.logDir}/log-start-offset-checkpoint`, 'utf8')).toBe(before);
    await m.writeCheckpoints();
    expect(readFileSync(`${m.logDir}/log-start-offset-checkpoint`, 'utf8')).toBe('0\n1\ncp 0 2\n');
  });

  test('a slow fsync does not stall reads or other appends', async () => {
    const fs = new FaultyFs();
    const m = await open(fs);
    const log = await m.createLog('slow', 0, 'x');
    const other = await m.createLog('slow-other', 0, 'y');
    await log.append(makeBatch({ seed: 1 }), { leaderEpoch: 0 });
    await other.append(makeBatch({ seed: 2 }), { leaderEpoch: 0 });
    const gate = fs.hold('fdatasync');
    let acked = false;
    const syncAppend = log.append(makeBatch({ seed: 3 }), { leaderEpoch: 0, sync: true }).then((info) => {
      acked = true;
      return info;
    });
    for (let spins = 0; gate.waiting === 0; spins++) {
      if (spins > 10_000) throw new Error('the sync append never called fdatasync');
      await new Promise((r) => setImmediate(r));
    }
    // While the fsync hangs: reads of both partitions, a non-sync append, a timestamp look-up all complete.
    expect((await log.read(0, 1 << 20)).size).toBe(log.sizeInBytes);
    expect((await other.read(0, 1 << 20)).size).toBe(other.sizeInBytes);
    expect((await log.append(makeBatch({ seed: 4 }), { leaderEpoch: 0 })).baseOffset).toBe(2);
    expect((await log.offsetForTimestamp(-3))?.offset).toBe(0);
    expect(acked).toBe(false);
    gate.release();
    expect((await syncAppend).baseOffset).toBe(1);
    expect(log.recoveryPoint).toBeGreaterThanOrEqual(2);
  });
});

describe('lost unsynced writes (simulated power loss)', () => {
  async function appendAndCrash(sync: boolean): Promise<{ acked: Buffer[]; reopened: PartitionLog }> {
    const fs = new FaultyFs();
    const m = await open(fs, tempLogDir(), { defaults: testConfig({ segmentBytes: 3000, indexIntervalBytes: 200 }) });
    const log = await m.createLog('power', 0, 'x');
    const acked: Buffer[] = [];
    // Concurrent producers, as acks=all requests from several connections.
    await Promise.all(
      Array.from({ length: 4 }, async (_, producer) => {
        for (let i = 0; i < 30; i++) {
          const batch = makeBatch({ seed: producer * 1000 + i, records: 1 + (i % 3), payload: 60 + i });
          await log.append(batch, { leaderEpoch: 0, sync });
          acked.push(Buffer.from(batch));
        }
      }),
    );
    expect(log.segmentCount).toBeGreaterThan(3);
    fs.crash();
    await m.close().catch(() => undefined);
    const m2 = await open(undefined, m.logDir, { defaults: testConfig({ segmentBytes: 3000, indexIntervalBytes: 200 }) });
    return { acked, reopened: m2.getLog('power', 0)! };
  }

  test('every acknowledged acks=all append survives a crash that drops unsynced writes', async () => {
    const { acked, reopened } = await appendAndCrash(true);
    const stored = await readAll(reopened);
    const byOffset = new Map(stored.map((b) => [Number(b.readBigInt64BE(0)), b]));
    for (const a of acked) assertSameBatch(byOffset.get(Number(a.readBigInt64BE(0))), a);
    expect(reopened.logEndOffset).toBe(Math.max(...acked.map((a) => Number(a.readBigInt64BE(0)) + a.readInt32BE(23) + 1)));
  });

  test('without the flush the same crash loses acknowledged appends (so the test above can fail)', async () => {
    const { acked, reopened } = await appendAndCrash(false);
    const stored = await readAll(reopened);
    expect(stored.length).toBeLessThan(acked.length);
    // What survived is a prefix of what was acknowledged, intact.
    const byOffset = new Map(acked.map((b) => [Number(b.readBigInt64BE(0)), b]));
    for (const s of stored) assertSameBatch(s, byOffset.get(Number(s.readBigInt64BE(0)))!);
  });
});
