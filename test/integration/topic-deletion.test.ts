/**
 * Deleting topics, durably and at scale, and the limits on topic operations, against real brokers on real data
 * directories (storage's FaultyFs for power cuts and a held disk):
 * - a deletion is durable once answered (the topics are deleting records in gregor-metadata.json); a power cut
 *   while its partition directories are renamed leaves live and deleted directories apart, and the next start
 *   finishes the deletion without touching a record of a live topic, listening before the leftovers are removed;
 * - deleting thousands of partitions is answered at once, writes the log-dir checkpoints once per batch (not
 *   once per partition), and does not hold up other admin requests;
 * - an operation that cannot start within the request's timeoutMs is answered REQUEST_TIMED_OUT and not done;
 * - Kafka's per-operation limit (10,000 metadata records: POLICY_VIOLATION "Unable to perform excessively large
 *   batch operation.") and the broker-wide gregor.max.broker.partitions.
 * Upper bounds on answer times are generous (seconds): they catch a stall, not a slowdown.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { FaultyFs, type OpenFlags } from '../../storage/index.js';
import { METADATA_FILE } from '../../src/metadata/metadata-store.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';
import { PowerCutFs, WatchedFs } from '../helpers/storage-faults.js';

const running: RunningBroker[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of running.splice(0)) await b.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gregor-deletion-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, opts: { storageFs?: FaultyFs | WatchedFs; config?: Record<string, string | number> } = {}): Promise<RunningBroker> {
  const b = await startBroker({ port: 0, dataDir, storageFs: opts.storageFs, config: opts.config, logLevel: 'silent' });
  running.push(b);
  return b;
}

async function connect(b: RunningBroker): Promise<RawClient> {
  const c = await RawClient.connect(b.port);
  clients.push(c);
  return c;
}

function createTopics(c: RawClient, topics: Array<{ name: string; partitions: number; configs?: Record<string, string> }>, opts: { timeoutMs?: number; validateOnly?: boolean } = {}) {
  return c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, {
    topics: topics.map((t) => ({ name: t.name, numPartitions: t.partitions, replicationFactor: 1, assignments: [], configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })) })),
    timeoutMs: opts.timeoutMs ?? 60_000,
    validateOnly: opts.validateOnly ?? false,
  });
}

function deleteTopics(c: RawClient, names: string[], timeoutMs = 60_000) {
  return c.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 4, { topicNames: names, timeoutMs });
}

function createPartitions(c: RawClient, topics: Array<{ name: string; count: number }>, timeoutMs = 60_000) {
  return c.request(schemas.createPartitionsRequest, schemas.createPartitionsResponse, 3, {
    topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: null })),
    timeoutMs,
    validateOnly: false,
  });
}

async function topicNames(c: RawClient): Promise<string[]> {
  const res = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  return res.topics.map((t) => t.name!).sort();
}

/** Produces 3 batches of 50 records to each partition with acks=all; returns the values acknowledged per partition. */
async function produceAcked(c: RawClient, topic: string, partitions: number): Promise<string[][]> {
  const acked: string[][] = [];
  for (let p = 0; p < partitions; p++) {
    acked.push([]);
    for (let b = 0; b < 3; b++) {
      const records = testRecords(50, `${topic}-${p}-${b}`);
      const res = await produceRaw(c, topic, p, await batchOf(records), { acks: -1 });
      expect(res.errorCode).toBe(ErrorCode.NONE);
      acked[p]!.push(...records.map((r) => r.value!.toString()));
    }
  }
  return acked;
}

/** Directories of the given topics in the data dir: live `<topic>-<p>`, and renamed `-delete` or `-stray`. */
function dirsOf(dataDir: string, topics: string[]): { live: string[]; deleted: string[]; stray: string[] } {
  const mine = readdirSync(dataDir).filter((d) => topics.some((t) => d.startsWith(`${t}-`)));
  return {
    live: mine.filter((d) => /-\d+$/.test(d)),
    deleted: mine.filter((d) => d.endsWith('-delete')),
    stray: mine.filter((d) => d.endsWith('-stray')),
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function storedMetadata(dataDir: string): { topics: Array<{ name: string }>; deletingTopics?: Array<{ name: string }> } {
  return JSON.parse(readFileSync(join(dataDir, METADATA_FILE), 'utf8')) as { topics: Array<{ name: string }>; deletingTopics?: Array<{ name: string }> };
}

/** Counts the log-dir checkpoint writes (each is a `<checkpoint>.tmp` created, then renamed over the file). */
class CheckpointCountingFs extends WatchedFs {
  writes = 0;
  protected at<T>(op: string, path: string, run: () => T, detail: { flags?: OpenFlags }): T {
    if (op === 'open' && detail.flags === 'w+' && /(recovery-point|log-start)-offset-checkpoint\.tmp$/.test(path)) this.writes++;
    return run();
  }
}

describe('a deletion cut short by a power cut', () => {
  for (const { nth, after, what } of [
    { nth: 1, after: false, what: 'before the first directory is renamed' },
    { nth: 3, after: true, what: 'after 3 of 6 directories are renamed' },
    { nth: 6, after: true, what: 'after the last directory is renamed, before the deleting records are dropped' },
  ]) {
    it(`${what}: the answer said deleted, the next start finishes the deletion and every record of the live topic is there`, async () => {
      const dataDir = await newDataDir();
      const cut = new PowerCutFs('partition-dir-rename', nth, after);
      const b = await start(dataDir, { storageFs: cut });
      const c = await connect(b);
      expect((await createTopics(c, [{ name: 'gone-a', partitions: 3 }, { name: 'gone-b', partitions: 3 }, { name: 'live', partitions: 2 }])).topics.map((t) => t.errorCode)).toEqual([0, 0, 0]);
      await produceAcked(c, 'gone-a', 3);
      await produceAcked(c, 'gone-b', 3);
      const live = await produceAcked(c, 'live', 2);

      const res = await deleteTopics(c, ['gone-a', 'gone-b']);
      expect(res.responses.map((r) => [r.name, r.errorCode])).toEqual([['gone-a', 0], ['gone-b', 0]]);
      await until('the power cut', () => cut.fired !== undefined);
      const left = dirsOf(dataDir, ['gone-a', 'gone-b']);
      expect(left.live.length + left.deleted.length).toBe(6);
      if (nth === 3) expect([left.live.length, left.deleted.length]).toEqual([3, 3]);
      // the deletion was durable before any directory was renamed
      expect(storedMetadata(dataDir).deletingTopics?.map((d) => d.name).sort()).toEqual(['gone-a', 'gone-b']);
      await b.close().catch(() => undefined);
      running.splice(running.indexOf(b), 1);

      const again = await start(dataDir);
      const c2 = await connect(again);
      expect(await topicNames(c2)).toEqual(['live']);
      for (let p = 0; p < 2; p++) expect((await fetchAll(c2, 'live', p)).map((r) => r.value)).toEqual(live[p]);
      await until('the deleted topics\' directories are gone', () => {
        const d = dirsOf(dataDir, ['gone-a', 'gone-b']);
        return d.live.length + d.deleted.length === 0;
      });
      expect(dirsOf(dataDir, ['gone-a', 'gone-b', 'live']).stray).toEqual([]);
      await until('the deleting records are dropped', () => storedMetadata(dataDir).deletingTopics === undefined);
      // the names can be created again, with no old data
      expect((await createTopics(c2, [{ name: 'gone-a', partitions: 1 }])).topics[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(await fetchAll(c2, 'gone-a', 0)).toEqual([]);
    }, 60_000);
  }

  it('the next start listens before the leftover directories are removed', async () => {
    const dataDir = await newDataDir();
    const cut = new PowerCutFs('partition-dir-rename', 2, true);
    const b = await start(dataDir, { storageFs: cut });
    const c = await connect(b);
    await createTopics(c, [{ name: 'gone', partitions: 4 }, { name: 'live', partitions: 1 }]);
    const live = await produceAcked(c, 'live', 1);
    expect((await deleteTopics(c, ['gone'])).responses[0]!.errorCode).toBe(ErrorCode.NONE);
    await until('the power cut', () => cut.fired !== undefined);
    await b.close().catch(() => undefined);
    running.splice(running.indexOf(b), 1);

    // a disk whose removals do not complete: the broker starts and serves all the same
    const fs = new FaultyFs();
    const removals = fs.hold('rm');
    const again = await start(dataDir, { storageFs: fs });
    const c2 = await connect(again);
    expect(await topicNames(c2)).toEqual(['live']);
    expect((await fetchAll(c2, 'live', 0)).map((r) => r.value)).toEqual(live[0]);
    await until('the leftover live directories renamed', () => dirsOf(dataDir, ['gone']).live.length === 0);
    expect(dirsOf(dataDir, ['gone']).deleted.length).toBe(4);
    removals.release();
    await until('the leftovers removed', () => dirsOf(dataDir, ['gone']).deleted.length === 0);
  }, 60_000);
});

describe('deleting many partitions', () => {
  it('is answered at once, writes the checkpoints once per batch, and other admin requests are answered meanwhile', async () => {
    const dataDir = await newDataDir();
    const fs = new CheckpointCountingFs();
    const b = await start(dataDir, { storageFs: fs, config: { 'gregor.max.partitions.per.topic': 1000 } });
    const c = await connect(b);
    const names = ['wide-0', 'wide-1', 'wide-2'];
    const created = await createTopics(c, names.map((name) => ({ name, partitions: 1000 })));
    expect(created.topics.map((t) => t.errorCode)).toEqual([0, 0, 0]);
    await produceAcked(c, 'wide-1', 1);
    const before = fs.writes;

    const other = await connect(b);
    const started = Date.now();
    const deleting = deleteTopics(c, names);
    const small = createTopics(other, [{ name: 'small', partitions: 1 }], { timeoutMs: 10_000 });
    const res = await deleting;
    const answeredMs = Date.now() - started;
    expect(res.responses.map((r) => r.errorCode)).toEqual([0, 0, 0]);
    expect((await small).topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const smallMs = Date.now() - started;
    await until('every directory renamed', () => dirsOf(dataDir, names).live.length === 0);
    await until('the deleting records dropped', () => storedMetadata(dataDir).deletingTopics === undefined);
    // one write of each of the two checkpoints for the 3000 partitions (a write asked for meanwhile may
    // coalesce into one more), where each partition wrote both before
    const checkpointWrites = fs.writes - before;
    console.log(`deletion of 3000 partitions: ${JSON.stringify({ answeredMs, smallCreateAnsweredMs: smallMs, checkpointWrites })}`);
    expect(checkpointWrites).toBeLessThanOrEqual(6);
    expect(answeredMs).toBeLessThan(20_000);
    expect(smallMs).toBeLessThan(20_000);
    expect(await topicNames(c)).toEqual(['small']);
    await until('the directories removed in the background', () => dirsOf(dataDir, names).deleted.length === 0, 120_000);
  }, 180_000);
});

describe('timeoutMs of topic operations', () => {
  it('an operation that could not start in time is answered REQUEST_TIMED_OUT at its deadline and not done', async () => {
    const dataDir = await newDataDir();
    const fs = new FaultyFs();
    const b = await start(dataDir, { storageFs: fs });
    const c = await connect(b);
    await createTopics(c, [{ name: 'live', partitions: 1 }]);
    // a disk that does not complete an fsync: the next operation (a creation) cannot finish
    const disk = fs.hold('fsync');
    const slow = createTopics(await connect(b), [{ name: 'slow', partitions: 1 }]);
    await until('the creation is waiting for the disk', () => disk.waiting > 0);

    const started = Date.now();
    const [late, deleted, added] = await Promise.all([
      connect(b).then((x) => createTopics(x, [{ name: 'late', partitions: 1 }], { timeoutMs: 300 })),
      connect(b).then((x) => deleteTopics(x, ['live'], 300)),
      connect(b).then((x) => createPartitions(x, [{ name: 'live', count: 3 }], 300)),
    ]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(late.topics[0]).toMatchObject({ name: 'late', errorCode: ErrorCode.REQUEST_TIMED_OUT });
    expect(deleted.responses[0]).toMatchObject({ name: 'live', errorCode: ErrorCode.REQUEST_TIMED_OUT });
    expect(added.results[0]).toMatchObject({ name: 'live', errorCode: ErrorCode.REQUEST_TIMED_OUT });

    disk.release();
    expect((await slow).topics[0]!.errorCode).toBe(ErrorCode.NONE);
    // nothing of the timed-out operations was done, not even later
    expect(await topicNames(c)).toEqual(['live', 'slow']);
    expect(b.broker.topics.get('live')!.numPartitions).toBe(1);
    expect(existsSync(join(dataDir, 'late-0'))).toBe(false);
  }, 60_000);
});

describe('limits of topic operations', () => {
  const EXCESSIVE = 'Unable to perform excessively large batch operation.';

  it('refuses an operation of more than 10,000 metadata records whole, as Kafka\'s controller: POLICY_VIOLATION, nothing created', async () => {
    const dataDir = await newDataDir();
    const b = await start(dataDir);
    const c = await connect(b);
    // 2 topics + 10,000 partitions
    const two = await createTopics(c, [{ name: 'half-a', partitions: 5000 }, { name: 'half-b', partitions: 5000 }]);
    expect(two.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['half-a', ErrorCode.POLICY_VIOLATION, EXCESSIVE],
      ['half-b', ErrorCode.POLICY_VIOLATION, EXCESSIVE],
    ]);
    // 1 topic + 10,000 partitions; 1 topic + 1 config + 9,999 partitions; validate-only the same
    expect((await createTopics(c, [{ name: 'wide', partitions: 10_000 }])).topics[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    expect((await createTopics(c, [{ name: 'wide', partitions: 9_999, configs: { 'retention.ms': '1000' } }], { validateOnly: true })).topics[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    // exactly 10,000 records pass (validated only: nothing is created)
    expect((await createTopics(c, [{ name: 'wide', partitions: 9_998, configs: { 'retention.ms': '1000' } }], { validateOnly: true })).topics[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(await topicNames(c)).toEqual([]);
    expect(readdirSync(dataDir).filter((d) => /-\d+$/.test(d))).toEqual([]);

    // kafkajs sees Kafka's error
    const kafka = new Kafka({ clientId: 'limits', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expect(admin.createTopics({ topics: [{ topic: 'k1', numPartitions: 6000 }, { topic: 'k2', numPartitions: 6000 }] })).rejects.toMatchObject({
        errors: expect.arrayContaining([expect.objectContaining({ type: 'POLICY_VIOLATION' })]),
      });
    } finally {
      await admin.disconnect();
    }

    // CreatePartitions adding 10,001 partitions in one request
    expect((await createTopics(c, [{ name: 'grow-a', partitions: 1 }, { name: 'grow-b', partitions: 1 }])).topics.map((t) => t.errorCode)).toEqual([0, 0]);
    const grown = await createPartitions(c, [{ name: 'grow-a', count: 5001 }, { name: 'grow-b', count: 5002 }]);
    expect(grown.results.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['grow-a', ErrorCode.POLICY_VIOLATION, EXCESSIVE],
      ['grow-b', ErrorCode.POLICY_VIOLATION, EXCESSIVE],
    ]);
    expect(b.broker.topics.get('grow-a')!.numPartitions).toBe(1);
  }, 60_000);

  it('gregor.max.broker.partitions bounds the partitions of the broker: CreateTopics, CreatePartitions and auto-creation', async () => {
    const dataDir = await newDataDir();
    const b = await start(dataDir, { config: { 'gregor.max.broker.partitions': 10, 'num.partitions': 4 } });
    const c = await connect(b);
    expect((await createTopics(c, [{ name: 'a', partitions: 6 }])).topics[0]!.errorCode).toBe(ErrorCode.NONE);
    const over = await createTopics(c, [{ name: 'b', partitions: 5 }, { name: 'c', partitions: 4 }]);
    expect(over.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['b', ErrorCode.POLICY_VIOLATION],
      ['c', ErrorCode.NONE],
    ]);
    expect(over.topics[0]!.errorMessage).toContain('gregor.max.broker.partitions');
    expect((await createPartitions(c, [{ name: 'a', count: 7 }])).results[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    const auto = await c.request(schemas.metadataRequest, schemas.metadataResponse, 9, { topics: [{ name: 'auto' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(auto.topics[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    // room again once a topic is deleted
    expect((await deleteTopics(c, ['c'])).responses[0]!.errorCode).toBe(ErrorCode.NONE);
    const again = await c.request(schemas.metadataRequest, schemas.metadataResponse, 9, { topics: [{ name: 'auto' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(again.topics[0]).toMatchObject({ name: 'auto', errorCode: ErrorCode.NONE });
    expect(again.topics[0]!.partitions).toHaveLength(4);
  }, 60_000);
});
