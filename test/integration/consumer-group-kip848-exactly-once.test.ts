/**
 * KIP-848 consumer groups under librdkafka 2.15 (`group.protocol=consumer`), one process per member
 * (the compat suite's rdkafka_driver, `member` command): members join, leave and are killed while
 * records flow, and the broker is restarted in the middle of a rebalance.
 *
 * "Exactly once per generation's commits", as asserted here: a member prints a record (processes it)
 * before it commits the record's next offset, commits what it processed before it gives a partition up,
 * and its commit is fenced by its member epoch. So:
 * - a record is read by exactly one member, once, when every member leaves cleanly (the next owner of a
 *   partition starts at the offset its previous owner committed on revocation);
 * - a member killed with SIGKILL commits nothing on its way out: the records it read and did not commit
 *   are read once more by the next owner of their partition, and only those. (The killed member here
 *   commits only what it gives up, so what it did not commit is known exactly: whatever it read of the
 *   partitions it held since it was assigned them.)
 * The consumer protocol moves partitions incrementally: a member is never asked to give up a partition that
 * stays with it (no stop-the-world revocation), so when a fourth member joins three members of four
 * partitions each give up exactly one, and when a member leaves or dies the others give up nothing.
 */
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { freePort } from '../helpers/free-port.js';
import { librdkafka215, type Librdkafka } from '../helpers/librdkafka.js';
import { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);
const PARTITIONS = 12;

/** One line of the driver's output: a message or an event. */
interface Line {
  readonly partition?: number;
  readonly offset?: number;
  readonly value?: string;
  readonly event?: 'assigned' | 'revoked' | 'committed' | 'commit-failed' | 'error' | 'closed';
  readonly partitions?: number[];
  readonly protocol?: string;
  readonly lost?: boolean;
  readonly offsets?: Array<{ partition: number; offset: number }>;
  readonly error?: string;
  readonly fatal?: string;
}

interface Read {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

/** A polled condition, given up after a generous deadline so that the test always ends. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readsOf(member: string, lines: readonly Line[]): Read[] {
  return lines.filter((l) => l.value !== undefined).map((l) => ({ member, partition: l.partition!, offset: l.offset!, value: Buffer.from(l.value!, 'hex').toString() }));
}

/** A group member in its own rdkafka_driver process: what it printed, and what it holds. */
class Member {
  readonly lines: Line[] = [];
  /** Index of the first line after the member was asked to leave (its close's revocation comes after it). */
  leftAt = Infinity;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | string>;
  private stderr = '';

  /** `commitEvery`: commit after so many messages and when idle (the driver's default 20); 0: only when giving partitions up. */
  constructor(readonly name: string, driver: string, port: number, topic: string, group: string, commitEvery = 20) {
    const args = ['-b', `127.0.0.1:${port}`, '-T', '600000', '-X', 'group.protocol=consumer', '-X', `client.id=${name}`, 'member', topic, group, String(commitEvery)];
    this.child = spawn(driver, args);
    let partial = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const l of parts) if (l.startsWith('{')) this.lines.push(JSON.parse(l) as Line);
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  }

  /** The partitions it holds now, from its assigned and revoked events. */
  held(): number[] {
    const held = new Set<number>();
    for (const l of this.lines) {
      if (l.event === 'assigned') for (const p of l.partitions!) held.add(p);
      if (l.event === 'revoked') for (const p of l.partitions!) held.delete(p);
    }
    return [...held].sort((a, b) => a - b);
  }

  reads(): Read[] {
    return readsOf(this.name, this.lines);
  }

  /** The partitions it gave up from line `from` on, until it was asked to leave (its close gives up the rest). */
  revokedSince(from: number): number[] {
    return this.lines.slice(from, this.leftAt === Infinity ? undefined : this.leftAt).flatMap((l) => (l.event === 'revoked' ? l.partitions! : []));
  }

  /** The records it read of `partition` since it was last assigned it. */
  readsSinceAssigned(partition: number): Read[] {
    const from = this.lines.findLastIndex((l) => l.event === 'assigned' && l.partitions!.includes(partition));
    return readsOf(this.name, this.lines.slice(from + 1)).filter((r) => r.partition === partition);
  }

  /** The offset of its last successful commit of each partition. */
  lastCommits(): Map<number, number> {
    const last = new Map<number, number>();
    for (const l of this.lines) if (l.event === 'committed') for (const o of l.offsets!) last.set(o.partition, o.offset);
    return last;
  }

  failures(): Line[] {
    return this.lines.filter((l) => l.event === 'commit-failed' || l.event === 'error' || l.fatal !== undefined);
  }

  /** A clean leave: its stdin ends, it commits, gives its partitions up and closes. */
  async leave(): Promise<void> {
    this.leftAt = this.lines.length;
    this.child.stdin.end();
    const status = await this.exited;
    expect(status, `${this.name} exit status; stderr: ${this.stderr.slice(-2000)}`).toBe(0);
    expect(this.lines.at(-1)).toEqual({ event: 'closed' });
  }

  /** SIGKILL: it dies at once, committing nothing more. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP / SIGCONT. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the process, whatever its state (test clean-up). */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
  }
}

describe('KIP-848 consumer groups with librdkafka 2.15: members come and go, the broker restarts', () => {
  let rd: Librdkafka;
  let broker: RunningBroker | undefined;
  let dataDir: string;
  let port = 0;
  const members: Member[] = [];

  beforeAll(async () => {
    rd = await librdkafka215();
  }, 600_000);
  afterEach(async () => {
    for (const m of members.splice(0)) m.stop();
    await broker?.close();
    broker = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });
  afterAll(() => {
    for (const m of members) m.stop();
  });

  async function start(sessionTimeoutMs: number): Promise<void> {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-kip848-'));
    port = await freePort();
    broker = await startBroker({ dataDir, port, config: brokerConfig(sessionTimeoutMs) });
  }

  function brokerConfig(sessionTimeoutMs: number): Record<string, string | number | boolean> {
    return { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.min.heartbeat.interval.ms': 100, 'group.consumer.session.timeout.ms': sessionTimeoutMs, 'group.consumer.heartbeat.interval.ms': 500, 'gregor.flush.acks.all': false };
  }

  function member(name: string, topic: string, group: string, commitEvery?: number): Member {
    const m = new Member(name, rd.bin.driver!, port, topic, group, commitEvery);
    members.push(m);
    return m;
  }

  /** Produces `count` records `label-i` round-robin over the partitions. */
  async function produce(topic: string, label: string, count: number): Promise<string[]> {
    const values = Array.from({ length: count }, (_, i) => `${label}-${i}`);
    const input = values.map((v, i) => `${i % PARTITIONS}\t0\t-\t${Buffer.from(v).toString('hex')}\t-\n`).join('');
    const child = run(rd.bin.driver!, ['-b', `127.0.0.1:${port}`, '-T', '60000', 'produce', topic], { encoding: 'utf8', timeout: 120_000 });
    child.child.stdin?.end(input);
    const { stdout } = await child;
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ delivered: count, failed: 0 });
    return values;
  }

  const readValues = (group: readonly Member[]) => new Set(group.flatMap((m) => m.reads().map((r) => r.value)));
  const allRead = (group: readonly Member[], values: readonly string[]) => () => {
    const seen = readValues(group);
    return values.every((v) => seen.has(v));
  };
  /** Each member holds `sizes[i]` partitions, together all of them, none twice. */
  const holding = (group: readonly Member[], sizes: readonly number[]) => () => {
    const held = group.map((m) => m.held());
    return held.every((h, i) => h.length === sizes[i]) && new Set(held.flat()).size === PARTITIONS;
  };

  it('3 members over 12 partitions, a 4th joins, one leaves, one is killed: every record read once, but for the killed member\'s uncommitted ones; partitions that stay are never revoked', async () => {
    await start(8_000);
    await broker!.broker.topics.create({ name: 'eo', numPartitions: PARTITIONS, replicationFactor: 1, configs: {} });
    const produced: string[] = [];
    produced.push(...(await produce('eo', 'start', 240)));
    // b commits only what it gives up: when it is killed, everything it read of the partitions it holds is uncommitted
    const [a, b, c] = [member('a', 'eo', 'eo-group'), member('b', 'eo', 'eo-group', 0), member('c', 'eo', 'eo-group')];
    await until('a, b and c to hold 4 partitions each', holding([a, b, c], [4, 4, 4]));
    await until('every record read', allRead([a, b, c], produced));
    expect(a.lines.find((l) => l.event === 'assigned')?.protocol).toBe('COOPERATIVE');

    // a fourth member joins while records arrive: each of the three gives one partition up
    const [fromA, fromB, fromC] = [a, b, c].map((m) => m.lines.length) as [number, number, number];
    const d = member('d', 'eo', 'eo-group');
    produced.push(...(await produce('eo', 'join', 240)));
    await until('a, b, c and d to hold 3 partitions each', holding([a, b, c, d], [3, 3, 3, 3]));
    await until('every record read', allRead([a, b, c, d], produced));
    const movedToD = [a.revokedSince(fromA), b.revokedSince(fromB), c.revokedSince(fromC)];
    for (const moved of movedToD) expect(moved).toHaveLength(1);
    expect(movedToD.flat().sort((x, y) => x - y)).toEqual(d.held());

    // c leaves cleanly: its partitions go to the others, who give nothing up
    produced.push(...(await produce('eo', 'leave', 240)));
    await c.leave();
    await until('a, b and d to hold 4 partitions each', holding([a, b, d], [4, 4, 4]));
    await until('every record read', allRead([a, b, c, d], produced));

    // b is killed in the middle of its reading: after the session timeout its partitions go to a and d
    const beforeKill = b.reads().length;
    produced.push(...(await produce('eo', 'kill', 1200)));
    await until('b to read some of the new records', () => b.reads().length > beforeKill);
    await b.kill();
    const heldByB = b.held();
    produced.push(...(await produce('eo', 'after', 240)));
    await until('a and d to hold 6 partitions each', holding([a, d], [6, 6]));
    await until('every record read', allRead([a, b, c, d], produced));
    await a.leave();
    await d.leave();

    for (const m of [a, b, c, d]) expect(m.failures(), `${m.name}'s errors`).toEqual([]);
    // incremental: from d's joining on, the only partitions taken from a member that stayed are the three that went to d
    expect([a.revokedSince(fromA), b.revokedSince(fromB), c.revokedSince(fromC), d.revokedSince(0)].flat().sort((x, y) => x - y)).toEqual(movedToD.flat().sort((x, y) => x - y));

    // every record read once, but for what b read of the partitions it held since it was assigned them
    // (uncommitted when it died): those once more, by the member that took the partition over
    const reads = [a, b, c, d].flatMap((m) => m.reads());
    expect(new Set(reads.map((r) => r.value)).size).toBe(produced.length);
    const byRecord = new Map<string, Read[]>();
    for (const r of reads) byRecord.set(`${r.partition}@${r.offset}`, [...(byRecord.get(`${r.partition}@${r.offset}`) ?? []), r]);
    const uncommitted = heldByB.flatMap((p) => b.readsSinceAssigned(p)).map((r) => `${r.partition}@${r.offset}`).sort();
    expect(uncommitted.length).toBeGreaterThan(0);
    const twice = [...byRecord].filter(([, rs]) => rs.length > 1);
    expect(twice.map(([key]) => key).sort()).toEqual(uncommitted);
    for (const [key, rs] of twice) {
      expect(rs.map((r) => r.member).sort(), key).toEqual(rs.some((r) => r.member === 'a') ? ['a', 'b'] : ['b', 'd']);
      expect(rs[0]!.value).toBe(rs[1]!.value);
    }
  }, 600_000);

  it('a broker restarted in the middle of a rebalance (revocations pending) comes back with the group\'s epochs, assignments and commits; the members go on without loss', async () => {
    await start(60_000);
    await broker!.broker.topics.create({ name: 'rr', numPartitions: PARTITIONS, replicationFactor: 1, configs: {} });
    const produced = await produce('rr', 'start', 240);
    const [a, b] = ['a', 'b'].map((n) => member(n, 'rr', 'rr-group')) as [Member, Member];
    await until('a and b to hold 6 partitions each', holding([a, b], [6, 6]));
    await until('every record read', allRead([a, b], produced));
    await until('every record committed', () => {
      const committed = [...a.lastCommits(), ...b.lastCommits()].reduce((n, [, o]) => n + o, 0);
      return committed === 240;
    });

    // a and b stop (SIGSTOP): c joins and waits for partitions they do not give up
    const [fromA, fromB] = [a.lines.length, b.lines.length];
    a.signal('SIGSTOP');
    b.signal('SIGSTOP');
    const c = member('c', 'rr', 'rr-group');
    let client = await RawClient.connect(port, '127.0.0.1', 'kip848-restart');
    let before: Described | undefined;
    await until('c to be a member with a target assignment it does not have yet', async () => {
      before = await describeGroup(client, 'rr-group');
      const cm = before?.members.find((m) => m.clientId === 'c');
      return cm !== undefined && cm.targetAssignment.length === 4 && cm.assignment.length === 0;
    });
    const offsetsBefore = await committedOffsets(client, 'rr-group');
    expect([...offsetsBefore.values()].reduce((n, o) => n + o, 0)).toBe(240);
    client.close();

    await broker!.close();
    broker = await startBroker({ dataDir, port, config: brokerConfig(60_000) });
    client = await RawClient.connect(port, '127.0.0.1', 'kip848-restart');
    const after = await describeGroup(client, 'rr-group');
    expect(after).toEqual(before);
    expect(await committedOffsets(client, 'rr-group')).toEqual(offsetsBefore);
    client.close();

    // a and b go on: they give up what c waits for, c reads from their commits, and nothing is lost or read twice
    a.signal('SIGCONT');
    b.signal('SIGCONT');
    produced.push(...(await produce('rr', 'after', 240)));
    await until('a, b and c to hold 4 partitions each', holding([a, b, c], [4, 4, 4]));
    await until('every record read', allRead([a, b, c], produced));
    const cHeld = c.held();
    for (const m of [a, b, c]) await m.leave();
    for (const m of [a, b, c]) expect(m.failures(), `${m.name}'s errors`).toEqual([]);
    const reads = [a, b, c].flatMap((m) => m.reads());
    expect(reads).toHaveLength(produced.length);
    expect(new Set(reads.map((r) => r.value)).size).toBe(produced.length);
    expect([a.revokedSince(fromA), b.revokedSince(fromB)].flat().sort((x, y) => x - y)).toEqual(cHeld);
  }, 600_000);
});

interface Described {
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly groupState: string;
  readonly members: Array<{ clientId: string; memberId: string; memberEpoch: number; assignment: string[]; targetAssignment: string[] }>;
}

/** ConsumerGroupDescribe, raw: epochs, and each member's assignment and target as sorted "topic-partition" lists. */
async function describeGroup(client: RawClient, groupId: string): Promise<Described | undefined> {
  for (let i = 0; i < 400; i++) {
    const res = await client.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 1, { groupIds: [groupId], includeAuthorizedOperations: false });
    const g = res.groups[0]!;
    if (g.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || g.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (g.errorCode !== ErrorCode.NONE) return undefined;
    const list = (a: { topicPartitions: Array<{ topicName: string; partitions: number[] }> }) =>
      a.topicPartitions.flatMap((t) => t.partitions.map((p) => `${t.topicName}-${p}`)).sort();
    return {
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      groupState: g.groupState,
      members: g.members
        .map((m) => ({ clientId: m.clientId, memberId: m.memberId, memberEpoch: m.memberEpoch, assignment: list(m.assignment), targetAssignment: list(m.targetAssignment) }))
        .sort((x, y) => x.clientId.localeCompare(y.clientId)),
    };
  }
  throw new Error(`${groupId}: coordinator not loaded`);
}

/** OffsetFetch (v8, all topics) of a group: partition → committed offset. */
async function committedOffsets(client: RawClient, groupId: string): Promise<Map<string, number>> {
  for (let i = 0; i < 400; i++) {
    const res = await client.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId, topics: null }], requireStable: false });
    const g = res.groups[0]!;
    if (g.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || g.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    expect(g.errorCode).toBe(ErrorCode.NONE);
    return new Map(g.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, Number(p.committedOffset)] as [string, number])).sort());
  }
  throw new Error(`${groupId}: coordinator not loaded`);
}
