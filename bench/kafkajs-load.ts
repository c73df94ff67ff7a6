/**
 * kafkajs as a second, Node-side load generator (a child process of bench/run.ts, pinned like the native
 * generator), with the native generator's JSON-line protocol ({"event":"start"} / {"event":"end",...}):
 *   node dist/bench/kafkajs-load.js produce BROKER TOPIC SIZE ACKS WARMUP_S DURATION_S
 *   node dist/bench/kafkajs-load.js group   BROKER TOPIC PARTITIONS WARMUP_S DURATION_S
 * produce: 8 concurrent send() loops of 64 KiB worth of records each (kafkajs sends one request per call);
 * group: a consumer group member reading from the earliest offset until every partition is caught up.
 */
import { Kafka, logLevel } from 'kafkajs';

const [mode, broker, topic, a3, a4, a5, a6] = process.argv.slice(2);
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

if (mode === 'produce') await produce(Number(a3), Number(a4), Number(a5), Number(a6));
else if (mode === 'group') await group(Number(a3), Number(a4), Number(a5));
else {
  process.stderr.write('usage: kafkajs-load.js produce|group ...\n');
  process.exit(2);
}
process.exit(0);
