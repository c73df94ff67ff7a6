/**
 * Producer ids for InitProducerId, unique for the life of the log directory: handed out from blocks of
 * PRODUCER_ID_BLOCK_SIZE ids (as Kafka's controller hands blocks to brokers), each block reserved durably
 * before its first id is given out. A restart, or a crash, skips the rest of the current block; an id is
 * never handed out twice.
 *
 * File `<log.dir>/producer-id-block`, Kafka-style text, rewritten atomically (temp file, fsync, rename, fsync
 * of the directory) through the storage fs seam:
 *
 *   version: 0
 *   next_block_start: 3000
 *
 * Readers refuse other versions and malformed files (the broker does not start: handing out ids without
 * knowing which were used could repeat one).
 */
import { nodeFs, writeFileAtomic, type StorageFs } from '../../storage/index.js';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
export const PRODUCER_ID_FILE = 'producer-id-block';

export class ProducerIdError extends Error {
  override readonly name = 'ProducerIdError';
}

export class ProducerIdManager {
  private next: number;
  private blockEnd: number;
  private reserving: Promise<void> | null = null;

  private constructor(
    private readonly fs: StorageFs,
    private readonly file: string,
    nextBlockStart: number,
  ) {
    // No block is reserved yet: the first id reserves [nextBlockStart, nextBlockStart + size).
    this.next = nextBlockStart;
    this.blockEnd = nextBlockStart;
  }

  /** Reads `<logDir>/producer-id-block` (absent: ids start at 0); throws ProducerIdError when it is malformed. */
  static open(logDir: string, fs: StorageFs = nodeFs): ProducerIdManager {
    const file = `${logDir}/${PRODUCER_ID_FILE}`;
    return new ProducerIdManager(fs, file, fs.stat(file) === null ? 0 : parseBlockFile(file, fs.readFile(file).toString('utf8')));
  }

  /** A producer id never handed out before; reserves (durably) a new block when the current one is used up. */
  async nextId(): Promise<number> {
    while (this.next >= this.blockEnd) {
      this.reserving ??= this.reserveBlock().finally(() => {
        this.reserving = null;
      });
      await this.reserving;
    }
    return this.next++;
  }

  private async reserveBlock(): Promise<void> {
    const start = this.blockEnd;
    const end = start + PRODUCER_ID_BLOCK_SIZE;
    if (!Number.isSafeInteger(end)) throw new ProducerIdError('producer ids exhausted');
    await writeFileAtomic(this.fs, this.file, `version: 0\nnext_block_start: ${end}\n`);
    this.next = start;
    this.blockEnd = end;
  }
}

function parseBlockFile(file: string, text: string): number {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\s*([a-z_]+)\s*:\s*(\S+)\s*$/.exec(line);
    if (!m) throw new ProducerIdError(`${file}: malformed line ${JSON.stringify(line)}`);
    fields.set(m[1] as string, m[2] as string);
  }
  if (fields.get('version') !== '0') throw new ProducerIdError(`${file}: unsupported version ${JSON.stringify(fields.get('version') ?? null)}`);
  const next = Number(fields.get('next_block_start'));
  if (!Number.isSafeInteger(next) || next < 0) throw new ProducerIdError(`${file}: invalid next_block_start ${JSON.stringify(fields.get('next_block_start') ?? null)}`);
  return next;
}
