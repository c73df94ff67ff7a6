/**
 * The shipped Grafana dashboard: its JSON type-checks against @grafana/schema's Dashboard type (the JSON
 * is compiled by the TypeScript compiler as the initializer of a `Dashboard` constant, so string unions,
 * enums and unknown properties are checked, not only the shape), and its structure holds together:
 * unique panel ids, grid positions inside 24 columns and without overlap, every datasource reference
 * resolves, every variable used is defined, the nine rows are there.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  allPanels,
  BUILTIN_VARIABLES,
  queryPanels,
  readDashboard,
  readDashboardText,
  referencedVariables,
  REPO_ROOT,
  variableQuery,
  type GridPos,
} from '../helpers/grafana-dashboard.js';

/** Type-checks each text as `export const dashboard: Dashboard = <text>;`; returns the diagnostics per text. */
function typeCheckAsDashboard(texts: readonly string[]): string[][] {
  // virtual files inside the repository, so that '@grafana/schema' resolves from its node_modules
  const files = texts.map((_, i) => join(REPO_ROOT, 'test/unit', `__dashboard-check-${i}.ts`));
  const sources = new Map(files.map((f, i) => [f, `import type { Dashboard } from '@grafana/schema';\nexport const dashboard: Dashboard = ${texts[i]};\n`]));
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => sources.has(f) || fileExists.call(host, f);
  host.readFile = (f) => sources.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = sources.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram(files, options, host);
  const global = program.getGlobalDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return files.map((f) => [
    ...global,
    ...ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${where ? `line ${where.line}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    }),
  ]);
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('Grafana dashboard', () => {
  const text = readDashboardText();
  const dashboard = readDashboard();

  it('type-checks against @grafana/schema Dashboard, and a broken copy does not', () => {
    const broken = JSON.parse(text) as { panels: Array<Record<string, unknown>>; templating: { list: Array<Record<string, unknown>> } };
    broken.panels[0]!.type = 42;
    broken.templating.list[1]!.type = 'no-such-variable-type';
    broken.panels[1]!.gridPos = { x: 0, y: 0, w: '12', h: 8 };
    const [good, bad] = typeCheckAsDashboard([text, JSON.stringify(broken, null, 2)]);
    expect(good).toEqual([]);
    expect(bad!.length).toBeGreaterThanOrEqual(3);
  });

  it('gives every panel a unique id', () => {
    const ids = allPanels(dashboard).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('places every panel inside the 24-column grid without overlapping another', () => {
    const panels = allPanels(dashboard);
    for (const p of panels) {
      const g = p.gridPos;
      expect([g.x, g.y, g.w, g.h].every(Number.isInteger), p.title).toBe(true);
      expect(g.x >= 0 && g.y >= 0 && g.w > 0 && g.h > 0 && g.x + g.w <= 24, `${p.title} ${JSON.stringify(g)}`).toBe(true);
    }
    const clashes: string[] = [];
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        if (overlaps(panels[i]!.gridPos, panels[j]!.gridPos)) clashes.push(`${panels[i]!.title} / ${panels[j]!.title}`);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('has the overview, topics and partitions, consumer groups and lag, consumer groups (KIP-848), share groups (KIP-932), transactions, storage, process and security rows, in that order', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Overview', 'Topics and partitions', 'Consumer groups and lag', 'Consumer groups (KIP-848)', 'Share groups (KIP-932)', 'Transactions', 'Storage', 'Process', 'Security']);
    // every row has panels under it
    const ys = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.gridPos.y);
    for (let i = 0; i < ys.length; i++) {
      const below = queryPanels(dashboard).filter((p) => p.gridPos.y > ys[i]! && (i + 1 === ys.length || p.gridPos.y < ys[i + 1]!));
      expect(below.length, rows[i]).toBeGreaterThan(0);
    }
  });

  it('resolves every datasource reference to the DS_PROMETHEUS datasource variable (or Grafana\'s own annotations)', () => {
    const dsVar = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(dsVar?.type).toBe('datasource');
    expect(variableQuery(dsVar!)).toBe('prometheus');
    const refs: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) {
          if (k === 'datasource') refs.push(child);
          else walk(child);
        }
      }
    };
    walk(dashboard);
    expect(refs.length).toBeGreaterThan(queryPanels(dashboard).length);
    for (const ref of refs) {
      expect([
        { type: 'prometheus', uid: '${DS_PROMETHEUS}' },
        { type: 'grafana', uid: '-- Grafana --' },
      ]).toContainEqual(ref);
    }
    // panels and targets all name one
    for (const p of queryPanels(dashboard)) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      for (const t of p.targets ?? []) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    }
  });

  it('defines every variable that a query, a title or a variable uses, and has instance, topic and group variables', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const name of ['DS_PROMETHEUS', 'instance', 'topic', 'group']) expect(defined).toContain(name);
    const texts = [
      ...queryPanels(dashboard).flatMap((p) => [p.title, ...(p.targets ?? []).map((t) => t.expr)]),
      ...dashboard.templating.list.map(variableQuery),
    ];
    const undefinedNames = new Set(texts.flatMap(referencedVariables).filter((n) => !defined.has(n) && !BUILTIN_VARIABLES.has(n)));
    expect([...undefinedNames]).toEqual([]);
  });

  it('gives every query panel at least one query, with unique refIds', () => {
    for (const p of queryPanels(dashboard)) {
      const targets = p.targets ?? [];
      expect(targets.length, p.title).toBeGreaterThan(0);
      expect(targets.every((t) => t.expr.trim() !== ''), p.title).toBe(true);
      expect(new Set(targets.map((t) => t.refId)).size, p.title).toBe(targets.length);
    }
  });
});
