/**
 * `npm run bench`: Gregor under real load generators, beside the machine's own limits and librdkafka's mock
 * cluster measured in the same run (prints numbers, asserts nothing).
 *
 *   npm run bench                full run: every scenario 3 times, 5 s warm-up + 20 s measured, medians
 *   npm run bench -- --quick     every scenario once, 1 s warm-up + 3 s measured (a few minutes in all)
 *   options: --only ID,ID (substrings of scenario ids; also 'startup', 'baselines'), --reps N, --duration S,
 *            --warmup S, --no-mock, --no-startup, --no-baselines, --profile (broker runs with --cpu-prof;
 *            the top self-time functions of each run are printed and saved), --out FILE,
 *            --cli PATH (measure another build's dist/src/cli.js, e.g. a checkout of an older commit)
 *
 * The broker (and the mock cluster, and the Node loopback servers) run pinned to CPU 0, the generators to
 * CPU 1 (taskset). Results go to bench/results/<date>-<quick|full>.json; the table is printed at the end.
 * Needs librdkafka-dev and gcc (see bench/native-build.ts); builds dist first (npm run bench does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureBaselines, type Baselines } from './baselines.js';
import { formatSummary, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { buildNativeTools } from './native-build.js';
import { root } from './processes.js';
import { figuresOf, formatTable, resultOf, type Figures, type ScenarioResult } from './report.js';
import { SCENARIOS, type RunConfig, type Target } from './scenarios.js';
import { startupBench, type StartupReport } from './startup.js';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'no-mock': { type: 'boolean', default: false },
    'no-startup': { type: 'boolean', default: false },
    'no-baselines': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    cli: { type: 'string' },
  },
  strict: true,
});

const quick = opts.quick === true;
const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
const selected = (id: string): boolean => only === null || only.some((o) => id.includes(o));

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  if (os.cpus().length < 2) process.stderr.write('warning: fewer than 2 CPUs; broker and generator share one\n');
  const tools = buildNativeTools();
  const workDir = mkdtempSync(join(os.tmpdir(), 'gregor-bench-'));
  const profileDir = opts.profile ? mkdtempSync(join(os.tmpdir(), 'gregor-bench-profiles-')) : undefined;
  const cfg: RunConfig = {
    quick,
    warmupS: Number(opts.warmup ?? (quick ? 1 : 5)),
    durationS: Number(opts.duration ?? (quick ? 3 : 20)),
    reps: Number(opts.reps ?? (quick ? 1 : 3)),
    tools,
    workDir,
    profileDir,
    cli: opts.cli,
  };
  const loadStart = os.loadavg();
  const startedAt = new Date();
  console.log(
    `gregor bench (${quick ? 'quick' : 'full'}): ${cfg.reps} × (${cfg.warmupS} s warm-up + ${cfg.durationS} s), node ${process.version}, ` +
      `librdkafka ${tools.librdkafkaVersion}, ${os.cpus().length} CPUs, load ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
  );

  let baselines: Baselines | null = null;
  if (!opts['no-baselines'] && (only === null || selected('baselines') || SCENARIOS.some((s) => selected(s.id)))) {
    baselines = await measureBaselines({ loadgen: tools.loadgen, dir: workDir, diskMiB: quick ? 256 : 2048, warmupS: cfg.warmupS, durationS: cfg.durationS });
    console.log(
      `baselines: disk write ${baselines.diskWriteMBps.toFixed(0)} MB/s, disk read ${baselines.diskReadMBps.toFixed(0)} MB/s, fdatasync ${baselines.fdatasyncPerSec.toFixed(0)}/s, ` +
        `loopback sink ${baselines.loopbackSinkMBps.toFixed(0)} MB/s (runs ${baselines.loopbackSinkRuns.map((r) => r.toFixed(0)).join(', ')}), ` +
        `source ${baselines.loopbackSourceMBps.toFixed(0)} MB/s (runs ${baselines.loopbackSourceRuns.map((r) => r.toFixed(0)).join(', ')})`,
    );
  }

  const results: ScenarioResult[] = [];
  const profiles: Record<string, ProfileSummary[]> = {};
  for (const s of SCENARIOS) {
    if (!selected(s.id)) continue;
    const run = async (target: Target): Promise<Figures | { error: string }> => {
      try {
        const f = figuresOf(s.metric, await s.run(target, cfg));
        console.log(`  ${target.padEnd(6)} ${s.id}: ${s.metric === 'p99 ms' ? `p50 ${f.p50Ms?.toFixed(2)} p99 ${f.p99Ms?.toFixed(2)} p999 ${f.p999Ms?.toFixed(2)} ms` : `${f.msgsPerSec.toFixed(0)} msg/s, ${f.mbPerSec.toFixed(1)} MB/s`}, server CPU ${f.cpuUsPerMsg.toFixed(2)} µs/msg (${f.serverCorePct.toFixed(0)}% of a core), generator ${f.generatorCorePct.toFixed(0)}%`);
        return f;
      } catch (err) {
        console.log(`  ${target.padEnd(6)} ${s.id}: failed: ${(err as Error).message.split('\n')[0]}`);
        return { error: (err as Error).message };
      }
    };
    console.log(`${s.label}`);
    const gregor = await run('gregor');
    const mock = opts['no-mock'] || opts.profile ? null : await run('mock');
    results.push(resultOf(s, gregor, mock, baselines));
    if (profileDir) profiles[s.id] = collectProfiles(profileDir);
  }

  let startup: StartupReport | null = null;
  if (!opts['no-startup'] && !opts.profile && selected('startup')) startup = await startupBench(quick ? 2 : 5);

  const loaded = results.flatMap((r) => ('error' in r.gregor ? [] : [r.gregor.peakRssMiB]));
  const loadedRssMiB = loaded.length > 0 ? Math.max(...loaded) : null;
  const loadEnd = os.loadavg();
  console.log('');
  console.log(formatTable(results, baselines, startup, loadedRssMiB));
  console.log(`load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);

  const report = {
    date: startedAt.toISOString(),
    mode: quick ? 'quick' : 'full',
    config: { warmupS: cfg.warmupS, durationS: cfg.durationS, reps: cfg.reps, only, profile: opts.profile === true, cli: opts.cli ?? null },
    machine: { node: process.version, librdkafka: tools.librdkafkaVersion, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadStart, loadEnd, totalMemMiB: os.totalmem() / 2 ** 20 },
    git: { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'storage', 'protocol']) !== '' },
    baselines,
    scenarios: results,
    startup,
    loadedPeakRssMiB: loadedRssMiB,
    profiles: profileDir ? profiles : undefined,
  };
  const outFile = opts.out ?? join(root, 'bench/results', `${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${quick ? 'quick' : 'full'}${opts.profile ? '-profile' : ''}.json`);
  mkdirSync(join(outFile, '..'), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`saved ${outFile}`);
  rmSync(workDir, { recursive: true, force: true });
  if (profileDir) console.log(`profiles kept in ${profileDir}`);
}

/** Summaries of the .cpuprofile files written since the last call (each moved into a "seen" folder). */
function collectProfiles(dir: string): ProfileSummary[] {
  const out: ProfileSummary[] = [];
  if (!existsSync(dir)) return out;
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory() || sub.name === 'seen') continue;
    for (const f of readdirSync(join(dir, sub.name))) {
      if (!f.endsWith('.cpuprofile')) continue;
      const s = summarizeProfile(join(dir, sub.name, f), 25);
      console.log(`profile ${sub.name}/${f}: ${formatSummary(s)}`);
      out.push(s);
    }
    mkdirSync(join(dir, 'seen'), { recursive: true });
    execFileSync('mv', [join(dir, sub.name), join(dir, 'seen', `${sub.name}-${Date.now()}`)]);
  }
  return out;
}

await main();
