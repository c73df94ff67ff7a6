import { readdirSync, readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { readBatchHeader } from '../../protocol/records/index.js';
import { LogManager, type AppendBatch, type AppendOptions, type LogConfig, type PartitionLog } from '../../storage/index.js';
import { makeBatch, readAll, removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const managers: LogManager[] = [];
async function open(config: Partial<LogConfig> = {}, logDir = tempLogDir()): Promise<LogManager> {
  const m = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig(config) });
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
});

/** The batches of `buf` as the produce path hands them to append. */
function batchesOf(buf: Buffer): AppendBatch[] {
  const out: AppendBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const h = readBatchHeader(buf, pos);
    const size = 12 + h.batchLength;
    out.push({ position: pos, size, lastOffsetDelta: h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, recordCount: h.recordCount });
    pos += size;
  }
  return out;
}

/** Appends of 1-3 batches of 1-5 records each, varied sizes and timestamps (not in order). */
function appends(n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const parts: Buffer[] = [];
    for (let j = 0; j <= i % 3; j++) {
      const k = i * 3 + j;
      parts.push(makeBatch({ records: 1 + (k % 5), seed: k + 1, timestamp: 1_000_000 + ((k * 7919) % 5000), payload: 30 + ((k * 37) % 300) }));
    }
    out.push(Buffer.concat(parts));
  }
  return out;
}

/** The segment files and the leader epoch checkpoint of a closed log, by name. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir).sort()) if (/\.(log|index|timeindex)$/.test(f) || f === 'leader-epoch-checkpoint') out.set(f, readFileSync(`${dir}/${f}`));
  return out;
}

describe('append with the batches given by the caller', () => {
  test('gives the same offsets, bytes, indexes and timestamp look-ups as an append that parses the headers', async () => {
    const config = { segmentBytes: 4000, indexIntervalBytes: 300 };
    const m = await open(config);
    const parsed = await m.createLog('parsed', 0, 'id-parsed');
    const given = await m.createLog('given', 0, 'id-given');
    const inputs = appends(120);
    for (let i = 0; i < inputs.length; i++) {
      const epoch = Math.floor(i / 40);
      const opts: AppendOptions = i % 10 === 9 ? { leaderEpoch: epoch, logAppendTime: 2_000_000 + i } : { leaderEpoch: epoch };
      const a = Buffer.from(inputs[i]!);
      const b = Buffer.from(inputs[i]!);
      const infoA = await parsed.append(a, opts);
      const infoB = await given.append(b, { ...opts, batches: batchesOf(b) });
      expect(infoB).toEqual(infoA);
      expect(b.equals(a)).toBe(true);
    }
    expect(given.segmentBaseOffsets).toEqual(parsed.segmentBaseOffsets);
    expect(given.segmentCount).toBeGreaterThan(10);
    const readA = await readAll(parsed, 900);
    const readB = await readAll(given, 900);
    expect(readB.length).toBe(readA.length);
    for (let i = 0; i < readA.length; i++) expect(readB[i]!.equals(readA[i]!)).toBe(true);
    for (const ts of [-3, -2, -1, 0, 1_000_000, 1_002_500, 1_004_999, 2_000_009, 2_000_119, 9_999_999]) {
      expect(await given.offsetForTimestamp(ts)).toEqual(await parsed.offsetForTimestamp(ts));
    }
    expect(given.endOffsetForEpoch(1)).toEqual(parsed.endOffsetForEpoch(1));
    await m.close();
    const a = files(parsed.dir);
    const b = files(given.dir);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, content] of a) expect(b.get(name)!.equals(content), name).toBe(true);
  });

  test('batches that do not tile the buffer are refused with RangeError; nothing is written, cached or patched', async () => {
    const m = await open();
    const log: PartitionLog = await m.createLog('tiling', 0, 'id-tiling');
    await log.append(makeBatch({ records: 2, seed: 1 }), { leaderEpoch: 0 });
    const two = Buffer.concat([makeBatch({ records: 3, seed: 2, payload: 40 }), makeBatch({ records: 1, seed: 3, payload: 70 })]);
    const good = batchesOf(two);
    const [first, second] = good as [AppendBatch, AppendBatch];
    const bad: [string, AppendBatch[]][] = [
      ['no batches', []],
      ['only the first batch', [first]],
      ['a gap between the batches', [first, { ...second, position: second.position + 1, size: second.size - 1 }]],
      ['the batches out of order', [second, first]],
      ['an overlap', [{ ...first, size: first.size + 10 }, second]],
      ['a batch past the end', [first, second, { ...second, position: two.length }]],
      ['a batch smaller than its header', [{ ...first, size: 60 }, { ...second, position: 60, size: two.length - 60 }]],
      ['a negative lastOffsetDelta', [first, { ...second, lastOffsetDelta: -1 }]],
    ];
    const logFile = `${log.dir}/00000000000000000000.log`;
    for (const [what, batches] of bad) {
      const before = { end: log.logEndOffset, size: log.sizeInBytes, file: statSync(logFile).size, cached: m.stats().cachedBatches };
      const buf = Buffer.from(two);
      await expect(log.append(buf, { leaderEpoch: 0, batches }), what).rejects.toThrow(RangeError);
      expect({ end: log.logEndOffset, size: log.sizeInBytes, file: statSync(logFile).size, cached: m.stats().cachedBatches }, what).toEqual(before);
      expect(buf.equals(two), what).toBe(true);
    }
    await expect(log.append(Buffer.alloc(0), { leaderEpoch: 0, batches: [] })).rejects.toThrow(RangeError);
    // the same bytes with their batches go in after the refusals, at the next offset
    const info = await log.append(Buffer.from(two), { leaderEpoch: 0, batches: good });
    expect([info.baseOffset, info.lastOffset, info.recordCount]).toEqual([2, 5, 4]);
    expect((await readAll(log)).length).toBe(3);
  });
});
