/**
 * The machine's own limits, measured in the same run as the scenarios (bench/run.ts):
 * - disk: sequential 1 MiB writes of `mib` MiB into the data directory's file system, ending with one
 *   fdatasync (what an acks=1 broker could at best sustain), pinned to the broker's core;
 * - disk read: the same file read back after dropping it from the page cache;
 * - fdatasync rate: 4 KiB append + fdatasync, repeated (the floor of an acks=all round trip);
 * - loopback sink: the native client writing to a Node server that discards (the produce direction);
 * - loopback source: a Node server writing 1 MiB buffers to the native client (the fetch direction).
 * Loopback rates are the best of LOOPBACK_RUNS runs: on this VM a Node server's loopback rate is bimodal
 * (the same sink measures 250 or 2,500 MB/s from one run to the next), and a ceiling is its best run;
 * every run is kept in the results.
 * The Node servers run pinned to the broker's core, the native client to the generator's.
 */
import { join } from 'node:path';
import { CLIENT_CPU, SERVER_CPU, root, runTool, spawnPinned } from './processes.js';

export interface Baselines {
  /** MB/s (10^6 bytes) of sequential write ending with one fdatasync. */
  readonly diskWriteMBps: number;
  /** MB/s of a sequential read after dropping the file from the page cache. */
  readonly diskReadMBps: number;
  /** fdatasync calls per second (4 KiB appended before each). */
  readonly fdatasyncPerSec: number;
  /** MB/s from the native client into a Node sink server over loopback. */
  readonly loopbackSinkMBps: number;
  /** MB/s from a Node source server to the native client over loopback. */
  readonly loopbackSourceMBps: number;
  /** Every run of the loopback measurements (their best is the rate above). */
  readonly loopbackSinkRuns: readonly number[];
  readonly loopbackSourceRuns: readonly number[];
}

const LOOPBACK_RUNS = 3;

export interface BaselineOptions {
  readonly loadgen: string;
  /** A directory on the data directory's file system. */
  readonly dir: string;
  readonly diskMiB: number;
  readonly warmupS: number;
  readonly durationS: number;
}

async function diskWrite(opts: BaselineOptions): Promise<{ write: number; read: number }> {
  const file = join(opts.dir, 'baseline-disk.bin');
  const w = await runTool(opts.loadgen, ['diskwrite', '-f', file, '-m', String(opts.diskMiB)], { cpu: SERVER_CPU });
  // diskwrite removes its file; write it again (unmeasured) to read it back cold
  const again = join(opts.dir, 'baseline-read.bin');
  const writeAgain = spawnPinned(null, 'dd', ['if=/dev/zero', `of=${again}`, 'bs=1M', `count=${opts.diskMiB}`, 'conv=fdatasync', 'status=none']);
  await new Promise((res) => writeAgain.once('exit', res));
  const r = await runTool(opts.loadgen, ['diskread', '-f', again], { cpu: SERVER_CPU });
  spawnPinned(null, 'rm', ['-f', again]);
  return {
    write: Number(w.end.bytes) / 1e6 / Number(w.end.seconds),
    read: Number(r.end.bytes) / 1e6 / Number(r.end.seconds),
  };
}

async function fsyncRate(opts: BaselineOptions): Promise<number> {
  const r = await runTool(opts.loadgen, ['fsyncrate', '-f', join(opts.dir, 'baseline-fsync.bin'), '-w', String(opts.warmupS), '-d', String(opts.durationS)], {
    cpu: SERVER_CPU,
  });
  return Number(r.end.syncs) / Number(r.end.seconds);
}

/** Native client ↔ Node server over loopback; `mode` names the server's side. */
export async function loopback(opts: BaselineOptions, mode: 'sink' | 'source'): Promise<number> {
  const server = spawnPinned(SERVER_CPU, process.execPath, [join(root, 'dist/bench/sink-server.js'), mode]);
  try {
    const port = await new Promise<number>((res, rej) => {
      let out = '';
      server.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"port":(\d+)/.exec(out);
        if (m) res(Number(m[1]));
      });
      server.once('exit', (code) => rej(new Error(`sink server exited (${code})`)));
    });
    const r = await runTool(opts.loadgen, [mode, '-b', `127.0.0.1:${port}`, '-w', String(opts.warmupS), '-d', String(opts.durationS)], { cpu: CLIENT_CPU });
    return Number(r.end.bytes) / 1e6 / Number(r.end.seconds);
  } finally {
    server.stdin!.end();
    server.kill('SIGTERM');
  }
}

async function loopbackRuns(opts: BaselineOptions, mode: 'sink' | 'source'): Promise<number[]> {
  const runs: number[] = [];
  for (let i = 0; i < LOOPBACK_RUNS; i++) runs.push(await loopback(opts, mode));
  return runs;
}

export async function measureBaselines(opts: BaselineOptions): Promise<Baselines> {
  const disk = await diskWrite(opts);
  const fdatasyncPerSec = await fsyncRate(opts);
  const sink = await loopbackRuns(opts, 'sink');
  const source = await loopbackRuns(opts, 'source');
  return {
    diskWriteMBps: disk.write,
    diskReadMBps: disk.read,
    fdatasyncPerSec,
    loopbackSinkMBps: Math.max(...sink),
    loopbackSourceMBps: Math.max(...source),
    loopbackSinkRuns: sink,
    loopbackSourceRuns: source,
  };
}
