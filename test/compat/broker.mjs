// Gregor as a user runs it: the `gregor` CLI in a child process, a temp data
// dir, a free port; plus what the runner looks at from outside: ApiVersions
// and the batches written to the data directory.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/**
 * Starts `node dist/src/cli.js` and resolves once it printed its ready line. With `advertisedPort`
 * (a proxy's), clients are told to connect there: `port` is that one, `listenPort` the broker's own.
 * `moreListeners` (names that are also their security protocols: SSL, SASL_PLAINTEXT, SASL_SSL) are
 * served besides PLAINTEXT, each on a free port advertised as itself: `listeners` maps each name to
 * its `host:port`.
 */
export function startGregor({ cli, dataDir, logFile, overrides = [], advertisedPort, moreListeners = [] }) {
  const others = (port) => moreListeners.map((name) => `,${name}://127.0.0.1:${port}`).join('');
  const listen =
    advertisedPort === undefined && moreListeners.length === 0
      ? ['--host', '127.0.0.1', '--port', '0']
      : [
          '--override',
          `listeners=PLAINTEXT://127.0.0.1:0${others(0)}`,
          '--override',
          `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort ?? 0}${others(0)}`,
        ];
  const args = [cli, ...listen, '--data-dir', dataDir, '--metrics-port', '0', '--log-level', 'warn'];
  for (const o of overrides) args.push('--override', o);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`gregor did not print its ready line within 30 s; log: ${logFile}`)), 30_000);
    const fail = (err) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.on('exit', (code) => fail(new Error(`gregor exited with ${code} before it was ready: ${out}; log: ${logFile}`)));
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      out += chunk.toString();
      const m = /ready: listening on \S+?:(\d+), advertised as (\S+):(\d+) \(node (\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout.removeAllListeners('data');
      child.stdout.pipe(log);
      const listeners = {};
      for (const l of out.matchAll(/; (\w+) \(\w+\) on \S+, advertised as (\S+:\d+)/g)) listeners[l[1]] = l[2];
      resolve({
        listeners,
        child,
        host: m[2],
        port: Number(m[3]),
        listenPort: Number(m[1]),
        nodeId: Number(m[4]),
        bootstrap: `${m[2]}:${m[3]}`,
        dataDir,
        readyLine: out.trim().split('\n').find((l) => l.includes('ready:')),
        stop: () => stopGregor(child),
      });
    });
  });
}

/** SIGTERM, then SIGKILL if the graceful shutdown takes more than 15 s. */
export function stopGregor(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
    child.kill('SIGTERM');
  });
}

/** ApiVersions v0 over a raw socket: the set of API keys the broker serves. */
export function apiVersions(host, port) {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('compat-runner');
    const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    req.writeInt32BE(req.length - 4, 0);
    req.writeInt16BE(18, 4);
    req.writeInt16BE(0, 6);
    req.writeInt32BE(7, 8);
    req.writeInt16BE(clientId.length, 12);
    clientId.copy(req, 14);
    const socket = connect({ host, port }, () => socket.write(req));
    let buf = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error('ApiVersions timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      socket.end();
      const error = buf.readInt16BE(8);
      if (error !== 0) return reject(new Error(`ApiVersions error ${error}`));
      const n = buf.readInt32BE(10);
      const apis = new Map();
      for (let i = 0, pos = 14; i < n; i++, pos += 6) apis.set(buf.readInt16BE(pos), [buf.readInt16BE(pos + 2), buf.readInt16BE(pos + 4)]);
      resolve(apis);
    });
  });
}

function partitionDirs(dataDir, topic) {
  if (!existsSync(dataDir)) return [];
  const re = new RegExp(`^${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
  return readdirSync(dataDir).filter((d) => re.test(d)).map((d) => join(dataDir, d));
}

export const topicOnDisk = (dataDir, topic) => partitionDirs(dataDir, topic).length > 0;

/** A zigzag varint at `pos`: [value, next position]. */
function varint(buf, pos) {
  let raw = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    raw += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
}

/** The type of the control record at `pos` (an uncompressed control batch's first record): COMMIT, ABORT or its number. */
function controlType(buf, pos) {
  let p = varint(buf, pos)[1]; // record length
  p += 1; // attributes
  p = varint(buf, p)[1]; // timestamp delta
  p = varint(buf, p)[1]; // offset delta
  const [keyLength, keyAt] = varint(buf, p);
  if (keyLength < 4) return 'invalid';
  const type = buf.readInt16BE(keyAt + 2);
  return type === 0 ? 'ABORT' : type === 1 ? 'COMMIT' : String(type);
}

/**
 * The header of every batch stored for `topic`, read from its segment files in
 * Kafka's on-disk format: magic, codec (attributes & 7) and, for v2 batches,
 * the producer id, epoch, base sequence, record count, the transactional and
 * control bits and a control batch's marker (COMMIT or ABORT).
 */
export function batchesOnDisk(dataDir, topic) {
  const batches = [];
  for (const dir of partitionDirs(dataDir, topic)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
      const buf = readFileSync(join(dir, file));
      for (let pos = 0; pos + 17 <= buf.length; ) {
        const size = buf.readInt32BE(pos + 8);
        if (size <= 0 || pos + 12 + size > buf.length) break;
        const magic = buf.readInt8(pos + 16);
        if (magic >= 2) {
          batches.push({
            baseOffset: Number(buf.readBigInt64BE(pos)),
            magic,
            codec: buf.readInt16BE(pos + 21) & 7,
            count: buf.readInt32BE(pos + 23) + 1,
            producerId: Number(buf.readBigInt64BE(pos + 43)),
            producerEpoch: buf.readInt16BE(pos + 51),
            baseSequence: buf.readInt32BE(pos + 53),
            transactional: (buf.readInt16BE(pos + 21) & 0x10) !== 0,
            control: (buf.readInt16BE(pos + 21) & 0x20) !== 0,
            ...((buf.readInt16BE(pos + 21) & 0x20) !== 0 ? { marker: controlType(buf, pos + 61) } : {}),
          });
        } else {
          batches.push({ lastOffset: Number(buf.readBigInt64BE(pos)), magic, codec: buf.readInt8(pos + 17) & 7 });
        }
        pos += 12 + size;
      }
    }
  }
  return batches;
}

export const codecsOnDisk = (dataDir, topic) => batchesOnDisk(dataDir, topic).map((b) => b.codec);
