/**
 * The internal topic `__consumer_offsets` as clients meet it, as Kafka 3.9's broker has it:
 * - DeleteTopics may delete it (Kafka's broker allows it without an authorizer); the group coordinator then
 *   resigns it, so the committed offsets it served from memory are gone at once, as they are after a restart:
 *   the answers are the same before and after the next restart;
 * - Metadata creates it when asked for it with auto-creation allowed and auto.create.topics.enable on, with
 *   its own settings (offsets.topic.num.partitions, compacted), as FindCoordinator does (what Burrow needs).
 * Real brokers on real data directories; kafkajs and raw frames.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const OFFSETS = '__consumer_offsets';
const config = { 'offsets.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0 };

const running: RunningBroker[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.close().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gregor-internal-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, extra: Record<string, string | number | boolean> = {}): Promise<RunningBroker> {
  const b = await startBroker({ port: 0, dataDir, config: { ...config, ...extra }, logLevel: 'silent' });
  running.push(b);
  return b;
}

async function restart(b: RunningBroker): Promise<RunningBroker> {
  await b.close();
  running.splice(running.indexOf(b), 1);
  return start(b.dataDir);
}

async function withAdmin<T>(b: RunningBroker, run: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({ clientId: 'internal-topics', brokers: [b.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

async function withRaw<T>(b: RunningBroker, run: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(b.port);
  try {
    return await run(c);
  } finally {
    c.close();
  }
}

/** Committed offsets of a group on `orders` by the kafkajs admin: "partition:offset", -1 when none. */
async function offsetsOf(b: RunningBroker, groupId: string): Promise<string[]> {
  return withAdmin(b, async (admin) => {
    const [topic] = await admin.fetchOffsets({ groupId, topics: ['orders'] });
    return topic!.partitions.map((p) => `${p.partition}:${p.offset}`).sort();
  });
}

async function commitRaw(c: RawClient, groupId: string, offset: number): Promise<void> {
  const res = await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedMetadata: null }] }],
  });
  expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
}

async function committedRaw(c: RawClient, groupId: string): Promise<number> {
  const res = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId, topics: [{ name: 'orders', partitionIndexes: [0] }] }], requireStable: false });
  expect(res.groups[0]!.errorCode).toBe(ErrorCode.NONE);
  return Number(res.groups[0]!.topics[0]!.partitions[0]!.committedOffset);
}

function metadataOf(c: RawClient, version: number, name: string, allowAutoTopicCreation: boolean) {
  return c.request(schemas.metadataRequest, schemas.metadataResponse, version, {
    topics: [{ name }],
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
}

describe('deleting __consumer_offsets', () => {
  it('with the kafkajs admin: the committed offsets are gone at once, and the answers stay the same across a restart', async () => {
    const b = await start(await newDataDir());
    await withAdmin(b, async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
      await admin.setOffsets({ groupId: 'g1', topic: 'orders', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '6' }] });
      await admin.setOffsets({ groupId: 'g2', topic: 'orders', partitions: [{ partition: 0, offset: '7' }] });
    });
    expect(await offsetsOf(b, 'g1')).toEqual(['0:5', '1:6']);
    expect(b.broker.topics.get(OFFSETS)?.internal).toBe(true);

    await withAdmin(b, (admin) => admin.deleteTopics({ topics: [OFFSETS] }));
    const afterDelete = { g1: await offsetsOf(b, 'g1'), g2: await offsetsOf(b, 'g2'), groups: await withAdmin(b, (a) => a.listGroups()) };
    expect(afterDelete.g1).toEqual(['0:-1', '1:-1']);
    expect(afterDelete.g2).toEqual(['0:-1', '1:-1']);
    expect(afterDelete.groups.groups).toEqual([]);

    const again = await restart(b);
    expect({ g1: await offsetsOf(again, 'g1'), g2: await offsetsOf(again, 'g2'), groups: await withAdmin(again, (a) => a.listGroups()) }).toEqual(afterDelete);
    // the topic is back on first use, and what is committed now is kept
    await withAdmin(again, (admin) => admin.setOffsets({ groupId: 'g1', topic: 'orders', partitions: [{ partition: 0, offset: '9' }] }));
    expect(again.broker.topics.get(OFFSETS)?.numPartitions).toBe(3);
    expect(await offsetsOf(again, 'g1')).toEqual(['0:9', '1:-1']);
    const third = await restart(again);
    expect(await offsetsOf(third, 'g1')).toEqual(['0:9', '1:-1']);
  }, 60_000);

  it('with raw DeleteTopics v0 by name and v6 by topic id: NONE, and no offset is served that a restart would not have', async () => {
    const b = await start(await newDataDir());
    await withRaw(b, async (c) => {
      await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 4, { topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
      await commitRaw(c, 'raw-group', 11);
      expect(await committedRaw(c, 'raw-group')).toBe(11);

      const v0 = await c.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 0, { topicNames: [OFFSETS], timeoutMs: 10_000 });
      expect(v0.responses).toMatchObject([{ name: OFFSETS, errorCode: ErrorCode.NONE }]);
      expect(await committedRaw(c, 'raw-group')).toBe(-1);

      // committed again: the topic is created again, with a new id
      await commitRaw(c, 'raw-group', 12);
      const md = await metadataOf(c, 12, OFFSETS, false);
      expect(md.topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, isInternal: true });
      const v6 = await c.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 6, { topics: [{ name: null, topicId: md.topics[0]!.topicId }], timeoutMs: 10_000 });
      expect(v6.responses).toMatchObject([{ name: OFFSETS, topicId: md.topics[0]!.topicId, errorCode: ErrorCode.NONE }]);
      expect(await committedRaw(c, 'raw-group')).toBe(-1);
    });
    const again = await restart(b);
    expect(await withRaw(again, (c) => committedRaw(c, 'raw-group'))).toBe(-1);
  }, 60_000);
});

describe('Metadata for __consumer_offsets', () => {
  it('creates it, with offsets.topic.* settings, when the request allows auto-creation (v4+) and auto.create.topics.enable is on', async () => {
    const b = await start(await newDataDir());
    await withRaw(b, async (c) => {
      const refused = await metadataOf(c, 9, OFFSETS, false);
      expect(refused.topics[0]).toMatchObject({ name: OFFSETS, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
      expect(b.broker.topics.get(OFFSETS)).toBeUndefined();

      const res = await metadataOf(c, 9, OFFSETS, true);
      expect(res.topics[0]).toMatchObject({ name: OFFSETS, errorCode: ErrorCode.NONE, isInternal: true });
      expect(res.topics[0]!.partitions).toHaveLength(3);
    });
    const topic = b.broker.topics.get(OFFSETS)!;
    expect(Object.fromEntries(topic.overrides)).toMatchObject({ 'cleanup.policy': 'compact', 'compression.type': 'producer' });
    // the group coordinator uses it as it is
    await withRaw(b, async (c) => {
      await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 4, { topics: [{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
      await commitRaw(c, 'burrow-group', 3);
      expect(await committedRaw(c, 'burrow-group')).toBe(3);
    });
  }, 60_000);

  for (const version of [0, 1, 3]) {
    it(`creates it for Metadata v${version}, which always allows auto-creation`, async () => {
      const b = await start(await newDataDir());
      const res = await withRaw(b, (c) => metadataOf(c, version, OFFSETS, false));
      expect(res.topics[0]).toMatchObject({ name: OFFSETS, errorCode: ErrorCode.NONE });
      expect(res.topics[0]!.partitions).toHaveLength(3);
      if (version >= 1) expect(res.topics[0]!.isInternal).toBe(true);
    }, 60_000);
  }

  it('does not create it, nor __transaction_state, with auto.create.topics.enable=false', async () => {
    const b = await start(await newDataDir(), { 'auto.create.topics.enable': false });
    await withRaw(b, async (c) => {
      expect((await metadataOf(c, 9, OFFSETS, true)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect((await metadataOf(c, 9, '__transaction_state', true)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });
    expect(b.broker.topics.get(OFFSETS)).toBeUndefined();
    expect(b.broker.topics.get('__transaction_state')).toBeUndefined();
  }, 60_000);

  it('creates __transaction_state by its owner, with transaction.state.log.* settings, when auto-creation is allowed', async () => {
    const b = await start(await newDataDir(), { 'transaction.state.log.num.partitions': 4 });
    await withRaw(b, async (c) => {
      expect((await metadataOf(c, 9, '__transaction_state', false)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const res = await metadataOf(c, 9, '__transaction_state', true);
      expect(res.topics[0]).toMatchObject({ name: '__transaction_state', errorCode: ErrorCode.NONE, isInternal: true });
      expect(res.topics[0]!.partitions).toHaveLength(4);
    });
    expect(Object.fromEntries(b.broker.topics.get('__transaction_state')!.overrides)).toMatchObject({ 'cleanup.policy': 'compact' });
  }, 60_000);
});
