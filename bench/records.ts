/**
 * Record batch benchmark (prints numbers, asserts nothing).
 *
 * - header parse + CRC-32C validation of 16 KiB v2 batches, beside the raw
 *   CRC-32C rate over the same bytes (the floor for any validation);
 * - full produce validation (framing, CRC, header rules, record walk) of the
 *   same batches, uncompressed;
 * - decompression rate per codec of a 16 KiB and a 1 MiB records area, beside
 *   the codec library's own unbounded call on the same bytes.
 *
 * Run: npx tsc -p . && npm run bench:records
 */
import { gunzipSync } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import { decompressFrameSync } from 'lz4-napi';
import { uncompressSync as snappyUncompress } from 'snappy';
import { decompress as zstdDecompress } from '@mongodb-js/zstd';
import {
  COMPRESSION_NAMES,
  Compression,
  buildRecordBatch,
  compress,
  decompress,
  readBatchHeader,
  validateProduceRecords,
  verifyBatchCrc,
  type RecordInput,
} from '../protocol/records/index.js';
import { measure, measureAsync } from './measure.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GB = 1e9;
let sink = 0;

const gbps = (bytes: number, s: number): string => `${(bytes / GB / s).toFixed(2).padStart(7)} GB/s`;
const mbps = (bytes: number, s: number): string => `${(bytes / 1e6 / s).toFixed(0).padStart(7)} MB/s`;

/** JSON-like event records (compress about 3-5x, like real application data). */
function events(count: number, seed: number): RecordInput[] {
  const out: RecordInput[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const value = JSON.stringify({
      id: seed * 100000 + i,
      user: `user-${x % 5000}`,
      event: ['click', 'view', 'purchase', 'scroll'][x % 4],
      amount: (x % 100000) / 100,
      session: x.toString(36),
    });
    out.push({ key: Buffer.from(`user-${x % 5000}`), value: Buffer.from(value), timestamp: 1_700_000_000_000 + i });
  }
  return out;
}

/** Records filling one batch to about `size` bytes. */
async function batchOf(size: number, seed: number, compression: number = Compression.none): Promise<Buffer> {
  const probe = await buildRecordBatch(events(10, seed), { timestamp: 0 });
  const perRecord = (probe.length - 61) / 10;
  return buildRecordBatch(events(Math.max(1, Math.floor((size - 61) / perRecord)), seed), { compression });
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.arch}`);

  // 64 uncompressed 16 KiB batches back to back (1 MiB), as a produce request or a log segment would hold them
  const batches: Buffer[] = [];
  for (let i = 0; i < 64; i++) batches.push(await batchOf(16 * KiB, i + 1));
  const all = Buffer.concat(batches);
  const positions: number[] = [];
  for (let pos = 0, i = 0; i < batches.length; pos += batches[i]!.length, i++) positions.push(pos);
  const records = batches.reduce((n, b) => n + readBatchHeader(b).recordCount, 0);
  console.log(`\n16 KiB batches: ${batches.length} batches, ${all.length} bytes, ${records} records (${(all.length / records).toFixed(0)} B/record)`);

  const rawCrc = measure(() => {
    for (const pos of positions) sink += crc32c(all.subarray(pos + 21, pos + 12 + all.readInt32BE(pos + 8)));
  });
  const headerCrc = measure(() => {
    for (const pos of positions) {
      const h = readBatchHeader(all, pos);
      if (!verifyBatchCrc(all, pos)) throw new Error('crc');
      sink += h.recordCount;
    }
  });
  const headerOnly = measure(() => {
    for (const pos of positions) sink += readBatchHeader(all, pos).recordCount;
  });
  const validate = await measureAsync(async () => {
    sink += (await validateProduceRecords(all)).length;
  });
  const validateOne = await measureAsync(async () => {
    sink += (await validateProduceRecords(batches[0]!)).length;
  });
  console.log(`  raw CRC-32C over the same bytes        ${gbps(all.length, rawCrc)}`);
  console.log(`  header parse + CRC-32C validation      ${gbps(all.length, headerCrc)}   (${(headerCrc / rawCrc).toFixed(2)}x raw CRC time)`);
  console.log(`  header parse alone                     ${(headerOnly / batches.length * 1e9).toFixed(0).padStart(7)} ns/batch`);
  console.log(`  validateProduceRecords, 64 batches     ${gbps(all.length, validate)}   (with record walk; ${(validate / rawCrc).toFixed(2)}x raw CRC time)`);
  console.log(`  validateProduceRecords, one batch      ${(validateOne * 1e6).toFixed(1).padStart(7)} µs/batch`);

  console.log('\ndecompression (output bytes per second): bounded decompress() | the library call alone, same bytes');
  const libraries: Record<number, (b: Buffer) => Promise<Buffer> | Buffer> = {
    [Compression.gzip]: (b) => gunzipSync(b),
    [Compression.snappy]: (b) => snappyUncompress(b.subarray(16 + 4), { asBuffer: true }) as Buffer,
    [Compression.lz4]: (b) => decompressFrameSync(b),
    [Compression.zstd]: (b) => zstdDecompress(b),
  };
  for (const size of [16 * KiB, MiB]) {
    const area = (await batchOf(size, 99)).subarray(61);
    for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) {
      const packed = await compress(codec, area);
      const ours = await measureAsync(async () => {
        sink += (await decompress(codec, packed, 64 * MiB)).length;
      });
      // the library baseline: for snappy, one raw block only when the area fits one xerial block
      const lib = codec === Compression.snappy && area.length > 32 * KiB ? undefined : libraries[codec]!;
      const base = lib === undefined ? undefined : await measureAsync(async () => {
        sink += (await lib(packed)).length;
      });
      console.log(
        `  ${COMPRESSION_NAMES[codec]!.padEnd(6)} ${String(area.length).padStart(8)} B -> ${String(packed.length).padStart(7)} B (${(area.length / packed.length).toFixed(1)}x)  ` +
          `${mbps(area.length, ours)}  | ${base === undefined ? '      (n/a)' : mbps(area.length, base)}`,
      );
    }
  }
  if (sink === 42) console.log('');
}

await main();
