/**
 * CRC-32C (record batches v2, producer snapshots) and CRC-32 (legacy messages), from @node-rs/crc32. Its
 * loader takes ~25 ms (it probes the platform for the right native package), so it is required at the first
 * checksum rather than at startup; loadChecksums() loads it ahead (the broker calls it once it is ready).
 */
import { createRequire } from 'node:module';

type Crc32Module = typeof import('@node-rs/crc32');

let crcModule: Crc32Module | undefined;

/** Loads @node-rs/crc32 now if it is not loaded yet. */
export function loadChecksums(): Crc32Module {
  return (crcModule ??= createRequire(import.meta.url)('@node-rs/crc32') as Crc32Module);
}

/** CRC-32C (Castagnoli) of `buf`, unsigned. */
export function crc32c(buf: Buffer): number {
  return (crcModule ?? loadChecksums()).crc32c(buf) >>> 0;
}

/** CRC-32 (IEEE) of `buf`, unsigned. */
export function crc32(buf: Buffer): number {
  return (crcModule ?? loadChecksums()).crc32(buf) >>> 0;
}
