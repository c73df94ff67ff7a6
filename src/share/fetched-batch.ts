/**
 * What a share-partition needs to know of the record batches a log read returned: offsets and the
 * transactional markers of the v2 batch header, never the bytes. `lastOffset` is the header's
 * baseOffset + lastOffsetDelta, so a compacted batch still covers its whole range.
 */
export interface FetchedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** -1 when the batch has no producer id. */
  readonly producerId?: number;
  readonly isTransactional?: boolean;
  /** A control batch: 'abort' or 'commit' marker. */
  readonly control?: 'abort' | 'commit';
}

/** One entry of Fetch's aborted_transactions: a producer's transaction that aborted, from its first offset. */
export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}
