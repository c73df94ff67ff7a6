/**
 * The limits and configs of consumer groups (KIP-848) on a real broker with
 * raw frames: group.consumer.max.size, the session and heartbeat bounds
 * checked at start, static members rejoining, and the members' racks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { ConfigError, startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { consumerGroupHeartbeatRequest: hbReq, consumerGroupHeartbeatResponse: hbRes } = schemas;
type HeartbeatBody = MessageInput<typeof hbReq>;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

const BOUNDS = {
  'group.consumer.min.session.timeout.ms': 1_000,
  'group.consumer.session.timeout.ms': 3_000,
  'group.consumer.min.heartbeat.interval.ms': 100,
  'group.consumer.heartbeat.interval.ms': 500,
};

function newId(): string {
  return randomBytes(16).toString('base64url');
}

describe('consumer group limits', () => {
  let broker: RunningBroker;
  let dataDir: string;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-limits-'));
    broker = await startBroker({ dataDir, port: 0, config: { ...BOUNDS, 'group.consumer.max.size': 2, 'broker.rack': 'rack-a', 'gregor.flush.acks.all': false } });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function client(): Promise<RawClient> {
    const c = await RawClient.connect(broker.port, '127.0.0.1', 'cg-limits');
    clients.push(c);
    return c;
  }

  async function heartbeat(c: RawClient, body: HeartbeatBody, version = 1): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, version, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  function joinBody(groupId: string, memberId: string, topics: string[], instanceId: string | null = null): HeartbeatBody {
    return { groupId, memberId, memberEpoch: 0, instanceId, rebalanceTimeoutMs: 5000, subscribedTopicNames: topics, topicPartitions: [] };
  }

  describe('group.consumer.max.size', () => {
    it('a third member is refused with GROUP_MAX_SIZE_REACHED; members already in keep heartbeating; a leave makes room', async () => {
      await broker.broker.topics.create({ name: 'lim-size', numPartitions: 2, replicationFactor: 1, configs: {} });
      const c = await client();
      const a = newId();
      const b = newId();
      const resA = await heartbeat(c, joinBody('lim-size', a, ['lim-size']));
      expect(resA.errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-size', b, ['lim-size']))).errorCode).toBe(ErrorCode.NONE);

      const third = await heartbeat(c, joinBody('lim-size', newId(), ['lim-size']));
      expect(third).toMatchObject({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, errorMessage: 'The consumer group has reached its maximum capacity of 2 members.' });
      // v0: the coordinator makes the member id, so every v0 join is a new member
      const v0 = await heartbeat(c, joinBody('lim-size', '', ['lim-size']), 0);
      expect(v0.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);

      // a member of the group is not refused, even when it joins again
      expect((await heartbeat(c, { groupId: 'lim-size', memberId: a, memberEpoch: resA.memberEpoch })).errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-size', a, ['lim-size']))).errorCode).toBe(ErrorCode.NONE);

      const left = await heartbeat(c, { groupId: 'lim-size', memberId: b, memberEpoch: -1 });
      expect(left.errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-size', newId(), ['lim-size']))).errorCode).toBe(ErrorCode.NONE);
    });

    it('a static member replacing its old self under a new member id counts as a new member (as Kafka)', async () => {
      await broker.broker.topics.create({ name: 'lim-static-size', numPartitions: 2, replicationFactor: 1, configs: {} });
      const c = await client();
      const s1 = newId();
      const joined = await heartbeat(c, joinBody('lim-static-size', s1, ['lim-static-size'], 'instance-1'));
      expect(joined.errorCode).toBe(ErrorCode.NONE);
      expect((await heartbeat(c, joinBody('lim-static-size', newId(), ['lim-static-size']))).errorCode).toBe(ErrorCode.NONE);
      // the static member leaves for a while (epoch -2), then a new process of it joins under a new member id
      expect((await heartbeat(c, { groupId: 'lim-static-size', memberId: s1, memberEpoch: -2, instanceId: 'instance-1' })).errorCode).toBe(ErrorCode.NONE);
      const back = await heartbeat(c, joinBody('lim-static-size', newId(), ['lim-static-size'], 'instance-1'));
      expect(back.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    });
  });
});

describe('group.consumer session timeout and heartbeat interval bounds at start', () => {
  const cases: Array<[Record<string, number>, string]> = [
    [{ 'group.consumer.min.heartbeat.interval.ms': 6000, 'group.consumer.max.heartbeat.interval.ms': 5500 }, 'group.consumer.max.heartbeat.interval.ms: 5500 (from overrides) must be greater than or equal to group.consumer.min.heartbeat.interval.ms (6000 (from overrides))'],
    [{ 'group.consumer.heartbeat.interval.ms': 1000 }, 'group.consumer.heartbeat.interval.ms: 1000 (from overrides) must be greater than or equal to group.consumer.min.heartbeat.interval.ms (5000)'],
    [{ 'group.consumer.heartbeat.interval.ms': 20000 }, 'group.consumer.heartbeat.interval.ms: 20000 (from overrides) must be less than or equal to group.consumer.max.heartbeat.interval.ms (15000)'],
    [{ 'group.consumer.session.timeout.ms': 6000 }, 'group.consumer.session.timeout.ms: 6000 (from overrides) must be greater than or equal to group.consumer.min.session.timeout.ms (45000)'],
    [{ 'group.consumer.session.timeout.ms': 90000 }, 'group.consumer.session.timeout.ms: 90000 (from overrides) must be less than or equal to group.consumer.max.session.timeout.ms (60000)'],
    [{ 'group.consumer.min.session.timeout.ms': 1000, 'group.consumer.session.timeout.ms': 5000 }, 'group.consumer.heartbeat.interval.ms: 5000 must be less than group.consumer.session.timeout.ms (5000 (from overrides))'],
  ];
  it.each(cases)('%o is refused', async (config, message) => {
    const dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-cg-bounds-'));
    try {
      const started = startBroker({ dataDir, port: 0, config });
      await expect(started).rejects.toThrow(ConfigError);
      await expect(started).rejects.toThrow(`invalid configuration ${message}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
