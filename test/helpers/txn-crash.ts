/**
 * Transaction crash tests' tools:
 * - spawnTxnBroker: a broker process (txn-crash-child.ts, run by plain node over dist/) that dies at an exact
 *   step of a transaction's end: kill -9 or a power cut just before or after the write of the
 *   PrepareCommit/PrepareAbort record, of the first COMMIT/ABORT marker, or of the CompleteCommit/CompleteAbort
 *   record (see the child's opening comment); resolves once it listens, `exited` once it died;
 * - what the data directory holds, read from the files as a restarted broker would find them: the
 *   transaction markers of a partition (markersOnDisk) and the last state of each transactional id in
 *   `__transaction_state` (txnStatesOnDisk).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECORD_BATCH_OVERHEAD, entrySizeAt, iterateRecords, readBatchHeader, readTransactionMarker, LOG_OVERHEAD } from '../../protocol/records/index.js';
import { parseTransactionLogKey, parseTransactionLogValue } from '../../src/coordinator/transaction/transaction-log.js';
import { transactionStateOf, type TransactionState } from '../../src/coordinator/transaction/transaction-state.js';
import { repoRoot, track, type BrokerProcess } from './broker-process.js';
import type { TxnCrashChildOptions } from './txn-crash-child.js';
import { transpileForNode } from './ts-child.js';

export type { TxnCrashPoint } from './txn-crash-child.js';

let childDir: string | undefined;
let childScript: string | undefined;

/** Starts the broker process; `ensureBuilt()` (broker-process.ts) must have run. */
export function spawnTxnBroker(opts: TxnCrashChildOptions): Promise<BrokerProcess> {
  if (childScript === undefined) {
    childDir = mkdtempSync(join(tmpdir(), 'gregor-txn-child-'));
    childScript = transpileForNode('test/helpers/txn-crash-child.ts', childDir);
  }
  return track(spawn(process.execPath, [childScript], { cwd: repoRoot, env: childEnv(opts), stdio: ['ignore', 'pipe', 'pipe'] }), /ready: listening on [^\s:]+:(\d+)/);
}

function childEnv(opts: TxnCrashChildOptions): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GREGOR_'))),
    GREGOR_INDEX: join(repoRoot, 'dist/src/index.js'),
    GREGOR_STORAGE: join(repoRoot, 'dist/storage/index.js'),
    GREGOR_RECORDS: join(repoRoot, 'dist/protocol/records/index.js'),
    GREGOR_TXN_LOG: join(repoRoot, 'dist/src/coordinator/transaction/transaction-log.js'),
    GREGOR_TXN_CRASH: JSON.stringify(opts),
  };
}

/**
 * Runs the broker process until it exits (at its crash point, which a restarted broker may reach while it
 * still starts: completing a loaded transaction can come before its ready line); its exit and output.
 */
export async function runTxnBrokerToExit(opts: TxnCrashChildOptions, timeoutMs: number): Promise<{ exit: { code: number | null; signal: NodeJS.Signals | null } | undefined; output: string }> {
  if (childScript === undefined) {
    childDir = mkdtempSync(join(tmpdir(), 'gregor-txn-child-'));
    childScript = transpileForNode('test/helpers/txn-crash-child.ts', childDir);
  }
  const child = spawn(process.execPath, [childScript], { cwd: repoRoot, env: childEnv(opts), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([exited, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), timeoutMs)))]);
  clearTimeout(timer);
  if (exit === undefined) {
    child.kill('SIGKILL');
    await exited;
  }
  return { exit, output };
}

/** Removes the transpiled child (afterAll). */
export function removeTxnBrokerScript(): void {
  if (childDir !== undefined) rmSync(childDir, { recursive: true, force: true });
  childDir = undefined;
  childScript = undefined;
}

/** The batches of every segment of a partition directory, in offset order, with their bytes. */
function batchesOf(dir: string): Array<{ offset: number; buf: Buffer }> {
  if (!existsSync(dir)) return [];
  const out: Array<{ offset: number; buf: Buffer }> = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const file = readFileSync(join(dir, name));
    let pos = 0;
    while (file.length - pos >= LOG_OVERHEAD) {
      const size = entrySizeAt(file, pos);
      if (size < RECORD_BATCH_OVERHEAD || pos + size > file.length) break; // a torn tail: recovery cuts it
      out.push({ offset: Number(file.readBigInt64BE(pos)), buf: file.subarray(pos, pos + size) });
      pos += size;
    }
  }
  return out;
}

export interface MarkerOnDisk {
  readonly offset: number;
  readonly commit: boolean;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** The COMMIT/ABORT markers in a partition's files. */
export function markersOnDisk(dataDir: string, topic: string, partition: number): MarkerOnDisk[] {
  const out: MarkerOnDisk[] = [];
  for (const { offset, buf } of batchesOf(join(dataDir, `${topic}-${partition}`))) {
    const m = readTransactionMarker(buf);
    if (m) out.push({ offset, commit: m.commit, producerId: m.producerId, producerEpoch: m.producerEpoch });
  }
  return out;
}

/** The last state of each transactional id written to `__transaction_state` (any partition), as files hold it. */
export function txnStatesOnDisk(dataDir: string): Map<string, { state: TransactionState; producerId: number; producerEpoch: number }> {
  const out = new Map<string, { state: TransactionState; producerId: number; producerEpoch: number }>();
  if (!existsSync(dataDir)) return out;
  for (const dir of readdirSync(dataDir).filter((d) => d.startsWith('__transaction_state-'))) {
    for (const { buf } of batchesOf(join(dataDir, dir))) {
      const h = readBatchHeader(buf);
      for (const r of iterateRecords(h, buf.subarray(RECORD_BATCH_OVERHEAD))) {
        if (r.key === null) continue;
        const key = parseTransactionLogKey(r.key);
        if (key.kind !== 'transaction') continue;
        if (r.value === null) {
          out.delete(key.transactionalId);
          continue;
        }
        const v = parseTransactionLogValue(r.value);
        out.set(key.transactionalId, { state: transactionStateOf(v.transactionStatus), producerId: v.producerId, producerEpoch: v.producerEpoch });
      }
    }
  }
  return out;
}
