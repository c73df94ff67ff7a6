/**
 * Child process of storage-cleaner-crash.test.ts: opens the log directory in CLEAN_LOG_DIR, then appends
 * keyed batches with acks=all semantics (sync: true) and cleans the log continuously (small segments, a
 * small dedupe buffer: many swaps), printing "ack <baseOffset> <key>=<value|~> ..." for each acknowledged
 * append and "cleaned" after each cleaning. Values are "<key>:<cycle>:<n>"; "~" is a tombstone. The parent
 * kills it with SIGKILL at a random moment.
 */
import { buildRecordBatch, Compression } from '../../protocol/records/index.js';
import { LogManager } from '../../storage/index.js';
import { rng } from './cleaner-helpers.js';
import { testConfig } from './storage-helpers.js';

const logDir = process.env.CLEAN_LOG_DIR;
const cycle = Number(process.env.CLEAN_CYCLE);
if (!logDir || !Number.isInteger(cycle)) throw new Error('CLEAN_LOG_DIR and CLEAN_CYCLE are required');

const manager = await LogManager.open({
  logDir,
  nodeId: 1,
  defaults: testConfig({ cleanupPolicy: 'compact', segmentBytes: 3000, indexIntervalBytes: 400, minCleanableDirtyRatio: 0 }),
  cacheBytes: 0,
  cleaner: { enable: false, dedupeBufferSize: 4096, ioBufferSize: 1024 },
});
const log = manager.getLog('crash', 0) ?? (await manager.createLog('crash', 0, 'crash-topic-id'));
const random = rng(cycle * 7919);
let n = 0;

async function producer(): Promise<never> {
  for (;;) {
    const count = 1 + Math.floor(random() * 5);
    const records = Array.from({ length: count }, () => {
      const key = `k${Math.floor(random() * 60)}`;
      return { key, value: random() < 0.1 ? null : `${key}:${cycle}:${n++}` };
    });
    const batch = await buildRecordBatch(
      records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })),
      { compression: random() < 0.5 ? Compression.none : Compression.lz4 },
    );
    const info = await log.append(batch, { leaderEpoch: cycle, sync: true });
    process.stdout.write(`ack ${info.baseOffset} ${records.map((r) => `${r.key}=${r.value ?? '~'}`).join(' ')}\n`);
  }
}

async function cleaner(): Promise<never> {
  for (;;) {
    if ((await manager.cleanNow('crash', 0)) > 0) process.stdout.write('cleaned\n');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

await Promise.all([producer(), producer(), cleaner()]);
