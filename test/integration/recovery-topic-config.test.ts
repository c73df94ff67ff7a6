/**
 * Recovery after kill -9 uses each topic's own log config, not the broker defaults: the stored topic
 * overrides are read before the logs are loaded (the LogManager opens the directory, the topic manager reads
 * the metadata, then the logs are loaded with their topics' configs). A compacted topic with its own
 * segment.bytes and index.interval.bytes, cleaned by the background cleaner (offset gaps between and inside
 * segments), is killed before any recovery point or cleaner checkpoint vouches for its segments (the
 * checkpoint files are removed, as a crash before their first write leaves them), so recovery rescans every
 * segment: the rebuilt offset indexes are the ones the appends wrote (index.interval.bytes=64, not the
 * default 4096), nothing is truncated at the gaps, and new appends roll at the topic's segment.bytes.
 * (The first broker's cleaner keeps running: the records are compared once it has settled; the second
 * broker runs without one, so the segments it recovered stay as they are while they are compared.)
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killAll, spawnCli } from '../helpers/broker-process.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { produceRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'own-config';
const KEYS = 5;
const BATCHES = 60;
const dirs: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(() => ensureBuilt(), 300_000);
afterEach(() => killAll());
afterAll(async () => {
  killAll();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The offset index files of the partition's segments, by base offset (the last one is the active segment). */
function indexes(partitionDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(partitionDir).filter((n) => n.endsWith('.index')).sort()) out.set(f, readFileSync(join(partitionDir, f)));
  return out;
}

describe('recovery with the topic config', () => {
  it('a compacted topic with its own segment.bytes and index.interval.bytes recovers with them after kill -9', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gregor-recovery-config-'));
    dirs.push(dataDir);
    const config = { 'log.cleaner.backoff.ms': 100 };
    const first = await spawnCli({ dataDir, config });
    const kafka = new Kafka({ brokers: [`127.0.0.1:${first.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '2048' },
            { name: 'index.interval.bytes', value: '64' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        },
      ],
    });
    await admin.disconnect();
    const client = await RawClient.connect(first.port);
    for (let n = 0; n < BATCHES; n++) {
      await produceRecords(client, TOPIC, 0, Array.from({ length: KEYS }, (_, k) => ({ key: Buffer.from(`k${k}`), value: Buffer.from(`v-${n}-${k}-${'x'.repeat(20)}`) })));
    }
    // the background cleaner has compacted the log: offsets have gaps
    let before = await fetchAll(client, TOPIC, 0);
    for (let i = 0; i < 200 && before.every((r, j) => r.offset === j); i++) {
      await sleep(50);
      before = await fetchAll(client, TOPIC, 0);
    }
    expect(before.some((r, j) => r.offset !== j)).toBe(true);
    // and has finished: the log reads the same over ten cleaner backoffs (a pass still running when the
    // broker is killed would leave less than was read here)
    const snapshot = (records: typeof before): string => JSON.stringify(records.map((r) => [r.offset, r.key, r.value]));
    for (let i = 0; i < 60; i++) {
      await sleep(1000);
      const again = await fetchAll(client, TOPIC, 0);
      const settled = snapshot(again) === snapshot(before);
      before = again;
      if (settled) break;
    }
    client.close();
    const partitionDir = join(dataDir, `${TOPIC}-0`);
    const indexesBefore = indexes(partitionDir);
    expect(indexesBefore.size).toBeGreaterThan(2);

    first.child.kill('SIGKILL');
    await first.exited;
    // a crash before the first checkpoint writes: nothing vouches for any segment, every one is recovered
    for (const f of ['recovery-point-offset-checkpoint', 'cleaner-offset-checkpoint']) rmSync(join(dataDir, f), { force: true });
    expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(false);

    // without its cleaner, which would clean again from the start (its checkpoint is gone) and merge the segments compared below
    const second = await spawnCli({ dataDir, config: { ...config, 'log.cleaner.enable': false } });
    expect(second.output()).not.toMatch(/recovery truncated the log/);
    const reader = await RawClient.connect(second.port);
    const after = await fetchAll(reader, TOPIC, 0);
    expect(after.map((r) => [r.offset, r.key, r.value])).toEqual(before.map((r) => [r.offset, r.key, r.value]));
    // the rebuilt indexes of the sealed segments are those the appends wrote (index.interval.bytes=64)
    const indexesAfter = indexes(partitionDir);
    const sealed = [...indexesBefore.keys()].slice(0, -1);
    for (const name of sealed) expect(indexesAfter.get(name)?.toString('hex'), name).toBe(indexesBefore.get(name)!.toString('hex'));
    // new appends roll at the topic's segment.bytes: the active segment (which the cleaner never touches;
    // it may merge the sealed ones) starts after the first of them and is small
    let firstNew = -1;
    for (let n = 0; n < 20; n++) {
      const offset = await produceRecords(reader, TOPIC, 0, [{ key: Buffer.from('k0'), value: Buffer.from(`after-${n}-${'y'.repeat(200)}`) }]);
      if (firstNew < 0) firstNew = offset;
    }
    const logs = readdirSync(partitionDir).filter((f) => f.endsWith('.log')).sort();
    const active = logs[logs.length - 1]!;
    expect(Number(active.slice(0, -'.log'.length))).toBeGreaterThan(firstNew);
    expect(statSync(join(partitionDir, active)).size).toBeLessThanOrEqual(2048);
    reader.close();
  }, 120_000);
});
