/**
 * The decompression budget: compressed records the broker decompresses take the memory they may inflate to
 * from a broker-wide budget (gregor.decompression.max.memory.bytes) first. Two paths decompress: produced
 * records being validated (src/produce: up to gregor.max.decompressed.bytes per batch, so a few kilobytes of
 * gzip can claim 64 MiB) and stored batches down-converted for Fetch v0-3 readers (src/fetch). So that many
 * connections doing either at once cannot exhaust memory, the work takes a small allowance
 * (DECOMPRESSION_ALLOWANCE) first, and only when a batch inflates past it the whole limit, and runs again.
 * Records with no compressed entry need no decompression and take nothing (the callers check).
 *
 * The budget is only ever held by work in progress, which finishes on its own, so waiting for it cannot
 * deadlock (unlike the request budget, which requests waiting here would be holding).
 */
import { ErrorCode, KafkaError } from '../protocol/index.js';
import type { MemoryBudget } from './memory-budget.js';

/** What a piece of work may inflate to before it needs the whole limit from the budget. */
export const DECOMPRESSION_ALLOWANCE = 4 * 1024 * 1024;

/**
 * Runs `work` (which decompresses with the bound it is given, failing with MESSAGE_TOO_LARGE "inflates past
 * the N-byte limit" beyond it) with the memory it may take from `budget`: the allowance, then, if it
 * inflated past it, `limit` (gregor.max.decompressed.bytes), waiting for each. `copies`: how many times the
 * inflated bytes the work holds at once (down-conversion also builds the uncompressed message set it
 * compresses again: 2).
 */
export async function decompressWithin<T>(budget: MemoryBudget, limit: number, work: (maxDecompressedBytes: number) => Promise<T>, copies = 1): Promise<T> {
  // waiting, the work is always done
  return (await within(budget, limit, work, copies, true))!.value;
}

/**
 * decompressWithin without waiting: when the budget cannot give what the work needs at once, the work is
 * not done (or not finished) and the answer is undefined.
 */
export async function tryDecompressWithin<T>(
  budget: MemoryBudget,
  limit: number,
  work: (maxDecompressedBytes: number) => Promise<T>,
  copies = 1,
): Promise<{ value: T } | undefined> {
  return within(budget, limit, work, copies, false);
}

async function within<T>(
  budget: MemoryBudget,
  limit: number,
  work: (maxDecompressedBytes: number) => Promise<T>,
  copies: number,
  wait: boolean,
): Promise<{ value: T } | undefined> {
  // bytes taken for `inflated` bytes, or undefined when they are not free and the caller does not wait
  const take = async (inflated: number): Promise<number | undefined> => {
    const bytes = inflated * copies;
    if (wait) return budget.take(bytes);
    return budget.tryTake(bytes) ? bytes : undefined;
  };
  const allowance = Math.min(DECOMPRESSION_ALLOWANCE, limit);
  let taken = await take(allowance);
  if (taken === undefined) return undefined;
  try {
    try {
      return { value: await work(allowance) };
    } catch (err) {
      if (allowance === limit || !inflatesPast(err, allowance)) throw err;
    }
    budget.release(taken);
    taken = 0;
    taken = await take(limit);
    if (taken === undefined) return undefined;
    return { value: await work(limit) };
  } finally {
    budget.release(taken ?? 0);
  }
}

/** The decompression limit `limit` was hit (the batch may still be within the configured one). */
function inflatesPast(err: unknown, limit: number): boolean {
  const code = err instanceof KafkaError ? err.code : undefined;
  return code === ErrorCode.MESSAGE_TOO_LARGE && new RegExp(`inflates? past the ${limit}-byte limit`).test((err as Error).message);
}
