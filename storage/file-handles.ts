/**
 * FileHandleCache: an LRU (lru-cache) of open file descriptors keyed by path, so that many partitions do not
 * need three open files per segment. Every synchronous I/O call fetches its descriptor right before the call
 * (a cache hit is a map lookup), so eviction can never close a descriptor in use; an asynchronous call
 * (fdatasync) pins its descriptor, and an evicted pinned descriptor is closed when the last pin is released.
 */
import { LRUCache } from 'lru-cache';
import type { StorageFs } from './fs.js';

interface Handle {
  fd: number;
  path: string;
  pins: number;
  /** Evicted while pinned: close on the last unpin. */
  closeOnUnpin: boolean;
}

export class FileHandleCache {
  private readonly lru: LRUCache<string, Handle>;
  private readonly detached = new Set<Handle>();
  opens = 0;

  constructor(
    private readonly fs: StorageFs,
    maxOpenFiles: number,
  ) {
    if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 1) throw new RangeError(`maxOpenFiles must be an integer >= 1, got ${maxOpenFiles}`);
    this.lru = new LRUCache<string, Handle>({
      max: maxOpenFiles,
      dispose: (handle) => this.release(handle),
    });
  }

  /** Descriptor for `path` (opened read/write, the file must exist). Use it at once, before any await. */
  fd(path: string): number {
    return this.handle(path).fd;
  }

  /** Descriptor that stays open until unpin(), across awaits. */
  pin(path: string): Handle {
    const handle = this.handle(path);
    handle.pins++;
    return handle;
  }

  unpin(handle: Handle): void {
    handle.pins--;
    if (handle.pins === 0 && handle.closeOnUnpin) {
      this.detached.delete(handle);
      this.closeQuietly(handle.fd);
    }
  }

  /** Closes the descriptor of `path`, if open (before a rename or unlink of the file). */
  evict(path: string): void {
    this.lru.delete(path);
  }

  /** Closes every descriptor whose path starts with `prefix`. */
  evictPrefix(prefix: string): void {
    for (const path of [...this.lru.keys()]) if (path.startsWith(prefix)) this.lru.delete(path);
  }

  get openFiles(): number {
    return this.lru.size + this.detached.size;
  }

  closeAll(): void {
    this.lru.clear();
  }

  private handle(path: string): Handle {
    let handle = this.lru.get(path);
    if (handle === undefined) {
      handle = { fd: this.fs.open(path, 'r+'), path, pins: 0, closeOnUnpin: false };
      this.opens++;
      this.lru.set(path, handle);
    }
    return handle;
  }

  private release(handle: Handle): void {
    if (handle.pins > 0) {
      handle.closeOnUnpin = true;
      this.detached.add(handle);
    } else {
      this.closeQuietly(handle.fd);
    }
  }

  private closeQuietly(fd: number): void {
    try {
      this.fs.close(fd);
    } catch {
      // Closing can only fail for a descriptor that is already unusable; nothing to recover.
    }
  }
}

export type { Handle as FileHandle };
