/**
 * Stopping and starting a broker on the same data directory: topics, topic ids,
 * configs, the cluster id and records are all there again; a stored partition
 * without its directory gets an empty one, and a directory the stored metadata
 * does not explain is moved aside as -stray, never deleted; a data directory of
 * another node is refused.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { METADATA_FILE } from '../../src/metadata/metadata-store.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

let dataDir: string;
let running: RunningBroker | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-restart-'));
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function start(config: Record<string, string | number | boolean> = {}): Promise<RunningBroker> {
  running = await startBroker({ port: 0, dataDir, config });
  return running;
}

async function stop(): Promise<void> {
  await running?.close();
  running = undefined;
}

async function withAdmin<T>(broker: RunningBroker, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'restart-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Topic name → [topic id, partition count] from Metadata v12, as clients see it. */
async function topicsOnTheWire(broker: RunningBroker): Promise<Map<string, [string, number]>> {
  const raw = await RawClient.connect(broker.port);
  try {
    const res = await raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: null });
    return new Map(res.topics.map((t) => [t.name!, [t.topicId, t.partitions.length] as [string, number]]));
  } finally {
    raw.close();
  }
}

describe('restart on the same data directory', () => {
  it('keeps topics, topic ids, partition counts, configs, the cluster id and records', async () => {
    const first = await start();
    await withAdmin(first, (admin) =>
      admin.createTopics({
        topics: [
          { topic: 'events', numPartitions: 3 },
          { topic: 'audit', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'delete' }] },
        ],
      }),
    );
    const log = first.broker.topics.partition('events', 1)!.log;
    await log.append(buildUncompressedBatch([{ key: Buffer.from('k'), value: Buffer.from('v1') }, { value: Buffer.from('v2') }]), { leaderEpoch: 0 });
    const before = await topicsOnTheWire(first);
    const clusterId = first.broker.clusterId;
    await stop();

    const second = await start();
    expect(second.broker.clusterId).toBe(clusterId);
    expect(await topicsOnTheWire(second)).toEqual(before);
    const audit = second.broker.topics.get('audit')!;
    expect(Object.fromEntries(audit.overrides)).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'delete' });
    expect(audit.config.log.retentionMs).toBe(3_600_000);
    expect(audit.partitions[0]!.log.currentConfig.retentionMs).toBe(3_600_000);
    expect(second.broker.topics.partition('events', 1)!.log.logEndOffset).toBe(2);
    const described = await withAdmin(second, (admin) => admin.describeCluster());
    expect(described.clusterId).toBe(clusterId);
  });

  it('keeps an auto-created topic and forgets a deleted one', async () => {
    const first = await start();
    const raw = await RawClient.connect(first.port);
    await raw.request(schemas.metadataRequest, schemas.metadataResponse, 9, { topics: [{ name: 'auto' }], allowAutoTopicCreation: true });
    raw.close();
    await withAdmin(first, async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'gone' }] });
      await admin.deleteTopics({ topics: ['gone'] });
    });
    await stop();

    const second = await start();
    expect([...(await topicsOnTheWire(second)).keys()]).toEqual(['auto']);
  });

  it('applies a changed broker default to topics without an override, and keeps overrides', async () => {
    const first = await start({ 'log.retention.hours': 10 });
    await withAdmin(first, (admin) =>
      admin.createTopics({ topics: [{ topic: 'plain' }, { topic: 'pinned', configEntries: [{ name: 'retention.ms', value: '1000' }] }] }),
    );
    expect(first.broker.topics.get('plain')!.config.log.retentionMs).toBe(10 * 3_600_000);
    await stop();

    const second = await start({ 'log.retention.hours': 20 });
    expect(second.broker.topics.get('plain')!.config.log.retentionMs).toBe(20 * 3_600_000);
    expect(second.broker.topics.get('plain')!.partitions[0]!.log.currentConfig.retentionMs).toBe(20 * 3_600_000);
    expect(second.broker.topics.get('pinned')!.config.log.retentionMs).toBe(1000);
  });

  it('refuses a data directory written by another node.id, naming both ids', async () => {
    await start({ 'node.id': 1 });
    await stop();
    const attempt = startBroker({ port: 0, dataDir, config: { 'node.id': 2 } });
    await expect(attempt).rejects.toThrow(/node\.id=1.*node\.id=2/);
    // the refused start left the directory usable by its own node
    const again = await start({ 'node.id': 1 });
    expect(again.broker.nodeId).toBe(1);
  });
});

describe('reconciling stored metadata with the partition directories', () => {
  it('recreates a partition directory that disappeared, empty', async () => {
    const first = await start();
    await withAdmin(first, (admin) => admin.createTopics({ topics: [{ topic: 'holes', numPartitions: 2 }] }));
    const id = first.broker.topics.get('holes')!.topicId;
    await stop();
    await rm(join(dataDir, 'holes-1'), { recursive: true });

    const second = await start();
    const holes = second.broker.topics.get('holes')!;
    expect(holes.topicId).toBe(id);
    expect(holes.partitions).toHaveLength(2);
    expect(existsSync(join(dataDir, 'holes-1'))).toBe(true);
    expect(holes.partitions[1]!.log.logEndOffset).toBe(0);
  });

  it('moves partition directories of a topic the metadata does not have aside as -stray, and keeps them', async () => {
    const first = await start();
    await withAdmin(first, (admin) => admin.createTopics({ topics: [{ topic: 'keep' }, { topic: 'unexplained', numPartitions: 2 }] }));
    await stop();
    // A metadata file without the topic (stale, or edited by hand): not proof that the data is unwanted
    const file = join(dataDir, METADATA_FILE);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { topics: Array<{ name: string }> };
    stored.topics = stored.topics.filter((t) => t.name !== 'unexplained');
    await writeFile(file, JSON.stringify(stored));

    const second = await start();
    expect([...(await topicsOnTheWire(second)).keys()]).toEqual(['keep']);
    expect(existsSync(join(dataDir, 'unexplained-0'))).toBe(false);
    expect(existsSync(join(dataDir, 'unexplained-1'))).toBe(false);
    const strays = readdirSync(dataDir).filter((d) => d.startsWith('unexplained-') && d.endsWith('-stray'));
    expect(strays.map((d) => d.slice(0, d.indexOf('.'))).sort()).toEqual(['unexplained-0', 'unexplained-1']);
  });

  it('adopts the topics on disk, with their ids, when no metadata was ever stored', async () => {
    const first = await start();
    await withAdmin(first, (admin) => admin.createTopics({ topics: [{ topic: 'legacy', numPartitions: 2 }] }));
    const before = await topicsOnTheWire(first);
    await stop();
    await rm(join(dataDir, METADATA_FILE));

    const second = await start();
    expect(await topicsOnTheWire(second)).toEqual(before);
    expect(existsSync(join(dataDir, METADATA_FILE))).toBe(true);
  });

  it('refuses to start on a corrupt metadata file instead of forgetting every topic', async () => {
    const first = await start();
    await withAdmin(first, (admin) => admin.createTopics({ topics: [{ topic: 'precious' }] }));
    await stop();
    await writeFile(join(dataDir, METADATA_FILE), '{"version":1,"nodeId":1,"clus');

    await expect(startBroker({ port: 0, dataDir })).rejects.toThrow(/gregor-metadata\.json is not valid JSON.*refusing to start/);
    expect(existsSync(join(dataDir, 'precious-0'))).toBe(true);
  });
});
