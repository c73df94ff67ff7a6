/**
 * FaultyFs: a StorageFs over a real one (nodeFs by default) for tests, with four powers:
 *  - failNext(op, code): the next matching call fails with ENOSPC or EIO (a write can land partially first);
 *  - hold(op): matching asynchronous calls (fdatasync, fsync) wait until released — a slow disk;
 *  - crash(): every write not yet covered by an fsync/fdatasync of its file is undone, as a power loss would
 *    do (kill -9 keeps the OS page cache, so it cannot show a missing fsync), and the instance then fails
 *    every call, like a dead process;
 *  - kill(): kill -9: writes stay, every descriptor is closed (the log directory's lock with it), every later
 *    call fails.
 *
 * Model: each write, truncation or truncating open records the bytes and size it replaced (an undo log per
 * file); an fsync/fdatasync of the file makes the entries recorded before it began durable. Directory
 * operations (create, rename, unlink) are treated as durable at once; only file contents are rolled back.
 */
import { nodeFs, type FileStat, type OpenFlags, type StorageFs } from './fs.js';

export type FaultOp = keyof StorageFs;
export type FaultCode = 'ENOSPC' | 'EIO';

interface Fault {
  op: FaultOp;
  code: FaultCode;
  path: string | undefined;
  times: number;
  partial: boolean;
}

interface UndoEntry {
  position: number;
  old: Buffer;
  oldSize: number;
}

interface FileState {
  path: string;
  undo: UndoEntry[];
}

interface Gate {
  op: FaultOp;
  path: string | undefined;
  promise: Promise<void>;
  release: () => void;
  waiting: number;
}

const ERRNO: Record<FaultCode, number> = { ENOSPC: -28, EIO: -5 };

function fault(code: FaultCode, op: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault in ${op} '${path}'`);
  err.code = code;
  err.errno = ERRNO[code];
  err.syscall = op;
  err.path = path;
  return err;
}

export class FaultyFs implements StorageFs {
  /** Calls made, per operation. */
  readonly calls: Partial<Record<FaultOp, number>> = {};
  private readonly faults: Fault[] = [];
  private readonly gates: Gate[] = [];
  private readonly files = new Map<string, FileState>();
  private readonly fds = new Map<number, FileState>();
  private dead = false;

  constructor(private readonly base: StorageFs = nodeFs) {}

  /** The next `times` (default 1) calls of `op` (on a path containing `path`, if given) fail with `code`. */
  failNext(op: FaultOp, code: FaultCode, opts: { path?: string; times?: number; partial?: boolean } = {}): void {
    this.faults.push({ op, code, path: opts.path, times: opts.times ?? 1, partial: opts.partial ?? false });
  }

  /** Holds calls of an asynchronous `op` (on a path containing `path`) until the returned release() is called. */
  hold(op: 'fdatasync' | 'fsync' | 'fsyncDir' | 'rm', path?: string): { release: () => void; readonly waiting: number } {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gate: Gate = { op, path, promise, release: () => undefined, waiting: 0 };
    gate.release = () => {
      const i = this.gates.indexOf(gate);
      if (i >= 0) this.gates.splice(i, 1);
      release();
    };
    this.gates.push(gate);
    return {
      release: gate.release,
      get waiting() {
        return gate.waiting;
      },
    };
  }

  get crashed(): boolean {
    return this.dead;
  }

  /** Bytes written but not yet made durable by an fsync, over all files. */
  get unsyncedWrites(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.undo.length;
    return n;
  }

  /** Power loss: undoes every write not covered by an fsync, then fails every later call (as kill). */
  crash(): void {
    if (this.dead) return;
    for (const state of this.files.values()) {
      if (state.undo.length === 0 || this.base.stat(state.path) === null) continue;
      const fd = this.base.open(state.path, 'r+');
      try {
        for (let i = state.undo.length - 1; i >= 0; i--) {
          const u = state.undo[i] as UndoEntry;
          if (u.old.length > 0) this.base.write(fd, u.old, 0, u.old.length, u.position);
          this.base.ftruncate(fd, u.oldSize);
        }
      } finally {
        this.base.close(fd);
      }
      state.undo = [];
    }
    this.kill();
  }

  /**
   * kill -9 of the process: the page cache keeps every write, the kernel closes every descriptor (and so
   * releases the log directory's lock), and every later call fails.
   */
  kill(): void {
    this.dead = true;
    for (const fd of this.fds.keys()) {
      try {
        this.base.close(fd);
      } catch {
        // already closed
      }
    }
    this.fds.clear();
  }

  private enter(op: FaultOp, path: string): Fault | undefined {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    if (this.dead) throw fault('EIO', `${op} after simulated crash`, path);
    const i = this.faults.findIndex((f) => f.op === op && (f.path === undefined || path.includes(f.path)));
    if (i < 0) return undefined;
    const f = this.faults[i] as Fault;
    if (--f.times <= 0) this.faults.splice(i, 1);
    if (!f.partial) throw fault(f.code, op, path);
    return f;
  }

  private async gate(op: FaultOp, path: string): Promise<void> {
    for (const g of this.gates) {
      if (g.op === op && (g.path === undefined || path.includes(g.path))) {
        g.waiting++;
        await g.promise;
        g.waiting--;
      }
    }
  }

  private state(path: string): FileState {
    let s = this.files.get(path);
    if (!s) {
      s = { path, undo: [] };
      this.files.set(path, s);
    }
    return s;
  }

  private stateOf(fd: number): FileState {
    const s = this.fds.get(fd);
    if (!s) throw fault('EIO', 'use of an unknown descriptor', String(fd));
    return s;
  }

  /** Records what [position, position + length) held before an overwrite, and the size. */
  private remember(state: FileState, fd: number, position: number, length: number): void {
    const oldSize = this.base.fstatSize(fd);
    const end = Math.min(position + length, oldSize);
    const old = Buffer.alloc(Math.max(0, end - position));
    if (old.length > 0) this.base.read(fd, old, 0, old.length, position);
    state.undo.push({ position, old, oldSize });
  }

  open(path: string, flags: OpenFlags): number {
    this.enter('open', path);
    const state = this.state(path);
    if (flags === 'w+' && this.base.stat(path) !== null) {
      const fd = this.base.open(path, 'r+');
      try {
        this.remember(state, fd, 0, this.base.fstatSize(fd));
      } finally {
        this.base.close(fd);
      }
    }
    const fd = this.base.open(path, flags);
    this.fds.set(fd, state);
    return fd;
  }

  close(fd: number): void {
    const state = this.fds.get(fd);
    this.enter('close', state?.path ?? String(fd));
    this.fds.delete(fd);
    this.base.close(fd);
  }

  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    this.enter('read', this.stateOf(fd).path);
    return this.base.read(fd, buffer, offset, length, position);
  }

  async readAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    const path = this.stateOf(fd).path;
    this.enter('readAsync', path);
    const n = await this.base.readAsync(fd, buffer, offset, length, position);
    if (this.dead) throw fault('EIO', 'readAsync after simulated crash', path);
    return n;
  }

  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    const state = this.stateOf(fd);
    const f = this.enter('write', state.path);
    this.remember(state, fd, position, length);
    if (f) {
      this.base.write(fd, buffer, offset, Math.floor(length / 2), position);
      throw fault(f.code, 'write', state.path);
    }
    return this.base.write(fd, buffer, offset, length, position);
  }

  async writeAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    const state = this.stateOf(fd);
    const f = this.enter('writeAsync', state.path);
    this.remember(state, fd, position, length);
    if (f) {
      await this.base.writeAsync(fd, buffer, offset, Math.floor(length / 2), position);
      throw fault(f.code, 'writeAsync', state.path);
    }
    const n = await this.base.writeAsync(fd, buffer, offset, length, position);
    if (this.dead) throw fault('EIO', 'writeAsync after simulated crash', state.path);
    return n;
  }

  writev(fd: number, buffers: readonly Buffer[], position: number): number {
    const state = this.stateOf(fd);
    const f = this.enter('writev', state.path);
    let total = 0;
    for (const b of buffers) total += b.length;
    this.remember(state, fd, position, total);
    if (f) {
      const first = buffers[0];
      if (first) this.base.write(fd, first, 0, Math.floor(first.length / 2), position);
      throw fault(f.code, 'writev', state.path);
    }
    return this.base.writev(fd, buffers, position);
  }

  ftruncate(fd: number, length: number): void {
    const state = this.stateOf(fd);
    this.enter('ftruncate', state.path);
    const size = this.base.fstatSize(fd);
    this.remember(state, fd, Math.min(length, size), Math.max(0, size - length));
    this.base.ftruncate(fd, length);
  }

  fstatSize(fd: number): number {
    this.enter('fstatSize', this.stateOf(fd).path);
    return this.base.fstatSize(fd);
  }

  fdatasync(fd: number): Promise<void> {
    return this.sync('fdatasync', fd);
  }

  fsync(fd: number): Promise<void> {
    return this.sync('fsync', fd);
  }

  private async sync(op: 'fdatasync' | 'fsync', fd: number): Promise<void> {
    const state = this.stateOf(fd);
    this.enter(op, state.path);
    const covered = state.undo.length;
    await this.gate(op, state.path);
    if (this.dead) throw fault('EIO', `${op} after simulated crash`, state.path);
    await (op === 'fsync' ? this.base.fsync(fd) : this.base.fdatasync(fd));
    if (this.dead) throw fault('EIO', `${op} after simulated crash`, state.path);
    state.undo.splice(0, covered);
  }

  async fsyncDir(path: string): Promise<void> {
    this.enter('fsyncDir', path);
    await this.gate('fsyncDir', path);
    await this.base.fsyncDir(path);
  }

  rename(from: string, to: string): void {
    this.enter('rename', from);
    this.base.rename(from, to);
    const state = this.files.get(from);
    this.files.delete(from);
    this.files.delete(to);
    if (state) {
      state.path = to;
      this.files.set(to, state);
    }
  }

  unlink(path: string): void {
    this.enter('unlink', path);
    this.base.unlink(path);
    this.files.delete(path);
  }

  mkdir(path: string): void {
    this.enter('mkdir', path);
    this.base.mkdir(path);
  }

  readdir(path: string): string[] {
    this.enter('readdir', path);
    return this.base.readdir(path);
  }

  stat(path: string): FileStat | null {
    this.enter('stat', path);
    return this.base.stat(path);
  }

  truncate(path: string, length: number): void {
    this.enter('truncate', path);
    const fd = this.base.open(path, 'r+');
    try {
      const size = this.base.fstatSize(fd);
      this.remember(this.state(path), fd, Math.min(length, size), Math.max(0, size - length));
    } finally {
      this.base.close(fd);
    }
    this.base.truncate(path, length);
  }

  async rm(path: string): Promise<void> {
    this.enter('rm', path);
    await this.gate('rm', path);
    await this.base.rm(path);
    for (const p of [...this.files.keys()]) if (p === path || p.startsWith(`${path}/`)) this.files.delete(p);
  }

  readFile(path: string): Buffer {
    this.enter('readFile', path);
    return this.base.readFile(path);
  }

  tryLock(fd: number): boolean {
    this.enter('tryLock', this.stateOf(fd).path);
    return this.base.tryLock(fd);
  }

  writeFile(path: string, data: Buffer | string): void {
    this.enter('writeFile', path);
    if (this.base.stat(path) !== null) {
      const fd = this.base.open(path, 'r+');
      try {
        this.remember(this.state(path), fd, 0, this.base.fstatSize(fd));
      } finally {
        this.base.close(fd);
      }
    } else {
      this.state(path).undo.push({ position: 0, old: Buffer.alloc(0), oldSize: 0 });
    }
    this.base.writeFile(path, data);
  }
}
