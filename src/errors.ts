/**
 * The broker's error model at the response boundary: one mapping from what
 * was thrown to the Kafka error code a response carries.
 *
 * - KafkaError (protocol/) is the one class that carries a code; ProtocolError
 *   (malformed wire input, records that fail validation) is one.
 * - storage/ throws its own two errors, which map to fixed codes:
 *   OffsetOutOfRangeError → OFFSET_OUT_OF_RANGE, StorageError (an I/O failure
 *   or an offline log) → KAFKA_STORAGE_ERROR.
 * - Anything else is a bug: UNKNOWN_SERVER_ERROR. A handler that lets bugs
 *   propagate (the connection is then closed, as for any handler failure)
 *   asks isKnownError first.
 *
 * Handlers call errorCodeOf instead of an instanceof ladder of their own; a
 * handler that answers some cases differently (a storage error after the
 * topic was deleted is UNKNOWN_TOPIC_OR_PARTITION) branches on the code.
 */
import { ErrorCode, errorInfo, KafkaError } from '../protocol/index.js';
import { OffsetOutOfRangeError, StorageError } from '../storage/index.js';

/** An error the broker raises on purpose, which errorCodeOf maps to a code of its own. */
export type KnownError = KafkaError | OffsetOutOfRangeError | StorageError;

export function isKnownError(err: unknown): err is KnownError {
  return err instanceof KafkaError || err instanceof OffsetOutOfRangeError || err instanceof StorageError;
}

/** The Kafka error code a response carries for `err`. */
export function errorCodeOf(err: unknown): number {
  if (err instanceof KafkaError) return err.code;
  if (err instanceof OffsetOutOfRangeError) return ErrorCode.OFFSET_OUT_OF_RANGE;
  if (err instanceof StorageError) return ErrorCode.KAFKA_STORAGE_ERROR;
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * Code and message of `err` as Kafka's ApiError.fromThrowable gives them to admin responses: the message is
 * null when it is the code's default one.
 */
export function apiErrorOf(err: KnownError): { errorCode: number; errorMessage: string | null } {
  const errorCode = errorCodeOf(err);
  return { errorCode, errorMessage: err.message === errorInfo(errorCode).message ? null : err.message };
}
