/**
 * A stale but valid gregor-metadata.json never costs data: partition directories the metadata does not
 * explain — a topic it does not have, another topic id, a partition beyond its count — are renamed
 * `<topic>-<partition>.<uuid>-stray` and kept, the broker starts and warns with what to do, as Kafka treats a
 * stray log (KAFKA-14616). Real brokers (the CLI, whose warnings are read), a real data directory, records
 * produced with acks=all; the records in the stray directories are counted in their segment files, and the
 * recovery the warning describes (the current metadata back, the directories renamed back) serves them again.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { METADATA_FILE } from '../../src/metadata/metadata-store.js';
import { ensureBuilt, killAll, spawnCli, type BrokerProcess } from '../helpers/broker-process.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 180_000);
afterEach(async () => {
  killAll();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gregor-stray-'));
  dirs.push(dir);
  return dir;
}

async function stop(b: BrokerProcess): Promise<void> {
  b.child.kill('SIGTERM');
  await b.exited;
}

async function withClient<T>(b: BrokerProcess, run: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(b.port);
  try {
    return await run(c);
  } finally {
    c.close();
  }
}

async function createTopic(c: RawClient, name: string, partitions: number): Promise<string> {
  const res = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  expect(res.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  return res.topics[0]!.topicId;
}

/** Produces `batches` batches of 100 records to every partition with acks=all; returns the records acknowledged. */
async function produceAcked(c: RawClient, topic: string, partitions: number, batches: number): Promise<number> {
  let acked = 0;
  for (let p = 0; p < partitions; p++) {
    for (let b = 0; b < batches; b++) {
      const res = await produceRaw(c, topic, p, await batchOf(testRecords(100, `${topic}-${p}-${b}`)), { acks: -1 });
      expect(res.errorCode).toBe(ErrorCode.NONE);
      acked += 100;
    }
  }
  return acked;
}

/** Records in the segment files of a partition directory (the record count of each v2 batch). */
function recordsInDir(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    const file = readFileSync(join(dir, name));
    for (let pos = 0; pos + 61 <= file.length; pos += 12 + file.readInt32BE(pos + 8)) n += file.readInt32BE(pos + 57);
  }
  return n;
}

function strayDirs(dataDir: string, topic: string): string[] {
  return readdirSync(dataDir)
    .filter((d) => d.startsWith(`${topic}-`) && d.endsWith('-stray'))
    .sort();
}

async function topicsOnTheWire(b: BrokerProcess): Promise<Map<string, { id: string; partitions: number }>> {
  return withClient(b, async (c) => {
    const res = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return new Map(res.topics.map((t) => [t.name!, { id: t.topicId, partitions: t.partitions.length }]));
  });
}

/** The stray warning the broker logged for a topic. */
function strayWarnings(b: BrokerProcess, topic: string): string[] {
  return b
    .output()
    .split('\n')
    .filter((l) => l.includes('"level":40') && l.includes(`partition directories of topic ${topic} `) && l.includes('-stray'));
}

/** Renames the stray directories of a topic back to <topic>-<partition> (the recovery the warning describes). */
function renameStraysBack(dataDir: string, topic: string): void {
  for (const d of strayDirs(dataDir, topic)) renameSync(join(dataDir, d), join(dataDir, d.replace(/\.[0-9a-f]{32}-stray$/, '')));
}

describe('partition directories that gregor-metadata.json does not explain', () => {
  it('a metadata file without the topic: its directories are kept as -stray with every acknowledged record, and the recovery the warning describes serves them again', async () => {
    const dataDir = await newDataDir();
    const first = await spawnCli({ dataDir });
    await withClient(first, (c) => createTopic(c, 'keep', 1));
    await withClient(first, (c) => produceAcked(c, 'keep', 1, 2));
    // a valid metadata file from before the topic existed (a backup, a copy)
    const stale = readFileSync(join(dataDir, METADATA_FILE));
    await withClient(first, (c) => createTopic(c, 'orders', 3));
    const acked = await withClient(first, (c) => produceAcked(c, 'orders', 3, 3));
    await stop(first);
    const current = readFileSync(join(dataDir, METADATA_FILE));
    writeFileSync(join(dataDir, METADATA_FILE), stale);

    const second = await spawnCli({ dataDir });
    expect([...(await topicsOnTheWire(second)).keys()]).toEqual(['keep']);
    const strays = strayDirs(dataDir, 'orders');
    expect(strays.map((d) => d.replace(/\.[0-9a-f]{32}-stray$/, ''))).toEqual(['orders-0', 'orders-1', 'orders-2']);
    expect(strays.reduce((n, d) => n + recordsInDir(join(dataDir, d)), 0)).toBe(acked);
    expect(strayWarnings(second, 'orders')).toHaveLength(1);
    expect(strayWarnings(second, 'orders')[0]).toContain('has no topic orders');
    // the other topic is untouched
    expect((await withClient(second, (c) => fetchAll(c, 'keep', 0))).length).toBe(200);
    await stop(second);

    // the next start keeps them too, and says so again
    const third = await spawnCli({ dataDir });
    expect(strayDirs(dataDir, 'orders')).toEqual(strays);
    expect(third.output()).toContain('stray partition directories are kept here');
    await stop(third);

    // recovery: the current metadata file back, the directories renamed back
    writeFileSync(join(dataDir, METADATA_FILE), current);
    renameStraysBack(dataDir, 'orders');
    const fourth = await spawnCli({ dataDir });
    expect((await topicsOnTheWire(fourth)).get('orders')?.partitions).toBe(3);
    let served = 0;
    for (let p = 0; p < 3; p++) served += (await withClient(fourth, (c) => fetchAll(c, 'orders', p))).length;
    expect(served).toBe(acked);
    expect(strayWarnings(fourth, 'orders')).toEqual([]);
    await stop(fourth);
  }, 120_000);

  it('a metadata file with another topic id for the topic: the directories of the id on disk are kept as -stray, the stored topic gets empty partitions', async () => {
    const dataDir = await newDataDir();
    const first = await spawnCli({ dataDir });
    const oldId = await withClient(first, (c) => createTopic(c, 'orders', 2));
    const stale = readFileSync(join(dataDir, METADATA_FILE));
    // the topic is deleted and created again: a new id, new records
    await withClient(first, async (c) => {
      const res = await c.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 4, { topicNames: ['orders'], timeoutMs: 30_000 });
      expect(res.responses[0]!.errorCode).toBe(ErrorCode.NONE);
    });
    const newId = await withClient(first, (c) => createTopic(c, 'orders', 2));
    expect(newId).not.toBe(oldId);
    const acked = await withClient(first, (c) => produceAcked(c, 'orders', 2, 3));
    await stop(first);
    writeFileSync(join(dataDir, METADATA_FILE), stale);

    const second = await spawnCli({ dataDir });
    const strays = strayDirs(dataDir, 'orders');
    expect(strays).toHaveLength(2);
    expect(strays.reduce((n, d) => n + recordsInDir(join(dataDir, d)), 0)).toBe(acked);
    for (const d of strays) expect(readFileSync(join(dataDir, d, 'partition.metadata'), 'utf8')).toContain(newId);
    expect(strayWarnings(second, 'orders')[0]).toContain(`with id ${oldId}, the directory belongs to id ${newId}`);
    // the stored topic is served, with its id and empty partitions
    expect((await topicsOnTheWire(second)).get('orders')).toEqual({ id: oldId, partitions: 2 });
    expect((await withClient(second, (c) => fetchAll(c, 'orders', 0))).length).toBe(0);
    await stop(second);
  }, 120_000);

  it('a partition count lowered by hand: the partitions beyond it are kept as -stray, the others are served untouched', async () => {
    const dataDir = await newDataDir();
    const first = await spawnCli({ dataDir });
    await withClient(first, (c) => createTopic(c, 'orders', 4));
    await withClient(first, (c) => produceAcked(c, 'orders', 4, 2));
    await stop(first);
    const file = join(dataDir, METADATA_FILE);
    const edited = JSON.parse(readFileSync(file, 'utf8')) as { topics: Array<{ name: string; partitions: number }> };
    edited.topics.find((t) => t.name === 'orders')!.partitions = 2;
    writeFileSync(file, JSON.stringify(edited));

    const second = await spawnCli({ dataDir });
    expect((await topicsOnTheWire(second)).get('orders')?.partitions).toBe(2);
    for (let p = 0; p < 2; p++) expect((await withClient(second, (c) => fetchAll(c, 'orders', p))).length).toBe(200);
    const strays = strayDirs(dataDir, 'orders');
    expect(strays.map((d) => d.replace(/\.[0-9a-f]{32}-stray$/, ''))).toEqual(['orders-2', 'orders-3']);
    expect(strays.reduce((n, d) => n + recordsInDir(join(dataDir, d)), 0)).toBe(400);
    expect(strayWarnings(second, 'orders')[0]).toContain('has 2 partition(s) for topic orders');
    await stop(second);
  }, 120_000);
});
