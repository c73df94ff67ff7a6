/**
 * Rebalance benchmark (prints numbers, asserts nothing): how long a group of MEMBERS consumers of one topic
 * of PARTITIONS partitions takes until every partition is fetched again by its new owner when one more
 * member joins, and when that member leaves again; the classic protocol (the baseline) and the consumer
 * protocol (KIP-848) measured in the same run, on one broker (its own process, pinned to the server core).
 *
 * Both sides are raw-frame clients in this process (bench/raw-client.ts), so the numbers are the broker's
 * protocols, not a client library's:
 * - classic: JoinGroup v5 / SyncGroup v3 / Heartbeat v3 / LeaveGroup v3, protocol type "consumer", eager as
 *   kafkajs (a member that learns of a rebalance from its heartbeat stops fetching everything, rejoins, and
 *   fetches its new partitions after SyncGroup); the leader assigns the partitions round-robin.
 * - consumer: ConsumerGroupHeartbeat v1, server assignor (uniform); a member stops fetching the partitions
 *   the answer no longer gives it and acknowledges at once with another heartbeat, starts fetching the
 *   partitions it is given and acknowledges them the same way (as the Java consumer), otherwise heartbeats
 *   every HEARTBEAT ms.
 * Both heartbeat every HEARTBEAT ms (the classic members' own interval; the broker's
 * group.consumer.heartbeat.interval.ms for the consumer protocol); group.initial.rebalance.delay.ms is 0.
 * Every member fetches its partitions in a loop of its own connection (Fetch v12 of an empty topic,
 * maxWaitMs FETCH_WAIT).
 *
 * What is timed: from the moment the joining member sends its first request (or the leaving one its leave)
 * until every partition has been answered by a Fetch that its current owner sent after it got the
 * partition, with the partitions spread evenly over the members (the new assignment in effect). Also
 * printed: how many partitions stopped being fetched meanwhile, and the partition-seconds they were not
 * fetched. ROUNDS joins and leaves per protocol; medians.
 *
 * Run: npm run build && npm run bench:rebalance [-- --members N --partitions N --heartbeat MS --fetch-wait MS --rounds N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode, schemas } from '../protocol/index.js';
import { median } from './measure.js';
import { startGregor } from './processes.js';
import { RawBenchClient } from './raw-client.js';

const { values: opts } = parseArgs({
  options: {
    members: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '100' },
    heartbeat: { type: 'string', default: '100' },
    'fetch-wait': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
  },
  strict: true,
});

const MEMBERS = Number(opts.members);
const PARTITIONS = Number(opts.partitions);
const HEARTBEAT_MS = Number(opts.heartbeat);
const FETCH_WAIT_MS = Number(opts['fetch-wait']);
const ROUNDS = Number(opts.rounds);
const TOPIC = 'bench-rebalance';
const SESSION_TIMEOUT_MS = 30_000;
const REBALANCE_TIMEOUT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();

/** The outcome of one join or leave. */
interface Rebalance {
  readonly ms: number;
  /** Partitions that stopped being fetched meanwhile. */
  readonly paused: number;
  /** Seconds they were not fetched, summed over them. */
  readonly pausedSeconds: number;
}

/**
 * Who owns which partition and whether the owner has fetched it since it got it: the measurement. A phase
 * (a join or a leave) ends when every partition is fetched by its owner and the owners hold PARTITIONS/n
 * partitions each (rounded either way).
 */
class Coverage {
  private readonly owners = new Map<number, { member: string; since: number; live: boolean }>();
  private readonly pausedSince = new Map<number, number>();
  private phase: { start: number; members: number; paused: number; pausedMs: number; done: (r: Rebalance) => void } | undefined;

  acquire(member: string, partitions: Iterable<number>): void {
    const t = now();
    for (const p of partitions) {
      if (!this.pausedSince.has(p)) this.pausedSince.set(p, t);
      this.owners.set(p, { member, since: t, live: false });
    }
  }

  release(member: string, partitions: Iterable<number>): void {
    const t = now();
    for (const p of partitions) {
      if (this.owners.get(p)?.member !== member) continue;
      this.owners.delete(p);
      if (!this.pausedSince.has(p)) this.pausedSince.set(p, t);
    }
  }

  fetched(member: string, partitions: readonly number[], sentAt: number): void {
    const t = now();
    for (const p of partitions) {
      const o = this.owners.get(p);
      if (o === undefined || o.member !== member || o.live || o.since > sentAt) continue;
      o.live = true;
      const since = this.pausedSince.get(p);
      this.pausedSince.delete(p);
      if (since !== undefined && this.phase !== undefined && since >= this.phase.start) {
        this.phase.paused++;
        this.phase.pausedMs += t - since;
      }
    }
    this.check(t);
  }

  /** Starts timing a change that leaves `members` members; resolves when the group fetches everything again. */
  begin(members: number): Promise<Rebalance> {
    return new Promise((done) => {
      this.phase = { start: now(), members, paused: 0, pausedMs: 0, done };
    });
  }

  private check(t: number): void {
    const phase = this.phase;
    if (phase === undefined || this.owners.size !== PARTITIONS) return;
    const counts = new Map<string, number>();
    for (const o of this.owners.values()) {
      if (!o.live) return;
      counts.set(o.member, (counts.get(o.member) ?? 0) + 1);
    }
    if (counts.size !== phase.members) return;
    const low = Math.floor(PARTITIONS / phase.members);
    const high = Math.ceil(PARTITIONS / phase.members);
    for (const n of counts.values()) if (n < low || n > high) return;
    this.phase = undefined;
    phase.done({ ms: t - phase.start, paused: phase.paused, pausedSeconds: phase.pausedMs / 1000 });
  }
}

/** What both kinds of member share: two connections (group requests in order; fetches) and the fetch loop. */
abstract class Member {
  readonly owned = new Set<number>();
  protected running = true;
  protected coordinator!: RawBenchClient;
  private fetcher!: RawBenchClient;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    protected readonly bootstrap: string,
    protected readonly groupId: string,
    protected readonly coverage: Coverage,
  ) {}

  abstract get id(): string;

  async connect(): Promise<void> {
    this.coordinator = await RawBenchClient.connect(this.bootstrap, 'bench-rebalance');
    this.fetcher = await RawBenchClient.connect(this.bootstrap, 'bench-rebalance');
  }

  /** Group requests one at a time on the coordinator connection. */
  protected inOrder<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  protected take(partitions: Iterable<number>): void {
    const given = new Set(partitions);
    const lost = [...this.owned].filter((p) => !given.has(p));
    const gained = [...given].filter((p) => !this.owned.has(p));
    this.coverage.release(this.id, lost);
    for (const p of lost) this.owned.delete(p);
    this.coverage.acquire(this.id, gained);
    for (const p of gained) this.owned.add(p);
  }

  protected dropAll(): void {
    this.coverage.release(this.id, this.owned);
    this.owned.clear();
  }

  async fetchLoop(): Promise<void> {
    while (this.running) {
      const partitions = [...this.owned];
      if (partitions.length === 0) {
        await sleep(1);
        continue;
      }
      const sentAt = now();
      const res = await this.fetcher.request(schemas.fetchRequest, schemas.fetchResponse, 12, {
        replicaId: -1,
        maxWaitMs: FETCH_WAIT_MS,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: TOPIC, partitions: partitions.map((partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 16, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })) }],
        forgottenTopicsData: [],
        rackId: '',
      });
      const ok = res.responses.flatMap((t) => t.partitions.filter((p) => p.errorCode === ErrorCode.NONE).map((p) => p.partitionIndex));
      this.coverage.fetched(this.id, ok, sentAt);
    }
  }

  stop(): void {
    this.running = false;
    this.coordinator.close();
    this.fetcher.close();
  }

  /** Joins; resolves once the first request is answered (the classic one: once the rebalance is done). */
  abstract start(): Promise<void>;
  /** Leaves the group (and stops). */
  abstract leave(): Promise<void>;
}

// ------------------------------------------------------------------------ classic protocol

/** ConsumerProtocolSubscription v0 of one topic. */
function subscription(topic: string): Buffer {
  const name = Buffer.from(topic);
  const b = Buffer.alloc(2 + 4 + 2 + name.length + 4);
  let o = b.writeInt16BE(0, 0);
  o = b.writeInt32BE(1, o);
  o = b.writeInt16BE(name.length, o);
  o += name.copy(b, o);
  b.writeInt32BE(-1, o);
  return b;
}

/** ConsumerProtocolAssignment v0 of partitions of one topic. */
function assignmentBytes(topic: string, partitions: readonly number[]): Buffer {
  const name = Buffer.from(topic);
  const b = Buffer.alloc(2 + 4 + 2 + name.length + 4 + 4 * partitions.length + 4);
  let o = b.writeInt16BE(0, 0);
  o = b.writeInt32BE(1, o);
  o = b.writeInt16BE(name.length, o);
  o += name.copy(b, o);
  o = b.writeInt32BE(partitions.length, o);
  for (const p of partitions) o = b.writeInt32BE(p, o);
  b.writeInt32BE(-1, o);
  return b;
}

function partitionsOfAssignment(b: Buffer): number[] {
  if (b.length < 6) return [];
  let o = 2;
  const topics = b.readInt32BE(o);
  o += 4;
  const out: number[] = [];
  for (let t = 0; t < topics; t++) {
    o += 2 + b.readInt16BE(o);
    const n = b.readInt32BE(o);
    o += 4;
    for (let i = 0; i < n; i++, o += 4) out.push(b.readInt32BE(o));
  }
  return out;
}

class ClassicMember extends Member {
  private memberId = '';
  private generationId = -1;
  private readonly name = `classic-${Math.random().toString(36).slice(2)}`;

  get id(): string {
    return this.name;
  }

  async start(): Promise<void> {
    await this.connect();
    await this.inOrder(() => this.join());
    void this.fetchLoop();
    void this.heartbeatLoop();
  }

  private async join(): Promise<void> {
    for (;;) {
      const res = await this.coordinator.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, {
        groupId: this.groupId,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'roundrobin', metadata: subscription(TOPIC) }],
      });
      if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = res.memberId;
        continue;
      }
      if (res.errorCode !== ErrorCode.NONE) throw new Error(`JoinGroup: error ${res.errorCode}`);
      this.memberId = res.memberId;
      this.generationId = res.generationId;
      const assignments =
        res.leader === this.memberId
          ? res.members
              .map((m) => m.memberId)
              .sort()
              .map((memberId, i, all) => ({ memberId, assignment: assignmentBytes(TOPIC, Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % all.length === i)) }))
          : [];
      const sync = await this.coordinator.request(schemas.syncGroupRequest, schemas.syncGroupResponse, 3, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        assignments,
      });
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode !== ErrorCode.NONE) throw new Error(`SyncGroup: error ${sync.errorCode}`);
      this.take(partitionsOfAssignment(sync.assignment));
      return;
    }
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.running) {
      await sleep(HEARTBEAT_MS);
      if (!this.running) return;
      await this.inOrder(async () => {
        if (!this.running) return;
        const res = await this.coordinator.request(schemas.heartbeatRequest, schemas.heartbeatResponse, 3, {
          groupId: this.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: null,
        });
        if (res.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
          // eager: everything is given up before rejoining
          this.dropAll();
          await this.join();
        } else if (res.errorCode !== ErrorCode.NONE) {
          throw new Error(`Heartbeat: error ${res.errorCode}`);
        }
      });
    }
  }

  leave(): Promise<void> {
    return this.inOrder(async () => {
      this.running = false;
      this.dropAll();
      await this.coordinator.request(schemas.leaveGroupRequest, schemas.leaveGroupResponse, 3, { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: null }] });
      this.stop();
    });
  }
}

// ------------------------------------------------------------------------ consumer protocol (KIP-848)

class ConsumerMember extends Member {
  private readonly memberId = `consumer-${Math.random().toString(36).slice(2)}`;
  private epoch = 0;

  get id(): string {
    return this.memberId;
  }

  async start(): Promise<void> {
    await this.connect();
    await this.inOrder(() => this.heartbeat(true));
    void this.fetchLoop();
    void this.heartbeatLoop();
  }

  /** One heartbeat; true when the assignment changed (the member acknowledges at once). */
  private async heartbeat(joining: boolean): Promise<boolean> {
    const res = await this.coordinator.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: joining ? 0 : this.epoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: joining ? REBALANCE_TIMEOUT_MS : -1,
      subscribedTopicNames: joining ? [TOPIC] : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: joining ? [] : this.ownedTopicPartitions(),
    });
    if (res.errorCode !== ErrorCode.NONE) throw new Error(`ConsumerGroupHeartbeat: error ${res.errorCode} ${res.errorMessage ?? ''}`);
    this.epoch = res.memberEpoch;
    if (res.assignment === null) return false;
    const given = res.assignment.topicPartitions.flatMap((t) => t.partitions);
    const changed = given.length !== this.owned.size || given.some((p) => !this.owned.has(p));
    this.take(given);
    return changed;
  }

  private ownedTopicPartitions(): Array<{ topicId: string; partitions: number[] }> {
    return this.owned.size === 0 ? [] : [{ topicId: topicId!, partitions: [...this.owned] }];
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.running) {
      const changed = await this.inOrder(() => (this.running ? this.heartbeat(false) : Promise.resolve(false)));
      if (!changed) await sleep(HEARTBEAT_MS);
    }
  }

  leave(): Promise<void> {
    return this.inOrder(async () => {
      this.running = false;
      this.dropAll();
      await this.coordinator.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
        groupId: this.groupId,
        memberId: this.memberId,
        memberEpoch: -1,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: -1,
        subscribedTopicNames: null,
        subscribedTopicRegex: null,
        serverAssignor: null,
        topicPartitions: null,
      });
      this.stop();
    });
  }
}

// ------------------------------------------------------------------------ the run

let topicId: string | undefined;

async function createTopic(bootstrap: string): Promise<void> {
  const c = await RawBenchClient.connect(bootstrap, 'bench-rebalance');
  const res = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 7, {
    topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  const created = res.topics[0];
  if (created?.errorCode !== ErrorCode.NONE) throw new Error(`CreateTopics: error ${created?.errorCode}`);
  topicId = created.topicId;
  c.close();
}

interface Results {
  readonly join: Rebalance[];
  readonly leave: Rebalance[];
}

async function runProtocol(bootstrap: string, kind: 'classic' | 'consumer'): Promise<Results> {
  const coverage = new Coverage();
  const groupId = `bench-rebalance-${kind}`;
  const newMember = (): Member => (kind === 'classic' ? new ClassicMember(bootstrap, groupId, coverage) : new ConsumerMember(bootstrap, groupId, coverage));
  const members: Member[] = [];
  const formed = coverage.begin(MEMBERS);
  for (let i = 0; i < MEMBERS; i++) {
    const m = newMember();
    members.push(m);
    // the classic join parks until the members already in rejoin: not awaited, so the group forms at once
    void m.start();
  }
  await formed;
  const results: Results = { join: [], leave: [] };
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(500);
    const joined = coverage.begin(MEMBERS + 1);
    const extra = newMember();
    void extra.start();
    results.join.push(await joined);
    await sleep(500);
    const left = coverage.begin(MEMBERS);
    void extra.leave();
    results.leave.push(await left);
  }
  for (const m of members) m.stop();
  return results;
}

function summary(rs: readonly Rebalance[]): { ms: number; paused: number; pausedSeconds: number } {
  return { ms: median(rs.map((r) => r.ms)), paused: median(rs.map((r) => r.paused)), pausedSeconds: median(rs.map((r) => r.pausedSeconds)) };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'gregor-bench-rebalance-'));
  const broker = await startGregor({
    dataDir,
    args: ['-o', 'auto.create.topics.enable=false', '-o', 'group.initial.rebalance.delay.ms=0', '-o', 'group.consumer.min.heartbeat.interval.ms=100', '-o', `group.consumer.heartbeat.interval.ms=${HEARTBEAT_MS}`, '-o', 'gregor.flush.acks.all=false'],
  });
  try {
    await createTopic(broker.bootstrap);
    process.stdout.write(
      `rebalance: ${MEMBERS} members x ${PARTITIONS} partitions, one member joins then leaves, ${ROUNDS} rounds each (medians)\n` +
        `  raw-frame clients in this process for both protocols (the broker's protocols are measured, no client library)\n` +
        `  heartbeat interval ${HEARTBEAT_MS} ms for both (classic: the members'; consumer: group.consumer.heartbeat.interval.ms), ` +
        `fetch max wait ${FETCH_WAIT_MS} ms, group.initial.rebalance.delay.ms=0\n` +
        `  classic: JoinGroup/SyncGroup/Heartbeat, eager (all partitions revoked on rebalance), client-side round-robin; ` +
        `consumer: ConsumerGroupHeartbeat v1, uniform server assignor, revoke then acknowledge\n`,
    );
    const classic = await runProtocol(broker.bootstrap, 'classic');
    const consumer = await runProtocol(broker.bootstrap, 'consumer');
    const line = (what: string, c: ReturnType<typeof summary>, k: ReturnType<typeof summary>): string =>
      `  ${what.padEnd(6)} classic ${c.ms.toFixed(0).padStart(5)} ms (${c.paused.toFixed(0)} partitions paused, ${c.pausedSeconds.toFixed(2)} partition-s)` +
      `   consumer ${k.ms.toFixed(0).padStart(5)} ms (${k.paused.toFixed(0)} partitions paused, ${k.pausedSeconds.toFixed(2)} partition-s)` +
      `   consumer/classic time ${(k.ms / c.ms).toFixed(2)}\n`;
    process.stdout.write('time until every partition is fetched again by its owner, assignment balanced:\n');
    process.stdout.write(line('join', summary(classic.join), summary(consumer.join)));
    process.stdout.write(line('leave', summary(classic.leave), summary(consumer.leave)));
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
