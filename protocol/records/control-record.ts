/**
 * Control batches (notes/record-format.md): transaction markers the broker
 * writes on EndTxn / WriteTxnMarkers, and the parser of control record keys
 * and values. A marker batch: magic 2, uncompressed, CreateTime, the
 * transaction's producerId/epoch, baseSequence -1, transactional + control
 * attributes, one record whose key is version int16 0 + type int16 and whose
 * value is version int16 0 + coordinatorEpoch int32.
 */
import { ProtocolError } from '../errors.js';
import { ErrorCode } from '../error-codes.js';
import { buildUncompressedBatch } from './batch-builder.js';

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
