/**
 * The coordinator runtime with a toy coordinator on a real LogManager in a
 * temp dir: a register of named numbers, one record per change (key: the
 * name, value: an int32, or null to delete), three partitions. Storage's
 * FaultyFs holds fdatasync (a slow disk) and fails writes and reads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/index.js';
import { DEFAULT_LOG_CONFIG, FaultyFs, LogManager } from '../../storage/index.js';
import { CoordinatorRuntime } from '../../src/coordinator/coordinator-runtime.js';
import type { CoordinatorShard, RecordSerde, ShardContext, WriteOutcome } from '../../src/coordinator/coordinator-shard.js';
import { InternalTopic, type InternalTopicHost, type InternalTopicInfo } from '../../src/coordinator/internal-topic.js';
import { createLogger } from '../../src/logger.js';

const TOPIC = '__toy_state';
const PARTITIONS = 3;

interface Change {
  readonly name: string;
  readonly value: number | null;
}

/** Keys starting with "?" are another coordinator's records; values must be 4 bytes. */
const serde: RecordSerde<Change> = {
  serialize(c) {
    const value = c.value === null ? null : Buffer.alloc(4);
    value?.writeInt32BE(c.value!, 0);
    return { key: Buffer.from(c.name), value };
  },
  deserialize({ key, value }) {
    const name = key.toString();
    if (name.startsWith('?')) return undefined;
    if (value !== null && value.length !== 4) throw new Error(`a value of ${value.length} bytes`);
    return { name, value: value === null ? null : value.readInt32BE(0) };
  },
};

class RegisterShard implements CoordinatorShard<Change> {
  readonly values = new Map<string, number>();
  readonly replayed: Array<{ name: string; offset: number }> = [];
  loaded = false;
  unloaded = false;

  constructor(readonly ctx: ShardContext<Change>) {}

  replay(c: Change, offset: number): void {
    this.replayed.push({ name: c.name, offset });
    if (c.value === null) this.values.delete(c.name);
    else this.values.set(c.name, c.value);
  }

  onLoaded(): void {
    this.loaded = true;
  }

  onUnloaded(): void {
    this.unloaded = true;
  }

  set(name: string, value: number | null, sync = false): Promise<WriteOutcome<string>> {
    return this.ctx.write({ records: [{ name, value }], response: `set ${name}`, sync });
  }
}

/** The broker's topics as an internal topic uses them, over the LogManager's logs. */
function topicsOn(logs: LogManager, messageMaxBytes: number): InternalTopicHost {
  const get = (name: string): InternalTopicInfo | undefined => {
    const partitions = [];
    for (let p = 0; ; p++) {
      const log = logs.getLog(name, p);
      if (!log) break;
      partitions.push({ log, leaderEpoch: 0 });
    }
    return partitions.length === 0 ? undefined : { numPartitions: partitions.length, partitions, config: { messageMaxBytes } };
  };
  return {
    get,
    async create(req) {
      for (let p = 0; p < req.numPartitions; p++) await logs.createLog(req.name, p, 'toy-topic-id');
      return get(req.name)!;
    },
  };
}

const logger = createLogger('silent', false);
const dirs: string[] = [];
const opened: Array<{ runtime: CoordinatorRuntime<RegisterShard, Change>; logs: LogManager }> = [];

async function open(opts: { dir?: string; fs?: FaultyFs; latestPerKey?: boolean; messageMaxBytes?: number } = {}) {
  let dir = opts.dir;
  if (dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'gregor-coordinator-'));
    dirs.push(dir);
  }
  const logs = await LogManager.open({ logDir: dir, nodeId: 1, defaults: { ...DEFAULT_LOG_CONFIG, retentionMs: -1 }, ...(opts.fs ? { fs: opts.fs } : {}) });
  const topic = new InternalTopic({ name: TOPIC, partitions: () => PARTITIONS, replicationFactor: () => 1, configs: () => ({ 'cleanup.policy': 'compact' }) }, topicsOn(logs, opts.messageMaxBytes ?? 1 << 20), logger);
  const runtime = new CoordinatorRuntime<RegisterShard, Change>({ topic, serde, latestPerKey: opts.latestPerKey ?? true, logger, newShard: (ctx) => new RegisterShard(ctx) });
  const handle = { runtime, logs, dir };
  opened.push(handle);
  return handle;
}

async function closeAll(): Promise<void> {
  for (const { runtime, logs } of opened.splice(0)) {
    await runtime.close();
    await logs.close().catch(() => undefined);
  }
}

afterEach(async () => {
  await closeAll();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function until(done: () => boolean): Promise<void> {
  for (let spins = 0; !done(); spins++) {
    if (spins > 100_000) throw new Error('never happened');
    await new Promise((r) => setImmediate(r));
  }
}

describe('coordinator runtime', () => {
  it('answers a write after its append and replays its records into the shard, creating the topic on first use', async () => {
    const { runtime, logs } = await open();
    runtime.startLoading();
    expect(runtime.topic.topic).toBeUndefined();
    expect(runtime.partitionError(1)).toBeUndefined();
    const shard = runtime.activeShard(1);
    expect(shard.loaded).toBe(true);

    const pending = shard.set('a', 1);
    expect(shard.values.has('a')).toBe(false);
    expect(await pending).toEqual({ errorCode: ErrorCode.NONE, response: 'set a' });
    expect(shard.values.get('a')).toBe(1);
    expect(shard.replayed).toEqual([{ name: 'a', offset: 0 }]);

    expect(runtime.topic.topic?.numPartitions).toBe(PARTITIONS);
    const inLog = [];
    for await (const r of runtime.topic.replay(1)) inLog.push([r.key.toString(), r.value?.readInt32BE(0), r.offset]);
    expect(inLog).toEqual([['a', 1, 0]]);
    expect(logs.getLog(TOPIC, 0)!.logEndOffset).toBe(0);
    expect(runtime.activeShards()).toEqual([shard]);
  });

  it('completes the writes of a shard in log order, and pipelined durable writes share fdatasync rounds', async () => {
    const fs = new FaultyFs();
    const { runtime, logs } = await open({ fs });
    const shard = runtime.activeShard(0);
    await shard.set('warm', 0, true);
    const log = logs.getLog(TOPIC, 0)!;

    const gate = fs.hold('fdatasync');
    const answered: string[] = [];
    const first = shard.set('a', 1, true).then(() => answered.push('a'));
    await until(() => gate.waiting > 0);
    const syncsBefore = fs.calls.fdatasync ?? 0;
    const rest = ['b', 'c', 'd', 'e'].map((name, i) => shard.set(name, i, true).then(() => answered.push(name)));
    // appended without waiting: its append is done, but the durable writes ahead of it are not
    const loose = shard.set('f', 9).then(() => answered.push('f'));
    await until(() => log.logEndOffset === 7);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toEqual([]);
    expect(shard.values.has('f')).toBe(false);

    gate.release();
    await Promise.all([first, ...rest, loose]);
    expect(answered).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(shard.replayed.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(shard.values.get('f')).toBe(9);
    // the held round, then one round for the four writes queued behind it: not one fsync per write
    expect((fs.calls.fdatasync ?? 0) - syncsBefore).toBeLessThanOrEqual(1);
  });

  it('answers a failed append with its error, replays nothing, and goes on with the next write', async () => {
    const fs = new FaultyFs();
    const { runtime } = await open({ fs, messageMaxBytes: 200 });
    const shard = runtime.activeShard(2);
    await shard.set('a', 1);

    expect(await shard.set('x'.repeat(300), 2)).toEqual({ errorCode: ErrorCode.MESSAGE_TOO_LARGE, response: `set ${'x'.repeat(300)}` });
    fs.failNext('write', 'ENOSPC', { path: '.log' });
    expect((await shard.set('a', 3)).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect([...shard.values]).toEqual([['a', 1]]);
    expect(shard.replayed.map((r) => r.name)).toEqual(['a']);

    expect((await shard.set('b', 4)).errorCode).toBe(ErrorCode.NONE);
    expect([...shard.values]).toEqual([['a', 1], ['b', 4]]);
    expect(shard.replayed).toEqual([{ name: 'a', offset: 0 }, { name: 'b', offset: 1 }]);
  });

  for (const latestPerKey of [true, false]) {
    it(`loads each partition into a fresh shard${latestPerKey ? ' (latest record per key)' : ''}, answering COORDINATOR_LOAD_IN_PROGRESS until it is loaded`, async () => {
      const first = await open();
      const s0 = first.runtime.activeShard(0);
      for (const [name, value] of [['a', 1], ['a', 2], ['b', 3], ['b', null], ['c', 4]] as const) await s0.set(name, value);
      await first.runtime.activeShard(2).set('x', 7);
      // another coordinator's record, and one whose value does not decode: both skipped
      expect((await first.runtime.topic.append(0, [{ key: Buffer.from('?other'), value: Buffer.from('zz') }, { key: Buffer.from('c'), value: Buffer.from('bad') }], false)).errorCode).toBe(ErrorCode.NONE);
      await closeAll();

      const { runtime } = await open({ dir: first.dir, latestPerKey });
      runtime.startLoading();
      expect(runtime.anyLoading).toBe(true);
      expect([0, 1, 2].map((p) => runtime.partitionError(p))).toEqual(Array(3).fill(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS));
      expect(() => runtime.activeShard(0)).toThrow();
      await runtime.whenLoaded();
      expect(runtime.anyLoading).toBe(false);
      expect([0, 1, 2].map((p) => runtime.partitionError(p))).toEqual([undefined, undefined, undefined]);

      const [p0, p1, p2] = runtime.activeShards();
      expect([p0!.loaded, p1!.loaded, p2!.loaded]).toEqual([true, true, true]);
      // the record that does not decode was the latest of "c": c keeps its earlier value only when every record is replayed
      expect([...p0!.values]).toEqual(latestPerKey ? [['a', 2]] : [['a', 2], ['c', 4]]);
      expect(p0!.replayed).toEqual(
        latestPerKey
          ? [{ name: 'a', offset: 1 }, { name: 'b', offset: 3 }]
          : [0, 1, 2, 3, 4].map((offset) => ({ name: ['a', 'a', 'b', 'b', 'c'][offset]!, offset })),
      );
      expect([...p1!.values]).toEqual([]);
      expect([...p2!.values]).toEqual([['x', 7]]);
    });
  }

  it('serves a partition that fails to load empty, and loads the others', async () => {
    const first = await open();
    await first.runtime.activeShard(0).set('a', 1);
    await first.runtime.activeShard(1).set('b', 2);
    await closeAll();

    const fs = new FaultyFs();
    const { runtime } = await open({ dir: first.dir, fs });
    fs.failNext('read', 'EIO', { path: `${TOPIC}-1` });
    runtime.startLoading();
    await runtime.whenLoaded();
    const [p0, p1] = runtime.activeShards();
    expect([...p0!.values]).toEqual([['a', 1]]);
    expect([...p1!.values]).toEqual([]);
    expect(p1!.loaded).toBe(true);
    expect(runtime.partitionError(1)).toBeUndefined();
  });

  it('runs timer tasks; unload cancels them, and a write in flight is answered but no longer replayed', async () => {
    const fs = new FaultyFs();
    const { runtime } = await open({ fs });
    const shard = runtime.activeShard(0);
    await shard.set('warm', 0);
    const timer = shard.ctx.timer;

    const ran: string[] = [];
    await new Promise<void>((resolve) => {
      timer.schedule('soon', 5, () => {
        ran.push('soon');
        resolve();
      });
      timer.schedule('replaced', 5, () => ran.push('replaced'));
      timer.schedule('replaced', 60_000, () => ran.push('replaced later'));
      timer.schedule('cancelled', 1, () => ran.push('cancelled'));
      timer.cancel('cancelled');
    });
    let ticks = 0;
    await new Promise<void>((resolve) => timer.scheduleRepeating('tick', 1, () => ++ticks === 3 && resolve()));
    expect(ran).toEqual(['soon']);
    expect(timer.isScheduled('replaced')).toBe(true);
    expect(timer.isScheduled('tick')).toBe(true);

    const gate = fs.hold('fdatasync');
    const inFlight = shard.set('z', 1, true);
    await until(() => gate.waiting > 0);
    await runtime.close();
    expect(shard.unloaded).toBe(true);
    expect(timer.size).toBe(0);
    timer.schedule('after', 1, () => ran.push('after'));
    expect(timer.isScheduled('after')).toBe(false);
    expect(runtime.partitionError(0)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(runtime.activeShards()).toEqual([]);

    gate.release();
    expect((await inFlight).errorCode).toBe(ErrorCode.NONE);
    expect(shard.values.has('z')).toBe(false);
    expect(ran).toEqual(['soon']);
  });
});
