/**
 * The consumer protocol's metrics (KIP-848) of a real broker, scraped over HTTP while raw
 * ConsumerGroupHeartbeat clients join, revoke, refuse to revoke, go silent and leave: groups by state,
 * members and epochs per group, heartbeats by kind and result, rebalances (target assignment computations,
 * with their histogram), partitions assigned and revoked, members fenced by session and rebalance timeout.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { parseExposition, valueOf, type Sample } from '../helpers/prometheus-text.js';
import { RawClient } from '../helpers/raw-client.js';

const { consumerGroupHeartbeatRequest: hbReq, consumerGroupHeartbeatResponse: hbRes } = schemas;
type HeartbeatBody = MessageInput<typeof hbReq>;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

const SESSION_TIMEOUT_MS = 1_500;
const TOPIC = 'cg-metrics';

interface Member {
  readonly memberId: string;
  epoch: number;
  owned: Array<{ topicId: string; partitions: number[] }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ownedCount = (m: Member): number => m.owned.reduce((n, t) => n + t.partitions.length, 0);

describe('consumer protocol metrics', () => {
  let broker: RunningBroker;
  let c: RawClient;

  beforeAll(async () => {
    broker = await startBroker({
      metrics: true,
      config: { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'group.consumer.session.timeout.ms': SESSION_TIMEOUT_MS, 'group.consumer.heartbeat.interval.ms': 100, 'group.initial.rebalance.delay.ms': 0, 'gregor.flush.acks.all': false },
    });
    await broker.broker.topics.create({ name: TOPIC, numPartitions: 4, replicationFactor: 1, configs: {} });
    c = await RawClient.connect(broker.port, '127.0.0.1', 'cg-metrics');
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`http://127.0.0.1:${broker.metricsPort!}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  }

  /** A heartbeat, retried while the coordinator's partition is being created or loaded. */
  async function heartbeat(body: HeartbeatBody): Promise<HeartbeatAnswer> {
    for (let i = 0; ; i++) {
      const res = await c.request(hbReq, hbRes, 1, body);
      if ((res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || i > 200) return res;
      await sleep(25);
    }
  }

  async function join(groupId: string, rebalanceTimeoutMs = 5_000): Promise<Member> {
    const memberId = randomBytes(16).toString('base64url');
    const res = await heartbeat({ groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs, subscribedTopicNames: [TOPIC], topicPartitions: [] });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    const m: Member = { memberId, epoch: 0, owned: [] };
    apply(m, res);
    return m;
  }

  /** Takes the answer's epoch and assignment: a member that revokes at once what it is no longer given. */
  function apply(m: Member, res: HeartbeatAnswer): void {
    expect(res.errorCode).toBe(ErrorCode.NONE);
    m.epoch = res.memberEpoch;
    if (res.assignment !== null) m.owned = res.assignment.topicPartitions.map((t) => ({ topicId: t.topicId, partitions: [...t.partitions] }));
  }

  async function beat(groupId: string, m: Member): Promise<HeartbeatAnswer> {
    return heartbeat({ groupId, memberId: m.memberId, memberEpoch: m.epoch, topicPartitions: m.owned });
  }

  /** Heartbeats every member in turn, revoking and acknowledging, until nothing changes for a full round. */
  async function settle(groupId: string, members: readonly Member[]): Promise<void> {
    for (let round = 0; round < 20; round++) {
      let changed = false;
      for (const m of members) {
        const before = JSON.stringify([m.epoch, m.owned]);
        apply(m, await beat(groupId, m));
        if (JSON.stringify([m.epoch, m.owned]) !== before) changed = true;
      }
      if (!changed) return;
    }
    throw new Error('the group did not settle');
  }

  it('counts joins, rebalances and moved partitions, and reads the groups\' state and epochs when scraped', async () => {
    const before = await scrape();
    expect(valueOf(before, 'gregor_consumer_protocol_groups')).toBe(0);
    for (const state of ['Empty', 'Assigning', 'Reconciling', 'Stable']) expect(before.some((s) => s.name === 'gregor_consumer_protocol_groups' && s.labels.state === state)).toBe(true);

    const a = await join('metrics-group');
    await settle('metrics-group', [a]);
    expect(ownedCount(a)).toBe(4);
    const b = await join('metrics-group');
    await settle('metrics-group', [a, b]);
    expect(ownedCount(a) + ownedCount(b)).toBe(4);
    expect(ownedCount(b)).toBe(2);

    const s = await scrape();
    expect(valueOf(s, 'gregor_consumer_protocol_groups', { state: 'Stable' })).toBe(1);
    expect(valueOf(s, 'gregor_consumer_protocol_group_state', { group: 'metrics-group', state: 'Stable' })).toBe(1);
    expect(valueOf(s, 'gregor_consumer_protocol_group_members', { group: 'metrics-group' })).toBe(2);
    expect(valueOf(s, 'gregor_consumer_protocol_group_epoch', { group: 'metrics-group' })).toBe(2);
    expect(valueOf(s, 'gregor_consumer_protocol_group_assignment_epoch', { group: 'metrics-group' })).toBe(2);
    expect(valueOf(s, 'gregor_consumer_protocol_heartbeats_total', { kind: 'join', result: 'NONE' })).toBe(2);
    expect(valueOf(s, 'gregor_consumer_protocol_heartbeats_total', { kind: 'heartbeat', result: 'NONE' })).toBeGreaterThan(2);
    // one target per group epoch: the first join, the second
    expect(valueOf(s, 'gregor_consumer_protocol_rebalances_total')).toBe(2);
    expect(valueOf(s, 'gregor_consumer_protocol_target_assignment_seconds_count')).toBe(2);
    expect(valueOf(s, 'gregor_consumer_protocol_target_assignment_seconds_bucket', { le: '+Inf' })).toBe(2);
    // a got 4, gave up 2 that b then got
    expect(valueOf(s, 'gregor_consumer_protocol_partitions_assigned_total')).toBe(6);
    expect(valueOf(s, 'gregor_consumer_protocol_partitions_revoked_total')).toBe(2);

    // an error answer is counted under its Kafka name; a leave under its kind
    const unknown = await heartbeat({ groupId: 'metrics-group', memberId: 'no-such-member', memberEpoch: 1, topicPartitions: [] });
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const left = await heartbeat({ groupId: 'metrics-group', memberId: b.memberId, memberEpoch: -1 });
    expect(left.errorCode).toBe(ErrorCode.NONE);
    const after = await scrape();
    expect(valueOf(after, 'gregor_consumer_protocol_heartbeats_total', { kind: 'heartbeat', result: 'UNKNOWN_MEMBER_ID' })).toBe(1);
    expect(valueOf(after, 'gregor_consumer_protocol_heartbeats_total', { kind: 'leave', result: 'NONE' })).toBe(1);
    expect(valueOf(after, 'gregor_consumer_protocol_group_members', { group: 'metrics-group' })).toBe(1);
    expect(valueOf(after, 'gregor_consumer_protocol_group_epoch', { group: 'metrics-group' })).toBe(3);
    // a leave is not a fence
    expect(valueOf(after, 'gregor_consumer_protocol_members_fenced_total')).toBe(0);
    await settle('metrics-group', [a]);
    expect(valueOf(await scrape(), 'gregor_consumer_protocol_group_assignment_epoch', { group: 'metrics-group' })).toBe(3);
    expect((await heartbeat({ groupId: 'metrics-group', memberId: a.memberId, memberEpoch: -1 })).errorCode).toBe(ErrorCode.NONE);
  });

  it('counts a member that keeps partitions past its rebalance timeout, and one that goes silent past its session, as fenced by reason', async () => {
    const group = 'fenced-group';
    const x = await join(group, 300);
    await settle(group, [x]);
    expect(ownedCount(x)).toBe(4);
    const y = await join(group);
    // x heartbeats on but never gives its partitions up: its rebalance timeout removes it
    for (let i = 0; ; i++) {
      const res = await beat(group, x);
      if (res.errorCode !== ErrorCode.NONE) {
        expect(res.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
        break;
      }
      expect(i).toBeLessThan(100);
      await sleep(100);
    }
    const s = await scrape();
    expect(valueOf(s, 'gregor_consumer_protocol_members_fenced_total', { reason: 'rebalance_timeout' })).toBe(1);
    expect(valueOf(s, 'gregor_consumer_protocol_members_fenced_total', { reason: 'session_timeout' })).toBe(0);
    expect(valueOf(s, 'gregor_consumer_protocol_partitions_revoked_total')).toBeGreaterThanOrEqual(4);

    // y takes the partitions, then goes silent: its session expires and the group is empty
    await settle(group, [y]);
    expect(ownedCount(y)).toBe(4);
    for (let i = 0; ; i++) {
      const now = await scrape();
      if (valueOf(now, 'gregor_consumer_protocol_members_fenced_total', { reason: 'session_timeout' }) === 1) {
        expect(valueOf(now, 'gregor_consumer_protocol_group_state', { group, state: 'Empty' })).toBe(1);
        expect(valueOf(now, 'gregor_consumer_protocol_group_members', { group })).toBe(0);
        expect(valueOf(now, 'gregor_consumer_protocol_groups', { state: 'Empty' })).toBeGreaterThanOrEqual(1);
        break;
      }
      expect(i, 'the session timeout fenced the silent member').toBeLessThan(100);
      await sleep(100);
    }
  });
});
