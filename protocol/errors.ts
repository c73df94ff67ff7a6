/**
 * ProtocolError: the one error type the wire layer throws for malformed input
 * (reading past the end, a negative or oversized length, an invalid varint,
 * an unknown version). It is a KafkaError (error-codes.ts): its `code` is the
 * Kafka error code that best describes the problem, CORRUPT_MESSAGE unless
 * the thrower knows better (INVALID_RECORD, MESSAGE_TOO_LARGE, ...). Callers
 * map it to Kafka's answer: an error code or a closed connection.
 */
import { ErrorCode, KafkaError } from './error-codes.js';

export class ProtocolError extends KafkaError {
  override readonly name: string = 'ProtocolError';
  constructor(message: string, code: number = ErrorCode.CORRUPT_MESSAGE) {
    super(code, message);
  }

  /**
   * The same as `code`. Kept only for callers not yet moved to `code` (the produce path and the record
   * tests); new code reads `code`.
   */
  get errorCode(): number {
    return this.code;
  }
}
