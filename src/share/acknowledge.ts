/**
 * Acknowledgement batches (ShareFetch / ShareAcknowledge AcknowledgementBatches) and the checks Kafka
 * makes on them before a share-partition sees them (KafkaApis.validateAcknowledgementBatches): any
 * failure answers the partition INVALID_REQUEST and none of its batches is applied.
 *
 * A batch names [firstOffset, lastOffset] and either one acknowledge type for the whole range or one
 * per offset. Types are 0 GAP, 1 ACCEPT, 2 RELEASE, 3 REJECT and, from v2 with IsRenewAck, 4 RENEW.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { AcknowledgeType } from './record-state.js';

export interface ShareAcknowledgementBatch {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly acknowledgeTypes: readonly number[];
}

/** The error code for the partition's batches (INVALID_REQUEST), or NONE. */
export function validateAcknowledgementBatches(
  batches: readonly ShareAcknowledgementBatch[],
  opts: { supportsRenew: boolean; isRenewAck: boolean } = { supportsRenew: false, isRenewAck: false },
): number {
  let prevEndOffset = -1;
  const maxType = opts.supportsRenew ? 4 : 3;
  for (const b of batches) {
    const types = b.acknowledgeTypes;
    if (
      b.firstOffset > b.lastOffset ||
      // Kafka compares with < : a batch may start at the previous batch's last offset.
      b.firstOffset < prevEndOffset ||
      types.length === 0 ||
      (types.length > 1 && b.lastOffset - b.firstOffset !== types.length - 1) ||
      types.some((t) => !Number.isInteger(t) || t < 0 || t > maxType) ||
      (types.includes(4) && !opts.isRenewAck)
    ) {
      return ErrorCode.INVALID_REQUEST;
    }
    prevEndOffset = b.lastOffset;
  }
  return ErrorCode.NONE;
}

/** The acknowledge type of `offset` in the batch. */
export function acknowledgeTypeAt(batch: ShareAcknowledgementBatch, offset: number): AcknowledgeType {
  const t = batch.acknowledgeTypes.length === 1 ? batch.acknowledgeTypes[0] : batch.acknowledgeTypes[offset - batch.firstOffset];
  return t as AcknowledgeType;
}
