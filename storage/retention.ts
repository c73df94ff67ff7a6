/**
 * Retention (Kafka's UnifiedLog.deleteOldSegments): which old segments of a log go. Always whole segments
 * from the front, never the active one:
 *
 * - retention.ms: each segment whose largest timestamp (LogSegment.largestTimestamp: its largest batch
 *   timestamp, or its file's mtime) is more than retention.ms old;
 * - retention.bytes: then, the oldest segments while the log without them still holds retention.bytes;
 * - the log start offset (DeleteRecords moves it): each segment whose next segment begins at or below it.
 *
 * retention.ms and retention.bytes apply only with cleanup.policy delete (a compacted log keeps every key);
 * -1 turns either off. PartitionLog deletes the segments counted here (LocalLog renames their files
 * `*.deleted`) and moves the log start offset to the first one left.
 */
import { isDeleting, type LogConfig } from './config.js';
import type { LogSegment } from './segment.js';

/** How many of the oldest `segments` retention.ms and retention.bytes delete at `now`. */
export function retentionBreachedSegments(segments: readonly LogSegment[], config: LogConfig, now: number, clock: () => number): number {
  if (!isDeleting(config)) return 0;
  const { retentionMs, retentionBytes } = config;
  let n = 0;
  if (retentionMs >= 0) {
    n = countWhile(segments, n, (seg) => now - seg.largestTimestamp(clock) > retentionMs);
  }
  if (retentionBytes >= 0) {
    let excess = -retentionBytes;
    for (let i = n; i < segments.length; i++) excess += (segments[i] as LogSegment).size;
    n = countWhile(segments, n, (seg) => {
      if (excess - seg.size < 0) return false;
      excess -= seg.size;
      return true;
    });
  }
  return n;
}

/** How many of the oldest `segments` lie wholly below `logStartOffset` (their successor begins at or below it). */
export function segmentsBelowLogStart(segments: readonly LogSegment[], logStartOffset: number): number {
  return countWhile(segments, 0, (seg, next) => next !== undefined && next.baseOffset <= logStartOffset);
}

/** From `from`, the index of the first segment for which `predicate` fails; never past the active segment. */
function countWhile(segments: readonly LogSegment[], from: number, predicate: (seg: LogSegment, next: LogSegment | undefined) => boolean): number {
  let n = from;
  while (n < segments.length - 1 && predicate(segments[n] as LogSegment, segments[n + 1])) n++;
  return n;
}
