/**
 * A full disk under a running broker (storage's FaultyFs with a free-space budget: the write that does not
 * fit lands partly and fails with ENOSPC, as on a full file system): produce answers KAFKA_STORAGE_ERROR,
 * fetches and offset fetches keep working, nothing already acknowledged is damaged, and once space is
 * freed the same partitions take appends again, without a restart. Rounds run out of space at random
 * points (a log write, an index write, a segment roll, a group commit, a checkpoint); at the end a power
 * cut forces recovery at the next start, which must find every acknowledged record.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { batchOf, produceRaw } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';
import { DiskSpaceFs } from '../helpers/storage-faults.js';
import { seededRng } from '../unit/protocol-values.js';

const running: RunningBroker[] = [];
afterAll(async () => {
  for (const b of running) await b.close().catch(() => undefined);
});

/** The batches' offset ranges in a partition's segment files, and where they do not follow each other. */
function segmentGaps(dir: string): string[] {
  const problems: string[] = [];
  let next = -1;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
    const file = readFileSync(join(dir, name));
    for (let pos = 0; pos + 61 <= file.length; pos += 12 + file.readInt32BE(pos + 8)) {
      const base = Number(file.readBigInt64BE(pos));
      const last = base + file.readInt32BE(pos + 23);
      if (next >= 0 && base !== next) problems.push(`${name}@${pos}: batch [${base}, ${last}] after offset ${next - 1}`);
      next = last + 1;
    }
  }
  return problems;
}

interface Acked {
  readonly offset: number;
  readonly value: string;
}

function commit(client: RawClient, offset: number): Promise<number> {
  return client
    .request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 7, {
      groupId: 'full-disk-group',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'disk', partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null }] }],
    })
    .then((r) => r.topics[0]!.partitions[0]!.errorCode);
}

async function committed(client: RawClient): Promise<number> {
  const res = await client.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 7, { groupId: 'full-disk-group', topics: [{ name: 'disk', partitionIndexes: [0] }], requireStable: false });
  return Number(res.topics[0]!.partitions[0]!.committedOffset);
}

describe('a full disk', () => {
  it('answers KAFKA_STORAGE_ERROR to produce, keeps serving reads, recovers when space is freed, and damages nothing acknowledged', async () => {
    const fs = new DiskSpaceFs();
    const config = { 'log.segment.bytes': 24 * 1024, 'log.index.interval.bytes': 0, 'offsets.topic.num.partitions': 1, 'offsets.topic.segment.bytes': 8 * 1024 };
    const b = await startBroker({ port: 0, config, storageFs: fs, logLevel: 'silent' });
    running.push(b);
    await b.broker.topics.create({ name: 'disk', numPartitions: 1, replicationFactor: 1, configs: {} });
    const client = await RawClient.connect(b.port);
    const random = seededRng(56);
    const acked: Acked[] = [];
    let n = 0;
    let lastCommit = -1;
    const codes = new Map<number, number>();
    /** One batch of 1 to 10 records of 100 B to 3 KiB (big ones make the segment roll), or one small record. */
    const produceOne = async (small = false): Promise<number> => {
      const values = Array.from({ length: small ? 1 : 1 + Math.floor(random() * 10) }, (_, i) => `${n}-${i}-${'v'.repeat(small ? 50 : Math.floor(random() * 3000) + 100)}`);
      n++;
      const res = await produceRaw(client, 'disk', 0, await batchOf(values.map((v) => ({ value: Buffer.from(v) }))), { acks: -1 });
      codes.set(res.errorCode, (codes.get(res.errorCode) ?? 0) + 1);
      if (res.errorCode === ErrorCode.NONE) values.forEach((value, i) => acked.push({ offset: Number(res.baseOffset) + i, value }));
      return res.errorCode;
    };
    const expectIntact = async (when: string): Promise<void> => {
      const stored = await fetchAll(client, 'disk', 0);
      const byOffset = new Map(stored.map((r) => [r.offset, r.value]));
      expect(acked.filter((a) => byOffset.get(a.offset) !== a.value).map((a) => a.offset), when).toEqual([]);
      // nothing but acknowledged records (a failed append leaves no trace), offsets without gaps
      expect(stored.map((r) => r.offset), when).toEqual(stored.map((_, i) => i));
      expect(stored.length, when).toBe(acked.length);
    };

    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 15; i++) expect(await produceOne()).toBe(ErrorCode.NONE);
      expect(await commit(client, ++lastCommit)).toBe(ErrorCode.NONE);
      // the disk fills up somewhere in the next writes: every other round, right after a .log write (so an
      // index write, made every 64 batches or when a segment rolls, is the one that fails)
      let failed = 0;
      if (round % 2 === 1) {
        fs.fullFor = /index$/;
        for (let i = 0; i < 80 && failed === 0; i++) if ((await produceOne(round % 4 === 1)) !== ErrorCode.NONE) failed++;
        fs.fullFor = undefined;
        fs.free = 0;
      } else {
        fs.free = Math.floor(random() * 20_000);
        for (let i = 0; i < 12; i++) if ((await produceOne()) !== ErrorCode.NONE) failed++;
      }
      expect(failed, `round ${round}`).toBeGreaterThan(0);
      // full: every produce fails with KAFKA_STORAGE_ERROR, a commit fails, reads work
      expect(await produceOne()).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect(await commit(client, lastCommit + 1)).not.toBe(ErrorCode.NONE);
      await expectIntact(`round ${round}, disk full`);
      expect(await committed(client)).toBeGreaterThanOrEqual(lastCommit);
      // space freed: appends and commits work again, on the same partitions
      fs.free = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 5; i++) expect(await produceOne(), `round ${round}, after freeing space`).toBe(ErrorCode.NONE);
      lastCommit += 2;
      expect(await commit(client, lastCommit)).toBe(ErrorCode.NONE);
      await expectIntact(`round ${round}, space freed`);
      expect(b.broker.logs.stats().offlinePartitions).toBe(0);
    }
    client.close();
    // the files hold the batches back to back, offsets in order: no trace of a failed append
    expect(segmentGaps(join(b.dataDir, 'disk-0'))).toEqual([]);
    // power cut: the next start recovers from what was fsync'ed
    fs.faulty.crash();
    await b.close().catch(() => undefined);
    const again = await startBroker({ port: 0, dataDir: b.dataDir, config, logLevel: 'silent' });
    running.push(again);
    const c2 = await RawClient.connect(again.port);
    const stored = new Map((await fetchAll(c2, 'disk', 0)).map((r) => [r.offset, r.value]));
    expect(await committed(c2)).toBeGreaterThanOrEqual(lastCommit);
    c2.close();
    console.log(`full disk report: ${JSON.stringify({ enospcWrites: fs.failures, produceAnswers: Object.fromEntries(codes), recordsAcknowledged: acked.length, recoveredAfterRestart: acked.filter((a) => stored.get(a.offset) === a.value).length })}`);
    expect(acked.filter((a) => stored.get(a.offset) !== a.value).map((a) => a.offset)).toEqual([]);
  }, 60_000);
});
