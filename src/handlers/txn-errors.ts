/**
 * The one version rule the transaction handlers share (KIP-588): PRODUCER_FENCED
 * is answered only to clients that know it (InitProducerId v4+,
 * AddPartitionsToTxn, AddOffsetsToTxn and EndTxn v2+); older ones get
 * INVALID_PRODUCER_EPOCH, as Kafka's KafkaApis maps it.
 */
import { ErrorCode } from '../../protocol/index.js';

export function fencedForVersion(errorCode: number, version: number, firstVersionWithProducerFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < firstVersionWithProducerFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
