/**
 * Control batches (notes/record-format.md): transaction markers the broker
 * writes on EndTxn / WriteTxnMarkers, and the parser of control record keys
 * and values. A marker batch: magic 2, uncompressed, CreateTime, the
 * transaction's producerId/epoch, baseSequence -1, transactional + control
 * attributes, one record whose key is version int16 0 + type int16 and whose
 * value is version int16 0 + coordinatorEpoch int32.
 *
 * Kafka's formats (ControlRecordType, EndTransactionMarker): the key schema is
 * ControlRecordKey v0 {version int16, type int16}; the value of COMMIT/ABORT is
 * EndTxnMarker v0 {version int16, coordinatorEpoch int32}. Readers accept any
 * key version and ignore bytes after the fields they know (as Kafka's
 * readers); other control types (LEADER_CHANGE, KRaft's) carry no transaction
 * outcome and are returned by readControlRecord for the caller to skip.
 *
 * readTransactionMarker recognises a marker from a stored batch's bytes (the
 * log's append path, recovery and producer state replay): it needs the header
 * and the one record only, synchronously, so a marker batch must be
 * uncompressed (Kafka writes them so; a compressed control batch is refused).
 */
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { buildUncompressedBatch } from './batch-builder.js';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, ATTRIBUTES_OFFSET, RECORD_BATCH_OVERHEAD, compressionOf, entrySizeAt, readBatchHeader } from './batch-header.js';
import { iterateRecords } from './batch-records.js';

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

export interface TransactionMarker {
  /** true for COMMIT, false for ABORT. */
  readonly commit: boolean;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly baseOffset?: number;
  readonly partitionLeaderEpoch?: number;
  /** Defaults to Date.now(). */
  readonly timestamp?: number;
}

/** Builds the one-record control batch of a COMMIT or ABORT transaction marker. */
export function buildTransactionMarkerBatch(marker: TransactionMarker): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  return buildUncompressedBatch([{ key, value }], {
    baseOffset: marker.baseOffset ?? 0,
    partitionLeaderEpoch: marker.partitionLeaderEpoch ?? -1,
    timestamp: marker.timestamp ?? Date.now(),
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}

export interface ControlRecord {
  readonly version: number;
  /** ControlRecordType; unknown types are returned as they are (readers ignore them). */
  readonly type: number;
  /** For COMMIT/ABORT markers, the coordinator epoch from the value; otherwise null. */
  readonly coordinatorEpoch: number | null;
}

/** Parses the key (and, for transaction markers, the value) of a control record. */
export function readControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < 4) throw new ProtocolError('control record key shorter than 4 bytes', ErrorCode.INVALID_RECORD);
  const version = key.readInt16BE(0);
  const type = key.readInt16BE(2);
  let coordinatorEpoch: number | null = null;
  if (type === ControlRecordType.ABORT || type === ControlRecordType.COMMIT) {
    if (value === null || value.length < 6) {
      throw new ProtocolError('transaction marker value shorter than 6 bytes', ErrorCode.INVALID_RECORD);
    }
    coordinatorEpoch = value.readInt32BE(2);
  }
  return { version, type, coordinatorEpoch };
}

/** A COMMIT or ABORT marker as stored: the outcome, whose transaction it ends, and where it is. */
export interface StoredTransactionMarker {
  readonly commit: boolean;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  /** The marker's own offset (the batch's base offset). */
  readonly offset: number;
  readonly timestamp: number;
}

/** True when the v2 batch at `pos` has the control attribute (read from its attributes only). */
export function isControlBatchAt(buf: Buffer, pos = 0): boolean {
  return (buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & ATTR_CONTROL) !== 0;
}

/**
 * The transaction marker the v2 batch at `pos` holds, or null when it is not a control batch or its control
 * record is not COMMIT/ABORT (LEADER_CHANGE, KRaft records, unknown types: readers skip them). Throws
 * ProtocolError (INVALID_RECORD) for a control batch that is compressed, not transactional, or whose record
 * does not parse.
 */
export function readTransactionMarker(buf: Buffer, pos = 0): StoredTransactionMarker | null {
  const h = readBatchHeader(buf, pos);
  if ((h.attributes & ATTR_CONTROL) === 0) return null;
  if (compressionOf(h.attributes) !== 0) throw new ProtocolError('compressed control batch', ErrorCode.INVALID_RECORD);
  if (h.recordCount < 1) return null;
  const size = entrySizeAt(buf, pos);
  const first = iterateRecords(h, buf.subarray(pos + RECORD_BATCH_OVERHEAD, pos + size)).next();
  if (first.done === true) return null;
  const control = readControlRecord(first.value.key, first.value.value);
  if (control.coordinatorEpoch === null) return null;
  if ((h.attributes & ATTR_TRANSACTIONAL) === 0) throw new ProtocolError('transaction marker in a batch that is not transactional', ErrorCode.INVALID_RECORD);
  return {
    commit: control.type === ControlRecordType.COMMIT,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    coordinatorEpoch: control.coordinatorEpoch,
    offset: h.baseOffset,
    timestamp: h.maxTimestamp,
  };
}
