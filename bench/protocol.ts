/**
 * Protocol codec benchmark (prints numbers, asserts nothing).
 *
 * - decode a Produce request frame carrying 1 MiB of records (one 1 MiB batch,
 *   and 64 partitions × 16 KiB) — records are zero-copy slices;
 * - encode a Fetch response carrying 1 MiB of records, as chunks (zero-copy,
 *   what the broker sends) and as one contiguous buffer (one copy);
 * - each beside a plain Buffer.copy of the same bytes, measured in the same run;
 * - decode/encode of a small Metadata request and response, in ops/s.
 * Each number is the best of 5 windows of 200 ms.
 *
 * Run: npx tsc -p . && npm run bench:protocol
 */
import {
  decode,
  decodeRequestFrame,
  encode,
  encodeRequestFrame,
  encodeResponseFrame,
  schemas,
  type MessageInput,
} from '../protocol/index.js';
import { measure as measureBest } from './measure.js';

const MiB = 1024 * 1024;
let sink = 0;

/** Seconds per call of fn: the best of 5 windows of about 200 ms (after a warm-up), as bench/measure.ts times them. */
function measure(fn: () => unknown): number {
  return measureBest(fn, 200, 5);
}

function mbps(bytes: number, secondsPerOp: number): string {
  return `${(bytes / MiB / secondsPerOp).toFixed(0).padStart(9)} MB/s`;
}
function opsps(secondsPerOp: number): string {
  return `${Math.round(1 / secondsPerOp).toLocaleString('en-US').padStart(12)} ops/s`;
}

function filled(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const source = filled(MiB, 7);
const target = Buffer.allocUnsafe(MiB);
const copySeconds = measure(() => {
  source.copy(target, 0, 0, MiB);
  sink += target[MiB - 1]!;
});

const rows: string[][] = [];
function row(name: string, bytes: number, seconds: number): void {
  rows.push([name, mbps(bytes, seconds), `${(copySeconds / seconds).toFixed(2)}x`]);
}
row('Buffer.copy 1 MiB (baseline)', MiB, copySeconds);
row(
  'Buffer.allocUnsafe + copy 1 MiB (fresh buffer)',
  MiB,
  measure(() => {
    const fresh = Buffer.allocUnsafe(MiB);
    source.copy(fresh, 0, 0, MiB);
    sink += fresh[MiB - 1]!;
  }),
);

// ---- Produce request decode
function produceFrame(version: number, partitions: number): Buffer {
  const per = MiB / partitions;
  const body: MessageInput<typeof schemas.produceRequest> = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      {
        name: 'bench-topic',
        partitionData: Array.from({ length: partitions }, (_, i) => ({ index: i, records: filled(per, i) })),
      },
    ],
  };
  return Buffer.concat(encodeRequestFrame(schemas.produceRequest, version, 1, 'bench', body)).subarray(4);
}
for (const [version, partitions] of [
  [9, 1],
  [9, 64],
  [3, 64],
] as const) {
  const frame = produceFrame(version, partitions);
  const seconds = measure(() => {
    const r = decodeRequestFrame(frame);
    sink += (r.body.topicData as unknown[]).length;
  });
  row(`decode Produce v${version} request, ${partitions} × ${MiB / partitions / 1024} KiB`, MiB, seconds);
}

// ---- Fetch response encode
function fetchBody(partitions: number): MessageInput<typeof schemas.fetchResponse> {
  const per = MiB / partitions;
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 1,
    responses: [
      {
        topic: 'bench-topic',
        topicId: 'AAECAwQFBgcICQoLDA0ODw',
        partitions: Array.from({ length: partitions }, (_, i) => ({
          partitionIndex: i,
          errorCode: 0,
          highWatermark: 1_000_000n,
          lastStableOffset: 1_000_000n,
          logStartOffset: 0n,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: filled(per, i),
        })),
      },
    ],
  };
}
for (const partitions of [1, 64]) {
  for (const version of [11, 16]) {
    const body = fetchBody(partitions);
    const chunked = measure(() => {
      sink += encodeResponseFrame(schemas.fetchResponse, version, 1, body).length;
    });
    row(`encode Fetch v${version} response, ${partitions} × ${MiB / partitions / 1024} KiB, chunks`, MiB, chunked);
    const contiguous = measure(() => {
      sink += encode(schemas.fetchResponse, version, body).length;
    });
    row(`encode Fetch v${version} response, ${partitions} × ${MiB / partitions / 1024} KiB, one buffer`, MiB, contiguous);
  }
}

const width = Math.max(...rows.map((r) => r[0]!.length));
process.stdout.write(`\nprotocol codec, 1 MiB of records (ratio = speed relative to Buffer.copy of 1 MiB)\n`);
for (const [name, speed, ratio] of rows) process.stdout.write(`  ${name!.padEnd(width)}  ${speed}  ${ratio!.padStart(9)}\n`);

// ---- small Metadata messages
const metadataRequest = { topics: [{ name: 'orders' }, { name: 'payments' }, { name: 'audit' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };
const metadataResponse: MessageInput<typeof schemas.metadataResponse> = {
  throttleTimeMs: 0,
  brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
  clusterId: 'gregor-cluster',
  controllerId: 1,
  topics: ['orders', 'payments', 'audit'].map((name, t) => ({
    errorCode: 0,
    name,
    topicId: 'AAECAwQFBgcICQoLDA0ODw',
    isInternal: false,
    partitions: Array.from({ length: 3 }, (_, p) => ({ errorCode: 0, partitionIndex: p, leaderId: 1, leaderEpoch: t, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
    topicAuthorizedOperations: -2147483648,
  })),
};
process.stdout.write(`\nsmall messages\n`);
for (const version of [1, 12]) {
  const reqBytes = encode(schemas.metadataRequest, version, metadataRequest);
  const resBytes = encode(schemas.metadataResponse, version, metadataResponse);
  const results: [string, number][] = [
    [`decode Metadata v${version} request (${reqBytes.length} B)`, measure(() => (sink += decode(schemas.metadataRequest, version, reqBytes).topics!.length))],
    [`encode Metadata v${version} request`, measure(() => (sink += encode(schemas.metadataRequest, version, metadataRequest).length))],
    [`decode Metadata v${version} response (${resBytes.length} B, 3 topics × 3 partitions)`, measure(() => (sink += decode(schemas.metadataResponse, version, resBytes).topics.length))],
    [`encode Metadata v${version} response`, measure(() => (sink += encode(schemas.metadataResponse, version, metadataResponse).length))],
  ];
  for (const [name, seconds] of results) process.stdout.write(`  ${name.padEnd(width)}  ${opsps(seconds)}  ${((seconds * 1e6).toFixed(2) + ' µs/op').padStart(12)}\n`);
}
if (sink === 42) process.stdout.write('\n');
