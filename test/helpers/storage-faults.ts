/**
 * Broker-level disk faults, over storage's FaultyFs (the fs seam's fault-injecting implementation):
 * - PowerCutFs: a power cut (FaultyFs.crash: writes not yet fsync'ed are dropped, every later call fails)
 *   just before or just after the nth operation at a chosen point of the storage's work;
 * - DiskSpaceFs: a disk with a number of free bytes: writes use them up, and the one that does not fit
 *   lands partly and fails with ENOSPC (as write(2) on a full file system), as do all after it until
 *   space is freed.
 * Both see every call with the path it concerns (a descriptor's path is remembered from its open).
 */
import { FaultyFs, type FileStat, type OpenFlags, type StorageFs } from '../../storage/index.js';

/** A StorageFs over a FaultyFs that lets a subclass look at each mutating call first (`at`). */
export abstract class WatchedFs implements StorageFs {
  private readonly paths = new Map<number, string>();

  constructor(readonly faulty: FaultyFs = new FaultyFs()) {}

  /** Runs `run` (the call to FaultyFs) for operation `op` on `path`; `bytes` is what a write adds. */
  protected abstract at<T>(op: string, path: string, run: () => T, detail: { flags?: OpenFlags; bytes?: number }): T;

  protected pathOf(fd: number): string {
    return this.paths.get(fd) ?? '';
  }

  open(path: string, flags: OpenFlags): number {
    return this.at(
      'open',
      path,
      () => {
        const fd = this.faulty.open(path, flags);
        this.paths.set(fd, path);
        return fd;
      },
      { flags },
    );
  }
  close(fd: number): void {
    this.paths.delete(fd);
    this.faulty.close(fd);
  }
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    return this.faulty.read(fd, buffer, offset, length, position);
  }
  readAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.faulty.readAsync(fd, buffer, offset, length, position);
  }
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    return this.at('write', this.pathOf(fd), () => this.faulty.write(fd, buffer, offset, length, position), { bytes: length });
  }
  writev(fd: number, buffers: readonly Buffer[], position: number): number {
    let bytes = 0;
    for (const b of buffers) bytes += b.length;
    return this.at('writev', this.pathOf(fd), () => this.faulty.writev(fd, buffers, position), { bytes });
  }
  ftruncate(fd: number, length: number): void {
    this.at('ftruncate', this.pathOf(fd), () => this.faulty.ftruncate(fd, length), {});
  }
  fstatSize(fd: number): number {
    return this.faulty.fstatSize(fd);
  }
  fdatasync(fd: number): Promise<void> {
    return this.at('fdatasync', this.pathOf(fd), () => this.faulty.fdatasync(fd), {});
  }
  fsync(fd: number): Promise<void> {
    return this.at('fsync', this.pathOf(fd), () => this.faulty.fsync(fd), {});
  }
  fsyncDir(path: string): Promise<void> {
    return this.faulty.fsyncDir(path);
  }
  rename(from: string, to: string): void {
    this.at('rename', from, () => this.faulty.rename(from, to), {});
  }
  unlink(path: string): void {
    this.at('unlink', path, () => this.faulty.unlink(path), {});
  }
  mkdir(path: string): void {
    this.faulty.mkdir(path);
  }
  tryLock(fd: number): boolean {
    return this.faulty.tryLock(fd);
  }
  readdir(path: string): string[] {
    return this.faulty.readdir(path);
  }
  stat(path: string): FileStat | null {
    return this.faulty.stat(path);
  }
  truncate(path: string, length: number): void {
    this.at('truncate', path, () => this.faulty.truncate(path, length), {});
  }
  rm(path: string): Promise<void> {
    return this.faulty.rm(path);
  }
  readFile(path: string): Buffer {
    return this.faulty.readFile(path);
  }
  writeFile(path: string, data: Buffer | string): void {
    this.at('writeFile', path, () => this.faulty.writeFile(path, data), { bytes: Buffer.byteLength(data) });
  }
}

/** Where in the storage's work a power cut can come. */
export type CutPoint = 'append' | 'group-commit' | 'roll' | 'retention' | 'compaction' | 'checkpoint' | 'producer-snapshot' | 'partition-dir-rename';

export function cutPointOf(op: string, path: string, flags?: OpenFlags): CutPoint | undefined {
  // a whole partition directory renamed (deleted: `-delete`, or moved aside: `-stray`)
  if (op === 'rename' && /\/[^/]+-\d+$/.test(path)) return 'partition-dir-rename';
  if (path.includes('.cleaned') || path.includes('.swap') || path.includes('cleaner-offset-checkpoint')) return 'compaction';
  if (path.includes('.snapshot')) return 'producer-snapshot';
  if (path.includes('checkpoint') || path.includes('partition.metadata')) return 'checkpoint';
  if ((op === 'rename' || op === 'unlink') && /\.(log|index|timeindex)(\.deleted)?$/.test(path)) return 'retention';
  if (op === 'open' && flags === 'w+' && /\.(log|index|timeindex)$/.test(path)) return 'roll';
  if ((op === 'write' || op === 'writev') && path.endsWith('.log')) return path.includes('__consumer_offsets') ? 'group-commit' : 'append';
  return undefined;
}

export class PowerCutFs extends WatchedFs {
  /** The operation the power went at, once it has. */
  fired: string | undefined;
  private seen = 0;

  constructor(
    private readonly point: CutPoint,
    private readonly nth: number,
    private readonly after: boolean,
  ) {
    super();
  }

  /** Cuts the power now (when the chosen point was not reached). */
  cutNow(): void {
    this.faulty.crash();
  }

  protected at<T>(op: string, path: string, run: () => T, detail: { flags?: OpenFlags }): T {
    const hit = this.fired === undefined && cutPointOf(op, path, detail.flags) === this.point && ++this.seen === this.nth;
    if (hit && !this.after) this.cut(op, path);
    const result = run();
    if (hit && this.after) this.cut(op, path);
    return result;
  }

  private cut(op: string, path: string): void {
    this.fired = `${this.after ? 'after' : 'before'} ${op} ${path.split('/').slice(-2).join('/')}`;
    this.faulty.crash();
  }
}

export class DiskSpaceFs extends WatchedFs {
  /** Free bytes; writes use them up (overwrites count too: the model errs on the side of a full disk). */
  free = Number.POSITIVE_INFINITY;
  /** Writes that failed with ENOSPC. */
  failures = 0;
  /**
   * Writes to matching paths fail whatever is free: the disk filled up between two writes of one operation
   * (the .log write of an append fitted, its index write after it did not).
   */
  fullFor: RegExp | undefined;

  protected at<T>(op: string, path: string, run: () => T, detail: { bytes?: number }): T {
    const bytes = detail.bytes ?? 0;
    if (bytes > 0 && (bytes > this.free || this.fullFor?.test(path))) {
      // what fits lands (FaultyFs writes half of it), then ENOSPC
      this.failures++;
      if (!this.fullFor) this.free = 0;
      this.faulty.failNext(op as 'write' | 'writev' | 'writeFile', 'ENOSPC', { path, partial: op !== 'writeFile' });
      return run();
    }
    this.free -= bytes;
    return run();
  }
}
