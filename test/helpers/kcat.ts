/**
 * kcat (librdkafka) as an independent client in tests: consume a partition
 * from the beginning to its end as JSON, and produce lines from stdin.
 * Always asynchronous: the broker under test runs in the same process.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KcatRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly payload: string | null;
  readonly headers: string[];
  readonly ts: number;
  readonly tstype: string;
}

/** Consumes a topic partition with kcat (-J) from `-o` (default beginning) to its end. */
export async function kcatConsume(port: number, topic: string, partition = 0, extra: string[] = []): Promise<KcatRecord[]> {
  const offset = extra.includes('-o') ? [] : ['-o', 'beginning'];
  const { stdout } = await run('kcat', ['-b', `127.0.0.1:${port}`, '-C', '-t', topic, '-p', String(partition), '-e', '-J', '-q', ...offset, ...extra], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KcatRecord);
}

/** Produces `lines` (one message each; with `-K:` "key:value") with kcat -P; resolves when kcat has flushed and exited 0. */
export function kcatProduce(port: number, topic: string, lines: readonly string[], extra: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', `127.0.0.1:${port}`, '-P', '-t', topic, ...extra], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`kcat -P exited ${code}: ${stderr}`));
    });
    child.stdin.end(lines.map((l) => `${l}\n`).join(''));
  });
}
