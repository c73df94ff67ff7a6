/**
 * kafkajs as a second, Node-side load generator (a child process of bench/run.ts, pinned like the native
 * generator), with the native generator's JSON-line protocol ({"event":"start"} / {"event":"end",...}):
 *   node dist/bench/kafkajs-load.js produce BROKER TOPIC SIZE ACKS WARMUP_S DURATION_S
 *   node dist/bench/kafkajs-load.js group   BROKER TOPIC PARTITIONS WARMUP_S DURATION_S
 *   node dist/bench/kafkajs-load.js txn     BROKER TOPIC SIZE RECORDS PRODUCERS ABORT_EVERY WARMUP_S DURATION_S
 *   node dist/bench/kafkajs-load.js idempotent BROKER TOPIC SIZE RECORDS PRODUCERS WARMUP_S DURATION_S
 * produce: 8 concurrent send() loops of 64 KiB worth of records each (kafkajs sends one request per call);
 * group: a consumer group member reading from the earliest offset until every partition is caught up;
 * txn: PRODUCERS transactional producers (one transactional id each), each in a loop of transactions of
 *   RECORDS records (one send(), acks=all) ended by a commit, or an abort for every ABORT_EVERY-th one (0:
 *   never); the end event has the committed records and the commit latency (EndTxn, ms) p50/p99/max;
 * idempotent: PRODUCERS idempotent producers, each in a loop of send()s of RECORDS records with acks=all
 *   (the transactional figure's baseline: the same records and requests without the transaction).
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';

const [mode, broker, topic, a3, a4, a5, a6, a7, a8] = process.argv.slice(2);
const emit = (ev: object): void => void process.stdout.write(`${JSON.stringify(ev)}\n`);
const kafka = new Kafka({ clientId: 'gregor-bench', brokers: [broker ?? '127.0.0.1:9092'], logLevel: logLevel.NOTHING });

async function produce(size: number, acks: number, warmupS: number, durationS: number): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const value = Buffer.alloc(size, 0x61);
  const perSend = Math.max(1, Math.floor(65536 / size));
  const messages = Array.from({ length: perSend }, () => ({ value }));
  let delivered = 0;
  let bytes = 0;
  const t0 = performance.now();
  const startAt = t0 + warmupS * 1000;
  const endAt = startAt + durationS * 1000;
  let window: { t: number; delivered: number; bytes: number } | undefined;
  const loop = async (): Promise<void> => {
    while (performance.now() < endAt) {
      await producer.send({ topic: topic!, acks, messages });
      delivered += perSend;
      bytes += perSend * size;
      const t = performance.now();
      if (window === undefined && t >= startAt) {
        window = { t, delivered, bytes };
        emit({ event: 'start' });
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
  const te = performance.now();
  const w = window ?? { t: t0, delivered: 0, bytes: 0 };
  emit({ event: 'end', msgs: delivered - w.delivered, bytes: bytes - w.bytes, seconds: (te - w.t) / 1000, errors: 0 });
  await producer.disconnect();
}

async function group(partitions: number, warmupS: number, durationS: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic!)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `bench-kafkajs-${process.pid}`, maxBytes: 64 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic: topic!, fromBeginning: true });
  let msgs = 0;
  let bytes = 0;
  let first = 0;
  let window: { t: number; msgs: number; bytes: number } | undefined;
  const caughtUp = new Set<number>();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((res) => (finish = res));
  await consumer.run({
    autoCommit: true,
    eachBatch: async ({ batch }) => {
      const t = performance.now();
      if (first === 0) {
        // the window opens here if the data runs out before the warm-up ends (a later start replaces it)
        first = t;
        emit({ event: 'start' });
      }
      for (const m of batch.messages) bytes += m.value?.length ?? 0;
      msgs += batch.messages.length;
      if (window === undefined && t >= first + warmupS * 1000) {
        window = { t, msgs, bytes };
        emit({ event: 'start' });
      }
      const last = Number(batch.lastOffset());
      if (last + 1 >= (ends.get(batch.partition) ?? 0)) caughtUp.add(batch.partition);
      if (caughtUp.size >= partitions || (window !== undefined && t >= window.t + durationS * 1000)) finish();
    },
  });
  await finished;
  const te = performance.now();
  const w = window ?? { t: first, msgs: 0, bytes: 0 };
  emit({ event: 'end', msgs: msgs - w.msgs, bytes: bytes - w.bytes, seconds: (te - w.t) / 1000, errors: 0, fromFirst: window === undefined });
  await consumer.disconnect();
}

/** The value at quantile q of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The loop of `txn` and `idempotent`: PRODUCERS loops of `unit()` (one transaction, or one send), each
 * counting RECORDS records; `unit` answers the commit latency (ms) when it committed, -1 for an abort.
 */
async function producerLoops(
  producers: number,
  records: number,
  size: number,
  warmupS: number,
  durationS: number,
  start: (i: number) => Promise<(messages: Array<{ value: Buffer }>) => Promise<number | undefined>>,
): Promise<void> {
  const value = Buffer.alloc(size, 0x61);
  const messages = Array.from({ length: records }, () => ({ value }));
  const units = await Promise.all(Array.from({ length: producers }, (_, i) => start(i)));
  let committed = 0;
  let aborted = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  const startAt = t0 + warmupS * 1000;
  const endAt = startAt + durationS * 1000;
  let window: { t: number; committed: number; aborted: number } | undefined;
  const loop = async (unit: (m: Array<{ value: Buffer }>) => Promise<number | undefined>): Promise<void> => {
    while (performance.now() < endAt) {
      const latency = await unit(messages);
      if (latency === -1) aborted += records;
      else committed += records;
      const t = performance.now();
      if (window !== undefined && latency !== undefined && latency >= 0) latencies.push(latency);
      if (window === undefined && t >= startAt) {
        window = { t, committed, aborted };
        emit({ event: 'start' });
      }
    }
  };
  await Promise.all(units.map(loop));
  const te = performance.now();
  const w = window ?? { t: t0, committed: 0, aborted: 0 };
  latencies.sort((a, b) => a - b);
  const msgs = committed - w.committed;
  emit({
    event: 'end',
    msgs,
    aborted: aborted - w.aborted,
    bytes: msgs * size,
    seconds: (te - w.t) / 1000,
    errors: 0,
    ...(latencies.length > 0 ? { commits: latencies.length, commitP50Ms: quantile(latencies, 0.5), commitP99Ms: quantile(latencies, 0.99), commitMaxMs: latencies[latencies.length - 1]! } : {}),
  });
}

async function transactions(size: number, records: number, producers: number, abortEvery: number, warmupS: number, durationS: number): Promise<void> {
  const all: Producer[] = [];
  await producerLoops(producers, records, size, warmupS, durationS, async (i) => {
    const producer = kafka.producer({ allowAutoTopicCreation: false, transactionalId: `bench-txn-${process.pid}-${i}`, idempotent: true, maxInFlightRequests: 1 });
    all.push(producer);
    await producer.connect();
    let n = 0;
    return async (messages) => {
      const txn = await producer.transaction();
      await txn.send({ topic: topic!, acks: -1, messages });
      if (abortEvery > 0 && ++n % abortEvery === 0) {
        await txn.abort();
        return -1;
      }
      const t = performance.now();
      await txn.commit();
      return performance.now() - t;
    };
  });
  for (const p of all) await p.disconnect();
}

async function idempotent(size: number, records: number, producers: number, warmupS: number, durationS: number): Promise<void> {
  const all: Producer[] = [];
  await producerLoops(producers, records, size, warmupS, durationS, async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    all.push(producer);
    await producer.connect();
    return async (messages) => {
      await producer.send({ topic: topic!, acks: -1, messages });
      return undefined;
    };
  });
  for (const p of all) await p.disconnect();
}

if (mode === 'produce') await produce(Number(a3), Number(a4), Number(a5), Number(a6));
else if (mode === 'txn') await transactions(Number(a3), Number(a4), Number(a5), Number(a6), Number(a7), Number(a8));
else if (mode === 'idempotent') await idempotent(Number(a3), Number(a4), Number(a5), Number(a6), Number(a7));
else if (mode === 'group') await group(Number(a3), Number(a4), Number(a5));
else {
  process.stderr.write('usage: kafkajs-load.js produce|group|txn|idempotent ...\n');
  process.exit(2);
}
process.exit(0);
