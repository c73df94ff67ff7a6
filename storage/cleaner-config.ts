/**
 * The log cleaner's settings (Kafka's CleanerConfig): the broker's log.cleaner.* options and
 * producer.id.expiration.ms, their defaults, and their validation.
 */
import { RECORD_BATCH_OVERHEAD } from '../protocol/records/batch-header.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../protocol/records/compression.js';

/** The broker's log.cleaner.* settings (and producer.id.expiration.ms). */
export interface CleanerOptions {
  /** log.cleaner.enable: run the background cleaner. */
  enable: boolean;
  /** log.cleaner.backoff.ms: pause when no log needs cleaning. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size: most memory of the key → offset map. */
  dedupeBufferSize: number;
  /** log.cleaner.io.buffer.load.factor: share of the map's slots that may be used. */
  dedupeBufferLoadFactor: number;
  /** log.cleaner.io.buffer.size: bytes per read and write (grown for a larger batch). */
  ioBufferSize: number;
  /** log.cleaner.io.max.bytes.per.second: read plus write rate limit (Infinity: none). */
  ioMaxBytesPerSecond: number;
  /** producer.id.expiration.ms: the last batch of a producer seen within this time is kept. */
  producerIdExpirationMs: number;
  /** Largest decompressed records area of one batch (gregor.max.decompressed.bytes). */
  maxDecompressedBytes: number;
}

export const DEFAULT_CLEANER_OPTIONS: Readonly<CleanerOptions> = Object.freeze({
  enable: true,
  backoffMs: 15_000,
  dedupeBufferSize: 128 * 1024 * 1024,
  dedupeBufferLoadFactor: 0.9,
  ioBufferSize: 512 * 1024,
  ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
});

/** Merges options onto the defaults and rejects values that cannot work. */
export function resolveCleanerOptions(overrides: Partial<CleanerOptions> = {}): CleanerOptions {
  const o: CleanerOptions = { ...DEFAULT_CLEANER_OPTIONS };
  for (const [key, value] of Object.entries(overrides) as [keyof CleanerOptions, unknown][]) {
    if (value !== undefined) (o as unknown as Record<string, unknown>)[key] = value;
  }
  const atLeast = (key: keyof CleanerOptions, min: number): void => {
    const v = o[key];
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) throw new RangeError(`cleaner option ${key} must be a number >= ${min}, got ${String(v)}`);
  };
  if (typeof o.enable !== 'boolean') throw new RangeError('cleaner option enable must be a boolean');
  atLeast('backoffMs', 1);
  atLeast('dedupeBufferSize', 1024);
  atLeast('ioBufferSize', RECORD_BATCH_OVERHEAD);
  atLeast('producerIdExpirationMs', 1);
  atLeast('maxDecompressedBytes', 1);
  if (!(o.dedupeBufferLoadFactor > 0 && o.dedupeBufferLoadFactor <= 1)) throw new RangeError(`cleaner option dedupeBufferLoadFactor must be in (0, 1], got ${o.dedupeBufferLoadFactor}`);
  if (!(o.ioMaxBytesPerSecond > 0)) throw new RangeError(`cleaner option ioMaxBytesPerSecond must be > 0, got ${o.ioMaxBytesPerSecond}`);
  return o;
}
