/**
 * What a broker trusts in its data directory at start, attacked with real brokers on real directories edited
 * by hand between runs: a second broker on the same directory (CLI and in-process), checkpoints holding
 * values the log cannot have, offset indexes that point into the middle of batches, a missing
 * meta.properties, producer snapshots that name batches the log does not hold. Each time: refused or
 * repaired with a WARN, and every acknowledged record is still read back.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { LOG_OVERHEAD, readBatchHeader } from '../../protocol/records/index.js';
import { encodeSnapshot } from '../../src/produce/producer-snapshot.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { ensureBuilt, killAll, spawnCli } from '../helpers/broker-process.js';
import { decodeRecords, fetchAll } from '../helpers/fetch-records.js';
import { batchOf, produceRaw, produceRecords, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 't';
const PARTITION_DIR = `${TOPIC}-0`;
/** Small segments and dense indexes, so that a few thousand records span many of both. */
const CONFIG = { 'log.segment.bytes': 32 * 1024, 'log.index.interval.bytes': 512 };
const BATCHES = 200;
const PER_BATCH = 20;
const RECORDS = BATCHES * PER_BATCH;

let dirs: string[] = [];
let running: RunningBroker[] = [];

beforeAll(() => ensureBuilt(), 300_000);
afterEach(async () => {
  killAll();
  for (const b of running.splice(0)) await b.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
afterAll(() => killAll());

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gregor-trust-'));
  dirs.push(d);
  return d;
}

async function start(dataDir: string): Promise<RunningBroker> {
  const b = await startBroker({ port: 0, dataDir, config: CONFIG });
  running.push(b);
  return b;
}

async function stop(b: RunningBroker): Promise<void> {
  running = running.filter((r) => r !== b);
  await b.close();
}

async function createTopic(port: number, configEntries: { name: string; value: string }[] = []): Promise<void> {
  const admin = new Kafka({ clientId: 'trust', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, configEntries }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Produces BATCHES batches of PER_BATCH records with acks=all; returns the offsets acknowledged. */
async function produceAll(port: number, prefix = 'k', batches = BATCHES): Promise<number[]> {
  const client = await RawClient.connect(port);
  const acked: number[] = [];
  try {
    for (let i = 0; i < batches; i++) {
      const base = await produceRecords(client, TOPIC, 0, testRecords(PER_BATCH, `${prefix}${i}`, 100));
      for (let r = 0; r < PER_BATCH; r++) acked.push(base + r);
    }
  } finally {
    client.close();
  }
  return acked;
}

async function listOffset(client: RawClient, timestamp: bigint): Promise<number> {
  const res = await client.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
  });
  const p = res.topics[0]!.partitions[0]!;
  if (p.errorCode !== ErrorCode.NONE) throw new Error(`list offsets error ${p.errorCode}`);
  return Number(p.offset);
}

/** How many of the acknowledged offsets a consumer reading from the earliest offset does not get. */
async function lostRecords(port: number, acked: readonly number[]): Promise<number> {
  const client = await RawClient.connect(port);
  try {
    const earliest = await listOffset(client, -2n);
    const latest = await listOffset(client, -1n);
    const read = latest > earliest ? await fetchAll(client, TOPIC, 0, earliest) : [];
    const have = new Set(read.map((r) => r.offset));
    return acked.filter((o) => !have.has(o)).length;
  } finally {
    client.close();
  }
}

/**
 * Fetches at every offset in [0, end) with a one-byte budget (KIP-74: at least one batch) and counts the
 * offsets whose answer does not start with the batch holding them: records a consumer there would skip.
 */
async function skippedByFetchAtEveryOffset(port: number, end: number): Promise<number> {
  const client = await RawClient.connect(port);
  let skipped = 0;
  try {
    for (let offset = 0; offset < end; offset++) {
      const res = await client.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 1, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
      const p = res.responses[0]!.partitions[0]!;
      const records = await decodeRecords(p.errorCode === ErrorCode.NONE ? (p.records as Buffer | null) : null);
      if (!records.some((r) => r.offset === offset)) skipped++;
    }
  } finally {
    client.close();
  }
  return skipped;
}

/** Replaces the `topic partition offset` entry of a log-dir checkpoint file. */
function setCheckpoint(dataDir: string, file: string, offset: number | string): void {
  const path = join(dataDir, file);
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '') : ['0', '0'];
  const entries = lines.slice(2).filter((l) => !l.startsWith(`${TOPIC} 0 `));
  entries.push(`${TOPIC} 0 ${offset}`);
  writeFileSync(path, `0\n${entries.length}\n${entries.join('\n')}\n`);
}

function segmentFiles(dataDir: string, ext: string): string[] {
  return readdirSync(join(dataDir, PARTITION_DIR))
    .filter((n) => n.endsWith(`.${ext}`))
    .sort()
    .map((n) => join(dataDir, PARTITION_DIR, n));
}

/** Positions of the batches of a .log file. */
function batchPositions(logFile: string): number[] {
  const buf = readFileSync(logFile);
  const out: number[] = [];
  for (let pos = 0; pos + LOG_OVERHEAD <= buf.length; pos += LOG_OVERHEAD + buf.readInt32BE(pos + 8)) out.push(pos);
  return out;
}

/**
 * Rewrites the .index of each sealed segment with its entries' positions moved 100 bytes into their batches:
 * still increasing, inside the file, each past the segment start. With `keepEnds` the first and last entries
 * stay right (so the start-up sanity check, which reads them, passes). Returns the entries moved.
 */
function forgeIndexes(dataDir: string, keepEnds: boolean): number {
  let moved = 0;
  const logs = segmentFiles(dataDir, 'log');
  for (const logFile of logs.slice(0, -1)) {
    const indexFile = logFile.replace(/\.log$/, '.index');
    const index = readFileSync(indexFile);
    const n = index.length / 8;
    for (let i = 0; i < n; i++) {
      if (keepEnds && (i === 0 || i === n - 1)) continue;
      index.writeInt32BE(index.readInt32BE(i * 8 + 4) + 100, i * 8 + 4);
      moved++;
    }
    writeFileSync(indexFile, index);
  }
  return moved;
}

/** The .index of a segment as the broker builds it: (last offset - base, position) of the batch after each index.interval.bytes. */
function expectedIndex(logFile: string, intervalBytes: number): Buffer {
  const buf = readFileSync(logFile);
  const base = Number(logFile.slice(-24, -4));
  const entries: Buffer[] = [];
  let since = 0;
  for (const pos of batchPositions(logFile)) {
    const h = readBatchHeader(buf, pos);
    if (since > intervalBytes) {
      const e = Buffer.alloc(8);
      e.writeInt32BE(h.baseOffset + h.lastOffsetDelta - base, 0);
      e.writeInt32BE(pos, 4);
      entries.push(e);
      since = 0;
    }
    since += LOG_OVERHEAD + h.batchLength;
  }
  return Buffer.concat(entries);
}

describe('one broker per data directory', () => {
  it('a second CLI broker on the same data dir exits non-zero naming the directory and the pid; the first keeps serving and loses nothing', async () => {
    const dataDir = await tempDir();
    const first = await spawnCli({ dataDir, config: CONFIG });
    await createTopic(first.port);
    const acked = await produceAll(first.port, 'a', 50);
    const err = await spawnCli({ dataDir, config: CONFIG }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).not.toBeNull();
    const refusal = err!.message;
    expect(refusal).toMatch(/"code":1/);
    const line = /gregor: failed to start: .*/.exec(refusal)?.[0] ?? '';
    expect(line).toContain(`log directory ${dataDir} is in use by another broker (pid ${first.pid})`);
    expect(line).toContain(join(dataDir, '.lock'));
    // the first broker still serves, appends and reads everything
    acked.push(...(await produceAll(first.port, 'b', 50)));
    expect(await lostRecords(first.port, acked)).toBe(0);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const again = await start(dataDir);
    expect(await lostRecords(again.port, acked)).toBe(0);
  }, 120_000);

  it('after kill -9 of the broker holding the directory, a new start takes it over at once', async () => {
    const dataDir = await tempDir();
    const first = await spawnCli({ dataDir, config: CONFIG });
    await createTopic(first.port);
    const acked = await produceAll(first.port, 'a', 50);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(readFileSync(join(dataDir, '.lock'), 'utf8').trim()).toBe(String(first.pid));
    const second = await spawnCli({ dataDir, config: CONFIG });
    expect(await lostRecords(second.port, acked)).toBe(0);
    expect(readFileSync(join(dataDir, '.lock'), 'utf8').trim()).toBe(String(second.pid));
  }, 120_000);

  it('startBroker() on a data dir already open in this process is refused; after close it starts', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir);
    await createTopic(first.port);
    const acked = await produceAll(first.port, 'a', 20);
    await expect(startBroker({ port: 0, dataDir, config: CONFIG })).rejects.toThrow(
      `log directory ${dataDir} is in use by another broker in this process (pid ${process.pid})`,
    );
    expect(await lostRecords(first.port, acked)).toBe(0);
    await stop(first);
    const second = await start(dataDir);
    expect(await lostRecords(second.port, acked)).toBe(0);
  }, 60_000);
});

describe('no checkpoint is trusted to destroy data', () => {
  async function filled(topicConfig: { name: string; value: string }[] = []): Promise<{ dataDir: string; acked: number[] }> {
    const dataDir = await tempDir();
    const b = await start(dataDir);
    await createTopic(b.port, topicConfig);
    const acked = await produceAll(b.port);
    await stop(b);
    expect(segmentFiles(dataDir, 'log').length).toBeGreaterThan(10);
    return { dataDir, acked };
  }

  it('a log-start-offset-checkpoint beyond the log end is ignored: every record is still read', async () => {
    const { dataDir, acked } = await filled();
    setCheckpoint(dataDir, 'log-start-offset-checkpoint', 1_000_000_000);
    const b = await start(dataDir);
    expect(await lostRecords(b.port, acked)).toBe(0);
    await stop(b);
    // and the checkpoint written back holds the log's real start
    expect(readFileSync(join(dataDir, 'log-start-offset-checkpoint'), 'utf8')).toContain(`${TOPIC} 0 0\n`);
  }, 60_000);

  it('a recovery-point-offset-checkpoint beyond the log end after an unclean shutdown recovers every segment: a bad index below it is rebuilt at start', async () => {
    const { dataDir, acked } = await filled();
    rmSync(join(dataDir, '.kafka_cleanshutdown'));
    setCheckpoint(dataDir, 'recovery-point-offset-checkpoint', 1_000_000_000);
    forgeIndexes(dataDir, true);
    const b = await start(dataDir);
    // recovered at load, not repaired later by a read: the indexes are right before any fetch
    for (const logFile of segmentFiles(dataDir, 'log').slice(0, -1)) {
      expect(readFileSync(logFile.replace(/\.log$/, '.index')).equals(expectedIndex(logFile, CONFIG['log.index.interval.bytes']))).toBe(true);
    }
    expect(await lostRecords(b.port, acked)).toBe(0);
  }, 60_000);

  it('a cleaner-offset-checkpoint beyond the log end or below its start loses nothing of a compacted log', async () => {
    for (const value of [1_000_000_000, -5]) {
      const { dataDir, acked } = await filled([{ name: 'cleanup.policy', value: 'compact' }]);
      setCheckpoint(dataDir, 'cleaner-offset-checkpoint', value);
      const b = await start(dataDir);
      // every key is unique: compaction may run, and must keep every record
      expect(await lostRecords(b.port, acked)).toBe(0);
      await stop(b);
      const checkpoint = readFileSync(join(dataDir, 'cleaner-offset-checkpoint'), 'utf8');
      const entry = Number(/^t 0 (-?\d+)$/m.exec(checkpoint)?.[1]);
      expect(entry).toBeGreaterThanOrEqual(0);
      expect(entry).toBeLessThanOrEqual(RECORDS);
    }
  }, 120_000);

  it('a leader-epoch-checkpoint with epochs beyond the log end, out of order, or not the batches\' is rebuilt from the log: OffsetForLeaderEpoch answers the log end', async () => {
    for (const forged of ['0\n2\n0 0\n5 100\n', '0\n3\n0 0\n4 900\n2 950\n', '0\n2\n0 0\n3 1000000000\n']) {
      const { dataDir, acked } = await filled();
      writeFileSync(join(dataDir, PARTITION_DIR, 'leader-epoch-checkpoint'), forged);
      const b = await start(dataDir);
      const client = await RawClient.connect(b.port);
      try {
        const res = await client.request(schemas.offsetForLeaderEpochRequest, schemas.offsetForLeaderEpochResponse, 4, {
          replicaId: -1,
          topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
        });
        const p = res.topics[0]!.partitions[0]!;
        // a consumer at epoch 0 asks where epoch 0 ends: the log end, not a forged epoch's start
        expect({ forged, errorCode: p.errorCode, leaderEpoch: p.leaderEpoch, endOffset: Number(p.endOffset) }).toEqual({ forged, errorCode: 0, leaderEpoch: 0, endOffset: RECORDS });
      } finally {
        client.close();
      }
      expect(await lostRecords(b.port, acked)).toBe(0);
      await stop(b);
      expect(readFileSync(join(dataDir, PARTITION_DIR, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n1\n0 0\n');
    }
  }, 180_000);

  it('producer snapshots beyond the log end, or naming batches at or past their own offset, are dropped: an idempotent batch is stored, not answered as a duplicate', async () => {
    const dataDir = await tempDir();
    let b = await start(dataDir);
    await createTopic(b.port);
    let client = await RawClient.connect(b.port);
    const init = await client.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId: null, transactionTimeoutMs: 60_000 });
    const producerId = Number(init.producerId);
    const idempotent = async (seq: number): Promise<{ errorCode: number; baseOffset: number }> => {
      const batch = await batchOf(testRecords(PER_BATCH, `p${seq}`), { producerId, producerEpoch: 0, baseSequence: seq * PER_BATCH });
      const p = await produceRaw(client, TOPIC, 0, batch, { acks: -1 });
      return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
    };
    for (let i = 0; i < 10; i++) expect((await idempotent(i)).errorCode).toBe(0);
    client.close();
    await stop(b);
    const end = 10 * PER_BATCH;
    // a snapshot past the log end, and one at the log end that claims the producer's next two batches
    writeFileSync(join(dataDir, PARTITION_DIR, '00000000001000000000.snapshot'), readFileSync(join(dataDir, PARTITION_DIR, `${String(end).padStart(20, '0')}.snapshot`)));
    const future = [10, 11].map((i) => ({ firstSeq: i * PER_BATCH, lastSeq: i * PER_BATCH + PER_BATCH - 1, firstOffset: end + (i - 10) * PER_BATCH, lastOffset: end + (i - 9) * PER_BATCH - 1, timestamp: Date.now() }));
    writeFileSync(
      join(dataDir, PARTITION_DIR, `${String(end).padStart(20, '0')}.snapshot`),
      encodeSnapshot(new Map([[producerId, { producerId, epoch: 0, lastTimestamp: Date.now(), batches: future, coordinatorEpoch: -1, currentTxnFirstOffset: -1 }]])),
    );
    b = await start(dataDir);
    client = await RawClient.connect(b.port);
    try {
      const next = await idempotent(10);
      expect(next).toEqual({ errorCode: 0, baseOffset: end });
      const read = await fetchAll(client, TOPIC, 0, 0);
      expect(read.length).toBe(end + PER_BATCH);
    } finally {
      client.close();
    }
  }, 60_000);
});

describe('a fetch never skips an offset on an index\'s word', () => {
  it('indexes whose inner entries point into the middle of batches pass the start-up check; fetches at every offset still get their records and the indexes are rebuilt', async () => {
    const dataDir = await tempDir();
    const b0 = await start(dataDir);
    await createTopic(b0.port);
    const acked = await produceAll(b0.port);
    await stop(b0);
    expect(forgeIndexes(dataDir, true)).toBeGreaterThan(50);
    const b = await start(dataDir);
    expect(await skippedByFetchAtEveryOffset(b.port, RECORDS)).toBe(0);
    await stop(b);
    for (const logFile of segmentFiles(dataDir, 'log').slice(0, -1)) {
      expect(readFileSync(logFile.replace(/\.log$/, '.index')).equals(expectedIndex(logFile, CONFIG['log.index.interval.bytes']))).toBe(true);
    }
    const again = await start(dataDir);
    expect(await lostRecords(again.port, acked)).toBe(0);
  }, 120_000);

  it('indexes whose every entry points into a batch are caught at start (first and last entries are read) and rebuilt', async () => {
    const dataDir = await tempDir();
    const b0 = await start(dataDir);
    await createTopic(b0.port);
    await produceAll(b0.port);
    await stop(b0);
    forgeIndexes(dataDir, false);
    const b = await start(dataDir);
    for (const logFile of segmentFiles(dataDir, 'log').slice(0, -1)) {
      expect(readFileSync(logFile.replace(/\.log$/, '.index')).equals(expectedIndex(logFile, CONFIG['log.index.interval.bytes']))).toBe(true);
    }
    expect(await skippedByFetchAtEveryOffset(b.port, RECORDS)).toBe(0);
  }, 120_000);
});

describe('meta.properties', () => {
  it('a data dir with data but no meta.properties is refused before anything is written; an empty one is formatted', async () => {
    const dataDir = await tempDir();
    const b0 = await start(dataDir);
    await createTopic(b0.port);
    const acked = await produceAll(b0.port, 'a', 20);
    const clusterId = b0.broker.clusterId;
    await stop(b0);
    const meta = readFileSync(join(dataDir, 'meta.properties'), 'utf8');
    rmSync(join(dataDir, 'meta.properties'));
    const before = readdirSync(dataDir).sort();
    await expect(startBroker({ port: 0, dataDir, config: CONFIG })).rejects.toThrow(
      new RegExp(`${join(dataDir, 'meta.properties').replaceAll('.', '\\.')} is missing but ${dataDir.replaceAll('.', '\\.')} is not empty .*refusing to start`),
    );
    expect(existsSync(join(dataDir, 'meta.properties'))).toBe(false);
    expect(readdirSync(dataDir).sort()).toEqual(before);
    // restored, the data is there under its own cluster id
    writeFileSync(join(dataDir, 'meta.properties'), meta);
    const b = await start(dataDir);
    expect(b.broker.clusterId).toBe(clusterId);
    expect(await lostRecords(b.port, acked)).toBe(0);
    await stop(b);
    const empty = await tempDir();
    const fresh = await start(empty);
    expect(existsSync(join(empty, 'meta.properties'))).toBe(true);
    await stop(fresh);
  }, 60_000);
});
