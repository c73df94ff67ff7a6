/**
 * Helpers for the storage tests: valid v2 record batches with an opaque payload (61-byte header, CRC-32C over
 * bytes 21..end), temp log directories, and a reader that collects a whole partition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { DEFAULT_LOG_CONFIG, type LogConfig, type PartitionLog } from '../../storage/index.js';

export interface BatchSpec {
  /** Records in the batch (lastOffsetDelta = records - 1). */
  records?: number;
  /** maxTimestamp (and baseTimestamp). */
  timestamp?: number;
  /** Bytes of opaque payload after the header. */
  payload?: number;
  /** Seed of the payload bytes. */
  seed?: number;
}

export function makeBatch(spec: BatchSpec = {}): Buffer {
  const records = spec.records ?? 1;
  const payload = spec.payload ?? 20;
  const timestamp = spec.timestamp ?? 1_700_000_000_000;
  const seed = spec.seed ?? 1;
  const buf = Buffer.alloc(61 + payload);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(0, 21);
  buf.writeInt32BE(records - 1, 23);
  buf.writeBigInt64BE(BigInt(timestamp), 27);
  buf.writeBigInt64BE(BigInt(timestamp), 35);
  buf.writeBigInt64BE(-1n, 43);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(records, 57);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 61; i < buf.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  writeCrc(buf);
  return buf;
}

export function writeCrc(batch: Buffer, pos = 0): void {
  const size = 12 + batch.readInt32BE(pos + 8);
  batch.writeUInt32BE(crc32c(batch.subarray(pos + 21, pos + size)) >>> 0, pos + 17);
}

export function baseOffsetOf(batch: Buffer, pos = 0): number {
  return Number(batch.readBigInt64BE(pos));
}

/** Splits concatenated batches. */
export function splitBatches(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = 12 + buf.readInt32BE(pos + 8);
    out.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

const dirs: string[] = [];
export function tempLogDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gregor-storage-'));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, retentionMs: -1, ...overrides };
}

/** Every batch of the log from the log start, read with the given maxBytes per call. */
export async function readAll(log: PartitionLog, maxBytes = 1 << 20): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, maxBytes);
    if (r.size === 0) throw new Error(`empty read at ${offset} below the log end ${log.logEndOffset}`);
    for (const b of splitBatches(Buffer.concat(r.chunks))) {
      out.push(Buffer.from(b));
      offset = baseOffsetOf(b) + b.readInt32BE(23) + 1;
    }
  }
  return out;
}

/** Hex of a batch for failure messages (toEqual on large Buffers is slow). */
function show(b: Buffer | undefined): string {
  return b === undefined ? 'nothing' : `${b.length} bytes ${b.subarray(0, 64).toString('hex')}${b.length > 64 ? '…' : ''}`;
}

/** Throws unless both lists hold equal buffers in the same order. */
export function assertSameBatches(actual: readonly Buffer[], expected: readonly Buffer[]): void {
  if (actual.length !== expected.length) throw new Error(`expected ${expected.length} batches, got ${actual.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!(actual[i] as Buffer).equals(expected[i] as Buffer)) throw new Error(`batch ${i} differs: expected ${show(expected[i])}, got ${show(actual[i])}`);
  }
}

/** Throws unless `actual` equals `expected`. */
export function assertSameBatch(actual: Buffer | undefined, expected: Buffer, what = 'batch'): void {
  if (actual === undefined || !actual.equals(expected)) throw new Error(`${what} differs: expected ${show(expected)}, got ${show(actual)}`);
}
