/**
 * Log cleaner benchmark (prints numbers, asserts nothing).
 *
 * A compacted log of `--mb` MiB (default 1024) of keyed records (20-byte keys, 200-byte values, uncompressed
 * batches of 100 records) in which every key was written 10 times, so 10% of the records are live, spread
 * over 64 MiB segments. One cleaning of all its closed segments (offset map, rewrite, swap, fsyncs), timed
 * beside a raw copy of the same segment files in the same run (1 MiB reads and writes, an fdatasync per
 * file, as the cleaner syncs what it writes). Also: the event-loop delay while the cleaner runs (it must not
 * block produce and fetch), the offset map's size, and a throttled cleaning
 * (log.cleaner.io.max.bytes.per.second) of a smaller log against its limit.
 *
 * Run: npx tsc -p . && npm run bench:cleaner [-- --mb 256 | --quick]   (--quick: 128 MiB)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildUncompressedBatch, type RecordInput } from '../protocol/records/index.js';
import { DEFAULT_LOG_CONFIG, LogManager, type PartitionLog } from '../storage/index.js';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const mbArg = args.indexOf('--mb');
const TOTAL_MB = args.includes('--quick') ? 128 : mbArg >= 0 ? Number(args[mbArg + 1]) : 1024;
if (!Number.isFinite(TOTAL_MB) || TOTAL_MB < 1) throw new Error(`--mb must be a number of MiB >= 1, got ${args[mbArg + 1]}`);
const SEGMENT_BYTES = 64 * MiB;
const RECORDS_PER_BATCH = 100;
const WRITES_PER_KEY = 10;
const VALUE = Buffer.alloc(200, 0x61);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-bench-cleaner-'));
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

function keyOf(k: number): Buffer {
  return Buffer.from(`key-${String(k).padStart(16, '0')}`);
}

/** Writes `totalBytes` of keyed batches; each key `WRITES_PER_KEY` times, in a shuffled order. */
async function fill(log: PartitionLog, totalBytes: number): Promise<{ records: number; keys: number }> {
  const recordBytes = buildUncompressedBatch([{ key: keyOf(0), value: VALUE }], { timestamp: 0 }).length - 61;
  const records = Math.floor(totalBytes / recordBytes);
  const keys = Math.max(1, Math.floor(records / WRITES_PER_KEY));
  let x = 2463534242;
  const random = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  // round r writes every key once, in a different order each round
  const order = Array.from({ length: keys }, (_, i) => i);
  let written = 0;
  let timestamp = 1_700_000_000_000;
  for (let round = 0; round < WRITES_PER_KEY && written < records; round++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = random(i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (let i = 0; i < order.length && written < records; i += RECORDS_PER_BATCH) {
      const batch: RecordInput[] = [];
      for (let j = i; j < Math.min(i + RECORDS_PER_BATCH, order.length); j++) batch.push({ key: keyOf(order[j] as number), value: VALUE, timestamp: timestamp++ });
      await log.append(buildUncompressedBatch(batch), { leaderEpoch: 0 });
      written += batch.length;
    }
  }
  // a new active segment: everything written is cleanable
  log.updateConfig({ segmentMs: 1 });
  await new Promise((r) => setTimeout(r, 5));
  await log.append(buildUncompressedBatch([{ key: keyOf(0), value: VALUE }]), { leaderEpoch: 0 });
  log.updateConfig({ segmentMs: DEFAULT_LOG_CONFIG.segmentMs });
  await log.flush();
  return { records: written, keys };
}

/** A raw copy of `files`: 1 MiB reads and writes, one fdatasync per file. Returns ms. */
function rawCopy(files: readonly string[], into: string): number {
  fs.mkdirSync(into, { recursive: true });
  const buf = Buffer.allocUnsafe(MiB);
  const start = performance.now();
  for (const file of files) {
    const src = fs.openSync(file, 'r');
    const dst = fs.openSync(path.join(into, path.basename(file)), 'w');
    let pos = 0;
    for (;;) {
      const n = fs.readSync(src, buf, 0, MiB, pos);
      if (n === 0) break;
      fs.writeSync(dst, buf, 0, n, pos);
      pos += n;
    }
    fs.fdatasyncSync(dst);
    fs.closeSync(src);
    fs.closeSync(dst);
  }
  return performance.now() - start;
}

async function cleaning(mb: number, ioMaxBytesPerSecond?: number): Promise<void> {
  const logDir = path.join(root, `log-${mb}-${ioMaxBytesPerSecond ?? 'unthrottled'}`);
  const m = await LogManager.open({
    logDir,
    nodeId: 1,
    defaults: { ...DEFAULT_LOG_CONFIG, cleanupPolicy: 'compact', segmentBytes: SEGMENT_BYTES, retentionMs: -1 },
    cacheBytes: 0,
    cleaner: { enable: false, ...(ioMaxBytesPerSecond ? { ioMaxBytesPerSecond } : {}) },
  });
  const log = await m.createLog('bench', 0, 'bench-topic-id');
  const writeStart = performance.now();
  const { records, keys } = await fill(log, mb * MiB);
  const writeMs = performance.now() - writeStart;
  const closed = log.segmentList.slice(0, -1);
  const inputBytes = closed.reduce((n, s) => n + s.size, 0);
  const files = closed.map((s) => s.logPath);
  console.log(`log: ${(inputBytes / MiB).toFixed(0)} MiB in ${closed.length} closed segments, ${records.toLocaleString('en')} records, ${keys.toLocaleString('en')} keys (${((keys / records) * 100).toFixed(0)}% live), written in ${(writeMs / 1000).toFixed(1)} s`);

  const copyMs = ioMaxBytesPerSecond ? 0 : rawCopy(files, path.join(root, `copy-${mb}`));
  // the event-loop delay of this process idle, as a baseline (the machine may be shared)
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 1000));
  idle.disable();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const start = performance.now();
  await m.cleanNow('bench', 0);
  const cleanMs = performance.now() - start;
  clearInterval(sampler);
  delay.disable();
  const stats = m.stats();
  const outputBytes = log.segmentList.slice(0, -1).reduce((n, s) => n + s.size, 0);
  const rate = mbps(inputBytes, cleanMs);
  if (ioMaxBytesPerSecond) {
    const moved = stats.cleanerBytesRead + stats.cleanerBytesWritten;
    console.log(`  throttled cleaning (limit ${(ioMaxBytesPerSecond / 1e6).toFixed(0)} MB/s of reads + writes): ${mbps(moved, cleanMs).toFixed(1)} MB/s of I/O, ${rate.toFixed(1)} MB/s of log cleaned`);
  } else {
    const copyRate = mbps(inputBytes, copyMs);
    console.log(`  cleaning                  ${rate.toFixed(0).padStart(6)} MB/s   (${(cleanMs / 1000).toFixed(2)} s; ${(rate / copyRate).toFixed(2)}x of the raw copy)`);
    console.log(`  raw copy of the same files ${copyRate.toFixed(0).padStart(5)} MB/s   (${(copyMs / 1000).toFixed(2)} s)`);
    console.log(`  output ${(outputBytes / MiB).toFixed(1)} MiB (${((outputBytes / inputBytes) * 100).toFixed(1)}% of the input), ${stats.cleanerRecordsRemoved.toLocaleString('en')} records removed, ${(stats.cleanerBytesReclaimed / MiB).toFixed(0)} MiB reclaimed`);
    console.log(`  cleaner read ${(stats.cleanerBytesRead / MiB).toFixed(0)} MiB (map + producers + rewrite), wrote ${(stats.cleanerBytesWritten / MiB).toFixed(0)} MiB`);
    const ms = (h: typeof delay, p: number): string => ((p === 100 ? h.max : h.percentile(p)) / 1e6 - 10).toFixed(1);
    console.log(`  event-loop delay past a 10 ms timer while cleaning: p50 ${ms(delay, 50)} ms, p99 ${ms(delay, 99)} ms, max ${ms(delay, 100)} ms (idle: p50 ${ms(idle, 50)}, p99 ${ms(idle, 99)}, max ${ms(idle, 100)} ms)`);
    console.log(`  RSS ${(rssBefore / MiB).toFixed(0)} MiB before, ${(peakRss / MiB).toFixed(0)} MiB peak (offset map of ${keys.toLocaleString('en')} keys: ~${((keys * 24) / 0.9 / MiB).toFixed(0)} MiB)`);
  }
  await m.close();
  fs.rmSync(logDir, { recursive: true, force: true });
}

try {
  console.log(`log cleaner, ${TOTAL_MB} MiB log with 10% live keys`);
  await cleaning(TOTAL_MB);
  console.log('throttled (log.cleaner.io.max.bytes.per.second = 20 MB/s), 32 MiB log');
  await cleaning(32, 20e6);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
