/**
 * ProtocolError: the one error type the wire layer throws for malformed input
 * (reading past the end, a negative or oversized length, an invalid varint,
 * an unknown version). Callers map it to Kafka's answer: an error code or a
 * closed connection.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    message: string,
    /** Kafka error code that best describes the problem (CORRUPT_MESSAGE by default). */
    readonly errorCode: number = 2,
  ) {
    super(message);
  }
}
