/**
 * StorageObserver: how the broker times storage (fsync, append and read latency) without storage knowing
 * about metrics. The callbacks run synchronously on the hot path and must be cheap; without an observer
 * storage does not read the clock for them at all.
 */
export interface StorageObserver {
  /** One fdatasync of a segment's .log, .index or .timeindex file took `seconds`. */
  fsync(seconds: number): void;
  /** One PartitionLog.append of `bytes` took `seconds` (validation, write, indexing; not the fsync an acks=all append waits for). */
  append(seconds: number, bytes: number): void;
  /** One PartitionLog.read returned `bytes` in `seconds` (from the batch cache or the segment files). */
  read(seconds: number, bytes: number): void;
}
