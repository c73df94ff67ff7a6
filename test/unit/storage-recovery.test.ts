import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LogManager, type PartitionLog } from '../../storage/index.js';
import { assertSameBatch, assertSameBatches, makeBatch, readAll, removeTempDirs, splitBatches, tempLogDir, testConfig } from './storage-helpers.js';

const config = testConfig({ segmentBytes: 500, indexIntervalBytes: 100 });
const TOPIC = 'rec';

interface Template {
  dir: string;
  batches: Buffer[];
  lastSegment: string;
  /** Byte position of each batch in the last segment. */
  lastPositions: { batchIndex: number; position: number; size: number }[];
}

let template: Template;

/** A log of a few segments, closed cleanly; recovery tests copy it and damage the copy. */
beforeAll(async () => {
  const dir = tempLogDir();
  const m = await LogManager.open({ logDir: dir, nodeId: 1, defaults: config });
  const log = await m.createLog(TOPIC, 0, 'topic-id-rec');
  const batches: Buffer[] = [];
  for (let i = 0; i < 24; i++) {
    const b = makeBatch({ records: 1 + (i % 3), seed: i + 1, payload: 8 + (i % 4) * 6, timestamp: 5000 + i });
    await log.append(b, { leaderEpoch: 1 });
    batches.push(Buffer.from(b));
  }
  await m.close();
  const pdir = `${dir}/${TOPIC}-0`;
  const logs = readdirSync(pdir).filter((f) => f.endsWith('.log')).sort();
  const lastSegment = `${pdir}/${logs.at(-1)}`;
  const data = readFileSync(lastSegment);
  const inLast = splitBatches(data);
  expect(inLast.length).toBeGreaterThanOrEqual(3);
  const lastPositions: Template['lastPositions'] = [];
  let pos = 0;
  for (const [k, b] of inLast.entries()) {
    lastPositions.push({ batchIndex: batches.length - inLast.length + k, position: pos, size: b.length });
    pos += b.length;
  }
  template = { dir, batches, lastSegment, lastPositions };
});
afterAll(() => removeTempDirs());

interface Warning {
  o: Record<string, unknown>;
  msg: string | undefined;
}

/** A copy of the template without the clean-shutdown marker (so recovery runs); `damage` edits it. */
async function reopenDamaged(damage: (copy: { dir: string; lastSegment: string }) => void, opts: { recoveryPoint?: number } = {}): Promise<{ m: LogManager; log: PartitionLog; warnings: Warning[] }> {
  const dir = tempLogDir();
  cpSync(template.dir, dir, { recursive: true });
  unlinkSync(`${dir}/.kafka_cleanshutdown`);
  if (opts.recoveryPoint !== undefined) writeFileSync(`${dir}/recovery-point-offset-checkpoint`, `0\n1\n${TOPIC} 0 ${opts.recoveryPoint}\n`);
  damage({ dir, lastSegment: template.lastSegment.replace(template.dir, dir) });
  const warnings: Warning[] = [];
  const logger = { info() {}, warn: (o: object, msg?: string) => void warnings.push({ o: o as Record<string, unknown>, msg }), error() {} };
  const m = await LogManager.open({ logDir: dir, nodeId: 1, defaults: config, logger, cacheBytes: 0 });
  return { m, log: m.getLog(TOPIC, 0)!, warnings };
}

/** Runs `fn` over `items`, a few at a time (the cases are bound by fsync latency, not CPU). */
async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>, width = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function endOf(batches: Buffer[]): number {
  const last = batches.at(-1);
  return last ? Number(last.readBigInt64BE(0)) + last.readInt32BE(23) + 1 : 0;
}

/**
 * The reopened log holds exactly `expected`. With `full`: every offset reads its batch, timestamps resolve,
 * appends continue, and the rebuilt indexes pass the sanity checks of a clean reopen.
 */
async function expectLogIs(m: LogManager, log: PartitionLog, expected: Buffer[], full = true): Promise<void> {
  expect(log.logEndOffset).toBe(endOf(expected));
  assertSameBatches(await readAll(log, 300), expected);
  if (!full) {
    await m.close();
    rmSync(m.logDir, { recursive: true, force: true });
    return;
  }
  for (const b of expected) {
    const base = Number(b.readBigInt64BE(0));
    const r = await log.read(base + b.readInt32BE(23), 1);
    assertSameBatch(r.chunks[0], b);
    expect((await log.offsetForTimestamp(Number(b.readBigInt64BE(35))))?.offset).toBe(base);
  }
  const next = makeBatch({ seed: 999 });
  expect((await log.append(next, { leaderEpoch: 1 })).baseOffset).toBe(endOf(expected));
  await m.close();
  // The rebuilt indexes were trimmed on close and pass the sanity checks of a clean open.
  const m2 = await LogManager.open({ logDir: m.logDir, nodeId: 1, defaults: config, cacheBytes: 0 });
  assertSameBatches(await readAll(m2.getLog(TOPIC, 0)!, 300), [...expected, next]);
  await m2.close();
  rmSync(m.logDir, { recursive: true, force: true });
}

describe('recovery after an unclean shutdown', () => {
  test('truncating the last segment at every byte of its last two batches reopens at the last whole batch', async () => {
    const lastTwo = template.lastPositions.slice(-2);
    const from = lastTwo[0]!.position;
    const to = lastTwo[1]!.position + lastTwo[1]!.size;
    const cuts = Array.from({ length: to - from }, (_, k) => from + k);
    await inParallel(cuts, async (cut) => {
      const { m, log } = await reopenDamaged(({ lastSegment }) => truncateSync(lastSegment, cut));
      const whole = template.lastPositions.filter((p) => p.position + p.size <= cut).length;
      const expected = template.batches.slice(0, template.batches.length - template.lastPositions.length + whole);
      await expectLogIs(m, log, expected, cut % 8 === 0 || lastTwo.some((p) => p.position === cut));
    });
  }, 300_000);

  test('a flipped byte inside a batch cuts the log before that batch (except the unchecked leader epoch)', async () => {
    const lastTwo = template.lastPositions.slice(-2);
    const cases = lastTwo.flatMap((target) => Array.from({ length: target.size }, (_, i) => ({ target, i })));
    await inParallel(cases, async ({ target, i }) => {
      {
        const { m, log, warnings } = await reopenDamaged(({ lastSegment }) => {
          const data = readFileSync(lastSegment);
          data[target.position + i]! ^= 0xff;
          writeFileSync(lastSegment, data);
        });
        if (i >= 12 && i < 16) {
          // partitionLeaderEpoch is outside the CRC: the batch is kept, with the damaged epoch.
          expect(log.logEndOffset).toBe(endOf(template.batches));
          await m.close();
          return;
        }
        expect(warnings.some((w) => w.msg?.includes('recovery truncated'))).toBe(true);
        await expectLogIs(m, log, template.batches.slice(0, target.batchIndex), i % 8 === 0);
      }
    });
  }, 300_000);

  test('from a recovery point of 0 every segment is rescanned: damage in an early segment drops the later ones, and the cut is logged with offsets', async () => {
    const { m, log, warnings } = await reopenDamaged(
      ({ dir }) => {
        const first = `${dir}/${TOPIC}-0/00000000000000000000.log`;
        const data = readFileSync(first);
        const [b0, b1] = splitBatches(data);
        data[b0!.length + b1!.length - 1]! ^= 0x01; // last byte of the second batch
        writeFileSync(first, data);
      },
      { recoveryPoint: 0 },
    );
    expect(log.segmentCount).toBe(1);
    const w = warnings.find((x) => x.msg?.includes('recovery truncated'));
    expect(w?.o).toMatchObject({ topic: TOPIC, partition: 0, segment: 0, lastValidOffset: endOf(template.batches.slice(0, 1)) - 1 });
    expect((w?.o.droppedSegments as number[]).length).toBeGreaterThan(0);
    await expectLogIs(m, log, template.batches.slice(0, 1));
  });

  test('damage below the recovery point in a cleanly loaded segment is not rescanned', async () => {
    // The recovery point says the first segments are flushed: only the last one is rescanned.
    const { m, log } = await reopenDamaged(({ lastSegment }) => truncateSync(lastSegment, 0));
    expect(log.segmentCount).toBeGreaterThan(1);
    const inLast = template.lastPositions.length;
    await expectLogIs(m, log, template.batches.slice(0, template.batches.length - inLast));
  });

  test('missing or corrupt index files are rebuilt, even after a clean shutdown', async () => {
    const dir = tempLogDir();
    cpSync(template.dir, dir, { recursive: true });
    const pdir = `${dir}/${TOPIC}-0`;
    const segs = readdirSync(pdir).filter((f) => f.endsWith('.log')).sort();
    unlinkSync(`${pdir}/${segs[1]!.replace('.log', '.index')}`);
    writeFileSync(`${pdir}/${segs[2]!.replace('.log', '.timeindex')}`, Buffer.alloc(36, 0xab));
    writeFileSync(`${pdir}/${segs[3]!.replace('.log', '.index')}`, Buffer.alloc(13));
    const warnings: string[] = [];
    const m = await LogManager.open({
      logDir: dir,
      nodeId: 1,
      defaults: config,
      cacheBytes: 0,
      logger: { info() {}, warn: (o, msg) => void warnings.push(`${msg} ${JSON.stringify(o)}`), error() {} },
    });
    expect(warnings.filter((w) => w.includes('rebuilding')).length).toBe(3);
    await expectLogIs(m, m.getLog(TOPIC, 0)!, template.batches);
  });

  test('a garbage tail in the active segment, zero-filled like a preallocated file, is cut', async () => {
    const { m, log } = await reopenDamaged(({ lastSegment }) => {
      const data = readFileSync(lastSegment);
      writeFileSync(lastSegment, Buffer.concat([data, Buffer.alloc(4096)]));
    });
    await expectLogIs(m, log, template.batches);
  });

  test('a partition directory whose segments are all gone reopens empty at its checkpointed log start', async () => {
    const { m, log } = await reopenDamaged(({ dir }) => {
      const pdir = `${dir}/${TOPIC}-0`;
      for (const f of readdirSync(pdir)) if (/\.(log|index|timeindex)$/.test(f)) unlinkSync(`${pdir}/${f}`);
      writeFileSync(`${dir}/log-start-offset-checkpoint`, `0\n1\n${TOPIC} 0 17\n`);
    });
    expect(log.logStartOffset).toBe(17);
    expect(log.logEndOffset).toBe(17);
    expect((await log.append(makeBatch(), { leaderEpoch: 1 })).baseOffset).toBe(17);
    await m.close();
  });
});
