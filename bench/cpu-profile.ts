/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, as a share of the
 * busy (non-idle) time. `node dist/bench/cpu-profile.js FILE [N]` prints it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** "function file:line" (file relative to dist/ or node_modules/). */
  readonly frame: string;
  readonly ms: number;
  /** Share of the busy time, %. */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly top: SelfTime[];
}

export function summarizeProfile(file: string, n = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const perNode = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) perNode.set(p.samples[i]!, (perNode.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const perFrame = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const node of p.nodes) {
    const us = perNode.get(node.id) ?? 0;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const url = cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const frame = `${cf.functionName || '(anonymous)'} ${url}${url ? `:${cf.lineNumber + 1}` : ''}`;
    perFrame.set(frame, (perFrame.get(frame) ?? 0) + us);
  }
  const top = [...perFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, us]) => ({ frame, ms: us / 1000, pct: busy > 0 ? (100 * us) / busy : 0 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, top };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms; top self time:`];
  for (const t of s.top) lines.push(`  ${t.pct.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(7)} ms  ${t.frame}`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: cpu-profile.js FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  console.log(formatSummary(summarizeProfile(file, Number(process.argv[3] ?? 30))));
}
