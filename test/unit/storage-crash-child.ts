/**
 * Child process of storage-crash.test.ts: opens the log directory given in CRASH_LOG_DIR, then appends
 * batches with acks=all semantics (sync: true) from a few concurrent producers forever, printing
 * "ack <baseOffset> <seed> <records> <payload> <epoch>" for each acknowledged append. The parent kills it
 * with SIGKILL at a random moment.
 */
import { LogManager } from '../../storage/index.js';
import { makeBatch, testConfig } from './storage-helpers.js';

const logDir = process.env.CRASH_LOG_DIR;
const cycle = Number(process.env.CRASH_CYCLE);
if (!logDir || !Number.isInteger(cycle)) throw new Error('CRASH_LOG_DIR and CRASH_CYCLE are required');

const manager = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig({ segmentBytes: 16 * 1024, indexIntervalBytes: 512 }) });
const log = manager.getLog('crash', 0) ?? (await manager.createLog('crash', 0, 'crash-topic-id'));
process.stdout.write(`ready ${log.logEndOffset}\n`);

let n = 0;
async function producer(): Promise<never> {
  for (;;) {
    const seed = cycle * 1_000_000 + n++;
    const records = 1 + (seed % 4);
    const payload = 50 + (seed % 7) * 300;
    const batch = makeBatch({ seed, records, payload, timestamp: 1_700_000_000_000 + seed });
    const info = await log.append(batch, { leaderEpoch: cycle, sync: true });
    process.stdout.write(`ack ${info.baseOffset} ${seed} ${records} ${payload} ${cycle}\n`);
  }
}
await Promise.all([producer(), producer(), producer()]);
