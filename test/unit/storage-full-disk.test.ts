import { readFileSync } from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { FaultyFs, LogManager, StorageError } from '../../storage/index.js';
import { assertSameBatches, makeBatch, readAll, removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const managers: LogManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
});

async function open(fs: FaultyFs | undefined, logDir = tempLogDir(), segmentBytes = 1 << 20): Promise<LogManager> {
  const m = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig({ segmentBytes, indexIntervalBytes: 0 }), ...(fs ? { fs } : {}) });
  managers.push(m);
  return m;
}

/** Base offsets of the batches in a .log file, in file order. */
function fileOffsets(path: string): number[] {
  const file = readFileSync(path);
  const out: number[] = [];
  for (let pos = 0; pos + 12 <= file.length; pos += 12 + file.readInt32BE(pos + 8)) out.push(Number(file.readBigInt64BE(pos)));
  return out;
}

test('an append whose index write fails for want of space leaves nothing in the .log, so its offsets are not assigned twice', async () => {
  const fs = new FaultyFs();
  const m = await open(fs);
  const log = await m.createLog('full', 0, 'x');
  const kept = [];
  // index entries are written 64 at a time: one of the next appends writes the index, and fails
  fs.failNext('write', 'ENOSPC', { path: '.index' });
  for (let i = 0; i < 200; i++) {
    const b = makeBatch({ seed: i });
    try {
      await log.append(b, { leaderEpoch: 0 });
      kept.push(b);
    } catch (err) {
      expect(err).toBeInstanceOf(StorageError);
      break;
    }
  }
  expect(kept.length).toBeLessThan(200);
  expect(log.logEndOffset).toBe(kept.length);
  for (let i = 200; i < 210; i++) {
    const b = makeBatch({ seed: i });
    expect((await log.append(b, { leaderEpoch: 0 })).baseOffset).toBe(kept.length);
    kept.push(b);
  }
  expect(fileOffsets(`${log.dir}/00000000000000000000.log`)).toEqual(kept.map((_, i) => i));
  assertSameBatches(await readAll(log), kept);
  expect(m.stats().offlinePartitions).toBe(0);
  // and a full recovery from the files finds the same batches
  await m.close();
  const again = await LogManager.open({ logDir: m.logDir, nodeId: 1, defaults: testConfig({ segmentBytes: 1 << 20, indexIntervalBytes: 0 }) });
  managers.push(again);
  assertSameBatches(await readAll(again.getLog('full', 0)!), kept);
});

test('a segment roll that fails for want of space fails that append only; the next append rolls', async () => {
  const fs = new FaultyFs();
  const m = await open(fs, tempLogDir(), 3000);
  const log = await m.createLog('roll', 0, 'x');
  const kept = [];
  for (let i = 0; i < 5; i++) {
    const b = makeBatch({ seed: i, payload: 400 });
    await log.append(b, { leaderEpoch: 0 });
    kept.push(b);
  }
  const segments = log.segmentCount;
  // sealing the full segment writes its staged index entries
  fs.failNext('write', 'ENOSPC', { path: 'index' });
  let failed = 0;
  for (let i = 5; i < 12 && failed === 0; i++) {
    const b = makeBatch({ seed: i, payload: 400 });
    try {
      await log.append(b, { leaderEpoch: 0 });
      kept.push(b);
    } catch (err) {
      expect(err).toBeInstanceOf(StorageError);
      failed++;
    }
  }
  expect(failed).toBe(1);
  expect(m.stats().offlinePartitions).toBe(0);
  for (let i = 20; i < 30; i++) {
    const b = makeBatch({ seed: i, payload: 400 });
    await log.append(b, { leaderEpoch: 0 });
    kept.push(b);
  }
  expect(log.segmentCount).toBeGreaterThan(segments);
  assertSameBatches(await readAll(log), kept);
});
