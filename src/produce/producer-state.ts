/**
 * Producer state of one partition, as Kafka 3.9 keeps it (ProducerStateManager, ProducerStateEntry,
 * ProducerAppendInfo for client appends): for each producer id its current epoch, the timestamp of its last
 * batch, and the metadata of its last 5 appended batches. Plain data and functions; the manager
 * (producer-state-manager.ts) keeps one table per partition log, loads, snapshots and expires it, and calls
 * these around each append.
 *
 * Checks of a batch that carries a producer id, in Kafka's order:
 * - duplicate: the producer's current epoch and exactly the sequence range of one of its retained batches:
 *   nothing is appended and the answer carries the original batch's offsets and timestamp;
 * - a transactional batch must belong to a transaction the coordinator knows (KIP-890's verification): the
 *   manager's `verifyTransaction` says so; without one (no coordinator yet) or when it says no:
 *   INVALID_TXN_STATE (what Kafka answers for an unverified transactional batch), or the error it names
 *   (INVALID_PRODUCER_EPOCH for a fenced producer);
 * - an epoch below the current one: INVALID_PRODUCER_EPOCH;
 * - a new epoch must start at sequence 0 (OUT_OF_ORDER_SEQUENCE_NUMBER), unless the partition knows no epoch
 *   for the producer;
 * - the same epoch must continue at the last sequence + 1 (0 after 2147483647), else
 *   OUT_OF_ORDER_SEQUENCE_NUMBER; a producer the partition does not know (never seen, or expired) may start
 *   at any sequence, as in Kafka 3.9 (no UNKNOWN_PRODUCER_ID);
 * - a non-transactional batch of a producer with an ongoing transaction: INVALID_TXN_STATE ("Expected
 *   transactional write from producer ...").
 *
 * Transactions (Kafka's ProducerStateEntry.currentTxnFirstOffset and coordinatorEpoch): the first
 * transactional batch of a producer opens its transaction at that batch's first offset; a COMMIT or ABORT
 * marker (control batch) closes it, after two checks (applyMarker): a marker epoch below the producer's is
 * INVALID_PRODUCER_EPOCH, a coordinator epoch below the last marker's TRANSACTION_COORDINATOR_FENCED. A
 * marker of a producer without an ongoing transaction completes an empty one (its first offset is the
 * marker's own), as in Kafka. A producer with an ongoing transaction never expires.
 */
import { ErrorCode } from '../../protocol/index.js';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, entrySizeAt, readBatchHeader } from '../../protocol/records/index.js';
import { ProduceValidationError } from './validate.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: why idempotent clients allow at most 5 requests in flight. */
export const BATCHES_TO_RETAIN = 5;
export const MAX_SEQUENCE = 0x7fffffff;
/** RecordBatch.NO_PRODUCER_EPOCH: the epoch of a producer a partition has no state for. */
export const NO_PRODUCER_EPOCH = -1;

export interface BatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** The batch's maxTimestamp as stored (the log append time on LogAppendTime topics). */
  readonly timestamp: number;
}

export interface ProducerEntry {
  readonly producerId: number;
  epoch: number;
  /** Timestamp of the last batch appended (what expiry measures, as Kafka does). */
  lastTimestamp: number;
  /** Oldest first, at most BATCHES_TO_RETAIN, all of the current epoch. */
  batches: BatchMetadata[];
  /** Epoch of the transaction coordinator that wrote this producer's last marker, -1 before any. */
  coordinatorEpoch: number;
  /** First offset of the producer's ongoing transaction in this partition, -1 when there is none. */
  currentTxnFirstOffset: number;
}

/** A transaction a COMMIT or ABORT marker has just completed (Kafka's CompletedTxn). */
export interface CompletedTxn {
  readonly producerId: number;
  /** First offset of the transaction (the marker's own offset for an empty one). */
  readonly firstOffset: number;
  /** The marker's offset. */
  readonly lastOffset: number;
  readonly aborted: boolean;
}

/** What applyMarker needs of a COMMIT/ABORT marker (protocol/records StoredTransactionMarker fits). */
export interface MarkerFields {
  readonly commit: boolean;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly timestamp: number;
}

/** Producer id -> entry. */
export type ProducerTable = Map<number, ProducerEntry>;

/** The header fields of a batch with a producer id that producer state needs. */
export interface ProducerBatch {
  readonly producerId: number;
  readonly epoch: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Offset of the batch's first record relative to the first offset of the append. */
  readonly relativeOffset: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly transactional: boolean;
}

const NONE: readonly ProducerBatch[] = [];

/** Sequence `delta` after `seq`, wrapping from 2147483647 to 0 (DefaultRecordBatch.incrementSequence). */
export function incrementSequence(seq: number, delta: number): number {
  return seq > MAX_SEQUENCE - delta ? delta - (MAX_SEQUENCE - seq) - 1 : seq + delta;
}

/** Sequence `delta` before `seq`, wrapping (DefaultRecordBatch.decrementSequence). */
export function decrementSequence(seq: number, delta: number): number {
  return seq < delta ? MAX_SEQUENCE - (delta - seq) + 1 : seq - delta;
}

/** True when `next` directly follows `last` (0 follows 2147483647). */
export function inSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === MAX_SEQUENCE);
}

/**
 * The header fields of a batch that producer state reads: what the produce pipeline's validation already
 * parsed (validate.ts PreparedBatch), and a subset of protocol/records' BatchHeader.
 */
export interface BatchProducerFields {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly attributes: number;
}

/**
 * The batches with a producer id among the batches of one append, in order, from their already-parsed
 * headers (the produce pipeline). Control batches are skipped: clients cannot write them (validation
 * rejects them); the markers the broker writes go through the manager's appendTxnMarker (applyMarker).
 */
export function producerBatchesFrom(batches: readonly BatchProducerFields[]): readonly ProducerBatch[] {
  let out: ProducerBatch[] | null = null;
  let relativeOffset = 0;
  for (const h of batches) {
    if (h.producerId >= 0 && (h.attributes & ATTR_CONTROL) === 0) {
      out ??= [];
      out.push(producerBatch(h, relativeOffset));
    }
    relativeOffset += h.lastOffsetDelta + 1;
  }
  return out ?? NONE;
}

/**
 * producerBatchesFrom for an append given only as bytes (v2 batches lying back to back in `buffer`, already
 * validated): reads their headers.
 */
export function producerBatchesOf(buffer: Buffer): readonly ProducerBatch[] {
  let out: ProducerBatch[] | null = null;
  let pos = 0;
  let relativeOffset = 0;
  while (pos < buffer.length) {
    const size = entrySizeAt(buffer, pos);
    if (size <= 0) break;
    const h = readBatchHeader(buffer, pos);
    if (h.producerId >= 0 && (h.attributes & ATTR_CONTROL) === 0) {
      out ??= [];
      out.push(producerBatch(h, relativeOffset));
    }
    relativeOffset += h.lastOffsetDelta + 1;
    pos += size;
  }
  return out ?? NONE;
}

function producerBatch(h: BatchProducerFields, relativeOffset: number): ProducerBatch {
  return {
    producerId: h.producerId,
    epoch: h.producerEpoch,
    firstSeq: h.baseSequence,
    lastSeq: incrementSequence(h.baseSequence, h.lastOffsetDelta),
    relativeOffset,
    lastOffsetDelta: h.lastOffsetDelta,
    maxTimestamp: h.maxTimestamp,
    transactional: (h.attributes & ATTR_TRANSACTIONAL) !== 0,
  };
}

/**
 * The transaction coordinator's answer for a transactional batch (KIP-890): true or ErrorCode.NONE when it may
 * be appended; false (INVALID_TXN_STATE) or the error code to answer when not.
 */
export type TransactionVerification = boolean | number;

/** The retained batch of `entry` that `batch` repeats (same epoch, same sequence range), if any. */
export function findDuplicate(entry: ProducerEntry | undefined, batch: ProducerBatch): BatchMetadata | undefined {
  if (entry === undefined || entry.epoch !== batch.epoch) return undefined;
  return entry.batches.find((b) => b.firstSeq === batch.firstSeq && b.lastSeq === batch.lastSeq);
}

/**
 * Checks the producer batches of one append against the table (nothing is changed). Returns the retained
 * batch the append duplicates, undefined when it may be appended; throws ProduceValidationError with
 * INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER or INVALID_TXN_STATE. `firstOffset` (the offset the
 * append would get) and `partition` ("topic-N") only go into messages.
 */
export function checkAppend(
  table: ProducerTable,
  batches: readonly ProducerBatch[],
  firstOffset: number,
  partition: string,
  verifyTransaction?: (producerId: number, producerEpoch: number) => TransactionVerification,
): BatchMetadata | undefined {
  // Entries as earlier batches of this same append leave them (only legacy multi-batch appends have several).
  let pending: ProducerTable | undefined;
  for (const b of batches) {
    const entry = pending?.get(b.producerId) ?? table.get(b.producerId);
    const duplicate = findDuplicate(entry, b);
    if (duplicate !== undefined) return duplicate;
    if (b.transactional) {
      const verified = verifyTransaction?.(b.producerId, b.epoch) ?? false;
      if (verified !== true && verified !== ErrorCode.NONE) {
        throw new ProduceValidationError(verified === false ? ErrorCode.INVALID_TXN_STATE : verified, 'Record was not part of an ongoing transaction');
      }
    }
    const offset = firstOffset + b.relativeOffset;
    checkEpochAndSequence(entry, b, offset, partition);
    if (!b.transactional && entry !== undefined && entry.currentTxnFirstOffset >= 0) {
      throw new ProduceValidationError(ErrorCode.INVALID_TXN_STATE, `Expected transactional write from producer ${b.producerId} at offset ${offset} in partition ${partition}`);
    }
    if (batches.length > 1) {
      pending ??= new Map();
      const copy: ProducerEntry = entry === undefined ? newEntry(b.producerId) : { ...entry, batches: [...entry.batches] };
      addBatch(copy, b.epoch, b.firstSeq, b.lastSeq, offset, offset + b.lastOffsetDelta, b.maxTimestamp);
      if (b.transactional && copy.currentTxnFirstOffset < 0) copy.currentTxnFirstOffset = offset;
      pending.set(b.producerId, copy);
    }
  }
  return undefined;
}

function checkEpochAndSequence(entry: ProducerEntry | undefined, b: ProducerBatch, offset: number, partition: string): void {
  const currentEpoch = entry?.epoch ?? NO_PRODUCER_EPOCH;
  if (b.epoch < currentEpoch) {
    throw new ProduceValidationError(
      ErrorCode.INVALID_PRODUCER_EPOCH,
      `Epoch of producer ${b.producerId} at offset ${offset} in ${partition} is ${b.epoch}, which is smaller than the last seen epoch ${currentEpoch}`,
    );
  }
  if (b.epoch !== currentEpoch) {
    if (b.firstSeq !== 0 && currentEpoch !== NO_PRODUCER_EPOCH) {
      throw new ProduceValidationError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `Invalid sequence number for new epoch of producer ${b.producerId} at offset ${offset} in partition ${partition}: ${b.epoch} (request epoch), ${b.firstSeq} (seq. number), ${currentEpoch} (current producer epoch)`,
      );
    }
    return;
  }
  const lastSeq = entry?.batches[entry.batches.length - 1]?.lastSeq ?? -1;
  if (currentEpoch !== NO_PRODUCER_EPOCH && !inSequence(lastSeq, b.firstSeq)) {
    throw new ProduceValidationError(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      `Out of order sequence number for producer ${b.producerId} at offset ${offset} in partition ${partition}: ${b.firstSeq} (incoming seq. number), ${lastSeq} (current end sequence number)`,
    );
  }
}

export function newEntry(producerId: number): ProducerEntry {
  return { producerId, epoch: NO_PRODUCER_EPOCH, lastTimestamp: -1, batches: [], coordinatorEpoch: -1, currentTxnFirstOffset: -1 };
}

/** Adds an appended batch to an entry: a new epoch drops the batches of the old one; the oldest beyond 5 goes. */
export function addBatch(entry: ProducerEntry, epoch: number, firstSeq: number, lastSeq: number, firstOffset: number, lastOffset: number, timestamp: number): void {
  if (entry.epoch !== epoch) {
    entry.epoch = epoch;
    entry.batches = [];
  }
  if (entry.batches.length >= BATCHES_TO_RETAIN) entry.batches.shift();
  entry.batches.push({ firstSeq, lastSeq, firstOffset, lastOffset, timestamp });
  entry.lastTimestamp = timestamp;
}

/**
 * Records a batch appended at `firstOffset` in the table (client appends after checkAppend, and log replay).
 * Returns true when a transactional batch opened the producer's transaction (at `firstOffset`).
 */
export function recordBatch(
  table: ProducerTable,
  producerId: number,
  epoch: number,
  firstSeq: number,
  lastSeq: number,
  firstOffset: number,
  lastOffset: number,
  timestamp: number,
  transactional = false,
): boolean {
  let entry = table.get(producerId);
  if (entry === undefined) {
    entry = newEntry(producerId);
    table.set(producerId, entry);
  }
  addBatch(entry, epoch, firstSeq, lastSeq, firstOffset, lastOffset, timestamp);
  if (transactional && entry.currentTxnFirstOffset < 0) {
    entry.currentTxnFirstOffset = firstOffset;
    return true;
  }
  return false;
}

/**
 * Checks a COMMIT/ABORT marker about to be appended at `offset` against the producer's entry (nothing is
 * changed): INVALID_PRODUCER_EPOCH for a producer epoch below the entry's, TRANSACTION_COORDINATOR_FENCED for
 * a coordinator epoch below the one of the producer's last marker (Kafka's checkProducerEpoch and
 * checkCoordinatorEpoch for a coordinator's append).
 */
export function checkMarker(table: ProducerTable, marker: MarkerFields, offset: number, partition: string): void {
  const entry = table.get(marker.producerId);
  if (entry === undefined) return;
  if (marker.producerEpoch < entry.epoch) {
    throw new ProduceValidationError(
      ErrorCode.INVALID_PRODUCER_EPOCH,
      `Epoch of producer ${marker.producerId} at offset ${offset} in ${partition} is ${marker.producerEpoch}, which is smaller than the last seen epoch ${entry.epoch}`,
    );
  }
  if (marker.coordinatorEpoch < entry.coordinatorEpoch) {
    throw new ProduceValidationError(
      ErrorCode.TRANSACTION_COORDINATOR_FENCED,
      `Invalid coordinator epoch for producerId ${marker.producerId} at offset ${offset} in partition ${partition}: ${marker.coordinatorEpoch} (zombie), ${entry.coordinatorEpoch} (current)`,
    );
  }
}

/**
 * Applies a marker appended at `offset` (after checkMarker, or replayed from the log without checks): the
 * producer's epoch moves up to the marker's (dropping retained batches of an older epoch), its coordinator
 * epoch becomes the marker's, its transaction ends. Returns the completed transaction.
 */
export function applyMarker(table: ProducerTable, marker: MarkerFields, offset: number): CompletedTxn {
  let entry = table.get(marker.producerId);
  if (entry === undefined) {
    entry = newEntry(marker.producerId);
    table.set(marker.producerId, entry);
  }
  if (entry.epoch !== marker.producerEpoch) {
    entry.epoch = marker.producerEpoch;
    entry.batches = [];
  }
  const firstOffset = entry.currentTxnFirstOffset >= 0 ? entry.currentTxnFirstOffset : offset;
  entry.coordinatorEpoch = marker.coordinatorEpoch;
  entry.currentTxnFirstOffset = -1;
  entry.lastTimestamp = marker.timestamp;
  return { producerId: marker.producerId, firstOffset, lastOffset: offset, aborted: !marker.commit };
}

/** Kafka's isProducerExpired: no ongoing transaction, and idle (by the timestamp of its last batch) for at least `expirationMs`. */
export function isExpired(entry: ProducerEntry, now: number, expirationMs: number): boolean {
  return entry.currentTxnFirstOffset < 0 && now - entry.lastTimestamp >= expirationMs;
}

/** Removes the producers idle for producer.id.expiration.ms; returns how many. */
export function removeExpired(table: ProducerTable, now: number, expirationMs: number): number {
  let removed = 0;
  for (const [id, entry] of table) {
    if (isExpired(entry, now, expirationMs)) {
      table.delete(id);
      removed++;
    }
  }
  return removed;
}
