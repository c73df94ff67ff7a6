/**
 * A share group's own configs (KIP-932 group configs on a GROUP resource) on a
 * real broker, over the wire (raw client): IncrementalAlterConfigs sets
 * share.auto.offset.reset, share.record.lock.duration.ms and the membership's
 * timeouts; ShareFetch then starts at the log start and answers the group's
 * lock duration; ShareGroupHeartbeat gives the group's heartbeat interval;
 * DescribeConfigs shows the values with their sources; values outside their
 * types, choices or the broker's bounds are refused with INVALID_CONFIG.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildUncompressedBatch } from '../../protocol/records/batch-builder.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const GROUP = 'configured-queue';
const GROUP_RESOURCE = 32;
const SET = 0;
const GROUP_CONFIG_SOURCE = 8;
const DEFAULT_CONFIG_SOURCE = 5;

let dataDir: string;
let running: RunningBroker | undefined;
let client: RawClient | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-share-configs-'));
  running = await startBroker({ port: 0, dataDir, config: { 'share.coordinator.state.topic.num.partitions': 3 } });
  client = await RawClient.connect(running.port);
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await running?.close();
  running = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function alter(groupId: string, configs: Record<string, string>) {
  const res = await client!.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
    resources: [{ resourceType: GROUP_RESOURCE, resourceName: groupId, configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: SET, value })) }],
    validateOnly: false,
  });
  return res.responses[0]!;
}

async function describeGroup(groupId: string) {
  const res = await client!.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, 4, {
    resources: [{ resourceType: GROUP_RESOURCE, resourceName: groupId, configurationKeys: null }],
    includeSynonyms: true,
    includeDocumentation: false,
  });
  const result = res.results[0]!;
  expect(result.errorCode).toBe(ErrorCode.NONE);
  return new Map(result.configs.map((c) => [c.name, c]));
}

function shareFetch(topicId: string) {
  return client!.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 2, {
    groupId: GROUP,
    memberId: 'member-1',
    shareSessionEpoch: 0,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    maxRecords: 500,
    batchSize: 500,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
    forgottenTopicsData: [],
  });
}

describe('share group configs', () => {
  it('share.auto.offset.reset=earliest and share.record.lock.duration.ms set by IncrementalAlterConfigs rule the first ShareFetch', async () => {
    const info = await running!.broker.topics.create({ name: 'backlog', numPartitions: 1, replicationFactor: 1, configs: {} });
    const log = running!.broker.topics.partition('backlog', 0)!.log;
    const records = Array.from({ length: 3 }, (_, i) => ({ key: null, value: Buffer.from(`old-${i}`) }));
    await log.append(buildUncompressedBatch(records), { leaderEpoch: 0 });

    const set = await alter(GROUP, { 'share.auto.offset.reset': 'earliest', 'share.record.lock.duration.ms': '20000' });
    expect(set.errorCode).toBe(ErrorCode.NONE);

    // records produced before the group's first fetch are delivered: the partition starts at the log start
    const res = await shareFetch(info.topicId);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.acquisitionLockTimeoutMs).toBe(20000);
    const acquired = res.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords.map((a) => [Number(a.firstOffset), Number(a.lastOffset), a.deliveryCount])));
    expect(acquired).toEqual([[0, 2, 1]]);

    const described = await describeGroup(GROUP);
    expect(described.get('share.auto.offset.reset')).toMatchObject({ value: 'earliest', configSource: GROUP_CONFIG_SOURCE });
    expect(described.get('share.record.lock.duration.ms')).toMatchObject({ value: '20000', configSource: GROUP_CONFIG_SOURCE });
    expect(described.get('share.isolation.level')).toMatchObject({ value: 'read_uncommitted', configSource: DEFAULT_CONFIG_SOURCE });
    expect(described.get('share.session.timeout.ms')).toMatchObject({ value: '45000', configSource: DEFAULT_CONFIG_SOURCE });
    expect(described.get('share.heartbeat.interval.ms')).toMatchObject({ value: '5000', configSource: DEFAULT_CONFIG_SOURCE });
  });

  it('without the group config a share group starts at the log end (latest)', async () => {
    const info = await running!.broker.topics.create({ name: 'fresh', numPartitions: 1, replicationFactor: 1, configs: {} });
    const log = running!.broker.topics.partition('fresh', 0)!.log;
    await log.append(buildUncompressedBatch([{ key: null, value: Buffer.from('before') }]), { leaderEpoch: 0 });
    const res = await shareFetch(info.topicId);
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.acquisitionLockTimeoutMs).toBe(30000);
    expect(res.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords))).toEqual([]);
  });

  it('ShareGroupHeartbeat gives the group\'s share.heartbeat.interval.ms', async () => {
    expect((await alter('beating', { 'share.heartbeat.interval.ms': '7000', 'share.session.timeout.ms': '50000' })).errorCode).toBe(ErrorCode.NONE);
    await running!.broker.topics.create({ name: 'work', numPartitions: 1, replicationFactor: 1, configs: {} });
    let res;
    for (let i = 0; ; i++) {
      res = await client!.request(schemas.shareGroupHeartbeatRequest, schemas.shareGroupHeartbeatResponse, 1, {
        groupId: 'beating',
        memberId: 'member-abcdefghijklmnopqrstu',
        memberEpoch: 0,
        subscribedTopicNames: ['work'],
      });
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.heartbeatIntervalMs).toBe(7000);
  });

  it('refuses values of the wrong kind or outside the broker\'s bounds (INVALID_CONFIG)', async () => {
    const refused: Array<[Record<string, string>, string]> = [
      [{ 'share.auto.offset.reset': 'sideways' }, 'Unsupported strategy for ShareGroup: sideways'],
      [{ 'share.auto.offset.reset': 'by_duration' }, '<:duration> part is missing'],
      [{ 'share.isolation.level': 'maybe' }, 'String must be one of: read_committed, read_uncommitted'],
      [{ 'share.record.lock.duration.ms': '70000' }, 'share.record.lock.duration.ms must be less than or equal to group.share.max.record.lock.duration.ms'],
      [{ 'share.session.timeout.ms': '1000' }, 'share.session.timeout.ms must be greater than or equal to group.share.min.session.timeout.ms'],
      [{ 'share.heartbeat.interval.ms': '20000' }, 'share.heartbeat.interval.ms must be less than or equal to group.share.max.heartbeat.interval.ms'],
      [{ 'streams.num.standby.replicas': '1' }, 'Unknown group config name: streams.num.standby.replicas'],
    ];
    for (const [configs, message] of refused) {
      const r = await alter(GROUP, configs);
      expect(r.errorCode, JSON.stringify(configs)).toBe(ErrorCode.INVALID_CONFIG);
      expect(r.errorMessage).toContain(message);
    }
    // by_duration with an ISO-8601 duration is taken
    expect((await alter(GROUP, { 'share.auto.offset.reset': 'by_duration:PT1H', 'share.isolation.level': 'read_committed' })).errorCode).toBe(ErrorCode.NONE);
    const described = await describeGroup(GROUP);
    expect(described.get('share.auto.offset.reset')?.value).toBe('by_duration:PT1H');
    expect(described.get('share.isolation.level')?.value).toBe('read_committed');
  });
});
