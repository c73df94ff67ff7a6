/**
 * Reading the shipped Grafana dashboard (grafana/dashboards/gregor.json) in tests: its panels (rows'
 * nested panels included), their queries, its template variables, and the variables a text refers to.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const DASHBOARD_PATH = join(REPO_ROOT, 'grafana/dashboards/gregor.json');

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DashboardTarget {
  refId: string;
  expr: string;
  instant?: boolean;
  range?: boolean;
  datasource?: unknown;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: unknown;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: unknown;
}

export interface DashboardJson {
  title: string;
  uid: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function readDashboardText(): string {
  return readFileSync(DASHBOARD_PATH, 'utf8');
}

export function readDashboard(): DashboardJson {
  return JSON.parse(readDashboardText()) as DashboardJson;
}

/** Every panel, the panels nested in collapsed rows included. */
export function allPanels(d: DashboardJson): DashboardPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Panels that query (everything but rows). */
export function queryPanels(d: DashboardJson): DashboardPanel[] {
  return allPanels(d).filter((p) => p.type !== 'row');
}

/** The query text of a variable (query variables keep it in query.query or query). */
export function variableQuery(v: DashboardVariable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
}

/** Names of the variables `text` refers to: $name, ${name}, ${name:format} and [[name]]. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/g)) {
    names.add((m[1] ?? m[2] ?? m[3])!);
  }
  return [...names];
}

/** Grafana's own variables. */
export const BUILTIN_VARIABLES = new Set(['__interval', '__interval_ms', '__rate_interval', '__range', '__range_s', '__range_ms', '__all', '__from', '__to', '__name', '__auto']);
