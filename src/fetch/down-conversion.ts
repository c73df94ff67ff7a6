/**
 * Down-conversion for Fetch v0-3 readers (Kafka's LazyDownConversionRecords and RecordsUtil.downConvert):
 * the stored v2 batches a read pass found become messages of magic 0 (v0-1) or 1 (v2-3), entry by entry
 * (protocol/records/conversion.ts), with Kafka's rules:
 *
 * 1. Records before the fetch offset are dropped from uncompressed batches (magic 0/1 have no batches, and
 *    some readers take every message they get as one at or after their fetch offset); a compressed batch is
 *    converted whole, as Kafka does.
 * 2. Memory: a compressed batch is decompressed within the broker's decompression budget
 *    (src/decompression-budget.ts), one batch at a time, taking twice what it inflates to (the records, and
 *    the message set built from them before it is compressed again). The first batch that has records for the reader
 *    waits for its share (an answer carries at least one batch, as Kafka's lazy down-conversion converts
 *    the first one eagerly); a later one is converted only if the budget has its share free now, otherwise
 *    the answer ends before it, as a fetch at its size limit does, and the reader's next fetch starts there.
 *    Kafka converts in chunks while it writes the response for the same reason.
 * 3. A batch that cannot be converted (zstd for magic 0/1, a batch inflating past
 *    gregor.max.decompressed.bytes, a corrupt one) fails the partition with its error when it is the first
 *    one (Kafka answers UNSUPPORTED_COMPRESSION_TYPE for zstd); after records it ends the answer, which
 *    carries the records before it (Kafka's LazyDownConversionRecordsSend), and the reader's next fetch, at
 *    that batch, gets the error.
 */
import { downConvertEntry, hasCompressedEntries, storedEntries } from '../../protocol/records/index.js';
import { decompressWithin, tryDecompressWithin } from '../decompression-budget.js';
import type { MemoryBudget } from '../memory-budget.js';

/**
 * What converting a compressed batch holds at once, in multiples of its inflated size: the decompressed
 * records and the uncompressed message set built from them before it is compressed again.
 */
const WORKING_COPIES = 2;

export interface DownConversion {
  /** 0 for Fetch v0-1, 1 for v2-3. */
  readonly magic: 0 | 1;
  /** gregor.decompression.max.memory.bytes */
  readonly budget: MemoryBudget;
  /** gregor.max.decompressed.bytes */
  readonly maxDecompressedBytes: number;
}

/** The stored `chunks` of a read at `fetchOffset` as message sets for the reader (see the top of this file). */
export async function downConvert(chunks: readonly Buffer[], fetchOffset: number, c: DownConversion): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const entry of storedEntries(chunks)) {
    const convert = (maxDecompressedBytes: number): Promise<Buffer> => downConvertEntry(entry, c.magic, { maxDecompressedBytes, firstOffset: fetchOffset });
    let converted: Buffer;
    try {
      if (!hasCompressedEntries(entry)) converted = await convert(c.maxDecompressedBytes);
      else if (out.length === 0) converted = await decompressWithin(c.budget, c.maxDecompressedBytes, convert, WORKING_COPIES);
      else {
        const now = await tryDecompressWithin(c.budget, c.maxDecompressedBytes, convert, WORKING_COPIES);
        if (now === undefined) break;
        converted = now.value;
      }
    } catch (err) {
      if (out.length === 0) throw err;
      break;
    }
    if (converted.length > 0) out.push(converted);
  }
  return out;
}
