/**
 * TLS benchmark (prints numbers, asserts nothing): produce and consume throughput over an SSL listener as a
 * ratio to a PLAINTEXT listener of the same broker, in the same run, with librdkafka (bench/native/loadgen.c).
 * Over TLS the records cannot go from the page cache to the socket untouched: each response is encrypted
 * (and each request decrypted) by the broker's one thread; this measures what that costs.
 *
 * One broker (the CLI, pinned to one core; the load generator on the other), two listeners: PLAINTEXT and
 * SSL (a PEM key store made with openssl at bench time, RSA 2048; TLS 1.3 as negotiated by librdkafka).
 * Batch cache off, so that fetches stream the records from the segment files, as a consumer that is not
 * at the tail reads them. For each of --reps rounds, PLAINTEXT then SSL:
 * - produce: --size byte records, acks=1, to a topic of PARTITIONS partitions: MB/s over --duration s
 *   after --warmup s, and the broker's CPU seconds per GB;
 * - consume: a topic of --log-mib MiB (filled once, unmeasured) read from the beginning again and again
 *   (loadgen consume -L): MB/s and broker CPU seconds per GB.
 * The median of the rounds is printed, with SSL/PLAINTEXT ratios.
 *
 * Run: npm run build && npm run bench:tls [-- --duration 10 --warmup 2 --reps 3 --size 1024 --log-mib 256]
 * Needs openssl, gcc and librdkafka-dev (bench/native-build.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildNativeTools } from './native-build.js';
import { freePort, runTool, startGregor, type ToolResult } from './processes.js';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    reps: { type: 'string', default: '3' },
    size: { type: 'string', default: '1024' },
    'log-mib': { type: 'string', default: '256' },
  },
  strict: true,
});

const MiB = 1024 * 1024;
const PARTITIONS = 4;
const DURATION_S = Number(opts.duration);
const WARMUP_S = Number(opts.warmup);
const REPS = Number(opts.reps);
const SIZE = Number(opts.size);
const LOG_MIB = Number(opts['log-mib']);

type Listener = 'PLAINTEXT' | 'SSL';

interface Figures {
  readonly mbps: number;
  /** Broker CPU seconds per GB moved. */
  readonly cpuPerGb: number;
}

/** A CA and a broker certificate for localhost and 127.0.0.1, as one PEM key store file. */
function makeKeyStore(dir: string): { keyStore: string; ca: string } {
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bench CA']);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'broker.key']);
  openssl(['req', '-new', '-key', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost']);
  execFileSync('sh', ['-c', "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > broker.ext"], { cwd: dir });
  openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', '-days', '2', '-extfile', 'broker.ext']);
  execFileSync('sh', ['-c', 'cat broker.key broker.crt > broker.pem'], { cwd: dir });
  return { keyStore: join(dir, 'broker.pem'), ca: join(dir, 'ca.crt') };
}

function figures(r: ToolResult): Figures {
  const bytes = Number(r.end.bytes);
  const seconds = Number(r.end.seconds);
  return { mbps: bytes / 1e6 / seconds, cpuPerGb: r.watchedCpu[0]! / (bytes / 1e9) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const tools = buildNativeTools();
const dir = mkdtempSync(join(os.tmpdir(), 'gregor-bench-tls-'));
try {
  const { keyStore, ca } = makeKeyStore(dir);
  const ports: Record<Listener, number> = { PLAINTEXT: await freePort(), SSL: await freePort() };
  const listeners = `PLAINTEXT://127.0.0.1:${ports.PLAINTEXT},SSL://127.0.0.1:${ports.SSL}`;
  const broker = await startGregor({
    dataDir: join(dir, 'data'),
    args: ['-o', `listeners=${listeners}`, '-o', `advertised.listeners=${listeners}`, '-o', 'ssl.keystore.type=PEM', '-o', `ssl.keystore.location=${keyStore}`, '-o', 'gregor.cache.bytes=0'],
  });
  const client = (listener: Listener): string[] => [
    '-b',
    `127.0.0.1:${ports[listener]}`,
    ...(listener === 'SSL' ? ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${ca}`] : []),
  ];
  try {
    await runTool(tools.loadgen, ['create', ...client('PLAINTEXT'), '-T', `produce-plaintext:${PARTITIONS}`, '-T', `produce-ssl:${PARTITIONS}`, '-T', `consume:${PARTITIONS}`]);
    const fillCount = Math.round((LOG_MIB * MiB) / SIZE);
    await runTool(tools.loadgen, ['produce', ...client('PLAINTEXT'), '-t', 'consume', '-s', String(SIZE), '-a', '1', '-w', '0', '-d', '100000', '-n', String(fillCount)], { timeoutMs: 30 * 60_000 });
    const window = ['-w', String(WARMUP_S), '-d', String(DURATION_S)];
    const timeoutMs = (WARMUP_S + DURATION_S) * 1000 + 180_000;
    const results: Record<'produce' | 'consume', Record<Listener, Figures[]>> = { produce: { PLAINTEXT: [], SSL: [] }, consume: { PLAINTEXT: [], SSL: [] } };
    for (let rep = 0; rep < REPS; rep++) {
      for (const listener of ['PLAINTEXT', 'SSL'] as const) {
        const topic = `produce-${listener.toLowerCase()}`;
        const produced = await runTool(tools.loadgen, ['produce', ...client(listener), '-t', topic, '-s', String(SIZE), '-a', '1', ...window], { watch: [broker.pid], timeoutMs });
        results.produce[listener].push(figures(produced));
        const consumed = await runTool(tools.loadgen, ['consume', ...client(listener), '-t', 'consume', '-P', String(PARTITIONS), '-L', '-g', `consume-${listener}-${rep}`, ...window], {
          watch: [broker.pid],
          timeoutMs,
        });
        results.consume[listener].push(figures(consumed));
      }
    }
    console.log(
      `TLS vs PLAINTEXT, same broker, same run (librdkafka ${tools.librdkafkaVersion}, ${SIZE} B records, ${PARTITIONS} partitions, acks=1; ` +
        `consume re-reads a ${LOG_MIB} MiB log from the segment files, batch cache off; median of ${REPS}, ${DURATION_S} s each)`,
    );
    console.log(`${''.padEnd(10)}${'PLAINTEXT'.padStart(14)}${'SSL'.padStart(14)}${'SSL/PLAINTEXT'.padStart(16)}   broker CPU s/GB (PLAINTEXT, SSL)`);
    for (const kind of ['produce', 'consume'] as const) {
      const plain = results[kind].PLAINTEXT;
      const ssl = results[kind].SSL;
      const [p, s] = [median(plain.map((f) => f.mbps)), median(ssl.map((f) => f.mbps))];
      const [pc, sc] = [median(plain.map((f) => f.cpuPerGb)), median(ssl.map((f) => f.cpuPerGb))];
      console.log(
        `${kind.padEnd(10)}${`${p.toFixed(1)} MB/s`.padStart(14)}${`${s.toFixed(1)} MB/s`.padStart(14)}${(s / p).toFixed(2).padStart(16)}   ${pc.toFixed(2)}, ${sc.toFixed(2)}`,
      );
    }
  } finally {
    await broker.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
