/**
 * Produced compressed records are decompressed to be validated, which can take up to
 * gregor.max.decompressed.bytes per batch: a few kilobytes of gzip can claim 64 MiB. So that many
 * connections sending such batches at once cannot exhaust memory, the bytes a validation may inflate to are
 * taken from a broker-wide budget (gregor.decompression.max.memory.bytes) first: a small allowance
 * (DECOMPRESSION_ALLOWANCE), and only for a batch that inflates past it, the whole limit, with the
 * validation done again. Uncompressed records need no decompression and take nothing.
 *
 * The budget is only ever held by validations in progress, which finish on their own, so waiting for it
 * cannot deadlock (unlike the request budget, which requests waiting here would be holding).
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { ATTRIBUTES_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET } from '../../protocol/records/index.js';
import type { MemoryBudget } from '../memory-budget.js';
import { prepareAppend, type PreparedAppend, type ValidateOptions } from './validate.js';

/** What a validation may inflate to before it needs the whole limit from the budget. */
export const DECOMPRESSION_ALLOWANCE = 4 * 1024 * 1024;

/** prepareAppend, with the memory its decompression may take from `budget`. */
export async function prepareAppendWithin(budget: MemoryBudget, records: Buffer, opts: ValidateOptions): Promise<PreparedAppend> {
  if (!isCompressed(records)) return prepareAppend(records, opts);
  const allowance = Math.min(DECOMPRESSION_ALLOWANCE, opts.maxDecompressedBytes);
  let taken = await budget.take(allowance);
  try {
    try {
      return await prepareAppend(records, { ...opts, maxDecompressedBytes: allowance });
    } catch (err) {
      if (allowance === opts.maxDecompressedBytes || !inflatesPast(err, allowance)) throw err;
    }
    budget.release(taken);
    taken = 0;
    taken = await budget.take(opts.maxDecompressedBytes);
    return await prepareAppend(records, opts);
  } finally {
    budget.release(taken);
  }
}

/** A batch or legacy wrapper with a compression codec. */
function isCompressed(records: Buffer): boolean {
  for (let pos = 0; pos + MAGIC_OFFSET + 2 <= records.length; ) {
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    // v2: attributes after the CRC; magic 0/1: the byte after the magic
    const attributes = magic === 2 ? (pos + ATTRIBUTES_OFFSET + 2 <= records.length ? records.readInt16BE(pos + ATTRIBUTES_OFFSET) : 0) : records.readInt8(pos + MAGIC_OFFSET + 1);
    if ((attributes & 0x07) !== 0) return true;
    const size = records.readInt32BE(pos + 8);
    if (size <= 0) return false;
    pos += LOG_OVERHEAD + size;
  }
  return false;
}

/** The decompression limit `limit` was hit (the batch may still be within the configured one). */
function inflatesPast(err: unknown, limit: number): boolean {
  const code = err instanceof KafkaError ? err.code : undefined;
  return code === ErrorCode.MESSAGE_TOO_LARGE && new RegExp(`inflates? past the ${limit}-byte limit`).test((err as Error).message);
}
