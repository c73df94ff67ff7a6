import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { FaultyFs, LogManager, StorageError } from '../../storage/index.js';
import { makeBatch, readAll, removeTempDirs, tempLogDir, testConfig } from './storage-helpers.js';

const managers: LogManager[] = [];
async function open(logDir: string, nodeId = 1, extra: Partial<Parameters<typeof LogManager.open>[0]> = {}): Promise<LogManager> {
  const m = await LogManager.open({ logDir, nodeId, defaults: testConfig(), ...extra });
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => undefined);
  removeTempDirs();
});

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('log directory', () => {
  test('meta.properties is generated once and its cluster id is kept across restarts', async () => {
    const dir = tempLogDir();
    const m = await open(dir, 3);
    expect(m.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(m.clusterId.startsWith('-')).toBe(false);
    const text = readFileSync(`${dir}/meta.properties`, 'utf8');
    expect(text).toContain('version=1\n');
    expect(text).toContain('node.id=3\n');
    expect(text).toContain(`cluster.id=${m.clusterId}\n`);
    expect(text).toMatch(/directory\.id=[A-Za-z0-9_-]{22}\n/);
    await m.close();
    const m2 = await open(dir, 3);
    expect(m2.clusterId).toBe(m.clusterId);
    expect(readFileSync(`${dir}/meta.properties`, 'utf8')).toBe(text);
  });

  test('a node id different from meta.properties is refused with a clear message', async () => {
    const dir = tempLogDir();
    await (await open(dir, 1)).close();
    const err = await LogManager.open({ logDir: dir, nodeId: 2, defaults: testConfig() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toMatch(/node\.id=1.*node\.id=2/);
  });

  test('the log directory is locked while open: a second LogManager is refused until the first closes or its process dies (kill -9)', async () => {
    const dir = tempLogDir();
    const fs = new FaultyFs();
    const first = await LogManager.open({ logDir: dir, nodeId: 1, defaults: testConfig(), fs });
    await expect(LogManager.open({ logDir: dir, nodeId: 1, defaults: testConfig() })).rejects.toThrow(
      `log directory ${dir} is in use by another broker in this process (pid ${process.pid}): ${dir}/.lock is locked`,
    );
    fs.kill();
    const second = await open(dir);
    await expect(LogManager.open({ logDir: dir, nodeId: 1, defaults: testConfig() })).rejects.toBeInstanceOf(StorageError);
    await second.close();
    await first.close().catch(() => undefined);
    await (await open(dir)).close();
  });

  test('a refused open leaves the directory as it was: data without meta.properties writes nothing', async () => {
    const dir = tempLogDir();
    const m = await open(dir);
    await (await m.createLog('a', 0, '')).append(makeBatch({ records: 3 }), { leaderEpoch: 0, sync: true });
    await m.close();
    rmSync(`${dir}/meta.properties`);
    const before = readdirSync(dir).sort();
    await expect(LogManager.open({ logDir: dir, nodeId: 1, defaults: testConfig() })).rejects.toThrow(/meta\.properties is missing but .* is not empty \(\.kafka_cleanshutdown, a-0, log-start-offset-checkpoint, and 1 more\)/);
    expect(readdirSync(dir).sort()).toEqual(before);
    // an empty directory (or one holding only the lock file) is formatted
    const empty = tempLogDir();
    mkdirSync(empty, { recursive: true });
    writeFileSync(`${empty}/.lock`, '');
    await (await open(empty)).close();
    expect(existsSync(`${empty}/meta.properties`)).toBe(true);
  });

  test('bad options are rejected with clear errors', async () => {
    await expect(LogManager.open({ logDir: '', nodeId: 1, defaults: testConfig() })).rejects.toThrow(/logDir/);
    await expect(LogManager.open({ logDir: tempLogDir(), nodeId: -1, defaults: testConfig() })).rejects.toThrow(/nodeId/);
    await expect(LogManager.open({ logDir: tempLogDir(), nodeId: 1, defaults: testConfig({ segmentBytes: 0 }) })).rejects.toThrow(/segmentBytes/);
    await expect(LogManager.open({ logDir: tempLogDir(), nodeId: 1, defaults: testConfig(), maxOpenFiles: 0 })).rejects.toThrow(/maxOpenFiles/);
  });

  test("partitions use Kafka's layout: directory, segment files, partition.metadata, checkpoints", async () => {
    const dir = tempLogDir();
    const m = await open(dir);
    const log = await m.createLog('orders.v1', 2, 'AAAAAAAAAAAAAAAAAAAAAw');
    await log.append(makeBatch({ records: 5 }), { leaderEpoch: 4, sync: true });
    await m.close();
    const pdir = `${dir}/orders.v1-2`;
    expect(readdirSync(pdir).sort()).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      'leader-epoch-checkpoint',
      'partition.metadata',
    ]);
    expect(readFileSync(`${pdir}/partition.metadata`, 'utf8')).toBe('version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAw\n');
    expect(readFileSync(`${pdir}/leader-epoch-checkpoint`, 'utf8')).toBe('0\n1\n4 0\n');
    expect(readFileSync(`${dir}/recovery-point-offset-checkpoint`, 'utf8')).toBe('0\n1\norders.v1 2 5\n');
    expect(readFileSync(`${dir}/log-start-offset-checkpoint`, 'utf8')).toBe('0\n1\norders.v1 2 0\n');
    // Indexes are trimmed on close (nothing was indexed in one small batch).
    expect(readFileSync(`${pdir}/00000000000000000000.index`).length).toBe(0);
    expect(readFileSync(`${pdir}/00000000000000000000.timeindex`).length).toBe(12);
    expect(existsSync(`${dir}/.kafka_cleanshutdown`)).toBe(true);
  });

  test('the active segment indexes are preallocated to segment.index.bytes while open', async () => {
    const dir = tempLogDir();
    const m = await open(dir, 1, { defaults: testConfig({ segmentIndexBytes: 4096 }) });
    const log = await m.createLog('prealloc', 0, 'x');
    await log.append(makeBatch(), { leaderEpoch: 0 });
    expect(readFileSync(`${log.dir}/00000000000000000000.index`).length).toBe(4096);
    expect(readFileSync(`${log.dir}/00000000000000000000.timeindex`).length).toBe(4092);
  });

  test('existing partitions are found at open with their topic id, and the clean-shutdown marker is consumed', async () => {
    const dir = tempLogDir();
    const m = await open(dir);
    for (let p = 0; p < 3; p++) {
      const log = await m.createLog('found', p, 'topic-id-found');
      await log.append(makeBatch({ records: p + 1 }), { leaderEpoch: 0 });
    }
    await m.createLog('other-topic', 0, 'topic-id-other');
    await m.close();
    const m2 = await open(dir);
    expect(existsSync(`${dir}/.kafka_cleanshutdown`)).toBe(false);
    const found = m2.existingLogs().map((l) => [l.topic, l.partition, l.topicId, l.logEndOffset]);
    expect(found.sort()).toEqual([
      ['found', 0, 'topic-id-found', 1],
      ['found', 1, 'topic-id-found', 2],
      ['found', 2, 'topic-id-found', 3],
      ['other-topic', 0, 'topic-id-other', 0],
    ]);
    expect(m2.getLog('found', 1)?.logEndOffset).toBe(2);
    expect([...m2.allLogs()].length).toBe(4);
  });

  test('createLog validates names and is idempotent for the same topic id only', async () => {
    const m = await open(tempLogDir());
    await expect(m.createLog('../evil', 0, 'x')).rejects.toThrow(RangeError);
    await expect(m.createLog('a/b', 0, 'x')).rejects.toThrow(RangeError);
    await expect(m.createLog('ok', -1, 'x')).rejects.toThrow(RangeError);
    const log = await m.createLog('ok', 0, 'id-1');
    expect(await m.createLog('ok', 0, 'id-1')).toBe(log);
    await expect(m.createLog('ok', 0, 'id-2')).rejects.toBeInstanceOf(StorageError);
  });

  test('deleteLog renames the directory to <topic>-<partition>.<uuid>-delete and removes it in the background', async () => {
    const dir = tempLogDir();
    const m = await open(dir);
    const log = await m.createLog('gone', 0, 'x');
    await log.append(makeBatch(), { leaderEpoch: 0 });
    await m.createLog('kept', 0, 'y');
    await m.deleteLog('gone', 0);
    expect(m.getLog('gone', 0)).toBeUndefined();
    await expect(log.read(0, 100)).rejects.toBeInstanceOf(StorageError);
    expect(existsSync(`${dir}/gone-0`)).toBe(false);
    await waitFor(() => readdirSync(dir).every((f) => !f.endsWith('-delete')));
    expect(readFileSync(`${dir}/recovery-point-offset-checkpoint`, 'utf8')).toBe('0\n1\nkept 0 0\n');
    // The name can be reused at once.
    const again = await m.createLog('gone', 0, 'z');
    expect(again.logEndOffset).toBe(0);
  });

  test('a directory left half-deleted by a crash is removed at the next start, not loaded', async () => {
    const dir = tempLogDir();
    await (await open(dir)).close();
    const doomed = `${dir}/stale-0.0123456789abcdef0123456789abcdef-delete`;
    mkdirSync(doomed);
    writeFileSync(`${doomed}/00000000000000000000.log`, Buffer.alloc(10));
    const m = await open(dir);
    expect([...m.allLogs()].length).toBe(0);
    await waitFor(() => !existsSync(doomed));
  });

  test('updateConfig changes how the log rolls', async () => {
    const m = await open(tempLogDir());
    const log = await m.createLog('cfg', 0, 'x');
    for (let i = 0; i < 5; i++) await log.append(makeBatch({ payload: 100 }), { leaderEpoch: 0 });
    expect(log.segmentCount).toBe(1);
    log.updateConfig({ segmentBytes: 200 });
    for (let i = 0; i < 5; i++) await log.append(makeBatch({ payload: 100 }), { leaderEpoch: 0 });
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(() => log.updateConfig({ segmentBytes: -5 })).toThrow(/segmentBytes/);
  });

  test('topic-level config given at open applies to the logs found on disk', async () => {
    const dir = tempLogDir();
    const m = await open(dir);
    const log = await m.createLog('small', 0, 'x');
    for (let i = 0; i < 5; i++) await log.append(makeBatch({ payload: 100 }), { leaderEpoch: 0 });
    await m.close();
    const m2 = await open(dir, 1, { topicConfig: (topic) => (topic === 'small' ? { segmentBytes: 200 } : undefined) });
    const log2 = m2.getLog('small', 0)!;
    for (let i = 0; i < 5; i++) await log2.append(makeBatch({ payload: 100 }), { leaderEpoch: 0 });
    expect(log2.segmentCount).toBeGreaterThan(3);
    expect((await readAll(log2)).length).toBe(10);
  });

  test('the retention timer runs on its own, also after a check that found no logs', async () => {
    const m = await open(tempLogDir(), 1, { defaults: testConfig({ segmentBytes: 300, retentionBytes: 0 }), retentionCheckIntervalMs: 10 });
    await m.checkRetention();
    const log = await m.createLog('timer', 0, 'x');
    for (let i = 0; i < 10; i++) await log.append(makeBatch({ payload: 100 }), { leaderEpoch: 0 });
    expect(log.segmentCount).toBeGreaterThan(3);
    await waitFor(() => log.segmentCount === 1);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets[0]);
  });

  test('checkpoints are still written after a write that found nothing changed', async () => {
    const m = await open(tempLogDir());
    const log = await m.createLog('cpw', 0, 'x');
    await log.append(makeBatch({ records: 5 }), { leaderEpoch: 0 });
    await m.writeCheckpoints();
    await m.writeCheckpoints();
    await log.deleteRecordsBefore(3);
    expect(readFileSync(`${m.logDir}/log-start-offset-checkpoint`, 'utf8')).toBe('0\n1\ncpw 0 3\n');
  });
});
