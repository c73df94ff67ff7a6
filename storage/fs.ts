/**
 * StorageFs: the one seam through which storage/ touches the file system, so tests can substitute the
 * fault-injecting implementation (faulty-fs.ts).
 *
 * Sync or async, chosen by measurement (bench/storage.ts, Node 20, page cache, 16 KiB ops):
 * writeSync ~780 MB/s (21 us/op) against ~200 MB/s for fs.write/FileHandle.write (73-84 us/op, thread-pool
 * round trip); readSync ~2.5 GB/s (6 us/op) against ~400 MB/s (40 us/op). Writes and reads of the page cache
 * are therefore synchronous. fdatasync/fsync (0.6 ms and up, unbounded on a slow disk) are asynchronous: they
 * run on the libuv thread pool, so a slow fsync never blocks the event loop, and since reads are synchronous
 * they never queue behind fsyncs in the thread pool either. Removing whole directories is asynchronous too.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

export interface FileStat {
  size: number;
  mtimeMs: number;
  isDirectory: boolean;
  isFile: boolean;
}

export interface StorageFs {
  /** Opens a file: 'r' read-only, 'r+' read/write existing, 'w+' create/truncate, 'a+'-like creation is 'cr+' (create if missing, keep contents). */
  open(path: string, flags: OpenFlags): number;
  close(fd: number): void;
  /** Reads up to `length` bytes at `position`; returns the number read (0 at end of file). */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** As read, on the thread pool (the log cleaner's reads of whole segments, which must not block the event loop). */
  readAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes all of `length` bytes at `position`; returns the number written. */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** As write, on the thread pool (the log cleaner's output, which must not block the event loop when the disk is busy). */
  writeAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes buffers back to back at `position`; returns the number written. */
  writev(fd: number, buffers: readonly Buffer[], position: number): number;
  ftruncate(fd: number, length: number): void;
  fstatSize(fd: number): number;
  fdatasync(fd: number): Promise<void>;
  fsync(fd: number): Promise<void>;
  /** fsync of a directory, so that names created, renamed or removed in it are durable. */
  fsyncDir(path: string): Promise<void>;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  mkdir(path: string): void;
  readdir(path: string): string[];
  /** null when the path does not exist. */
  stat(path: string): FileStat | null;
  truncate(path: string, length: number): void;
  /** Removes a file or directory tree (background deletions). */
  rm(path: string): Promise<void>;
  readFile(path: string): Buffer;
  writeFile(path: string, data: Buffer | string): void;
  /**
   * Takes an exclusive lock on the whole file open as `fd`, without waiting: true when taken, false when
   * another holder has it (another process, or another descriptor of this one). The lock belongs to this open
   * file description and is released when `fd` is closed, by close or by the kernel when the process dies.
   * Throws LockUnavailableError when this platform offers no such lock.
   */
  tryLock(fd: number): boolean;
}

/** The platform has no file lock that storage can use (the native addon did not load). */
export class LockUnavailableError extends Error {
  override readonly name = 'LockUnavailableError';
}

interface NativeLocks {
  tryLock(fd: number, offset?: number, length?: number, opts?: { shared?: boolean }): boolean;
}

let nativeLocks: NativeLocks | Error | undefined;

/**
 * fs-native-extensions: F_OFD_SETLK on Linux (a lock of the open file description, so two descriptors of one
 * process conflict too), flock(2) on macOS, LockFileEx on Windows; prebuilt addons inside the package.
 * Loaded at the first lock, so a platform without a prebuilt addon fails only there.
 */
function loadNativeLocks(): NativeLocks {
  if (nativeLocks === undefined) {
    try {
      nativeLocks = createRequire(import.meta.url)('fs-native-extensions') as NativeLocks;
    } catch (err) {
      nativeLocks = err as Error;
    }
  }
  if (nativeLocks instanceof Error) throw new LockUnavailableError(`no file locks on ${process.platform}-${process.arch}: ${nativeLocks.message}`);
  return nativeLocks;
}

export type OpenFlags = 'r' | 'r+' | 'w+' | 'cr+';

function openFlags(flags: OpenFlags): number {
  const c = fs.constants;
  switch (flags) {
    case 'r': return c.O_RDONLY;
    case 'r+': return c.O_RDWR;
    case 'w+': return c.O_RDWR | c.O_CREAT | c.O_TRUNC;
    case 'cr+': return c.O_RDWR | c.O_CREAT;
  }
}

function writeFully(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) done += fs.writeSync(fd, buffer, offset + done, length - done, position + done);
  return done;
}

function promisify(run: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}

/** The real file system (node:fs). */
export const nodeFs: StorageFs = {
  open: (path, flags) => fs.openSync(path, openFlags(flags), 0o644),
  close: (fd) => fs.closeSync(fd),
  read: (fd, buffer, offset, length, position) => {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buffer, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  },
  readAsync: async (fd, buffer, offset, length, position) => {
    let done = 0;
    while (done < length) {
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, buffer, offset + done, length - done, position + done, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) break;
      done += n;
    }
    return done;
  },
  write: writeFully,
  writeAsync: async (fd, buffer, offset, length, position) => {
    let done = 0;
    while (done < length) {
      done += await new Promise<number>((resolve, reject) => fs.write(fd, buffer, offset + done, length - done, position + done, (err, bytes) => (err ? reject(err) : resolve(bytes))));
    }
    return done;
  },
  writev: (fd, buffers, position) => {
    let total = 0;
    for (const b of buffers) total += b.length;
    let done = fs.writevSync(fd, buffers as Buffer[], position);
    if (done === total) return done;
    // Short write (rare): finish buffer by buffer.
    let at = 0;
    for (const b of buffers) {
      const end = at + b.length;
      if (done < end) {
        const from = Math.max(0, done - at);
        done += writeFully(fd, b, from, b.length - from, position + at + from);
      }
      at = end;
    }
    return done;
  },
  ftruncate: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSize: (fd) => fs.fstatSync(fd).size,
  fdatasync: (fd) => promisify((cb) => fs.fdatasync(fd, cb)),
  fsync: (fd) => promisify((cb) => fs.fsync(fd, cb)),
  fsyncDir: async (path) => {
    const fd = fs.openSync(path, fs.constants.O_RDONLY);
    try {
      await promisify((cb) => fs.fsync(fd, cb));
    } finally {
      fs.closeSync(fd);
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.unlinkSync(path),
  mkdir: (path) => {
    fs.mkdirSync(path, { recursive: true });
  },
  readdir: (path) => fs.readdirSync(path),
  stat: (path) => {
    const s = fs.statSync(path, { throwIfNoEntry: false });
    return s ? { size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory(), isFile: s.isFile() } : null;
  },
  truncate: (path, length) => fs.truncateSync(path, length),
  rm: (path) => fs.promises.rm(path, { recursive: true, force: true }),
  readFile: (path) => fs.readFileSync(path),
  writeFile: (path, data) => fs.writeFileSync(path, data),
  tryLock: (fd) => loadNativeLocks().tryLock(fd),
};
