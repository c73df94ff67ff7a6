/**
 * The broker's request path in-process, without sockets (prints numbers, asserts nothing): CPU time per
 * request of what a connection has dispatch() do with a frame — peek and decode it, run the handler,
 * encode the response — for Produce (acks=1; 1 × 100 B, 100 × 100 B and 16 × 1 KiB records in one batch, to 1
 * partition; one 100 B record to each of 16 partitions) and Fetch (1 partition, from the batch cache and
 * from the segment files). Each request's frame is a fresh copy (appends patch it and the cache keeps
 * it); the copy alone is measured too and subtracted. CPU time (all threads, GC included), best of 5
 * rounds (bench/measure.ts), so other load on the machine disturbs it far less than wall time.
 *
 * Run: npx tsc -p . && node dist/bench/hot-paths.js [substring of the cases to run]
 */
import { encodeRequestFrame, schemas } from '../protocol/index.js';
import { buildUncompressedBatch } from '../protocol/records/index.js';
import type { ConnectionInfo } from '../src/connection-info.js';
import { dispatch, type DispatchTarget } from '../src/dispatch.js';
import { startBroker, type RunningBroker } from '../src/index.js';
import { Session } from '../src/session.js';
import { cpuClock, measureAsync } from './measure.js';

const broker = await startBroker({ logLevel: 'warn' });
// a second broker without a batch cache: its fetches read the segment files
const uncached = await startBroker({ logLevel: 'warn', config: { 'gregor.cache.bytes': 0 } });
await broker.broker.topics.create({ name: 'one', numPartitions: 1, replicationFactor: 1, configs: {} });
await broker.broker.topics.create({ name: 'many', numPartitions: 16, replicationFactor: 1, configs: {} });
await uncached.broker.topics.create({ name: 'cold', numPartitions: 1, replicationFactor: 1, configs: {} });

const connection: ConnectionInfo = {
  id: 0,
  remoteAddress: '127.0.0.1',
  remotePort: 0,
  close: () => undefined,
  closeAfterResponse: () => undefined,
  afterResponse: (done) => done(),
  detach: () => undefined,
  whenClosed: () => undefined,
};

function targetOf(b: RunningBroker): DispatchTarget {
  return { services: b.broker.services, session: new Session({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' }), connection, log: b.broker.logger };
}
const cachedTarget = targetOf(broker);
const uncachedTarget = targetOf(uncached);

/** What a connection does with a frame (dispatch), minus the socket write. */
async function handle(frame: Buffer, target = cachedTarget): Promise<number> {
  const out = await dispatch(frame, performance.now(), target);
  if (out.kind !== 'respond') return 0;
  let n = 0;
  for (const c of out.chunks) n += c.length;
  return n;
}

/** A Produce v9 request frame (without its size prefix) of `batch` to each of `partitions` partitions of `topic`. */
function produceFrame(topic: string, partitions: number, batch: Buffer): Buffer {
  const chunks = encodeRequestFrame(schemas.produceRequest, 9, 1, 'bench', {
    transactionalId: null,
    acks: 1,
    timeoutMs: 30000,
    topicData: [{ name: topic, partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: batch })) }],
  });
  return Buffer.concat(chunks).subarray(4);
}

function fetchFrame(topic: string, offset: number, maxBytes: number): Buffer {
  const chunks = encodeRequestFrame(schemas.fetchRequest, 11, 1, 'bench', {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), logStartOffset: -1n, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  return Buffer.concat(chunks).subarray(4);
}

const only = process.argv[2];
const wanted = (label: string): boolean => only === undefined || label.includes(only);
const records = (n: number, size: number): Array<{ key: null; value: Buffer }> => Array.from({ length: n }, () => ({ key: null, value: Buffer.alloc(size, 0x61) }));
const line = (label: string, s: number, perRequest: number, unit = 'record'): void =>
  console.log(`  ${label.padEnd(52)} ${(s * 1e6).toFixed(2).padStart(8)} µs/request  ${((s * 1e6) / perRequest).toFixed(3).padStart(8)} µs/${unit}`);

console.log(`node ${process.version}; in-process request path (decode, handle, encode), CPU time, best of 5 rounds`);
console.log('Produce, acks=1:');
for (const [label, topic, partitions, n, size] of [
  ['1 record of 100 B, 1 partition', 'one', 1, 1, 100],
  ['100 records of 100 B, 1 partition', 'one', 1, 100, 100],
  ['16 records of 1 KiB, 1 partition', 'one', 1, 16, 1024],
  ['1 record of 100 B to each of 16 partitions', 'many', 16, 1, 100],
] as const) {
  if (!wanted(label)) continue;
  const template = produceFrame(topic, partitions, buildUncompressedBatch(records(n, size), { timestamp: Date.now() }));
  const copy = await measureAsync(async () => Buffer.from(template), 300, 5, cpuClock);
  const total = await measureAsync(() => handle(Buffer.from(template)), 300, 5, cpuClock);
  line(label, total - copy, n * partitions);
}

// Fetch: 1,000 batches of 16 × 100 B in 'one' (in the batch cache); 4,000 batches of 16 × 1 KiB in 'cold'
// (no cache: segment files)
const batch = buildUncompressedBatch(records(16, 100), { timestamp: Date.now() });
const bigBatch = buildUncompressedBatch(records(16, 1024), { timestamp: Date.now() });
for (let i = 0; i < 4000; i++) await handle(produceFrame('cold', 1, Buffer.from(bigBatch)), uncachedTarget);
for (let i = 0; i < 1000; i++) await handle(produceFrame('one', 1, Buffer.from(batch)));
const one = broker.broker.topics.get('one')!.partitions[0]!.log;
console.log('Fetch v11, 1 partition, maxBytes 1 MiB:');
let at = 0;
if (wanted('fetch from the batch cache (up to 1 MiB')) {
  const fromCache = await measureAsync(() => {
    at = (at + 16) % 16000;
    return handle(fetchFrame('one', one.logEndOffset - 16000 + at, 1 << 20));
  }, 300, 5, cpuClock);
  line('from the batch cache (up to 1 MiB from the tail)', fromCache, 1, 'request');
}
if (wanted('fetch from the batch cache (the last batch')) {
  const oneBatch = await measureAsync(() => handle(fetchFrame('one', one.logEndOffset - 16, 1 << 20)), 300, 5, cpuClock);
  line('from the batch cache (the last batch, 16 records)', oneBatch, 16);
}
for (const kib of [64, 1024]) {
  if (!wanted(`fetch from the segment file (${kib} KiB)`)) continue;
  const fromFile = await measureAsync(() => {
    at = (at + 16 * 61) % 60000;
    return handle(fetchFrame('cold', at, kib * 1024), uncachedTarget);
  }, 300, 5, cpuClock);
  line(`from the segment file (${kib} KiB)`, fromFile, 1, 'request');
}
await broker.close();
await uncached.close();
