/**
 * Client quota accuracy (prints numbers, asserts nothing): how close Kafka's throttling, as Gregor applies
 * it, holds a client to its quota, as a ratio of the achieved rate to the quota (the issue's target: within
 * ±20% over 10 s and more).
 *
 * 1. Produce: a kafkajs producer with client id `quota-producer`, one SIZE-byte record per request as fast
 *    as the broker lets it, against producer_byte_rate = RATE on its client id, for DURATION s. Kafka's
 *    rate is measured over quota.window.num (11) samples of 1 s, and a new client may send ten windows'
 *    worth at once, so the rate moves in cycles of about 11 s: printed are the ratio over the whole run,
 *    over each 10 s and over each 11 s from the first byte, and over the run after its first 11 s.
 * 2. Consume: a kafkajs consumer with client id `quota-consumer` reads a topic filled beforehand (RATE ×
 *    DURATION × 1.5 bytes) against consumer_byte_rate = RATE, for DURATION s from its first record; the
 *    same ratios. (A fetch larger than the quota window allows is throttled whole and not counted, as in
 *    Kafka, so partition fetches of 1 MiB against a small rate come in bursts.)
 * The broker runs in this process (startBroker), with acks=1 produce and no fsync per write.
 *
 * Run: npm run build && npm run bench:quotas [-- --rate BYTES_PER_S --duration S --size BYTES]
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { schemas } from '../protocol/index.js';
import { startBroker, type RunningBroker } from '../src/index.js';
import { RawBenchClient } from './raw-client.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500000' },
    duration: { type: 'string', default: '44' },
    size: { type: 'string', default: '16000' },
  },
});
const RATE = Number(values.rate);
const DURATION_S = Number(values.duration);
const SIZE = Number(values.size);

/** Bytes delivered by time (ms since the first byte). */
type Timeline = Array<[number, number]>;

async function setQuota(broker: RunningBroker, clientId: string, key: string, value: number): Promise<void> {
  const raw = await RawBenchClient.connect(`127.0.0.1:${broker.port}`, 'quota-admin');
  try {
    const res = await raw.request(schemas.alterClientQuotasRequest, schemas.alterClientQuotasResponse, 1, {
      entries: [{ entity: [{ entityType: 'client-id', entityName: clientId }], ops: [{ key, value, remove: false }] }],
      validateOnly: false,
    });
    if (res.entries[0]?.errorCode !== 0) throw new Error(`AlterClientQuotas: ${res.entries[0]?.errorMessage ?? 'no result'}`);
  } finally {
    raw.close();
  }
}

/** Bytes delivered in [fromMs, toMs) of the timeline. */
function bytesBetween(t: Timeline, fromMs: number, toMs: number): number {
  let n = 0;
  for (const [at, bytes] of t) if (at >= fromMs && at < toMs) n += bytes;
  return n;
}

function report(name: string, t: Timeline): void {
  const ratio = (from: number, to: number): number => bytesBetween(t, from, to) / ((RATE * (to - from)) / 1000);
  const end = DURATION_S * 1000;
  const windows = (size: number): string => {
    const out: string[] = [];
    for (let from = 0; from + size <= end; from += size) out.push(ratio(from, from + size).toFixed(2));
    return out.join(' ');
  };
  const whole = ratio(0, end);
  const steady = end > 11_000 ? ratio(11_000, end) : NaN;
  console.log(`${name}: quota ${RATE} B/s, ${DURATION_S} s`);
  console.log(`  whole run        ratio ${whole.toFixed(3)}  (${Math.abs(whole - 1) <= 0.2 ? 'within' : 'outside'} ±20%)`);
  console.log(`  after first 11 s ratio ${steady.toFixed(3)}`);
  console.log(`  each 10 s        ${windows(10_000)}`);
  console.log(`  each 11 s        ${windows(11_000)}`);
}

async function produce(broker: RunningBroker): Promise<Timeline> {
  await setQuota(broker, 'quota-producer', 'producer_byte_rate', RATE);
  const producer = new Kafka({ clientId: 'quota-producer', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const value = Buffer.alloc(SIZE, 0x61);
  const timeline: Timeline = [];
  const start = performance.now();
  while (performance.now() - start < DURATION_S * 1000) {
    await producer.send({ topic: 'quota-produce', acks: 1, messages: [{ value }] });
    timeline.push([performance.now() - start, SIZE]);
  }
  await producer.disconnect();
  return timeline;
}

async function consume(broker: RunningBroker): Promise<Timeline> {
  const kafka = new Kafka({ clientId: 'quota-filler', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const filler = kafka.producer();
  await filler.connect();
  const value = Buffer.alloc(SIZE, 0x62);
  const total = RATE * DURATION_S * 1.5;
  for (let sent = 0; sent < total; sent += SIZE * 10) await filler.send({ topic: 'quota-consume', acks: 1, messages: Array.from({ length: 10 }, () => ({ value })) });
  await filler.disconnect();
  await setQuota(broker, 'quota-consumer', 'consumer_byte_rate', RATE);
  const consumer = new Kafka({ clientId: 'quota-consumer', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({ groupId: 'quota-bench' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'quota-consume', fromBeginning: true });
  const timeline: Timeline = [];
  let start: number | undefined;
  await consumer.run({
    eachMessage: async ({ message }) => {
      const now = performance.now();
      start ??= now;
      timeline.push([now - start, message.value?.length ?? 0]);
    },
  });
  while (start === undefined || performance.now() - start < DURATION_S * 1000) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return timeline;
}

const broker = await startBroker({ port: 0, config: { 'gregor.flush.acks.all': false } });
try {
  const admin = new Kafka({ clientId: 'quota-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'quota-produce' }, { topic: 'quota-consume' }] });
  await admin.disconnect();
  report('produce (kafkajs, producer_byte_rate)', await produce(broker));
  report('consume (kafkajs, consumer_byte_rate)', await consume(broker));
} finally {
  await broker.close();
}
