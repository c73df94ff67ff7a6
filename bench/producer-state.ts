/**
 * Producer state benchmark (prints numbers, asserts nothing): what the idempotent-producer checks cost per
 * append, beside PartitionLog.append alone (the baseline, measured in the same run), on a real log in a temp
 * directory (page cache, no fsync):
 * - a batch without a producer id through ProducerStateManager.append (the hook every Produce now takes);
 * - an idempotent batch (next sequence each time): check + append + record, given as bytes only (headers
 *   read by producer state and by the log) and as the produce pipeline gives it (with the header fields
 *   validation parsed, so neither reads them again);
 * - a retry of the last batch: found among the retained 5 and answered without an append;
 * - encoding a snapshot of 10,000 producers, and rebuilding state from a log of 100,000 idempotent
 *   batches (the cost of the first append to a partition after a crash).
 *
 * Run: npx tsc -p . && node dist/bench/producer-state.js
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildUncompressedBatch, readBatchHeader } from '../protocol/records/index.js';
import { createLogger } from '../src/logger.js';
import { encodeSnapshot } from '../src/produce/producer-snapshot.js';
import { ProducerStateManager } from '../src/produce/producer-state-manager.js';
import { checkAppend, producerBatchesFrom, producerBatchesOf, recordBatch, type ProducerTable } from '../src/produce/producer-state.js';
import type { PreparedBatch } from '../src/produce/validate.js';
import { DEFAULT_LOG_CONFIG, LogManager, type PartitionLog } from '../storage/index.js';
import { measure, measureAsync } from './measure.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-bench-producer-state-'));
const logger = createLogger('silent', false);
const us = (s: number): string => `${(s * 1e6).toFixed(2).padStart(8)} us`;

async function openLog(dir: string): Promise<{ manager: LogManager; log: PartitionLog }> {
  const manager = await LogManager.open({ logDir: path.join(root, dir), nodeId: 1, defaults: { ...DEFAULT_LOG_CONFIG, retentionMs: -1 } });
  return { manager, log: manager.getLog('bench', 0) ?? (await manager.createLog('bench', 0, 'AAAAAAAAAAAAAAAAAAAAAw')) };
}

/** One record of 100 bytes; with a producer id when `producerId` is given (sequence patched per append). */
function template(producerId?: number): Buffer {
  return buildUncompressedBatch([{ key: null, value: Buffer.alloc(100, 7), timestamp: Date.now() }], producerId === undefined ? {} : { producerId, producerEpoch: 0, baseSequence: 0 });
}

/** Best seconds per call of each function, measured in alternating rounds (the machine is shared: drift hits both). */
async function interleaved(fns: ReadonlyArray<() => Promise<unknown>>, rounds = 5): Promise<number[]> {
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) best[i] = Math.min(best[i]!, await measureAsync(fn, 300, 1));
  }
  return best;
}

async function appendCosts(): Promise<void> {
  const { manager, log } = await openLog('append');
  const states = new ProducerStateManager({ logger, expirationMs: 86_400_000, expirationCheckIntervalMs: 600_000 });
  const plain = template();
  const idempotent = template(1);
  const opts = { leaderEpoch: 0 };
  let seq = 0;
  /** The producer's next batch: a fresh copy (append patches its input and the batch cache keeps it). */
  const next = (): Buffer => {
    const b = Buffer.from(idempotent);
    b.writeInt32BE(seq++, 53); // baseSequence (the log does not check CRCs on append)
    return b;
  };
  const h = readBatchHeader(idempotent);
  /** What validation hands on for the producer's next batch (the produce pipeline's path). */
  const described = (): PreparedBatch[] => [
    {
      position: 0,
      size: idempotent.length,
      lastOffsetDelta: h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
      recordCount: h.recordCount,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: seq,
      attributes: h.attributes,
    },
  ];
  await states.append(log, next(), opts);
  const [base, hookPlain, hookIdem, hookPipeline] = await interleaved([
    () => log.append(Buffer.from(plain), opts),
    () => states.append(log, Buffer.from(plain), opts),
    () => states.append(log, next(), opts),
    () => {
      const batches = described();
      return states.append(log, next(), { leaderEpoch: 0, batches });
    },
  ]);
  const retry = Buffer.from(idempotent);
  retry.writeInt32BE(seq - 1, 53);
  const duplicate = await measureAsync(() => states.append(log, Buffer.from(retry), opts));

  // The synchronous work the hook adds to an idempotent append, alone: header read, checks, bookkeeping.
  const table: ProducerTable = new Map();
  let s = 0;
  const batch = Buffer.from(idempotent);
  const checks = measure(() => {
    batch.writeInt32BE(s, 53);
    const found = producerBatchesOf(batch);
    checkAppend(table, found, s, 'bench-0');
    for (const b of found) recordBatch(table, b.producerId, b.epoch, b.firstSeq, b.lastSeq, s, s, b.maxTimestamp);
    s++;
  });
  const fields = { ...h };
  const checksFromFields = measure(() => {
    fields.baseSequence = s;
    const found = producerBatchesFrom([fields]);
    checkAppend(table, found, s, 'bench-0');
    for (const b of found) recordBatch(table, b.producerId, b.epoch, b.firstSeq, b.lastSeq, s, s, b.maxTimestamp);
    s++;
  });
  console.log('per append of a 1-record batch (page cache, no fsync; best of 5 alternating rounds):');
  console.log(`  PartitionLog.append, no producer id            ${us(base!)}   (baseline)`);
  console.log(`  ProducerStateManager.append, no producer id    ${us(hookPlain!)}   ${(hookPlain! / base!).toFixed(2)}x baseline`);
  console.log(`  ProducerStateManager.append, idempotent        ${us(hookIdem!)}   ${(hookIdem! / base!).toFixed(2)}x baseline`);
  console.log(`    the same with validation's batches (pipeline)${us(hookPipeline!)}   ${(hookPipeline! / base!).toFixed(2)}x baseline`);
  console.log(`  retry of the last batch (duplicate, no append) ${us(duplicate)}`);
  console.log(`  checks + bookkeeping alone (idempotent batch)  ${us(checks)}`);
  console.log(`    the same from validation's fields            ${us(checksFromFields)}`);
  await states.close();
  await manager.close();
}

async function snapshotAndRebuild(): Promise<void> {
  const table: ProducerTable = new Map();
  for (let p = 0; p < 10_000; p++) for (let b = 0; b < 5; b++) recordBatch(table, p, 0, b * 10, b * 10 + 9, p * 50 + b * 10, p * 50 + b * 10 + 9, Date.now());
  const encode = measure(() => encodeSnapshot(table), 500, 3);
  console.log(`snapshot of 10,000 producers x 5 batches: ${encodeSnapshot(table).length} bytes, encoded in ${(encode * 1000).toFixed(2)} ms`);

  const { manager, log } = await openLog('rebuild');
  const batches = 100_000;
  const t = template(2);
  for (let i = 0; i < batches; i++) {
    const b = Buffer.from(t);
    b.writeInt32BE(i, 53);
    await log.append(b, { leaderEpoch: 0 });
  }
  const states = new ProducerStateManager({ logger, expirationMs: 86_400_000, expirationCheckIntervalMs: 600_000 });
  const start = performance.now();
  await states.producersOf(log);
  const ms = performance.now() - start;
  console.log(`rebuild from ${batches.toLocaleString('en')} batches (${(log.sizeInBytes / 1e6).toFixed(1)} MB, no snapshot): ${ms.toFixed(0)} ms, ${((batches / ms) * 1000).toFixed(0)} batches/s`);
  await states.close();
  await manager.close();
}

try {
  await appendCosts();
  await snapshotAndRebuild();
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
