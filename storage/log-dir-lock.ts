/**
 * The log directory's lock (Kafka's LogManager.lockLogDirs: FileChannel.tryLock on `<log.dir>/.lock`): one
 * broker, one LogManager, per log directory. Two writers on one directory overwrite each other's
 * acknowledged records, so a second open is refused, in another process or in this one.
 *
 * The lock is the kernel's, through the fs seam (StorageFs.tryLock: an open-file-description lock on Linux,
 * flock on macOS, LockFileEx on Windows), never a file whose existence means "locked":
 * - it is held by the open descriptor for the LogManager's life and released when the descriptor is closed
 *   (close), and by the kernel when the process dies however it dies (kill -9, OOM, power loss): no stale
 *   lock is ever left behind, and no process id has to be trusted (a pid can be reused);
 * - taking it is one atomic call: of two starts racing, one gets it and the other is refused;
 * - the file itself stays (as Kafka's): after taking the lock the holder writes its pid into it, only so that
 *   a refused start can name the process that holds the directory.
 *
 * Where the platform has no usable lock (no prebuilt addon for it), the directory is opened unlocked with a
 * warning.
 */
import { StorageError } from './errors.js';
import { LockUnavailableError, type StorageFs } from './fs.js';
import type { StorageLogger } from './logger.js';

export const LOCK_FILE = '.lock';

export interface LogDirLock {
  /** Releases the lock (closes its descriptor); idempotent. */
  release(): void;
}

/** Takes the lock of `logDir` (which exists), or throws a StorageError naming the directory and the holder. */
export function lockLogDir(fs: StorageFs, logDir: string, logger: StorageLogger): LogDirLock {
  const path = `${logDir}/${LOCK_FILE}`;
  let fd: number | null = fs.open(path, 'cr+');
  const release = (): void => {
    if (fd === null) return;
    const f = fd;
    fd = null;
    try {
      fs.close(f);
    } catch {
      // closed already (the descriptor went with a failed file system): the lock went with it
    }
  };
  let locked: boolean;
  try {
    locked = fs.tryLock(fd);
  } catch (err) {
    if (!(err instanceof LockUnavailableError)) {
      release();
      throw err;
    }
    logger.warn({ logDir, err: err.message }, 'cannot lock the log directory on this platform: make sure no other broker uses it');
    return { release };
  }
  if (!locked) {
    const holder = holderOf(fs, fd);
    release();
    throw new StorageError(
      `log directory ${logDir} is in use by ${holder === process.pid ? 'another broker in this process' : 'another broker'}` +
        `${holder === null ? '' : ` (pid ${holder})`}: ${path} is locked; stop that broker or use another log directory`,
    );
  }
  try {
    const pid = Buffer.from(`${process.pid}\n`);
    fs.ftruncate(fd, 0);
    fs.write(fd, pid, 0, pid.length, 0);
  } catch (err) {
    // the pid is only informative: the lock holds without it
    logger.warn({ path, err: (err as Error).message }, 'could not write the pid into the lock file');
  }
  return { release };
}

/** The pid the holder wrote into the lock file, if it has written one yet. */
function holderOf(fs: StorageFs, fd: number): number | null {
  try {
    const buf = Buffer.alloc(32);
    const n = fs.read(fd, buf, 0, buf.length, 0);
    const pid = Number(buf.subarray(0, n).toString('utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
