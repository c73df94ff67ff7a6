/**
 * Metrics overhead on the produce path (prints numbers, asserts nothing): the `gregor` CLI in a child
 * process with metrics off and on, fed pipelined Produce v9 requests (acks=1, one batch of 10 records of
 * 100 bytes, 32 in flight) by this process over one connection; requests per second and the broker's CPU
 * time per request (user + system, from /proc: steadier than throughput on a shared machine), best of
 * several alternating rounds. With metrics on, Prometheus-like scrapes run once a second.
 *
 * Run: npm run build && node dist/bench/metrics.js [--seconds N] [--rounds N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResponseFrame, encodeRequestFrame, schemas } from '../protocol/index.js';
import { buildRecordBatch } from '../protocol/records/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'dist/src/cli.js');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 3);
const ROUNDS = arg('--rounds', 3);
const IN_FLIGHT = 32;
const TOPIC = 'bench';

interface Running {
  child: ChildProcess;
  port: number;
  metricsPort: number | undefined;
  dir: string;
}

async function startCli(metrics: boolean): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'gregor-bench-metrics-'));
  const args = [cli, '-p', '0', '--host', '127.0.0.1', '-d', dir, '-l', 'warn', ...(metrics ? ['--metrics-port', '0'] : ['--override', 'gregor.metrics.enabled=false'])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((res, rej) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on [^:]+:(\d+).*\n/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => rej(new Error(`gregor exited ${code}: ${out}`)));
  });
  const metricsPort = metrics ? Number(/metrics on port (\d+)/.exec(out)?.[1]) : undefined;
  if (metricsPort !== undefined && !(metricsPort > 0)) throw new Error(`no metrics port in the ready line: ${out}`);
  return { child, port, metricsPort, dir };
}

async function stop(r: Running): Promise<void> {
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  await exited;
  await rm(r.dir, { recursive: true, force: true });
}

/** One connection: sends frames, counts response frames by their size prefixes. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((res, rej) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => res(s));
    s.setNoDelay(true);
    s.once('error', rej);
  });
}

async function roundTrip(socket: net.Socket, frame: Buffer[]): Promise<Buffer> {
  return new Promise((res) => {
    let buf: Buffer = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        socket.off('data', onData);
        res(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    };
    socket.on('data', onData);
    for (const c of frame) socket.write(c);
  });
}

/** Produce requests per second over `seconds`, IN_FLIGHT pipelined. */
async function produceRate(socket: net.Socket, frame: Buffer, seconds: number): Promise<number> {
  let answered = 0;
  let sent = 0;
  let pending: Buffer = Buffer.alloc(0);
  const end = performance.now() + seconds * 1000;
  let start = 0;
  return new Promise((res) => {
    const sendMore = (): void => {
      while (sent - answered < IN_FLIGHT && performance.now() < end) {
        socket.write(frame);
        sent++;
      }
      if (answered === sent && performance.now() >= end) {
        socket.off('data', onData);
        res(answered / ((performance.now() - start) / 1000));
      }
    };
    const onData = (c: Buffer): void => {
      pending = pending.length === 0 ? c : Buffer.concat([pending, c]);
      let p = 0;
      while (pending.length - p >= 4 && pending.length - p >= 4 + pending.readInt32BE(p)) {
        p += 4 + pending.readInt32BE(p);
        answered++;
      }
      pending = pending.subarray(p);
      sendMore();
    };
    socket.on('data', onData);
    start = performance.now();
    sendMore();
  });
}

/** CPU seconds (user + system) the process has used. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second)
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

interface Result {
  rate: number;
  cpuPerRequest: number;
}

async function measureMode(metrics: boolean, frame: Buffer): Promise<Result> {
  const r = await startCli(metrics);
  const socket = await connect(r.port);
  let scraping = true;
  const scrapes = (async () => {
    while (scraping && r.metricsPort !== undefined) {
      await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`).then((res) => res.text());
      await new Promise((res) => setTimeout(res, 1000));
    }
  })();
  try {
    const meta = encodeRequestFrame(schemas.metadataRequest, 12, 1, 'bench', {
      topics: [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    });
    const answer = decodeResponseFrame(schemas.metadataResponse, 12, await roundTrip(socket, meta));
    if (answer.body.topics[0]?.errorCode !== 0) throw new Error(`topic not created: ${answer.body.topics[0]?.errorCode}`);
    await produceRate(socket, frame, 1); // warm-up
    const cpu0 = await cpuSeconds(r.child.pid!);
    const t0 = performance.now();
    const rate = await produceRate(socket, frame, SECONDS);
    const requests = (rate * (performance.now() - t0)) / 1000;
    return { rate, cpuPerRequest: ((await cpuSeconds(r.child.pid!)) - cpu0) / requests };
  } finally {
    scraping = false;
    await scrapes;
    socket.destroy();
    await stop(r);
  }
}

async function main(): Promise<void> {
  const batch = await buildRecordBatch(Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(100, i) })));
  const frame = Buffer.concat(
    encodeRequestFrame(schemas.produceRequest, 9, 7, 'bench', {
      transactionalId: null,
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }],
    }),
  );
  console.log(`metrics overhead on Produce v9 (acks=1, 10 × 100 B records, ${IN_FLIGHT} in flight), ${ROUNDS} rounds of ${SECONDS} s, node ${process.version}`);
  const off: Result[] = [];
  const on: Result[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    off.push(await measureMode(false, frame));
    on.push(await measureMode(true, frame));
  }
  const bestRate = (v: Result[]): number => Math.max(...v.map((r) => r.rate));
  const bestCpu = (v: Result[]): number => Math.min(...v.map((r) => r.cpuPerRequest)) * 1e6;
  const line = (label: string, v: Result[]): string =>
    `${label.padEnd(24)} ${bestRate(v).toFixed(0).padStart(7)} requests/s, broker CPU ${bestCpu(v).toFixed(1)} µs/request ` +
    `(rounds: ${v.map((x) => `${x.rate.toFixed(0)}/s ${(x.cpuPerRequest * 1e6).toFixed(0)} µs`).join(', ')})`;
  console.log(line('metrics off (baseline)', off));
  console.log(line('metrics on, 1 scrape/s', on));
  console.log(
    `ratio on/off: throughput ${(bestRate(on) / bestRate(off)).toFixed(3)}, CPU per request ${(bestCpu(on) / bestCpu(off)).toFixed(3)} ` +
      `(+${(bestCpu(on) - bestCpu(off)).toFixed(1)} µs/request)`,
  );
}

await main();
