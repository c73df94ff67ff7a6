/**
 * Results of `npm run bench`: each scenario's medians, its ratios to the mock cluster and to the machine's
 * own limit, the targets, and the table printed at the end.
 */
import type { Baselines } from './baselines.js';
import { median } from './measure.js';
import type { Metric, Rep, Scenario } from './scenarios.js';
import type { StartupReport } from './startup.js';

export interface Figures {
  /** Median of the scenario's metric over the repetitions. */
  readonly value: number;
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
  /** Server CPU per record (µs) and share of one core busy (%), medians. */
  readonly cpuUsPerMsg: number;
  readonly serverCorePct: number;
  readonly generatorCorePct: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly p999Ms?: number;
  readonly peakRssMiB: number;
  readonly reps: Rep[];
}

export interface ScenarioResult {
  readonly id: string;
  readonly label: string;
  readonly generator: string;
  readonly metric: Metric;
  readonly gregor: Figures | { readonly error: string };
  readonly mock: Figures | { readonly error: string } | null;
  /** gregor / mock (for p99: mock / gregor, so that above 1 is better for every ratio). */
  readonly ratioToMock: number | null;
  readonly baseline: { readonly name: string; readonly mbPerSec: number } | null;
  /** Gregor's MB/s over the machine baseline. */
  readonly ratioToBaseline: number | null;
  readonly target: { readonly text: string; readonly met: boolean } | null;
}

export function metricOf(metric: Metric, r: Rep): number {
  if (metric === 'MB/s') return r.bytes / 1e6 / r.seconds;
  if (metric === 'msg/s') return r.msgs / r.seconds;
  return r.p99Ms ?? Number.NaN;
}

export function figuresOf(metric: Metric, reps: Rep[]): Figures {
  const m = (f: (r: Rep) => number): number => median(reps.map(f));
  const f: Figures = {
    value: m((r) => metricOf(metric, r)),
    msgsPerSec: m((r) => r.msgs / r.seconds),
    mbPerSec: m((r) => r.bytes / 1e6 / r.seconds),
    cpuUsPerMsg: m((r) => (r.msgs > 0 ? (r.serverCpuS / r.msgs) * 1e6 : Number.NaN)),
    serverCorePct: m((r) => (100 * r.serverCpuS) / r.seconds),
    generatorCorePct: m((r) => (100 * r.generatorCpuS) / r.seconds),
    peakRssMiB: Math.max(...reps.map((r) => r.peakRssMiB)),
    reps,
  };
  if (metric !== 'p99 ms') return f;
  return { ...f, p50Ms: m((r) => r.p50Ms ?? NaN), p99Ms: m((r) => r.p99Ms ?? NaN), p999Ms: m((r) => r.p999Ms ?? NaN) };
}

const isFigures = (x: ScenarioResult['gregor'] | null): x is Figures => x !== null && !('error' in x);

/** Which machine limit a scenario is compared with. */
function baselineFor(s: Scenario, b: Baselines | null): ScenarioResult['baseline'] {
  if (b === null) return null;
  if (s.id.startsWith('produce')) {
    const disk = b.diskWriteMBps <= b.loopbackSinkMBps;
    return { name: disk ? 'disk write' : 'loopback sink', mbPerSec: Math.min(b.diskWriteMBps, b.loopbackSinkMBps) };
  }
  if (s.id.startsWith('consume')) return { name: 'loopback sink', mbPerSec: b.loopbackSinkMBps };
  return null;
}

/** The targets. */
function targetFor(s: Scenario, g: Figures, baseline: ScenarioResult['baseline']): ScenarioResult['target'] {
  const share = (pct: number, what: string): ScenarioResult['target'] =>
    baseline === null ? null : { text: `≥ ${pct}% of ${what}`, met: g.mbPerSec >= (pct / 100) * baseline.mbPerSec };
  if (/^produce-1k-acks1-p\d+$/.test(s.id)) return share(50, 'min(disk, sink)');
  if (/^produce-1k-acksall-p\d+$/.test(s.id)) return share(40, 'min(disk, sink)');
  if (/^produce-100-acks1-p\d+$/.test(s.id)) return { text: '≥ 300,000 msg/s', met: g.msgsPerSec >= 300_000 };
  if (s.id.startsWith('consume') && s.generator === 'loadgen') return share(50, 'loopback sink');
  if (s.id === 'latency-10k') return { text: 'p99 ≤ 5 ms', met: (g.p99Ms ?? Infinity) <= 5 };
  return null;
}

export function resultOf(
  s: Scenario,
  gregor: Figures | { error: string },
  mock: Figures | { error: string } | null,
  baselines: Baselines | null,
): ScenarioResult {
  const baseline = baselineFor(s, baselines);
  const g = isFigures(gregor) ? gregor : null;
  const m = isFigures(mock) ? mock : null;
  const ratioToMock = g && m ? (s.metric === 'p99 ms' ? m.value / g.value : g.value / m.value) : null;
  return {
    id: s.id,
    label: s.label,
    generator: s.generator,
    metric: s.metric,
    gregor,
    mock,
    ratioToMock,
    baseline,
    ratioToBaseline: g && baseline ? g.mbPerSec / baseline.mbPerSec : null,
    target: g ? targetFor(s, g, baseline) : null,
  };
}

function fmtValue(metric: Metric, v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (metric === 'msg/s') return `${Math.round(v).toLocaleString('en-US')} msg/s`;
  if (metric === 'MB/s') return `${v.toFixed(1)} MB/s`;
  return `${v.toFixed(2)} ms`;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function formatTable(results: readonly ScenarioResult[], baselines: Baselines | null, startup: StartupReport | null, loadedRssMiB: number | null): string {
  const lines: string[] = [];
  if (baselines) {
    lines.push(
      `machine: disk write ${baselines.diskWriteMBps.toFixed(0)} MB/s (one fdatasync at the end), disk read ${baselines.diskReadMBps.toFixed(0)} MB/s, ` +
        `fdatasync ${baselines.fdatasyncPerSec.toFixed(0)}/s, loopback sink ${baselines.loopbackSinkMBps.toFixed(0)} MB/s (runs ${baselines.loopbackSinkRuns.map((r) => r.toFixed(0)).join(', ')}), ` +
        `source ${baselines.loopbackSourceMBps.toFixed(0)} MB/s (runs ${baselines.loopbackSourceRuns.map((r) => r.toFixed(0)).join(', ')})`,
    );
  }
  const header = [
    pad('scenario', 66),
    pad('gregor', 18),
    pad('mock cluster', 18),
    pad('×mock', 6),
    pad('×machine', 9),
    pad('broker CPU', 22),
    'target',
  ].join(' ');
  lines.push(header, '-'.repeat(header.length + 20));
  for (const r of results) {
    const g = isFigures(r.gregor) ? r.gregor : null;
    const m = isFigures(r.mock) ? r.mock : null;
    let gText = g ? fmtValue(r.metric, g.value) : `error`;
    if (g && r.metric === 'MB/s') gText += ` ${(g.msgsPerSec / 1000).toFixed(0)}k/s`;
    const cpu = g ? `${g.cpuUsPerMsg.toFixed(2)} µs/msg ${g.serverCorePct.toFixed(0)}%` : '';
    const target = r.target ? `${r.target.text}: ${r.target.met ? 'met' : 'NOT met'}` : '';
    lines.push(
      [
        pad(r.label, 66),
        pad(gText, 18),
        pad(m ? fmtValue(r.metric, m.value) : r.mock === null ? '' : 'error', 18),
        pad(r.ratioToMock === null ? '' : r.ratioToMock.toFixed(2), 6),
        pad(r.ratioToBaseline === null ? '' : r.ratioToBaseline.toFixed(2), 9),
        pad(cpu, 22),
        target,
      ].join(' '),
    );
    if (g && r.metric === 'p99 ms') lines.push(`${' '.repeat(4)}p50 ${g.p50Ms?.toFixed(2)} ms, p99 ${g.p99Ms?.toFixed(2)} ms, p999 ${g.p999Ms?.toFixed(2)} ms` + (m ? `; mock p50 ${m.p50Ms?.toFixed(2)}, p99 ${m.p99Ms?.toFixed(2)}, p999 ${m.p999Ms?.toFixed(2)} ms` : ''));
    if (!g) lines.push(`    gregor: ${(r.gregor as { error: string }).error.split('\n')[0]}`);
    if (r.mock !== null && !m) lines.push(`    mock: ${(r.mock as { error: string }).error.split('\n')[0]}`);
  }
  if (startup) {
    const e = startup.empty;
    const b = startup.baseline;
    lines.push(
      `startup (empty data dir, spawn to first connect): ${e.connectMs.toFixed(0)} ms (CPU ${e.cpuMs.toFixed(0)} ms), ${(e.connectMs / b.connectMs).toFixed(1)}× a bare Node server (${b.connectMs.toFixed(0)} ms, CPU ${b.cpuMs.toFixed(0)} ms); ` +
        `1,000 partitions ${startup.partitions1000.connectMs.toFixed(0)} ms; target ≤ 300 ms: ${e.connectMs <= 300 ? 'met' : 'NOT met'}`,
    );
    lines.push(
      `idle RSS ${e.rssMiB.toFixed(1)} MiB (${(e.rssMiB / b.rssMiB).toFixed(1)}× bare Node ${b.rssMiB.toFixed(1)} MiB); target ≤ 80 MiB: ${e.rssMiB <= 80 ? 'met' : 'NOT met'}` +
        (loadedRssMiB === null ? '' : `; loaded peak RSS ${loadedRssMiB.toFixed(0)} MiB`),
    );
  }
  return lines.join('\n');
}
