/**
 * Helpers for the log cleaner tests: a seeded workload of keyed records (updates and tombstones, several
 * codecs, idempotent producers) appended to a real PartitionLog, the model of what it wrote, and a reader
 * that checks a whole log (CRCs, strictly increasing offsets) and compares it with the model, and a FaultyFs
 * that simulates a power loss before a chosen file-system step.
 */
import path from 'node:path';
import { buildRecordBatch, Compression, iterateRecords, readBatchHeader, recordsArea, verifyBatchCrc, type BatchHeader } from '../../protocol/records/index.js';
import { FaultyFs, type FaultOp, type PartitionLog, type StorageFs } from '../../storage/index.js';

/** xorshift32: the same sequence for the same seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export interface WrittenRecord {
  key: string;
  /** null: a tombstone. */
  value: string | null;
  timestamp: number;
}

export interface WrittenBatch {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export interface ReadRecord extends WrittenRecord {
  offset: number;
}

export interface ReadBatch {
  header: BatchHeader;
  records: ReadRecord[];
}

/** What was appended: every record by offset, every batch by base offset, the latest value of each key. */
export class KeyedModel {
  readonly records = new Map<number, WrittenRecord>();
  readonly batches = new Map<number, WrittenBatch>();
  /** key → latest value (null: deleted) */
  readonly latest = new Map<string, string | null>();
  /** key → offset of its latest record */
  readonly latestOffset = new Map<string, number>();
  private readonly sequences = new Map<number, number>();
  private n = 0;

  constructor(
    private readonly random: () => number,
    private readonly opts: { keys: number; tombstoneShare?: number; maxRecords?: number; producers?: number; codecs?: readonly number[] } = { keys: 100 },
  ) {}

  /** Appends one random batch of keyed records at time `now`. */
  async appendBatch(log: PartitionLog, now: number): Promise<void> {
    const r = this.random;
    const count = 1 + Math.floor(r() * (this.opts.maxRecords ?? 12));
    const codecs = this.opts.codecs ?? [Compression.none, Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];
    const codec = codecs[Math.floor(r() * codecs.length)] as number;
    const producers = this.opts.producers ?? 3;
    // some batches from idempotent producers (ids 1000, 1001, ...), the others without a producer id
    const producerId = r() < 0.5 ? 1000 + Math.floor(r() * producers) : -1;
    const baseSequence = producerId < 0 ? -1 : (this.sequences.get(producerId) ?? 0);
    if (producerId >= 0) this.sequences.set(producerId, baseSequence + count);
    const written: WrittenRecord[] = [];
    for (let i = 0; i < count; i++) {
      const key = `key-${Math.floor(r() * this.opts.keys)}`;
      const tombstone = r() < (this.opts.tombstoneShare ?? 0.1);
      const value = tombstone ? null : `value-${this.n++}-${'x'.repeat(Math.floor(r() * 40))}`;
      written.push({ key, value, timestamp: now - count + i });
    }
    const batch = await buildRecordBatch(
      written.map((w) => ({ key: Buffer.from(w.key), value: w.value === null ? null : Buffer.from(w.value), timestamp: w.timestamp, headers: [{ key: 'h', value: Buffer.from(w.key) }] })),
      { compression: codec, producerId, producerEpoch: producerId < 0 ? -1 : 0, baseSequence },
    );
    const info = await log.append(batch, { leaderEpoch: 0 });
    this.batches.set(info.baseOffset, { baseOffset: info.baseOffset, lastOffset: info.lastOffset, producerId, producerEpoch: producerId < 0 ? -1 : 0, baseSequence });
    written.forEach((w, i) => {
      const offset = info.baseOffset + i;
      this.records.set(offset, w);
      this.latest.set(w.key, w.value);
      this.latestOffset.set(w.key, offset);
    });
  }

  /** Keys whose latest record is a value. */
  get liveKeys(): string[] {
    return [...this.latest.entries()].filter(([, v]) => v !== null).map(([k]) => k);
  }
}

/** Every batch of the log with its records, checking CRCs and strictly increasing offsets on the way. */
export async function readLog(log: PartitionLog): Promise<ReadBatch[]> {
  const out: ReadBatch[] = [];
  let offset = log.logStartOffset;
  let lastSeen = -1;
  while (offset < log.logEndOffset) {
    const { chunks } = await log.read(offset, 256 * 1024);
    if (chunks.length === 0) throw new Error(`nothing read at ${offset} below the log end ${log.logEndOffset}`);
    for (const chunk of chunks) {
      let pos = 0;
      while (pos < chunk.length) {
        const size = 12 + chunk.readInt32BE(pos + 8);
        const batch = chunk.subarray(pos, pos + size);
        pos += size;
        if (!verifyBatchCrc(batch, 0)) throw new Error(`CRC mismatch in the batch at offset ${batch.readBigInt64BE(0)}`);
        const header = readBatchHeader(batch, 0);
        const batchLast = header.baseOffset + header.lastOffsetDelta;
        if (header.baseOffset <= lastSeen) throw new Error(`batch at ${header.baseOffset} does not follow offset ${lastSeen}`);
        const records: ReadRecord[] = [];
        let prev = header.baseOffset - 1;
        for (const rec of iterateRecords(header, await recordsArea(batch, header))) {
          if (rec.offset <= prev || rec.offset > batchLast) throw new Error(`record offset ${rec.offset} out of order in the batch at ${header.baseOffset}`);
          prev = rec.offset;
          records.push({ offset: rec.offset, key: rec.key?.toString() ?? '', value: rec.value === null ? null : rec.value.toString(), timestamp: rec.timestamp });
        }
        out.push({ header, records });
        lastSeen = batchLast;
        offset = batchLast + 1;
      }
    }
  }
  return out;
}

/**
 * Checks a log read back against the model: every record is the one written at its offset (key, value,
 * timestamp), every batch keeps its written base offset, last offset and producer metadata, the last value
 * of each key equals the model's, and below `cleanedTo` each key appears at most once.
 */
export function checkAgainstModel(batches: readonly ReadBatch[], model: KeyedModel, cleanedTo: number): void {
  const lastValue = new Map<string, string | null>();
  const seenBelow = new Set<string>();
  for (const b of batches) {
    const w = model.batches.get(b.header.baseOffset);
    if (!w) throw new Error(`batch at ${b.header.baseOffset} was never written`);
    if (b.header.baseOffset + b.header.lastOffsetDelta !== w.lastOffset) throw new Error(`batch at ${w.baseOffset} ends at ${b.header.baseOffset + b.header.lastOffsetDelta}, written ending at ${w.lastOffset}`);
    if (b.header.producerId !== w.producerId || b.header.producerEpoch !== w.producerEpoch || b.header.baseSequence !== w.baseSequence) {
      throw new Error(`batch at ${w.baseOffset} lost its producer metadata`);
    }
    for (const r of b.records) {
      const written = model.records.get(r.offset);
      if (!written || written.key !== r.key || written.value !== r.value || written.timestamp !== r.timestamp) {
        throw new Error(`record at ${r.offset} is ${JSON.stringify(r)}, written ${JSON.stringify(written)}`);
      }
      if (r.offset < cleanedTo) {
        if (seenBelow.has(r.key)) throw new Error(`key ${r.key} appears twice below the cleaned offset ${cleanedTo}`);
        seenBelow.add(r.key);
      }
      lastValue.set(r.key, r.value);
    }
  }
  for (const [key, value] of model.latest) {
    const read = lastValue.get(key);
    if (value !== null && read !== value) throw new Error(`key ${key}: latest value ${JSON.stringify(value)}, read ${JSON.stringify(read)}`);
    if (value === null && read !== undefined && read !== null) throw new Error(`key ${key} was deleted but reads as ${JSON.stringify(read)}`);
  }
}

/** Records read, by offset. */
export function recordCount(batches: readonly ReadBatch[]): number {
  let n = 0;
  for (const b of batches) n += b.records.length;
  return n;
}

/** A FaultyFs that simulates a power loss right before its `crashAt`-th step once armed. */
export class CrashingFs extends FaultyFs {
  armed = false;
  steps = 0;
  crashAt = Number.POSITIVE_INFINITY;
  crashedAt: string | null = null;

  private step(op: FaultOp, what: string): void {
    if (!this.armed || this.crashed) return;
    this.steps++;
    if (this.steps === this.crashAt) {
      this.crashedAt = `${op} ${path.basename(what)}`;
      this.crash();
    }
  }

  override open(p: string, flags: Parameters<StorageFs['open']>[1]): number {
    this.step('open', p);
    return super.open(p, flags);
  }
  override write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    this.step('write', String(fd));
    return super.write(fd, buffer, offset, length, position);
  }
  override writeAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.step('writeAsync', String(fd));
    return super.writeAsync(fd, buffer, offset, length, position);
  }
  override ftruncate(fd: number, length: number): void {
    this.step('ftruncate', String(fd));
    super.ftruncate(fd, length);
  }
  override fdatasync(fd: number): Promise<void> {
    this.step('fdatasync', String(fd));
    return super.fdatasync(fd);
  }
  override fsync(fd: number): Promise<void> {
    this.step('fsync', String(fd));
    return super.fsync(fd);
  }
  override fsyncDir(p: string): Promise<void> {
    this.step('fsyncDir', p);
    return super.fsyncDir(p);
  }
  override rename(from: string, to: string): void {
    this.step('rename', `${from} → ${path.basename(to)}`);
    super.rename(from, to);
  }
  override unlink(p: string): void {
    this.step('unlink', p);
    super.unlink(p);
  }
}
