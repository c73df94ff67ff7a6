/**
 * Long-poll wake-ups under load: producers append to several partitions while fetchers long-poll them with
 * min_bytes 1 — raw fetchers on incremental fetch sessions (KIP-227) and sessionless ones, by topic name
 * (Fetch v11, v12), by topic id (v16) and down-converted (v3), and kafkajs consumer groups. Every
 * acknowledged append must reach every fetcher: once, in offset order, with no gap, and without waiting out
 * a max wait it should have been woken from.
 *
 * Appends come in rounds, and a round's appends must all have reached every fetcher before the next round
 * starts: nothing is appended meanwhile that could wake a fetch which missed its wake-up, so a missed one
 * shows as a stall. A round's appends (several producers at once, acks=all and acks=1, to random
 * partitions, uncompressed and gzip batches of short records or of a few KiB) start at once (the fetchers
 * are between two fetches) or after a random pause (parked, some at the end of a short max wait). A fetcher
 * with a long max wait (LONG_WAIT_MS) must get a round within STALL_MS of its acknowledgements, one with a
 * short max wait (SHORT_WAIT_MS) within its max wait plus STALL_MS — generous bounds for a loaded machine,
 * well below the long max wait. The broker runs as users run it (its own process) with a small fetch
 * response budget, batch cache and segment size, so that fetches get less than they ask for, and reads
 * come from the cache and from files and cross segment rolls.
 *
 * GREGOR_STRESS_SECONDS (default 4) runs the rounds longer; GREGOR_STRESS_STALL_MS sets the stall bound.
 *
 * Then the size rule a short budget made visible: a partition whose first batch does not fit in what is left
 * of a fetch gets no records (v3+), never a cut batch, which clients cannot read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, ZERO_UUID } from '../../protocol/index.js';
import { buildRecordBatch, Compression } from '../../protocol/records/index.js';
import { ensureBuilt, killAll, spawnCli, type BrokerProcess } from '../helpers/broker-process.js';
import { decodeRecords } from '../helpers/fetch-records.js';
import { produceRaw } from '../helpers/produce-records.js';
import { ConnectionClosedError, RawClient } from '../helpers/raw-client.js';

const SECONDS = Number(process.env.GREGOR_STRESS_SECONDS ?? 4);
const STALL_MS = Number(process.env.GREGOR_STRESS_STALL_MS ?? 5000);
const SHORT_WAIT_MS = 500;
const LONG_WAIT_MS = 30_000;
const TOPIC = 'wake';
const PARTITIONS = 6;
const PRODUCERS = 6;
/** Codecs of the appended batches (those kafkajs reads without plugins). */
const CODECS = [Compression.none, Compression.none, Compression.gzip];
/** The first round waits for the consumer groups to join and start fetching. */
const FIRST_ROUND_MS = 60_000;

let dataDir = '';
let broker: BrokerProcess;

beforeAll(async () => {
  ensureBuilt();
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-fetch-wake-'));
  broker = await spawnCli({
    dataDir,
    logLevel: 'warn',
    config: {
      'auto.create.topics.enable': false,
      'group.initial.rebalance.delay.ms': 0,
      'gregor.fetch.response.max.memory.bytes': 16 * 1024,
      'gregor.cache.bytes': 128 * 1024,
      'log.segment.bytes': 256 * 1024,
    },
  });
}, 120_000);

afterAll(async () => {
  killAll();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Something that reads every partition of the topic and reports how far it got. */
interface Fetcher {
  readonly name: string;
  /** The max wait of its fetches. */
  readonly maxWaitMs: number;
  /** Per partition, the next offset it expects: everything below was delivered. */
  readonly next: number[];
  /** Broken rules (gaps, repeats, errors), as they were seen. */
  readonly problems: string[];
  /** What it sent and got lately, for a failure's message. */
  recent(): string[];
  stop(): Promise<void>;
}

async function topicIdOf(port: number, topic: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    const metadata = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, {
      topics: [{ name: topic, topicId: ZERO_UUID }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    return metadata.topics[0]!.topicId;
  } finally {
    c.close();
  }
}

/** Called by the fetchers whenever they made progress. */
type Progress = () => void;

const now = (): number => performance.now();

/** Deterministic pseudo-random numbers (mulberry32), so a failing sequence of rounds can be run again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RawFetcherOptions {
  readonly name: string;
  readonly version: number;
  readonly session: boolean;
  readonly maxWaitMs: number;
  readonly topicId: string;
}

/**
 * A fetch loop on the raw client: full fetches without a session, or a session (epoch 0, then incremental
 * fetches naming only the partitions whose fetch offset moved, as the Java client does).
 */
async function rawFetcher(port: number, opts: RawFetcherOptions, progress: Progress): Promise<Fetcher> {
  const client = await RawClient.connect(port, '127.0.0.1', opts.name);
  const next = Array.from({ length: PARTITIONS }, () => 0);
  const problems: string[] = [];
  const log: string[] = [];
  let running = true;
  let sessionId = 0;
  let epoch = opts.session ? 0 : -1;
  /** Fetch offsets the session holds (what was last sent for each partition). */
  const sent = new Map<number, number>();
  const loop = (async () => {
    while (running) {
      const incremental = opts.session && sessionId !== 0;
      const partitions = [];
      for (let p = 0; p < PARTITIONS; p++) {
        if (incremental && sent.get(p) === next[p]) continue;
        partitions.push({ partition: p, fetchOffset: BigInt(next[p]!), partitionMaxBytes: 64 * 1024, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 });
        sent.set(p, next[p]!);
      }
      const sentAt = now();
      let res;
      try {
        res = await client.request(schemas.fetchRequest, schemas.fetchResponse, opts.version, {
          replicaId: -1,
          maxWaitMs: opts.maxWaitMs,
          minBytes: 1,
          maxBytes: 256 * 1024,
          isolationLevel: 0,
          sessionId,
          sessionEpoch: epoch,
          topics: partitions.length === 0 ? [] : [{ topic: opts.version >= 13 ? '' : TOPIC, topicId: opts.topicId, partitions }],
          forgottenTopicsData: [],
          rackId: '',
        });
      } catch (err) {
        if (!running && err instanceof ConnectionClosedError) return;
        throw err;
      }
      const tookMs = Math.round(now() - sentAt);
      if (res.errorCode !== ErrorCode.NONE) {
        problems.push(`${opts.name}: fetch error ${res.errorCode} (session ${sessionId}, epoch ${epoch})`);
        sessionId = 0;
        epoch = opts.session ? 0 : -1;
        continue;
      }
      if (opts.session) {
        if (sessionId === 0) {
          sessionId = res.sessionId;
          epoch = 1;
        } else {
          epoch = epoch >= 0x7fffffff ? 1 : epoch + 1;
        }
        if (sessionId === 0) epoch = 0;
      }
      const got: string[] = [];
      for (const t of res.responses) {
        for (const p of t.partitions) {
          const partition = p.partitionIndex;
          if (p.errorCode !== ErrorCode.NONE) {
            problems.push(`${opts.name}: partition ${partition} error ${p.errorCode}`);
            continue;
          }
          const records = await decodeRecords(p.records as Buffer | null);
          got.push(`p${partition}:hw${p.highWatermark}:${records.length === 0 ? '-' : `${records[0]!.offset}..${records[records.length - 1]!.offset}`}`);
          for (const r of records) {
            // a fetch offset inside a batch gets the whole batch (a compressed one also when down-converted)
            if (r.offset < next[partition]!) continue;
            if (r.offset !== next[partition]) {
              problems.push(`${opts.name}: partition ${partition} returned offset ${r.offset} where ${next[partition]} was next (fetch offset sent: ${sent.get(partition)})`);
              break;
            }
            next[partition] = r.offset + 1;
          }
        }
      }
      log.push(`${Math.round(sentAt)}+${tookMs}ms epoch ${epoch} asked [${partitions.map((p) => `p${p.partition}@${p.fetchOffset}`).join(' ')}] got [${got.join(' ')}]`);
      if (log.length > 8) log.shift();
      progress();
    }
  })();
  return {
    name: opts.name,
    maxWaitMs: opts.maxWaitMs,
    next,
    problems,
    recent: () => [...log],
    async stop() {
      running = false;
      client.close();
      await loop;
    },
  };
}

/** A kafkajs consumer group of `members` members; the group as a whole is the fetcher. */
async function kafkajsGroup(port: number, name: string, members: number, maxWaitMs: number, progress: Progress): Promise<Fetcher> {
  const next = Array.from({ length: PARTITIONS }, () => 0);
  const problems: string[] = [];
  const log: string[] = [];
  const assigned = new Map<string, number[]>();
  const consumers: Consumer[] = [];
  for (let m = 0; m < members; m++) {
    const kafka = new Kafka({
      clientId: `${name}-${m}`,
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.ERROR,
      // (a member's heartbeat answered REBALANCE_IN_PROGRESS while the other joins is logged as an error)
      logCreator: () => (entry) => {
        if (!/rebalanc/i.test(String(entry.log.error ?? ''))) problems.push(`${name}-${m}: ${entry.namespace}: ${entry.log.message} ${String(entry.log.error ?? '')}`);
      },
    });
    const consumer = kafka.consumer({ groupId: name, maxWaitTimeInMs: maxWaitMs, sessionTimeout: 60_000, rebalanceTimeout: 60_000 });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned.set(e.payload.memberId, e.payload.memberAssignment[TOPIC] ?? []);
      log.push(`${Math.round(now())} member ${m} joined: partitions ${JSON.stringify(e.payload.memberAssignment[TOPIC] ?? [])}`);
      if (log.length > 12) log.shift();
    });
    consumer.on(consumer.events.REQUEST, (e) => {
      const r = e.payload;
      log.push(`${Math.round(now())} member ${m}: ${r.apiName} v${r.apiVersion} answered after ${r.duration} ms (${r.size} bytes)`);
      if (log.length > 12) log.shift();
    });
    consumer.on(consumer.events.CRASH, (e) => void problems.push(`${name}-${m} crashed: ${String(e.payload.error)}`));
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        // a partition moved to another member starts again from the last committed offset
        if (offset < next[partition]!) return;
        if (offset !== next[partition]) problems.push(`${name}: partition ${partition} delivered offset ${offset} where ${next[partition]} was next`);
        next[partition] = offset + 1;
        progress();
      },
    });
    consumers.push(consumer);
  }
  return {
    name,
    maxWaitMs,
    next,
    problems,
    recent: () => [...log, `assignments: ${JSON.stringify([...assigned.values()])}`],
    async stop() {
      await Promise.all(consumers.map((c) => c.disconnect()));
    },
  };
}

interface Ack {
  readonly partition: number;
  readonly lastOffset: number;
  readonly at: number;
}

describe('long-poll fetches under appends', () => {
  it(`deliver every acknowledged append to every waiting fetcher without waiting out their max wait (${SECONDS} s of rounds)`, async () => {
    const port = broker.port;
    const admin = new Kafka({ clientId: 'wake-admin', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const topicId = await topicIdOf(port, TOPIC);

    let wake: (() => void) | undefined;
    const progress: Progress = () => wake?.();
    const fetchers: Fetcher[] = [];
    const raw: Array<Omit<RawFetcherOptions, 'topicId'>> = [
      { name: 'session-v12-short', version: 12, session: true, maxWaitMs: SHORT_WAIT_MS },
      { name: 'session-v12-long', version: 12, session: true, maxWaitMs: LONG_WAIT_MS },
      { name: 'session-v16-long', version: 16, session: true, maxWaitMs: LONG_WAIT_MS },
      { name: 'sessionless-v12-short', version: 12, session: false, maxWaitMs: SHORT_WAIT_MS },
      { name: 'sessionless-v11-long', version: 11, session: false, maxWaitMs: LONG_WAIT_MS },
      { name: 'sessionless-v16-long', version: 16, session: false, maxWaitMs: LONG_WAIT_MS },
      // down-converted to magic 1 message sets: its reads (decompressing, recompressing) let appends in
      { name: 'sessionless-v3-long', version: 3, session: false, maxWaitMs: LONG_WAIT_MS },
    ];
    for (const o of raw) fetchers.push(await rawFetcher(port, { ...o, topicId }, progress));
    fetchers.push(await kafkajsGroup(port, 'kafkajs-2-members-short', 2, SHORT_WAIT_MS, progress));
    fetchers.push(await kafkajsGroup(port, 'kafkajs-1-member-long', 1, LONG_WAIT_MS, progress));
    const producers = await Promise.all(Array.from({ length: PRODUCERS }, (_, i) => RawClient.connect(port, '127.0.0.1', `wake-producer-${i}`)));

    const random = rng(20_260_211);
    const ends = Array.from({ length: PARTITIONS }, () => 0);
    const worstMs = new Map<string, number>(fetchers.map((f) => [f.name, 0]));
    /** How long the first round took to reach each fetcher (the groups join meanwhile). */
    const joinMs = new Map<string, number>();
    let rounds = 0;
    let appends = 0;
    let failure: string | undefined;
    const report = { seconds: 0 };
    const started = now();
    try {
      while (failure === undefined && (rounds === 0 || now() - started < SECONDS * 1000)) {
        // at once (fetchers between fetches), or after a pause (parked; short waits near their end)
        if (rounds > 0 && random() < 0.3) await new Promise((r) => setTimeout(r, random() * (SHORT_WAIT_MS + 100)));
        const hot = Math.floor(random() * PARTITIONS);
        const plan = producers.map((_, i) => ({
          // often all producers on one partition, else spread
          partition: random() < 0.3 ? hot : Math.floor(random() * PARTITIONS),
          count: 1 + Math.floor(random() * 4),
          acks: i % 2 === 0 ? -1 : 1,
          compression: CODECS[Math.floor(random() * CODECS.length)]!,
          // mostly small records, sometimes a few KiB (responses then hold more than the fetch budget)
          valueBytes: random() < 0.7 ? 40 : 1024 + Math.floor(random() * 5 * 1024),
        }));
        const acks: Ack[] = await Promise.all(
          plan.map(async ({ partition, count, acks, compression, valueBytes }, i) => {
            const records = Array.from({ length: count }, (_, k) => ({ key: Buffer.from(`r${rounds}-${i}-${k}`), value: Buffer.alloc(valueBytes, (rounds + i + k) % 251) }));
            const res = await produceRaw(producers[i]!, TOPIC, partition, await buildRecordBatch(records, { compression }), { acks, version: 9 });
            if (res.errorCode !== ErrorCode.NONE) throw new Error(`produce to partition ${partition}: error ${res.errorCode}`);
            return { partition, lastOffset: Number(res.baseOffset) + count - 1, at: now() };
          }),
        );
        appends += acks.length;
        for (const a of acks) ends[a.partition] = Math.max(ends[a.partition]!, a.lastOffset + 1);
        const ackedAt = Math.max(...acks.map((a) => a.at));
        const behind = (f: Fetcher): number[] => ends.flatMap((end, p) => (f.next[p]! < end ? [p] : []));
        const deadline = (f: Fetcher): number => ackedAt + (rounds === 0 ? FIRST_ROUND_MS : (f.maxWaitMs >= LONG_WAIT_MS ? 0 : f.maxWaitMs) + STALL_MS);
        const pending = new Set(fetchers);
        while (pending.size > 0 && failure === undefined) {
          for (const f of pending) {
            if (behind(f).length === 0) {
              pending.delete(f);
              if (rounds === 0) joinMs.set(f.name, now() - ackedAt);
              else worstMs.set(f.name, Math.max(worstMs.get(f.name)!, now() - ackedAt));
            } else if (now() > deadline(f)) {
              failure =
                `round ${rounds}: ${f.name} (max wait ${f.maxWaitMs} ms) still lacks partitions ${behind(f).join(', ')} ` +
                `${Math.round(now() - ackedAt)} ms after the appends were acknowledged; ends ${JSON.stringify(ends)}, ` +
                `its next offsets ${JSON.stringify(f.next)}; appends ${JSON.stringify(acks)}; recent:\n  ${f.recent().join('\n  ')}`;
            }
          }
          if (pending.size === 0 || failure !== undefined) break;
          const soonest = Math.min(...[...pending].map(deadline));
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(1, soonest - now() + 1));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
        rounds++;
      }
    } finally {
      const seconds = (now() - started) / 1000;
      const stopping = Promise.all(fetchers.map((f) => f.stop()));
      // one more append to every partition answers the parked fetches of the leaving consumers
      const last = await buildRecordBatch([{ key: null, value: Buffer.from('last') }]);
      await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => produceRaw(producers[0]!, TOPIC, p, Buffer.from(last), { acks: 1, version: 9 })));
      await stopping;
      for (const p of producers) p.close();
      report.seconds = Math.round(seconds * 10) / 10;
    }

    const records = ends.reduce((a, b) => a + b, 0);
    const errorLines = broker
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    console.log(
      `fetch-wake: ${JSON.stringify({ seconds: report.seconds, rounds, appends, records, firstRoundMs: Object.fromEntries([...joinMs].map(([k, v]) => [k, Math.round(v)])), worstDeliveryMs: Object.fromEntries([...worstMs].map(([k, v]) => [k, Math.round(v)])) })}`,
    );
    if (failure !== undefined) console.log(`fetch-wake failure: ${failure}\nproblems: ${fetchers.flatMap((f) => f.problems).join('\n')}`);
    expect(failure).toBeUndefined();
    expect(fetchers.flatMap((f) => f.problems)).toEqual([]);
    expect(errorLines).toEqual([]);
    expect(rounds).toBeGreaterThan(1);
  }, 120_000 + SECONDS * 1000);
});

/** A topic of two partitions: `small` batches of one short record on 0, `large` batches of 2 KiB records on 1. */
async function twoPartitionTopic(port: number, topic: string, small: number, large: number): Promise<{ smallBatchBytes: number }> {
  const admin = new Kafka({ clientId: 'partial-admin', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  await admin.disconnect();
  const c = await RawClient.connect(port);
  let smallBatchBytes = 0;
  try {
    for (let i = 0; i < Math.max(small, large); i++) {
      if (i < small) {
        const batch = await buildRecordBatch([{ key: null, value: Buffer.from(`small ${i}`) }]);
        smallBatchBytes = batch.length;
        expect((await produceRaw(c, topic, 0, batch)).errorCode).toBe(ErrorCode.NONE);
      }
      if (i < large) {
        const batch = await buildRecordBatch([{ key: null, value: Buffer.alloc(2048, i) }]);
        expect((await produceRaw(c, topic, 1, batch)).errorCode).toBe(ErrorCode.NONE);
      }
    }
  } finally {
    c.close();
  }
  return { smallBatchBytes };
}

describe('a partition whose first batch does not fit in the bytes left of a fetch', () => {
  it('gets no records from v3 on (Kafka replaces the incomplete batch with nothing), and the cut batch up to v2', async () => {
    const { smallBatchBytes } = await twoPartitionTopic(broker.port, 'partial-raw', 1, 1);
    const topicId = await topicIdOf(broker.port, 'partial-raw');
    const c = await RawClient.connect(broker.port);
    try {
      const fetch = (version: number, maxBytes: number, largeMaxBytes: number) =>
        c.request(schemas.fetchRequest, schemas.fetchResponse, version, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: 'partial-raw',
              topicId,
              partitions: [0, 1].map((partition) => ({
                partition,
                fetchOffset: 0n,
                partitionMaxBytes: partition === 1 ? largeMaxBytes : 1024 * 1024,
                logStartOffset: -1n,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        });
      const sizes = (res: Awaited<ReturnType<typeof fetch>>): number[] =>
        res.responses[0]!.partitions.map((p) => (p.records as Buffer | null)?.length ?? 0);
      for (const version of [3, 4, 11, 12, 16]) {
        // (v3 gets magic 1 message sets, of other sizes)
        const first = version >= 4 ? smallBatchBytes : expect.any(Number);
        // a few bytes left for partition 1 after partition 0's batch: of the response's max_bytes ...
        expect(sizes(await fetch(version, smallBatchBytes + 10, 1024 * 1024)), `v${version}, max_bytes`).toEqual([first, 0]);
        // ... or of its own partition_max_bytes
        expect(sizes(await fetch(version, 1024 * 1024, 10)), `v${version}, partition_max_bytes`).toEqual([first, 0]);
      }
      // v0-2 have hard limits: the cut message tells the client it is larger than its fetch size (pre-KIP-74)
      const v2 = sizes(await fetch(2, 1024 * 1024, 10));
      expect(v2[1]).toBe(10);
    } finally {
      c.close();
    }
  });

  it('does not crash a kafkajs consumer whose max bytes leave a few bytes for the next partition', async () => {
    const topic = 'partial-kafkajs';
    const batches = 8;
    const { smallBatchBytes } = await twoPartitionTopic(broker.port, topic, batches, batches);
    const errors: string[] = [];
    const kafka = new Kafka({
      clientId: 'partial-kafkajs',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => void errors.push(`${entry.namespace}: ${entry.log.message} ${String(entry.log.error ?? '')}`),
    });
    // kafkajs 2.2.4 reads the magic byte at offset 16 of a records section without checking its length
    const consumer = kafka.consumer({ groupId: topic, maxBytes: smallBatchBytes + 10, maxWaitTimeInMs: 100 });
    const consumed = [0, 0];
    try {
      await consumer.connect();
      consumer.on(consumer.events.CRASH, (e) => void errors.push(`crash: ${String(e.payload.error)}`));
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition }) => {
          consumed[partition]!++;
        },
      });
      for (let i = 0; i < 400 && errors.length === 0 && consumed[0]! + consumed[1]! < 2 * batches; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await consumer.disconnect();
    }
    expect(errors).toEqual([]);
    expect(consumed).toEqual([batches, batches]);
  });
});

