/**
 * Child processes of tests run plain node: transpileForNode writes a test module and its relative imports
 * (`.js` specifiers of `.ts` files), transpiled, into a directory that resolves packages through a symlink to
 * the repository's node_modules, and returns the path of the entry module's `.js`.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `entry` is relative to the repository root; `out` an empty directory. */
export function transpileForNode(entry: string, out: string): string {
  writeFileSync(`${out}/package.json`, '{"type":"module"}\n');
  symlinkSync(`${repo}/node_modules`, `${out}/node_modules`, 'dir');
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const rel = pending.pop() as string;
    if (done.has(rel)) continue;
    done.add(rel);
    const source = readFileSync(`${repo}/${rel}`, 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    mkdirSync(path.dirname(`${out}/${rel}`), { recursive: true });
    writeFileSync(`${out}/${rel.replace(/\.ts$/, '.js')}`, js);
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(path.posix.normalize(path.posix.join(path.posix.dirname(rel), `${m[1]}.ts`)));
    }
  }
  return `${out}/${entry.replace(/\.ts$/, '.js')}`;
}
