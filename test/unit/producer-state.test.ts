/**
 * Producer state: sequence arithmetic, the checks of one append, the snapshot file format, and the manager
 * on real partition logs in temp directories (rebuild from the log, snapshots that are corrupt, past the
 * log end or of expired producers, truncation, concurrent first appends), plus OffsetForLeaderEpoch's view
 * of a leader epoch cache with several epochs.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { endOffsetForEpoch } from '../../src/handlers/offset-for-leader-epoch.js';
import { createLogger } from '../../src/logger.js';
import { decodeSnapshot, encodeSnapshot, parseSnapshotFileName, SnapshotFormatError, snapshotFileName } from '../../src/produce/producer-snapshot.js';
import { ProducerStateManager } from '../../src/produce/producer-state-manager.js';
import {
  checkAppend,
  decrementSequence,
  inSequence,
  incrementSequence,
  MAX_SEQUENCE,
  producerBatchesOf,
  recordBatch,
  type ProducerTable,
} from '../../src/produce/producer-state.js';
import { ProduceValidationError } from '../../src/produce/validate.js';
import { FaultyFs, LogManager, type PartitionLog } from '../../storage/index.js';
import { removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const logger = createLogger('silent', false);
const DAY = 86_400_000;

function batch(producerId: number, epoch: number, seq: number, n = 1, opts: { timestamp?: number; transactional?: boolean } = {}): Promise<Buffer> {
  const timestamp = opts.timestamp ?? Date.now();
  const records = Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${producerId}/${epoch}/${seq + i}`), timestamp }));
  return buildRecordBatch(records, { producerId, producerEpoch: epoch, baseSequence: seq, transactional: opts.transactional ?? false });
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProduceValidationError) return err.code;
    throw err;
  }
  return undefined;
}

describe('sequence numbers', () => {
  it('wrap from 2147483647 to 0 forwards and backwards', () => {
    expect(incrementSequence(5, 3)).toBe(8);
    expect(incrementSequence(MAX_SEQUENCE - 1, 1)).toBe(MAX_SEQUENCE);
    expect(incrementSequence(MAX_SEQUENCE - 1, 2)).toBe(0);
    expect(incrementSequence(MAX_SEQUENCE, 5)).toBe(4);
    expect(decrementSequence(4, 5)).toBe(MAX_SEQUENCE);
    expect(decrementSequence(8, 3)).toBe(5);
    expect(inSequence(MAX_SEQUENCE, 0)).toBe(true);
    expect(inSequence(-1, 0)).toBe(true);
    expect(inSequence(3, 5)).toBe(false);
  });
});

describe('checkAppend', () => {
  it('finds a duplicate only with the same epoch and exactly the same sequence range', async () => {
    const table: ProducerTable = new Map();
    recordBatch(table, 7, 1, 0, 2, 10, 12, 1000);
    const dup = checkAppend(table, producerBatchesOf(await batch(7, 1, 0, 3)), 20, 't-0');
    expect(dup).toEqual({ firstSeq: 0, lastSeq: 2, firstOffset: 10, lastOffset: 12, timestamp: 1000 });
    expect(checkAppend(table, producerBatchesOf(await batch(7, 1, 3, 1)), 20, 't-0')).toBeUndefined();
    const overlapping = producerBatchesOf(await batch(7, 1, 1, 2));
    expect(codeOf(() => checkAppend(table, overlapping, 20, 't-0'))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const staleEpoch = producerBatchesOf(await batch(7, 0, 0, 3));
    expect(codeOf(() => checkAppend(table, staleEpoch, 20, 't-0'))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('checks each batch of a multi-batch append against the ones before it', async () => {
    const table: ProducerTable = new Map();
    const ok = Buffer.concat([await batch(9, 0, 0, 2), await batch(9, 0, 2, 2)]);
    expect(checkAppend(table, producerBatchesOf(ok), 0, 't-0')).toBeUndefined();
    expect(table.size).toBe(0);
    const gap = Buffer.concat([await batch(9, 0, 0, 2), await batch(9, 0, 3, 1)]);
    recordBatch(table, 9, 0, 0, 0, 0, 0, 0);
    expect(codeOf(() => checkAppend(table, producerBatchesOf(gap), 1, 't-0'))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  it('rejects a transactional batch before looking at its epoch and sequence', async () => {
    const table: ProducerTable = new Map();
    recordBatch(table, 3, 5, 0, 0, 0, 0, 0);
    const transactional = producerBatchesOf(await batch(3, 1, 9, 1, { transactional: true }));
    expect(codeOf(() => checkAppend(table, transactional, 1, 't-0'))).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('answers the error the verification names for a transactional batch (a fenced producer: INVALID_PRODUCER_EPOCH)', async () => {
    const table: ProducerTable = new Map();
    const transactional = producerBatchesOf(await batch(3, 1, 0, 1, { transactional: true }));
    expect(codeOf(() => checkAppend(table, transactional, 0, 't-0', () => ErrorCode.INVALID_PRODUCER_EPOCH))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(codeOf(() => checkAppend(table, transactional, 0, 't-0', () => ErrorCode.TRANSACTION_ABORTABLE))).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(checkAppend(table, transactional, 0, 't-0', () => ErrorCode.NONE)).toBeUndefined();
  });

  it('ignores batches without a producer id', async () => {
    const plain = await buildRecordBatch([{ key: null, value: Buffer.from('x') }]);
    expect(producerBatchesOf(plain)).toEqual([]);
  });
});

describe('snapshot file format', () => {
  const table: ProducerTable = new Map();
  recordBatch(table, 1, 0, 0, 4, 0, 4, 111);
  recordBatch(table, 1, 0, 5, 5, 5, 5, 222);
  recordBatch(table, 2 ** 40, 7, MAX_SEQUENCE, 1, 6, 8, 333);

  it('round-trips every producer with its epoch, timestamp and retained batches', () => {
    const decoded = decodeSnapshot(encodeSnapshot(table));
    expect(decoded).toEqual([...table.values()]);
    expect(decodeSnapshot(encodeSnapshot(new Map()))).toEqual([]);
  });

  it('refuses a flipped byte, a truncated file, trailing bytes and an unknown version', () => {
    const good = encodeSnapshot(table);
    for (let i = 2; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x10;
      expect(() => decodeSnapshot(bad), `byte ${i}`).toThrow(SnapshotFormatError);
    }
    for (let n = 0; n < good.length; n++) expect(() => decodeSnapshot(good.subarray(0, n))).toThrow(SnapshotFormatError);
    expect(() => decodeSnapshot(Buffer.concat([good, Buffer.alloc(1)]))).toThrow(SnapshotFormatError);
    const v2 = Buffer.from(good);
    v2.writeInt16BE(3, 0);
    expect(() => decodeSnapshot(v2)).toThrow(/unknown snapshot version 3/);
  });

  it('names files by their 20-digit offset', () => {
    expect(snapshotFileName(1234)).toBe('00000000000000001234.snapshot');
    expect(parseSnapshotFileName('00000000000000001234.snapshot')).toBe(1234);
    expect(parseSnapshotFileName('00000000000000001234.snapshot.deleted')).toBeNull();
    expect(parseSnapshotFileName('00000000000000001234.log')).toBeNull();
  });
});

describe('ProducerStateManager on real logs', () => {
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
  function manager(expirationMs = DAY, fs?: FaultyFs): ProducerStateManager {
    const s = new ProducerStateManager({ logger, expirationMs, expirationCheckIntervalMs: 60_000, ...(fs ? { fs } : {}) });
    states.push(s);
    return s;
  }
  async function closeAll(opts: { snapshot: boolean }): Promise<void> {
    if (opts.snapshot) for (const s of states.splice(0)) await s.close();
    else states.splice(0);
    for (const m of managers.splice(0)) await m.close();
  }
  const snapshots = (log: PartitionLog): string[] => readdirSync(log.dir).filter((n) => n.endsWith('.snapshot')).sort();

  it('rebuilds the state from the log when there is no snapshot (crash before any was written)', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let states = manager();
    const a = await batch(1, 0, 0, 3);
    await states.append(log, Buffer.from(a), { leaderEpoch: 0 });
    await states.append(log, await batch(1, 0, 3, 2), { leaderEpoch: 0 });
    await closeAll({ snapshot: false });
    expect(snapshots(log)).toEqual([]);

    log = await openLog(dir);
    states = manager();
    const again = await states.append(log, Buffer.from(a), { leaderEpoch: 0 });
    expect(again).toMatchObject({ duplicate: true, baseOffset: 0, lastOffset: 2 });
    expect(log.logEndOffset).toBe(5);
    // the rebuild is snapshotted right away at the log end
    for (let i = 0; i < 100 && snapshots(log).length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(snapshots(log)).toEqual([snapshotFileName(5)]);
  });

  it('removes a corrupt newest snapshot and rebuilds from an older one and the log', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir, { segmentBytes: 400 });
    let states = manager();
    const sent: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      const b = await batch(5, 0, i * 2, 2);
      sent.push(Buffer.from(b));
      await states.append(log, b, { leaderEpoch: 0 });
    }
    await closeAll({ snapshot: true });
    const files = snapshots(log);
    expect(files.length).toBeGreaterThanOrEqual(2);
    const newest = files[files.length - 1]!;
    const path = `${log.dir}/${newest}`;
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(path, bytes);

    log = await openLog(dir, { segmentBytes: 400 });
    states = manager();
    const answers = [];
    for (const b of sent.slice(3)) answers.push(await states.append(log, Buffer.from(b), { leaderEpoch: 0 }));
    expect(answers.map((a) => [a.duplicate, a.baseOffset])).toEqual([3, 4, 5, 6, 7].map((i) => [true, i * 2]));
    expect(snapshots(log)).not.toContain(newest);
    expect(log.logEndOffset).toBe(16);
  });

  it('ignores and removes a snapshot past the log end, and reloads the state after a truncation', async () => {
    const dir = tempLogDir();
    const log = await openLog(dir);
    const states = manager();
    const first = await batch(2, 0, 0, 2);
    const second = await batch(2, 0, 2, 2);
    await states.append(log, Buffer.from(first), { leaderEpoch: 0 });
    await states.append(log, Buffer.from(second), { leaderEpoch: 0 });
    writeFileSync(`${log.dir}/${snapshotFileName(50)}`, encodeSnapshot(new Map()));
    await log.truncateTo(2);
    // the second batch is gone from the log: sending it again appends it, it is no duplicate
    expect(await states.append(log, Buffer.from(second), { leaderEpoch: 0 })).toMatchObject({ duplicate: false, baseOffset: 2 });
    expect(await states.append(log, Buffer.from(first), { leaderEpoch: 0 })).toMatchObject({ duplicate: true, baseOffset: 0 });
    expect(snapshots(log)).not.toContain(snapshotFileName(50));
  });

  it('drops producers idle past producer.id.expiration.ms when loading a snapshot', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let states = manager(DAY);
    const old = await batch(4, 0, 0, 1, { timestamp: Date.now() - 2 * DAY });
    const fresh = await batch(6, 0, 0, 1);
    await states.append(log, Buffer.from(old), { leaderEpoch: 0 });
    await states.append(log, Buffer.from(fresh), { leaderEpoch: 0 });
    await closeAll({ snapshot: true });
    log = await openLog(dir);
    states = manager(DAY);
    const table = await states.producersOf(log);
    expect([...table.keys()]).toEqual([6]);
    // forgotten: any sequence starts it again
    expect(await states.append(log, await batch(4, 0, 9, 1), { leaderEpoch: 0 })).toMatchObject({ duplicate: false, baseOffset: 2 });
  });

  it('serialises concurrent first appends behind one load: a batch sent twice at once is stored once', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    let states = manager();
    await states.append(log, await batch(8, 0, 0, 1), { leaderEpoch: 0 });
    await closeAll({ snapshot: false });
    log = await openLog(dir);
    states = manager();
    const b = await batch(8, 0, 1, 3);
    const answers = await Promise.all([states.append(log, Buffer.from(b), { leaderEpoch: 0, sync: true }), states.append(log, Buffer.from(b), { leaderEpoch: 0, sync: true })]);
    expect(answers.map((a) => [a.duplicate, a.baseOffset])).toEqual([
      [false, 1],
      [true, 1],
    ]);
    expect(log.logEndOffset).toBe(4);
  });

  it('survives a failed snapshot write: close still resolves and the next start rebuilds from the log', async () => {
    const dir = tempLogDir();
    let log = await openLog(dir);
    const fs = new FaultyFs();
    let states = manager(DAY, fs);
    const b = await batch(12, 0, 0, 2);
    await states.append(log, Buffer.from(b), { leaderEpoch: 0 });
    fs.failNext('fsync', 'EIO');
    await closeAll({ snapshot: true });
    expect(snapshots(log)).toEqual([]);
    log = await openLog(dir);
    states = manager();
    expect(await states.append(log, Buffer.from(b), { leaderEpoch: 0 })).toMatchObject({ duplicate: true, baseOffset: 0 });
  });

  it('answers OffsetForLeaderEpoch from a cache with several epochs, the current one not yet written', async () => {
    const log = await openLog(tempLogDir());
    const plain = (): Promise<Buffer> => buildRecordBatch([{ key: null, value: Buffer.from('v') }, { key: null, value: Buffer.from('w') }]);
    await log.append(await plain(), { leaderEpoch: 2 }); // 0-1
    await log.append(await plain(), { leaderEpoch: 5 }); // 2-3
    await log.append(await plain(), { leaderEpoch: 5 }); // 4-5
    const at = (requested: number, current = 5): [number, number] => {
      const r = endOffsetForEpoch(log, current, requested);
      return [r.leaderEpoch, r.endOffset];
    };
    expect(at(5)).toEqual([5, 6]);
    expect(at(3)).toEqual([2, 2]);
    expect(at(1)).toEqual([1, 0]);
    expect(at(6)).toEqual([-1, -1]);
    expect(at(-1)).toEqual([-1, -1]);
    // current epoch 7 has no batch yet: as Kafka's cache, it starts at the log end
    expect(at(7, 7)).toEqual([7, 6]);
    expect(at(6, 7)).toEqual([5, 6]);
    expect(at(5, 7)).toEqual([5, 6]);
    expect(at(4, 7)).toEqual([2, 2]);
    expect(at(8, 7)).toEqual([-1, -1]);
  });
});
