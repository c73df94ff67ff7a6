import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FaultyFs, LogManager } from '../../storage/index.js';
import { transpileForNode } from '../helpers/ts-child.js';
import { assertSameBatch, makeBatch, readAll, removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

let childScript = '';

/** The child runs plain node: its module graph is transpiled into a temp directory. */
beforeAll(() => {
  childScript = transpileForNode('test/unit/storage-crash-child.ts', tempLogDir());
});
afterAll(() => removeTempDirs());

interface Ack {
  offset: number;
  seed: number;
  records: number;
  payload: number;
  epoch: number;
}

/**
 * Runs the child and kills it with SIGKILL `delayMs` after its first acknowledgement or, with
 * `fromSpawn`, `delayMs` after it was started (possibly while it is still recovering).
 */
async function runAndKill(logDir: string, cycle: number, delayMs: number, fromSpawn: boolean): Promise<Ack[]> {
  const child = spawn(process.execPath, [childScript], { env: { ...process.env, CRASH_LOG_DIR: logDir, CRASH_CYCLE: String(cycle) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Ack[] = [];
  let stderr = '';
  let buffered = '';
  let killTimer: NodeJS.Timeout | undefined = fromSpawn ? setTimeout(() => child.kill('SIGKILL'), delayMs) : undefined;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() as string;
    for (const line of lines) {
      const [kind, ...f] = line.split(' ');
      if (kind === 'ack') {
        const [offset, seed, records, payload, epoch] = f.map(Number) as [number, number, number, number, number];
        acks.push({ offset, seed, records, payload, epoch });
        if (killTimer === undefined) killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    }
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // Lines written before the kill are still in the pipe.
  await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.on('end', () => resolve())));
  if (exit.signal !== 'SIGKILL') throw new Error(`child exited with ${exit.code}: ${stderr}`);
  return acks;
}

function expectedBytes(a: Ack): Buffer {
  const b = makeBatch({ seed: a.seed, records: a.records, payload: a.payload, timestamp: 1_700_000_000_000 + a.seed });
  b.writeBigInt64BE(BigInt(a.offset), 0);
  b.writeInt32BE(a.epoch, 12);
  return b;
}

test('kill -9 at random moments loses no acknowledged append: every acked offset is present with identical bytes', async () => {
  const logDir = tempLogDir();
  const acked: Ack[] = [];
  let rng = 12345;
  const random = (): number => ((rng = (rng * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let cycle = 1; cycle <= 20; cycle++) {
    // Every fourth cycle the kill comes at a random moment after the start, maybe during recovery.
    const fromSpawn = cycle % 4 === 3;
    acked.push(...(await runAndKill(logDir, cycle, Math.floor(random() * (fromSpawn ? 400 : 150)), fromSpawn)));
    // Reopen (recovery runs: the child never closed) and compare.
    const fs = new FaultyFs();
    const m = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig({ segmentBytes: 16 * 1024, indexIntervalBytes: 512 }), cacheBytes: 0, fs });
    const log = m.getLog('crash', 0)!;
    const stored = new Map((await readAll(log)).map((b) => [Number(b.readBigInt64BE(0)), b]));
    for (const a of acked) assertSameBatch(stored.get(a.offset), expectedBytes(a), `acknowledged offset ${a.offset} (cycle ${a.epoch})`);
    expect(log.logEndOffset).toBeGreaterThan(Math.max(...acked.map((a) => a.offset)));
    // Half the cycles close cleanly (the next child skips recovery), half are killed (kill -9: the writes
    // stay, the log directory's lock goes with the process) and leave recovery to the next start.
    if (cycle % 2 === 0) await m.close();
    else fs.kill();
  }
  expect(acked.length).toBeGreaterThan(100);
}, 300_000);
