/**
 * Errors of storage/: an offset outside the log, and an I/O failure. The broker maps them to
 * OFFSET_OUT_OF_RANGE and KAFKA_STORAGE_ERROR.
 */
export class OffsetOutOfRangeError extends Error {
  override readonly name = 'OffsetOutOfRangeError';
  constructor(
    message: string,
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(message);
  }
}

/** An I/O failure (ENOSPC, EIO, ...) or a log that went offline after one. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  /** errno code of the underlying failure when there is one ('ENOSPC', 'EIO', ...). */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const cause = options?.cause;
    this.code = cause instanceof Error && typeof (cause as NodeJS.ErrnoException).code === 'string' ? (cause as NodeJS.ErrnoException).code : undefined;
  }
}

/** Wraps any thrown value as a StorageError describing what was being done. */
export function storageError(what: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`${what}: ${detail}`, { cause });
}
