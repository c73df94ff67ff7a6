/**
 * Fuzzing a running broker over raw loopback sockets: the broker runs as users run it (`node dist/src/cli.js`,
 * in its own process, so its RSS is its own and a crash shows as an exit), and gets GREGOR_FUZZ_CASES seeded
 * cases (default 20,000; GREGOR_FUZZ_SEED picks another sequence) for every API it lists in ApiVersions
 * (test/helpers/fuzz-cases.ts), plus stalled partial requests (slowloris) and 1,000 connections opened and
 * dropped. Meanwhile a kafkajs producer (acks=all) and a consumer group keep working without an error;
 * afterwards every acknowledged record reads back, the broker is alive, logged no error, holds no more
 * connections than before, and its RSS stayed bounded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponseFrame, schemas } from '../../protocol/index.js';
import { ensureBuilt, killAll, spawnCli, type BrokerProcess } from '../helpers/broker-process.js';
import { fetchAll } from '../helpers/fetch-records.js';
import {
  corruptibleBatches,
  decompressionBombs,
  fuzzCases,
  PING,
  PING_ID,
  type FuzzCase,
  type FuzzContext,
  type SupportedApi,
} from '../helpers/fuzz-cases.js';
import { produceRaw } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const CASES = Number(process.env.GREGOR_FUZZ_CASES ?? 20_000);
const SEED = Number(process.env.GREGOR_FUZZ_SEED ?? 20_261_125);
const WORKERS = 16;
/** Every case must be settled (closed or answered) within this. */
const CASE_DEADLINE_MS = 10_000;
/** gregor.request.read.timeout.ms of the fuzzed broker: short, for the slowloris cases, but well above how long
 * a busy broker (decompressing bombs on its one thread) can leave a request it is receiving unread. */
const READ_TIMEOUT_MS = 4000;
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const MIB = 1024 * 1024;
/** Bound on the broker's peak RSS under fuzzing (its idle RSS is ~100 MiB; budgets and caches add the rest). */
const RSS_LIMIT = 640 * MIB;

let dataDir = '';
let broker: BrokerProcess;
let peakRss = 0;
let sampler: NodeJS.Timeout | undefined;

beforeAll(async () => {
  ensureBuilt();
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-fuzz-'));
  broker = await spawnCli({
    dataDir,
    logLevel: 'warn',
    config: {
      'auto.create.topics.enable': false,
      'gregor.request.read.timeout.ms': READ_TIMEOUT_MS,
      'socket.request.max.bytes': MAX_REQUEST_BYTES,
      'group.initial.rebalance.delay.ms': 0,
    },
  });
  sampler = setInterval(() => {
    const m = broker.memory();
    if (m) peakRss = Math.max(peakRss, m.rss);
  }, 100);
}, 300_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  killAll();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Outcome {
  readonly closed: boolean;
  readonly pinged: boolean;
  /** Response frames before the ping's (without size prefixes). */
  readonly frames: Buffer[];
  readonly ms: number;
  readonly timedOut: boolean;
}

/** Sends a case on a new connection and waits until the broker closes it or answers the ping. */
function runCase(port: number, c: FuzzCase): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1' });
    let received = Buffer.alloc(0);
    const frames: Buffer[] = [];
    let settled = false;
    const finish = (o: Omit<Outcome, 'frames' | 'ms'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...o, frames, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish({ closed: false, pinged: false, timedOut: true }), CASE_DEADLINE_MS);
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (c.halfClose) socket.end(c.bytes);
      else socket.write(Buffer.concat([c.bytes, PING]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        const size = received.readInt32BE(0);
        const frame = received.subarray(4, 4 + size);
        received = received.subarray(4 + size);
        if (frame.length >= 4 && frame.readInt32BE(0) === PING_ID) return finish({ closed: false, pinged: true, timedOut: false });
        frames.push(frame);
      }
    });
    socket.on('close', () => finish({ closed: true, pinged: false, timedOut: false }));
  });
}

/** Why an outcome is not Kafka's answer to the case, or undefined when it is. */
function judge(c: FuzzCase, o: Outcome): string | undefined {
  if (o.timedOut) return `no answer and no close within ${CASE_DEADLINE_MS} ms`;
  if (o.frames.length > 1) return `${o.frames.length} answers to one request`;
  const e = c.expect;
  switch (e.kind) {
    case 'closed':
      return o.closed && o.frames.length === 0 ? undefined : `expected a close without an answer, got ${o.frames.length} answer(s)${o.closed ? ' and a close' : ' and the ping'}`;
    case 'any':
      return undefined;
    case 'answer':
      if (o.frames.length !== 1 || !o.pinged) return `expected an answer and an open connection, got ${o.frames.length} answer(s)${o.closed ? ' and a close' : ''}`;
      try {
        e.check(o.frames[0]!);
        return undefined;
      } catch (err) {
        return `answer does not decode: ${(err as Error).message}`;
      }
    case 'produce-error': {
      if (o.frames.length !== 1 || !o.pinged) return `expected a Produce answer, got ${o.frames.length} answer(s)${o.closed ? ' and a close' : ''}`;
      let code: number;
      try {
        code = decodeResponseFrame(schemas.produceResponse, e.version, o.frames[0]!).body.responses[0]!.partitionResponses[0]!.errorCode;
      } catch (err) {
        return `Produce answer does not decode: ${(err as Error).message}`;
      }
      return code !== 0 || e.mayAccept ? undefined : 'a corrupt batch was accepted (error code NONE)';
    }
  }
}

interface Workload {
  /** Stops sending; resolves once the last send is answered and the producer is disconnected. */
  stopProducing(): Promise<void>;
  /** Disconnects the consumer. Not before it has consumed what it should: a stopped kafkajs consumer drops
   * the batches it has fetched but not yet handed to eachMessage, and fetches no more. */
  close(): Promise<void>;
  readonly acked: Array<{ partition: number; offset: number; value: string }>;
  readonly consumed: Set<string>;
  readonly errors: string[];
}

/** A kafkajs acks=all producer and a consumer group member, running until stop(). */
async function startWorkload(port: number): Promise<Workload> {
  const errors: string[] = [];
  const kafka = new Kafka({
    clientId: 'fuzz-workload',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      errors.push(`${entry.namespace}: ${entry.log.message} ${String(entry.log.error ?? "")}`);
    },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'fuzz-workload', numPartitions: 2 }, { topic: 'fuzz-target', numPartitions: 1 }] });
  await admin.disconnect();
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId: 'fuzz-group', sessionTimeout: 30_000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'fuzz-workload', fromBeginning: true });
  const consumed = new Set<string>();
  consumer.on(consumer.events.CRASH, (e) => errors.push(`consumer crash: ${String(e.payload.error)}`));
  await consumer.run({
    eachMessage: async ({ message }) => {
      consumed.add(message.value!.toString());
    },
  });
  const acked: Workload['acked'] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const values = Array.from({ length: 5 }, (_, i) => `m-${n}-${i}`);
      try {
        const partition = n % 2;
        const [res] = await producer.send({ topic: 'fuzz-workload', acks: -1, messages: values.map((value) => ({ value, partition })) });
        for (const [i, value] of values.entries()) acked.push({ partition, offset: Number(res!.baseOffset) + i, value });
      } catch (err) {
        errors.push(`producer.send: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    acked,
    consumed,
    errors,
    async stopProducing() {
      running = false;
      await loop;
      await producer.disconnect();
    },
    async close() {
      await consumer.disconnect();
    },
  };
}

describe('fuzzing a running broker', () => {
  it(`answers ${CASES} malformed, mutated and hostile requests as Kafka does, while real clients keep working`, async () => {
    const port = broker.port;
    const probe = await RawClient.connect(port);
    const versions = await probe.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' });
    const apis: SupportedApi[] = versions.apiKeys.map((k) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion }));
    expect(apis.length).toBeGreaterThan(10);
    const workload = await startWorkload(port);
    const fdsBefore = broker.openFdKinds()!;

    const ctx: FuzzContext = {
      apis,
      maxRequestBytes: MAX_REQUEST_BYTES,
      topic: 'fuzz-target',
      bombs: await decompressionBombs(72 * MIB),
      batches: await corruptibleBatches(),
    };

    // slowloris, alongside the cases: stalled size prefixes, stalled bodies, bodies trickled a byte at a time
    const slowloris = Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const started = performance.now();
        const socket = net.connect({ port, host: '127.0.0.1' });
        socket.on('error', () => undefined);
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        await new Promise<void>((r) => socket.on('connect', () => r()));
        const frame = Buffer.concat([Buffer.from([0, 0, 0x27, 0x10]), PING.subarray(4), Buffer.alloc(9000)]);
        let trickle: NodeJS.Timeout | undefined;
        if (i % 3 === 0) socket.write(frame.subarray(0, 2));
        else if (i % 3 === 1) socket.write(frame.subarray(0, 40));
        else {
          let at = 0;
          trickle = setInterval(() => {
            if (!socket.destroyed) socket.write(frame.subarray(at, ++at));
          }, 200);
        }
        const done = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), READ_TIMEOUT_MS + 8000))]);
        clearInterval(trickle);
        socket.destroy();
        return { closed: done, ms: performance.now() - started };
      }),
    );

    const counts = new Map<string, number>();
    const msByFamily = new Map<string, number>();
    const outcomes = { closed: 0, answered: 0 };
    const failures: string[] = [];
    let slowest = 0;
    const cases = fuzzCases(ctx, SEED, CASES);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let next = cases.next(); !next.done; next = cases.next()) {
          const c = next.value;
          const o = await runCase(port, c);
          counts.set(c.family, (counts.get(c.family) ?? 0) + 1);
          msByFamily.set(c.family, (msByFamily.get(c.family) ?? 0) + o.ms);
          if (o.closed) outcomes.closed++;
          else outcomes.answered++;
          slowest = Math.max(slowest, o.ms);
          const why = judge(c, o);
          if (why && failures.length < 20) failures.push(`case ${c.id} (${c.family}: ${c.label}): ${why}`);
          if (!broker.alive) throw new Error(`the broker exited during case ${c.id} (${c.family}: ${c.label}):\n${broker.output().slice(-4000)}`);
        }
      }),
    );
    const fuzzSeconds = (performance.now() - started) / 1000;

    // decompression bombs all at once: each may inflate to gregor.max.decompressed.bytes (64 MiB) only
    // within the decompression budget
    const burst = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const c = await RawClient.connect(port);
        try {
          const bomb = ctx.bombs[(i * 2) % ctx.bombs.length]!;
          return (await produceRaw(c, 'fuzz-target', 0, bomb.batch, { version: 9 })).errorCode;
        } finally {
          c.close();
        }
      }),
    );

    // 1,000 connections opened at once and dropped: at once, after a request, in the middle of a header
    const sockets = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
            s.on('error', reject);
          }),
      ),
    );
    sockets.forEach((s, i) => {
      if (i % 3 === 1) s.write(PING);
      else if (i % 3 === 2) s.write(PING.subarray(0, 7));
      s.destroy();
    });

    const slow = await slowloris;
    await workload.stopProducing();

    // every acknowledged record reads back with its value, at its offset
    const stored = new Map<string, { partition: number; offset: number }>();
    for (const partition of [0, 1]) {
      for (const r of await fetchAll(probe, 'fuzz-workload', partition)) stored.set(r.value!, { partition, offset: r.offset });
    }
    const missing = workload.acked.filter((a) => {
      const s = stored.get(a.value);
      return !s || s.partition !== a.partition || s.offset !== a.offset;
    });
    // and the consumer group got them (still running until then)
    for (let i = 0; i < 200 && workload.acked.some((a) => !workload.consumed.has(a.value)); i++) await new Promise((r) => setTimeout(r, 50));
    await workload.close();

    // settle: every dropped connection (and the workload's) is gone from the broker, and no file handle
    // outlives its deleted segment (segment files opened by the run itself, e.g. after a roll, may stay in
    // the file-handle cache: only sockets and deleted files are compared)
    let fdsAfter = broker.openFdKinds()!;
    const settled = (): boolean => fdsAfter.sockets <= fdsBefore.sockets && fdsAfter.deletedFiles <= fdsBefore.deletedFiles;
    for (let i = 0; i < 200 && !settled(); i++) {
      await new Promise((r) => setTimeout(r, 50));
      fdsAfter = broker.openFdKinds()!;
    }
    probe.close();

    const memory = broker.memory()!;
    const errorLines = broker
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    const report = {
      cases: CASES,
      seed: SEED,
      seconds: Number(fuzzSeconds.toFixed(1)),
      perFamily: Object.fromEntries([...counts].sort()),
      outcomes,
      avgMs: Object.fromEntries([...msByFamily].map(([k, v]) => [k, Math.round(v / counts.get(k)!)])),
      slowestCaseMs: Math.round(slowest),
      bombBurst: burst.join(','),
      slowloris: { closed: slow.filter((s) => s.closed).length, of: slow.length, slowestMs: Math.round(Math.max(...slow.map((s) => s.ms))) },
      fds: { before: fdsBefore, after: fdsAfter },
      workload: { acked: workload.acked.length, consumed: workload.consumed.size, errors: [...new Set(workload.errors)].slice(0, 8) },
      peakRssMiB: Math.round(Math.max(peakRss, memory.rss) / MIB),
      vmHwmMiB: Math.round(memory.peakRss / MIB),
    };
    console.log(`fuzz report: ${JSON.stringify(report)}`);

    expect(failures).toEqual([]);
    expect(burst.every((code) => code !== 0)).toBe(true);
    expect(broker.alive).toBe(true);
    expect(errorLines).toEqual([]);
    expect(slow.every((s) => s.closed)).toBe(true);
    expect(fdsAfter.sockets).toBeLessThanOrEqual(fdsBefore.sockets);
    expect(fdsAfter.deletedFiles).toBeLessThanOrEqual(fdsBefore.deletedFiles);
    expect(workload.errors).toEqual([]);
    expect(workload.acked.length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
    expect(workload.acked.filter((a) => !workload.consumed.has(a.value))).toEqual([]);
    expect(memory.peakRss).toBeLessThan(RSS_LIMIT);
  }, 240_000);
});
