/**
 * FileRegion: whole batches of a segment's .log that a fetch answers with but that are not read yet (Kafka's
 * FileRecords slice, sent with transferTo). The response carries the region; the connection reads it a window
 * at a time as the socket drains (`readInto`), so a client that does not read its responses holds a window,
 * not the bytes it asked for.
 *
 * A region pins the descriptor of its file (file-handles.ts) from the read that made it until `release()`:
 * retention, DeleteRecords, compaction and topic deletion rename and later unlink segment files, and an open
 * descriptor keeps the bytes of a renamed or unlinked file readable, so a response being streamed stays the
 * bytes it announced. Only a truncation of those bytes (a log cut below them) makes `readInto` fail; the
 * response cannot be finished then, and its connection is closed. `release()` runs once, when the response
 * has been written or its connection has closed (LogManager.releaseReadBuffers).
 */
import { StorageError } from './errors.js';
import type { FileHandle, FileHandleCache } from './file-handles.js';
import type { StorageFs } from './fs.js';

export class FileRegion {
  private handle: FileHandle | undefined;

  constructor(
    private readonly fs: StorageFs,
    private readonly handles: FileHandleCache,
    /** The file, as named when the region was made (it may have been renamed since). */
    readonly path: string,
    /** Where the region starts in the file. */
    readonly position: number,
    /** Bytes in the region: whole batches. */
    readonly length: number,
    /** Records in its batches (metrics). */
    readonly records: number,
  ) {
    this.handle = handles.pin(path);
  }

  /** Fills `into` with the region's bytes from `from` on (relative to the region's start). */
  readInto(into: Buffer, from: number): void {
    const handle = this.handle;
    if (handle === undefined) throw new StorageError(`read of a released region of ${this.path}`);
    if (from < 0 || from + into.length > this.length) throw new RangeError(`bytes ${from}+${into.length} are outside a region of ${this.length}`);
    let filled = 0;
    while (filled < into.length) {
      const n = this.fs.read(handle.fd, into, filled, into.length - filled, this.position + from + filled);
      if (n <= 0) throw new StorageError(`${this.path} was cut below position ${this.position + from + filled} while a response read it`);
      filled += n;
    }
  }

  /** Unpins the file (the descriptor closes if it was evicted meanwhile); later calls do nothing. */
  release(): void {
    const handle = this.handle;
    if (handle === undefined) return;
    this.handle = undefined;
    this.handles.unpin(handle);
  }
}
