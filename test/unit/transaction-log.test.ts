/**
 * The transaction-aware log on real partition logs in temp directories: ongoing transactions opened by
 * transactional batches and completed by COMMIT/ABORT markers (appendTxnMarker), the last stable offset,
 * the marker checks (producer epoch, coordinator epoch), the `.txnindex` of aborted transactions (Kafka's
 * 34-byte entries) and collectAbortedTransactions, and what survives a restart: snapshots carrying the
 * ongoing transactions (version 2, version 1 still read), and a rebuild from the log alone (no snapshot,
 * no .txnindex).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { buildRecordBatch, crc32c, writeInt64 } from '../../protocol/records/index.js';
import { createLogger } from '../../src/logger.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/produce/producer-snapshot.js';
import { ProducerStateManager } from '../../src/produce/producer-state-manager.js';
import { recordBatch, type ProducerTable } from '../../src/produce/producer-state.js';
import { ProduceValidationError } from '../../src/produce/validate.js';
import { LogManager, type PartitionLog } from '../../storage/index.js';
import { ABORTED_TXN_SIZE, decodeAbortedTxns, encodeAbortedTxn } from '../../storage/transaction-index.js';
import { removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const logger = createLogger('silent', false);
const DAY = 86_400_000;

function batch(producerId: number, epoch: number, seq: number, n = 1, transactional = true): Promise<Buffer> {
  const records = Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${producerId}/${seq + i}`), timestamp: Date.now() }));
  return buildRecordBatch(records, { producerId, producerEpoch: epoch, baseSequence: seq, transactional });
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProduceValidationError) return err.code;
    throw err;
  }
  return undefined;
}

const managers: LogManager[] = [];
const states: ProducerStateManager[] = [];
afterEach(async () => {
  for (const s of states.splice(0)) await s.close();
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
});

async function openLog(logDir: string, config: Parameters<typeof testConfig>[0] = {}): Promise<PartitionLog> {
  const m = await LogManager.open({ logDir, nodeId: 1, defaults: testConfig(config) });
  managers.push(m);
  return m.getLog('t', 0) ?? (await m.createLog('t', 0, ''));
}
function manager(verify = true): ProducerStateManager {
  const s = new ProducerStateManager({ logger, expirationMs: DAY, expirationCheckIntervalMs: 60_000, ...(verify ? { verifyTransaction: () => ErrorCode.NONE } : {}) });
  states.push(s);
  return s;
}
async function closeAll(opts: { snapshot: boolean }): Promise<void> {
  if (opts.snapshot) for (const s of states.splice(0)) await s.close();
  else states.splice(0);
  for (const m of managers.splice(0)) await m.close();
}
const txnIndexes = (log: PartitionLog): string[] => readdirSync(log.dir).filter((n) => n.endsWith('.txnindex')).sort();
const E0 = { leaderEpoch: 0 };

describe('ongoing transactions and the last stable offset', () => {
  it('a transaction begins at its first transactional batch, holds the LSO there, and ends with its marker', async () => {
    const log = await openLog(tempLogDir());
    const s = manager();
    expect(await s.lastStableOffset(log)).toBe(0);
    await s.append(log, await batch(1, 0, 0, 2), E0); // 0-1: producer 1's transaction
    await s.append(log, await batch(2, 0, 0, 1, false), E0); // 2: plain idempotent
    await s.append(log, await batch(3, 0, 0, 1), E0); // 3: producer 3's transaction
    await s.append(log, await batch(1, 0, 2, 1), E0); // 4: producer 1 again (its transaction began at 0)
    expect(await s.lastStableOffset(log)).toBe(0);
    expect([...(await s.ongoingTransactions(log))]).toEqual([
      [1, 0],
      [3, 3],
    ]);
    const commit = await s.appendTxnMarker(log, { commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 5 }, E0);
    expect(commit).toEqual({ offset: 5, completed: { producerId: 1, firstOffset: 0, lastOffset: 5, aborted: false }, lastStableOffset: 3 });
    expect(s.lastStableOffsetIfLoaded(log)).toBe(3);
    const abort = await s.appendTxnMarker(log, { commit: false, producerId: 3, producerEpoch: 0, coordinatorEpoch: 5 }, E0);
    expect(abort).toMatchObject({ offset: 6, completed: { firstOffset: 3, lastOffset: 6, aborted: true }, lastStableOffset: 7 });
    expect(log.highWatermark).toBe(7);
    const table = await s.producersOf(log);
    expect(table.get(1)).toMatchObject({ coordinatorEpoch: 5, currentTxnFirstOffset: -1 });
    // a commit is not indexed; the abort is, with the LSO it left (no other transaction: marker + 1)
    expect(log.collectAbortedTransactions(0, 7)).toEqual([{ producerId: 3, firstOffset: 3, lastOffset: 6, lastStableOffset: 7 }]);
    expect(txnIndexes(log)).toEqual(['00000000000000000000.txnindex']);
    expect(decodeAbortedTxns(readFileSync(`${log.dir}/00000000000000000000.txnindex`))).toEqual({
      entries: [{ producerId: 3, firstOffset: 3, lastOffset: 6, lastStableOffset: 7 }],
      problem: null,
    });
  });

  it('an abort while another transaction is ongoing records that transaction first offset as its LSO', async () => {
    const log = await openLog(tempLogDir());
    const s = manager();
    await s.append(log, await batch(1, 0, 0, 1), E0); // 0
    await s.append(log, await batch(2, 0, 0, 1), E0); // 1
    await s.appendTxnMarker(log, { commit: false, producerId: 2, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 2
    expect(log.collectAbortedTransactions(0, 3)).toEqual([{ producerId: 2, firstOffset: 1, lastOffset: 2, lastStableOffset: 0 }]);
    expect(await s.lastStableOffset(log)).toBe(0);
    // an abort of a producer with nothing in this partition completes an empty transaction at the marker
    const empty = await s.appendTxnMarker(log, { commit: false, producerId: 9, producerEpoch: 0, coordinatorEpoch: 0 }, E0);
    expect(empty.completed).toEqual({ producerId: 9, firstOffset: 3, lastOffset: 3, aborted: true });
    await s.appendTxnMarker(log, { commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 4
    expect(await s.lastStableOffset(log)).toBe(5);
  });

  it('refuses a transactional batch without a coordinator verdict, plain writes inside a transaction, and stale markers', async () => {
    const log = await openLog(tempLogDir());
    expect(await codeOf(manager(false).append(log, await batch(1, 0, 0), E0))).toBe(ErrorCode.INVALID_TXN_STATE);
    const s = manager();
    await s.append(log, await batch(1, 3, 0), E0);
    expect(await codeOf(s.append(log, await batch(1, 3, 1, 1, false), E0))).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await codeOf(s.appendTxnMarker(log, { commit: true, producerId: 1, producerEpoch: 2, coordinatorEpoch: 0 }, E0))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // a marker with a bumped epoch (the coordinator fenced the producer) ends the transaction
    await s.appendTxnMarker(log, { commit: false, producerId: 1, producerEpoch: 4, coordinatorEpoch: 7 }, E0);
    expect(await codeOf(s.appendTxnMarker(log, { commit: false, producerId: 1, producerEpoch: 4, coordinatorEpoch: 6 }, E0))).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    expect(log.logEndOffset).toBe(2);
    expect((await s.producersOf(log)).get(1)).toMatchObject({ epoch: 4, coordinatorEpoch: 7, currentTxnFirstOffset: -1, batches: [] });
    // the old epoch's data is fenced now
    expect(await codeOf(s.append(log, await batch(1, 3, 1), E0))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });
});

describe('restarts', () => {
  it('a snapshot at close carries the ongoing transaction: the LSO is where it was', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let s = manager();
    await s.append(log, await batch(7, 0, 0, 1, false), E0); // 0
    await s.append(log, await batch(8, 1, 0, 2), E0); // 1-2
    await closeAll({ snapshot: true });
    log = await openLog(dir);
    s = manager();
    expect(await s.lastStableOffset(log)).toBe(1);
    expect((await s.producersOf(log)).get(8)).toMatchObject({ epoch: 1, currentTxnFirstOffset: 1 });
    await s.appendTxnMarker(log, { commit: false, producerId: 8, producerEpoch: 1, coordinatorEpoch: 0 }, E0);
    expect(await s.lastStableOffset(log)).toBe(4);
    expect(log.collectAbortedTransactions(0, 4)).toEqual([{ producerId: 8, firstOffset: 1, lastOffset: 3, lastStableOffset: 4 }]);
  });

  it('without snapshots or .txnindex files, the replay of the log rebuilds the ongoing transactions and the aborted index', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir, { segmentBytes: 300 });
    let s = manager();
    for (let i = 0; i < 4; i++) {
      await s.append(log, await batch(10 + i, 0, 0, 2), E0);
      await s.appendTxnMarker(log, { commit: i % 2 === 1, producerId: 10 + i, producerEpoch: 0, coordinatorEpoch: 1 }, E0);
    }
    await s.append(log, await batch(20, 0, 0, 1), E0);
    const aborted = log.collectAbortedTransactions(0, log.logEndOffset);
    expect(aborted.map((t) => t.producerId)).toEqual([10, 12]);
    const lso = await s.lastStableOffset(log);
    expect(lso).toBe(12);
    expect(log.segmentCount).toBeGreaterThan(1);
    const before = txnIndexes(log);
    expect(before.length).toBe(2);
    await closeAll({ snapshot: false });
    for (const n of readdirSync(`${dir}/t-0`)) if (n.endsWith('.snapshot') || n.endsWith('.txnindex')) rmSync(`${dir}/t-0/${n}`);

    log = await openLog(dir, { segmentBytes: 300 });
    s = manager();
    expect(await s.lastStableOffset(log)).toBe(12);
    expect(log.collectAbortedTransactions(0, log.logEndOffset)).toEqual(aborted);
    expect(txnIndexes(log)).toEqual(before);
    // replaying again (a second restart) writes nothing twice
    const sizes = before.map((n) => readFileSync(`${log.dir}/${n}`).length);
    await closeAll({ snapshot: false });
    for (const n of readdirSync(`${dir}/t-0`)) if (n.endsWith('.snapshot')) rmSync(`${dir}/t-0/${n}`);
    log = await openLog(dir, { segmentBytes: 300 });
    s = manager();
    await s.lastStableOffset(log);
    expect(before.map((n) => readFileSync(`${log.dir}/${n}`).length)).toEqual(sizes);
  });

  it('after an unclean shutdown, replay starts at or below the recovery point: aborts whose index entry was lost come back', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let s = manager();
    await s.append(log, await batch(1, 0, 0, 2), E0); // 0-1
    await s.appendTxnMarker(log, { commit: false, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 2
    await s.append(log, await batch(2, 0, 0, 1), E0); // 3, ongoing
    await closeAll({ snapshot: true });
    expect(readdirSync(`${dir}/t-0`)).toContain('00000000000000000004.snapshot');
    // as a power loss could leave it: the .log kept, the index entry and the clean-shutdown marker not, the
    // recovery point still at 0
    rmSync(`${dir}/t-0/00000000000000000000.txnindex`);
    rmSync(`${dir}/.kafka_cleanshutdown`);
    writeFileSync(`${dir}/recovery-point-offset-checkpoint`, '0\n1\nt 0 0\n');
    log = await openLog(dir);
    s = manager();
    expect(await s.lastStableOffset(log)).toBe(3);
    expect(log.collectAbortedTransactions(0, 4)).toEqual([{ producerId: 1, firstOffset: 0, lastOffset: 2, lastStableOffset: 3 }]);
  });

  it('truncation drops the aborts whose markers it removes', async () => {
    const log = await openLog(tempLogDir());
    const s = manager();
    await s.append(log, await batch(1, 0, 0), E0); // 0
    await s.appendTxnMarker(log, { commit: false, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 1
    await s.append(log, await batch(2, 0, 0), E0); // 2
    await s.appendTxnMarker(log, { commit: false, producerId: 2, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 3
    expect(log.collectAbortedTransactions(0, 4).length).toBe(2);
    await log.truncateTo(3);
    expect(log.collectAbortedTransactions(0, 3)).toEqual([{ producerId: 1, firstOffset: 0, lastOffset: 1, lastStableOffset: 2 }]);
    expect(readFileSync(`${log.dir}/00000000000000000000.txnindex`).length).toBe(ABORTED_TXN_SIZE);
    // producer 2's transaction is open again: its marker is gone
    expect(await s.lastStableOffset(log)).toBe(2);
  });

  it('retention deletes a segment with its .txnindex', async () => {
    const log = await openLog(tempLogDir(), { segmentBytes: 200, retentionBytes: 1, fileDeleteDelayMs: 0 });
    const s = manager();
    await s.append(log, await batch(1, 0, 0, 2), E0);
    await s.appendTxnMarker(log, { commit: false, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 }, E0);
    for (let i = 0; i < 3; i++) await s.append(log, await batch(2, 0, i * 2, 2, false), E0);
    expect(existsSync(`${log.dir}/00000000000000000000.txnindex`)).toBe(true);
    expect(await log.applyRetention()).toBeGreaterThan(0);
    for (let i = 0; i < 100 && readdirSync(log.dir).some((n) => n.startsWith('00000000000000000000.txnindex')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(log.dir).filter((n) => n.startsWith('00000000000000000000.'))).toEqual([]);
  });
});

describe('the log start moving', () => {
  it('DeleteRecords past a transaction whose data is all below it ends it here; one with data above holds the LSO at the log start', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let s = manager();
    await s.append(log, await batch(1, 0, 0, 2), E0); // 0-1: producer 1's transaction, nothing more of it
    await s.append(log, await batch(2, 0, 0, 1), E0); // 2: producer 2's transaction...
    await s.append(log, await batch(3, 0, 0, 1, false), E0); // 3: plain idempotent
    await s.append(log, await batch(2, 0, 1, 1), E0); // 4: ...continues here
    await s.appendTxnMarker(log, { commit: false, producerId: 9, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 5: an empty abort
    expect(await s.lastStableOffset(log)).toBe(0);
    expect(log.collectAbortedTransactions(0, 6)).toEqual([{ producerId: 9, firstOffset: 5, lastOffset: 5, lastStableOffset: 0 }]);

    await log.deleteRecordsBefore(3);
    // producer 1 is gone from the ongoing transactions; producer 2's began at 2 but has data at 4
    expect([...(await s.ongoingTransactions(log))]).toEqual([[2, 2]]);
    expect(await s.lastStableOffset(log)).toBe(3);
    const producers = await s.producersOf(log);
    expect(producers.get(1)).toMatchObject({ epoch: 0, currentTxnFirstOffset: -1 });
    expect(producers.get(3)?.batches.map((b) => b.firstOffset)).toEqual([3]); // idempotent state as before
    await log.deleteRecordsBefore(5);
    expect([...(await s.ongoingTransactions(log))]).toEqual([]);
    expect(await s.lastStableOffset(log)).toBe(6);
    await log.deleteRecordsBefore(6);
    // the empty abort's entry is still in the first segment's .txnindex, but below the log start
    expect(readFileSync(`${log.dir}/00000000000000000000.txnindex`).length).toBe(ABORTED_TXN_SIZE);
    expect(log.collectAbortedTransactions(0, 6)).toEqual([]);

    // producer 1's marker still comes: it completes an empty transaction at the marker
    const abort = await s.appendTxnMarker(log, { commit: false, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 }, E0); // 6
    expect(abort.completed).toEqual({ producerId: 1, firstOffset: 6, lastOffset: 6, aborted: true });
    await s.append(log, await batch(4, 0, 0, 1), E0); // 7: ongoing
    await closeAll({ snapshot: true });

    log = await openLog(dir);
    expect(log.logStartOffset).toBe(6);
    s = manager();
    expect(await s.lastStableOffset(log)).toBe(7);
    expect(log.collectAbortedTransactions(0, 8)).toEqual([{ producerId: 1, firstOffset: 6, lastOffset: 6, lastStableOffset: 7 }]);
  });

  it('after a restart, a snapshot below the log start names a transaction whose data is gone: it is not ongoing', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let s = manager();
    await s.append(log, await batch(1, 0, 0, 2), E0); // 0-1
    await s.append(log, await batch(2, 0, 0, 1, false), E0); // 2
    await closeAll({ snapshot: true }); // snapshot at 3 names producer 1's transaction at 0
    expect(readdirSync(`${dir}/t-0`)).toContain('00000000000000000003.snapshot');
    log = await openLog(dir);
    // moved with no producer state loaded, so no listener saw it
    await log.deleteRecordsBefore(2);
    await closeAll({ snapshot: false });

    log = await openLog(dir);
    expect(log.logStartOffset).toBe(2);
    s = manager();
    expect(await s.lastStableOffset(log)).toBe(3);
    expect([...(await s.ongoingTransactions(log))]).toEqual([]);
  });

  it('retention deleting the segments of a hanging transaction moves the LSO on', async () => {
    const log = await openLog(tempLogDir(), { segmentBytes: 200, retentionBytes: 1, fileDeleteDelayMs: 0 });
    const s = manager();
    await s.append(log, await batch(1, 0, 0, 2), E0); // 0-1: never completed
    for (let i = 0; i < 3; i++) await s.append(log, await batch(2, 0, i * 2, 2, false), E0);
    expect(await s.lastStableOffset(log)).toBe(0);
    expect(await log.applyRetention()).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeGreaterThan(1);
    expect(await s.lastStableOffset(log)).toBe(log.highWatermark);
    expect(s.lastStableOffsetIfLoaded(log)).toBe(log.highWatermark);
  });
});

describe('file formats', () => {
  it('AbortedTxn entries are 34 bytes: version 0, producer id, first offset, last offset, LSO', () => {
    const bytes = encodeAbortedTxn({ producerId: 2 ** 40, firstOffset: 5, lastOffset: 9, lastStableOffset: 10 });
    expect(bytes.toString('hex')).toBe('0000' + '0000010000000000' + '0000000000000005' + '0000000000000009' + '000000000000000a');
    const torn = Buffer.concat([bytes, bytes.subarray(0, 10)]);
    expect(decodeAbortedTxns(torn)).toEqual({ entries: [{ producerId: 2 ** 40, firstOffset: 5, lastOffset: 9, lastStableOffset: 10 }], problem: '10 bytes after the last whole entry' });
  });

  it('snapshots (version 2) carry the coordinator epoch and the ongoing transaction; version 1 still loads', () => {
    const table: ProducerTable = new Map();
    recordBatch(table, 3, 1, 0, 4, 10, 14, 111, true);
    recordBatch(table, 4, 0, 0, 0, 15, 15, 222);
    table.get(4)!.coordinatorEpoch = 9;
    const decoded = decodeSnapshot(encodeSnapshot(table));
    expect(decoded).toEqual([...table.values()]);
    expect(decoded[0]).toMatchObject({ currentTxnFirstOffset: 10, coordinatorEpoch: -1 });
    expect(decoded[1]).toMatchObject({ currentTxnFirstOffset: -1, coordinatorEpoch: 9 });
    // a version 1 file: one producer, one batch
    const v1 = Buffer.alloc(10 + 19 + 32);
    v1.writeInt16BE(1, 0);
    v1.writeInt32BE(1, 6);
    writeInt64(v1, 10, 3);
    v1.writeInt16BE(1, 18);
    writeInt64(v1, 20, 111);
    v1.writeInt8(1, 28);
    v1.writeInt32BE(0, 29);
    v1.writeInt32BE(4, 33);
    writeInt64(v1, 37, 10);
    writeInt64(v1, 45, 14);
    writeInt64(v1, 53, 111);
    v1.writeUInt32BE(crc32c(v1.subarray(6)) >>> 0, 2);
    expect(decodeSnapshot(v1)).toEqual([{ producerId: 3, epoch: 1, lastTimestamp: 111, batches: [{ firstSeq: 0, lastSeq: 4, firstOffset: 10, lastOffset: 14, timestamp: 111 }], coordinatorEpoch: -1, currentTxnFirstOffset: -1 }]);

  });
});
