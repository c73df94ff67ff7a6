/**
 * Checkpoint files in Kafka's text formats, written atomically (temp file, fsync, rename, fsync of the
 * directory) so a crash leaves either the old or the new file, never a torn one.
 *
 *   recovery-point-offset-checkpoint, log-start-offset-checkpoint:   leader-epoch-checkpoint:
 *     0                       (version)                                0
 *     2                       (entry count)                            2
 *     orders 0 1200                                                    0 0
 *     orders 1 977                                                     3 1200
 *
 *   partition.metadata:  "version: 0\ntopic_id: <22-char base64url uuid>\n"
 */
import path from 'node:path';
import type { StorageFs } from './fs.js';

export async function writeFileAtomic(fs: StorageFs, file: string, content: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const fd = fs.open(tmp, 'w+');
  try {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    fs.write(fd, data, 0, data.length, 0);
    await fs.fsync(fd);
  } finally {
    fs.close(fd);
  }
  fs.rename(tmp, file);
  await fs.fsyncDir(path.dirname(file));
}

/** Lines of a versioned checkpoint: null if the file does not exist; throws if it is malformed. */
function readVersioned(fs: StorageFs, file: string, fieldsPerLine: number): string[][] | null {
  if (fs.stat(file) === null) return null;
  const lines = fs.readFile(file).toString('utf8').split('\n').filter((l) => l.trim() !== '');
  const version = lines[0]?.trim();
  if (version !== '0') throw new Error(`${file}: unsupported checkpoint version ${JSON.stringify(version)}`);
  const count = Number(lines[1]?.trim());
  if (!Number.isInteger(count) || count < 0 || lines.length - 2 !== count) throw new Error(`${file}: expected ${lines[1]} entries, found ${lines.length - 2}`);
  return lines.slice(2).map((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== fieldsPerLine) throw new Error(`${file}: malformed line ${JSON.stringify(line)}`);
    return fields;
  });
}

function formatVersioned(lines: string[]): string {
  return `0\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** "topic partition offset" entries, keyed "topic-partition". */
export function readOffsetCheckpoint(fs: StorageFs, file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [topic, partition, offset] of readVersioned(fs, file, 3) ?? []) {
    const p = Number(partition);
    const o = Number(offset);
    if (!Number.isInteger(p) || !Number.isSafeInteger(o)) throw new Error(`${file}: malformed entry for ${topic}`);
    out.set(`${topic}-${p}`, o);
  }
  return out;
}

export function formatOffsetCheckpoint(entries: readonly { topic: string; partition: number; offset: number }[]): string {
  return formatVersioned(entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`));
}

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export function readEpochCheckpoint(fs: StorageFs, file: string): EpochEntry[] | null {
  const lines = readVersioned(fs, file, 2);
  return lines === null ? null : lines.map(([e, o]) => ({ epoch: Number(e), startOffset: Number(o) }));
}

export function formatEpochCheckpoint(entries: readonly EpochEntry[]): string {
  return formatVersioned(entries.map((e) => `${e.epoch} ${e.startOffset}`));
}

export function formatPartitionMetadata(topicId: string): string {
  return `version: 0\ntopic_id: ${topicId}\n`;
}

export function readPartitionMetadata(fs: StorageFs, file: string): string | null {
  if (fs.stat(file) === null) return null;
  const m = /^topic_id:\s*(\S+)\s*$/m.exec(fs.readFile(file).toString('utf8'));
  return m ? (m[1] as string) : null;
}

/**
 * A checkpoint that many callers ask to be written: one write at a time, requests made during a write
 * coalesce into one more write with the state at that moment, and content equal to what the file already
 * holds is not rewritten.
 */
export class CheckpointWriter {
  private running: Promise<void> | null = null;
  private again = false;
  private written: string | null = null;

  constructor(
    private readonly fs: StorageFs,
    private readonly file: string,
    private readonly content: () => string,
  ) {}

  /** Declares what the file holds now (read at start), so an identical write is skipped. */
  assumeWritten(content: string | null): void {
    this.written = content;
  }

  write(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      do {
        this.again = false;
        const content = this.content();
        if (content === this.written) continue;
        this.written = null;
        await writeFileAtomic(this.fs, this.file, content);
        this.written = content;
      } while (this.again);
    })();
    // Cleared only after assignment: the run may have finished synchronously (nothing to write).
    this.running = run;
    const clear = (): void => {
      if (this.running === run) this.running = null;
    };
    run.then(clear, clear);
    return run;
  }
}
