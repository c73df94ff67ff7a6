/**
 * Fetch streaming benchmark (prints numbers, asserts nothing): what streaming fetch responses from the
 * segment files costs and saves, for this build and, with --before, another build measured in the same run
 * (e.g. a checkout of a commit before streaming, built with `npm run build`).
 *
 * For each build, a broker process (the CLI) with the batch cache off, so every fetch reads the files:
 * - consume throughput: one consumer reads LOG_MIB MiB of 1 MiB batches from offset 0 with Fetch v12
 *   (8 MiB per fetch, one fetch at a time), MB/s, best of 3 runs;
 * - slow readers: SLOW_READERS connections each send a Fetch for the whole log (2^31-1 bytes, capped by
 *   fetch.max.bytes) and never read the answer; the broker's RSS before and after, and how long a 1 MiB
 *   fetch on another connection then takes.
 *
 * Run: npm run build && node dist/bench/stream.js [--before <other build>/dist/src/cli.js] [--log-mib N]
 *      [--slow-readers N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeRequestFrame, schemas, type MessageInput } from '../protocol/index.js';
import { buildUncompressedBatch } from '../protocol/records/index.js';
import { root } from './processes.js';
import { RawBenchClient } from './raw-client.js';

const { values: opts } = parseArgs({
  options: {
    before: { type: 'string' },
    'log-mib': { type: 'string', default: '256' },
    'slow-readers': { type: 'string', default: '100' },
  },
  strict: true,
});

const MiB = 1024 * 1024;
const LOG_MIB = Number(opts['log-mib']);
const SLOW_READERS = Number(opts['slow-readers']);
const PARTITIONS = 4;

interface Broker {
  readonly child: ChildProcess;
  readonly port: number;
  rss(): number;
}

async function startBroker(cli: string, dataDir: string): Promise<Broker> {
  const args = [cli, '--host', '127.0.0.1', '-p', '0', '-d', dataDir, '-l', 'warn', '-o', 'gregor.metrics.enabled=false', '-o', 'gregor.cache.bytes=0', '-o', 'auto.create.topics.enable=false'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /ready: listening on [^\s:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`broker exited (${code}): ${out}`)));
  });
  const rss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  return { child, port, rss };
}


function fetchBody(partitions: number[], offset: number, maxBytes: number): MessageInput<typeof schemas.fetchRequest> {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'stream', partitions: partitions.map((partition) => ({ partition, fetchOffset: BigInt(offset), partitionMaxBytes: maxBytes, logStartOffset: -1n, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })) }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

async function fill(c: RawBenchClient): Promise<void> {
  await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, { topics: [{ name: 'stream', numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  const perPartition = Math.ceil(LOG_MIB / PARTITIONS);
  for (let i = 0; i < perPartition; i++) {
    const batch = buildUncompressedBatch([{ key: null, value: Buffer.alloc(MiB - 80, i) }], { timestamp: Date.now() });
    await c.request(schemas.produceRequest, schemas.produceResponse, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: 'stream', partitionData: Array.from({ length: PARTITIONS }, (_, index) => ({ index, records: batch })) }] });
  }
}

/** Reads partition 0 from offset 0 to its end, 8 MiB per fetch: MB/s. */
async function consume(c: RawBenchClient): Promise<number> {
  const end = Math.ceil(LOG_MIB / PARTITIONS);
  let offset = 0;
  let bytes = 0;
  const started = performance.now();
  while (offset < end) {
    const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody([0], offset, 8 * MiB));
    const records = res.responses[0]!.partitions[0]!.records as Buffer;
    bytes += records.length;
    // 1 MiB batches of one record each
    offset += Math.round(records.length / MiB);
  }
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

interface Figures {
  consumeMBps: number;
  rssIdleMiB: number;
  rssSlowReadersMiB: number;
  fetchWhileSlowMs: number;
}

async function measure(cli: string): Promise<Figures> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'gregor-bench-stream-'));
  const broker = await startBroker(cli, dataDir);
  try {
    const c = await RawBenchClient.connect(`127.0.0.1:${broker.port}`, 'bench');
    await fill(c);
    let consumeMBps = 0;
    for (let run = 0; run < 3; run++) consumeMBps = Math.max(consumeMBps, await consume(c));
    await new Promise((r) => setTimeout(r, 500));
    const rssIdle = broker.rss();
    const slow: net.Socket[] = [];
    const all = Array.from({ length: PARTITIONS }, (_, i) => i);
    for (let i = 0; i < SLOW_READERS; i++) {
      const s = net.connect({ port: broker.port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      s.pause();
      for (const chunk of encodeRequestFrame(schemas.fetchRequest, 12, 1, 'slow', fetchBody(all, 0, 0x7fffffff))) s.write(chunk);
      slow.push(s);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const rssSlow = broker.rss();
    const started = performance.now();
    const answered = await Promise.race([c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchBody([1], 0, MiB)).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
    const fetchWhileSlowMs = answered ? performance.now() - started : Number.POSITIVE_INFINITY;
    for (const s of slow) s.destroy();
    c.close();
    return { consumeMBps, rssIdleMiB: rssIdle / MiB, rssSlowReadersMiB: rssSlow / MiB, fetchWhileSlowMs };
  } finally {
    broker.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function show(label: string, f: Figures, base?: Figures): void {
  const ratio = base ? `  (${(f.consumeMBps / base.consumeMBps).toFixed(2)}x of before)` : '';
  const wait = Number.isFinite(f.fetchWhileSlowMs) ? `${f.fetchWhileSlowMs.toFixed(0)} ms` : 'no answer in 30 s';
  console.log(`${label.padEnd(8)} consume ${f.consumeMBps.toFixed(0).padStart(5)} MB/s${ratio}`);
  console.log(`${''.padEnd(8)} RSS idle ${f.rssIdleMiB.toFixed(0)} MiB, with ${SLOW_READERS} slow readers ${f.rssSlowReadersMiB.toFixed(0)} MiB (+${(f.rssSlowReadersMiB - f.rssIdleMiB).toFixed(0)} MiB); a 1 MiB fetch meanwhile: ${wait}`);
}

console.log(`fetch streaming: ${LOG_MIB} MiB log in ${PARTITIONS} partitions, batch cache off, ${SLOW_READERS} slow readers`);
const before = opts.before ? await measure(opts.before) : undefined;
if (before) show('before', before);
show('this', await measure(join(root, 'dist/src/cli.js')), before);
