/**
 * Kafka's crash-safe segment swap, by which the log cleaner replaces old segments with a cleaned one:
 *
 *  1. the cleaned segment is written as `<base>.{log,index,timeindex}.cleaned`, with
 *     `<base>.txnindex.cleaned` when it keeps aborted transactions, and fdatasync'ed (base = the base offset
 *     of the first replaced segment);
 *  2. its files are renamed `.cleaned` → `.swap`, the indexes (the .txnindex among them) first and the .log
 *     last (a `.log.swap` means the whole segment is in place), then the directory is fsync'ed;
 *  3. the replaced segments' files are renamed `*.deleted` (removed later);
 *  4. the `.swap` files are renamed to their final names, the .log before the .txnindex, then the directory
 *     is fsync'ed.
 *
 * A crash before step 2 completes leaves `.cleaned` files: load deletes them and the old segments are intact.
 * From then on a `.log.swap` exists until step 4 is done, and load finishes the swap as Kafka's LogLoader
 * does: segment files (not `.swap`, the .txnindex among them) whose base offset lies in [lowest swap base,
 * highest swap end) are the replaced ones and are deleted, then the `.swap` files lose their suffix; so the
 * replaced segments' .txnindex never outlives them, and a cleaned segment without one has none. A `.swap` whose base offset is at
 * or above a `.cleaned` file's, or an index `.swap` without its `.log.swap`, belongs to an unfinished step 2
 * and is deleted (its segments are intact). A `.txnindex.swap` alone beside its final `.log` (no `.cleaned`
 * file at or below its base) is the last rename of step 4, and is done.
 * Either the old segments or the new one survive, never neither.
 */
import { LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, readBatchHeader } from '../protocol/records/batch-header.js';
import type { StorageFs } from './fs.js';
import type { StorageLogger } from './logger.js';
import { parseSegmentFileName, segmentFileName } from './segment.js';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
/** The .log goes last when files move to the next stage; the .txnindex exists only when it has entries. */
const EXTENSIONS = ['index', 'timeindex', 'txnindex', 'log'] as const;
/** Into place (step 4) the .txnindex goes after the .log: a final-named .txnindex is never the new one while a .log.swap exists. */
const INTO_PLACE = ['index', 'timeindex', 'log', 'txnindex'] as const;
const OPTIONAL_EXTENSION = 'txnindex';

/**
 * Renames `<stem>.{index,timeindex,txnindex,log}<from>` to `<stem>.{…}<to>` (the .txnindex if it exists):
 * the .log last, except into place (`to` = '') where the .txnindex follows it.
 */
export function renameSegmentFiles(fs: StorageFs, stem: string, from: string, to: string): void {
  for (const ext of to === '' ? INTO_PLACE : EXTENSIONS) {
    if (ext === OPTIONAL_EXTENSION && fs.stat(`${stem}.${ext}${from}`) === null) continue;
    fs.rename(`${stem}.${ext}${from}`, `${stem}.${ext}${to}`);
  }
}

/** Removes whichever of `<stem>.{index,timeindex,txnindex,log}<suffix>` exist. */
export function removeSegmentFileSet(fs: StorageFs, stem: string, suffix: string): void {
  for (const ext of EXTENSIONS) {
    const path = `${stem}.${ext}${suffix}`;
    if (fs.stat(path) !== null) fs.unlink(path);
  }
}

/** Offset after the last whole batch of a .log file (its base offset when it has none). */
function nextOffsetOf(fs: StorageFs, path: string, baseOffset: number): number {
  const fd = fs.open(path, 'r');
  try {
    const size = fs.fstatSize(fd);
    const head = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD);
    let next = baseOffset;
    let pos = 0;
    while (pos + RECORD_BATCH_OVERHEAD <= size) {
      if (fs.read(fd, head, 0, RECORD_BATCH_OVERHEAD, pos) < RECORD_BATCH_OVERHEAD) break;
      let h;
      try {
        h = readBatchHeader(head, 0);
      } catch {
        break;
      }
      const batchSize = LOG_OVERHEAD + h.batchLength;
      if (pos + batchSize > size) break;
      next = h.baseOffset + h.lastOffsetDelta + 1;
      pos += batchSize;
    }
    return next;
  } finally {
    fs.close(fd);
  }
}

interface TempFile {
  name: string;
  baseOffset: number;
  ext: string;
  suffix: string;
}

function parseTempFileName(name: string): TempFile | null {
  const m = /^(\d{20})\.(log|index|timeindex|txnindex)(\.cleaned|\.swap)$/.exec(name);
  return m ? { name, baseOffset: Number(m[1]), ext: m[2] as string, suffix: m[3] as string } : null;
}

/**
 * Completes the swaps a crash interrupted in partition directory `dir` (see above) and removes `.cleaned`
 * files. Returns the number of `.swap` files renamed into place (the caller fsyncs the directory).
 */
export function completeInterruptedSwaps(fs: StorageFs, dir: string, logger: StorageLogger): number {
  const temps: TempFile[] = [];
  for (const name of fs.readdir(dir)) {
    const t = parseTempFileName(name);
    if (t) temps.push(t);
  }
  if (temps.length === 0) return 0;
  let minCleaned = Number.POSITIVE_INFINITY;
  for (const t of temps) if (t.suffix === CLEANED_SUFFIX) minCleaned = Math.min(minCleaned, t.baseOffset);
  const logSwaps = new Set<number>();
  for (const t of temps) if (t.suffix === SWAP_SUFFIX && t.ext === 'log') logSwaps.add(t.baseOffset);
  const swaps: TempFile[] = [];
  const lastRenames: TempFile[] = [];
  for (const t of temps) {
    // an index .swap counts only beside its .log.swap (renamed last): alone, the old segment is still in place
    if (t.suffix === SWAP_SUFFIX && t.baseOffset < minCleaned && logSwaps.has(t.baseOffset)) {
      swaps.push(t);
    } else if (t.suffix === SWAP_SUFFIX && t.ext === 'txnindex' && t.baseOffset < minCleaned && fs.stat(`${dir}/${segmentFileName(t.baseOffset)}.log`) !== null) {
      // step 4 renamed the .log into place (the replaced segments are *.deleted already), not yet the .txnindex
      lastRenames.push(t);
    } else {
      if (t.suffix === SWAP_SUFFIX) logger.warn({ dir, file: t.name }, 'deleting the .swap file of an unfinished swap');
      fs.unlink(`${dir}/${t.name}`);
    }
  }
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const s of swaps) {
    if (s.ext !== 'log') continue;
    low = Math.min(low, s.baseOffset);
    // at least the base offset itself: the replaced segment of the same name goes even if the new one is empty
    high = Math.max(high, nextOffsetOf(fs, `${dir}/${s.name}`, s.baseOffset), s.baseOffset + 1);
  }
  if (low < high) {
    for (const name of fs.readdir(dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed === null || parsed.baseOffset < low || parsed.baseOffset >= high) continue;
      logger.warn({ dir, file: name }, 'deleting a segment file replaced by an interrupted swap');
      fs.unlink(`${dir}/${name}`);
    }
  }
  // (the .txnindex after the .log here too, should this be interrupted in turn)
  const intoPlace = [...swaps.filter((s) => s.ext !== 'txnindex'), ...swaps.filter((s) => s.ext === 'txnindex'), ...lastRenames];
  for (const s of intoPlace) {
    logger.warn({ dir, file: s.name }, 'completing an interrupted swap of a cleaned segment');
    fs.rename(`${dir}/${s.name}`, `${dir}/${s.name.slice(0, -SWAP_SUFFIX.length)}`);
  }
  return intoPlace.length;
}
