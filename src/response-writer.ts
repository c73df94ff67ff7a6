/**
 * The outgoing side of one connection: responses written in their turn (the
 * order of their requests), with cork/uncork so that the responses completed
 * in one tick leave in one writev, never concatenated.
 *
 * A response's turn is the turn of its request (Connection numbers them as
 * the requests start); a request answered with nothing still takes its turn,
 * so that the later responses are not held back.
 *
 * Streamed responses: a record section still in a segment file (a lazy chunk,
 * a FileRegion of storage) is read into a buffer a piece at a time and
 * written, the next piece once the kernel has taken enough of the last ones
 * that at most gregor.fetch.stream.window.bytes are in flight (read, not yet
 * taken by the kernel). So a client that does not read its responses holds
 * one window of the broker's memory, whatever it asked for, and slows only
 * itself. Later responses wait until the streamed one has been written
 * whole; a region that cannot be read (its file cut meanwhile) closes the
 * connection, as the size prefix announced bytes that cannot come.
 */
import type { Socket } from 'node:net';
import type { FrameChunk, LazyChunk } from '../protocol/index.js';
import type { Logger } from './logger.js';

/** A response ready to be written. */
export interface Outgoing {
  readonly chunks: readonly FrameChunk[];
  readonly onSent?: (() => void) | undefined;
}

export class ResponseWriter {
  /** The socket is corked until the next tick (write()). */
  private corked = false;
  /** A response is being streamed (later ones wait for it), and who waits for it or for a drain. */
  private streaming = false;
  private readonly sendWaiters = new Set<() => void>();
  /** Turn of the next response to be written, and the writes waiting for their turn. */
  private sendTurn = 0;
  private readonly waitingTurn = new Map<number, () => void>();

  constructor(
    private readonly socket: Socket,
    /** gregor.fetch.stream.window.bytes */
    private readonly windowBytes: number,
    private readonly log: Logger,
    private readonly isClosed: () => boolean,
    private readonly close: (reason: string) => void,
  ) {}

  /**
   * Runs `write` (a response, or nothing) in its turn, then every later one that was waiting for it; a
   * streamed response holds back the later ones until it has been written whole.
   */
  inTurn(turn: number, write: (() => void) | undefined): void {
    this.waitingTurn.set(turn, write ?? noop);
    this.writeInTurn();
  }

  /** Forgets the writes waiting for their turn (the socket has closed). */
  clear(): void {
    this.waitingTurn.clear();
  }

  /** Responses are waiting for the socket: its buffer is full, or one is being streamed. */
  get busy(): boolean {
    // (a response the kernel took whole leaves writableNeedDrain set until the next tick: not busy for it)
    return this.streaming || (this.socket.writableNeedDrain && this.socket.writableLength >= this.socket.writableHighWaterMark);
  }

  /** Resolves once not busy, or the socket has closed. */
  async drained(): Promise<void> {
    while (this.busy && !this.isClosed()) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          this.sendWaiters.delete(done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
        this.sendWaiters.add(done);
      });
    }
  }

  /** Writes a response's chunks; `done` runs once the kernel has taken all of them (or the write failed). */
  write(chunks: readonly FrameChunk[], done: (() => void) | undefined): void {
    // Responses sent in the same tick leave in one writev: the socket stays corked until the next tick
    // (pipelined requests that arrived in one read are answered with one system call, not one each).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncorkWriter, this);
    }
    const last = chunks.length - 1;
    for (let i = 0; i <= last; i++) {
      const chunk = chunks[i]!;
      if (!Buffer.isBuffer(chunk)) {
        this.stream(chunks, i, done);
        return;
      }
      if (i < last) this.socket.write(chunk);
      else this.socket.write(chunk, done);
    }
    // a full buffer goes out now: waiting for the tick would only hold the bytes
    if (this.socket.writableLength >= this.socket.writableHighWaterMark) this.uncork();
  }

  /** Ends the cork of write(): the responses of this tick go out. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  private writeInTurn(): void {
    for (let next = this.waitingTurn.get(this.sendTurn); next !== undefined && !this.streaming; next = this.waitingTurn.get(this.sendTurn)) {
      this.waitingTurn.delete(this.sendTurn);
      this.sendTurn++;
      next();
    }
  }

  /**
   * Writes `chunks` from `from` on, the lazy ones a piece at a time within the stream window (see the top
   * of this file); `done` goes with the last write. Later responses wait until it ends.
   */
  private stream(chunks: readonly FrameChunk[], from: number, done: (() => void) | undefined): void {
    const socket = this.socket;
    const window = this.windowBytes;
    const pieceBytes = Math.max(1, Math.floor(window / 2));
    const last = chunks.length - 1;
    let i = from;
    /** Bytes of chunks[i] (lazy) written so far. */
    let at = 0;
    /** Bytes read from files and not yet taken by the kernel. */
    let inFlight = 0;
    let ended = false;
    this.streaming = true;
    const end = (): void => {
      ended = true;
      this.streaming = false;
      for (const wake of [...this.sendWaiters]) wake();
      this.writeInTurn();
    };
    const pump = (): void => {
      if (ended || this.isClosed() || socket.destroyed) return;
      while (i <= last) {
        const chunk = chunks[i]!;
        if (Buffer.isBuffer(chunk)) {
          socket.write(chunk, i === last ? done : undefined);
          i++;
          continue;
        }
        const lazy: LazyChunk = chunk;
        while (at < lazy.length) {
          const n = Math.min(pieceBytes, lazy.length - at);
          if (inFlight > 0 && inFlight + n > window) {
            // the next piece waits until the kernel has taken one
            this.uncork();
            return;
          }
          const piece = takePiece(pieceBytes).subarray(0, n);
          try {
            lazy.readInto(piece, at);
          } catch (err) {
            givePiece(piece);
            this.log.warn({ err }, 'a response could not be read from its file; closing connection');
            this.close('response read failure');
            return;
          }
          at += n;
          inFlight += n;
          const lastPiece = i === last && at === lazy.length;
          socket.write(piece, () => {
            // the kernel has the bytes (or the socket failed): the buffer is free again
            givePiece(piece);
            inFlight -= n;
            if (lastPiece) done?.();
            else pump();
          });
        }
        i++;
        at = 0;
      }
      this.uncork();
      end();
    };
    pump();
  }
}

function uncorkWriter(w: ResponseWriter): void {
  w.uncork();
}

function noop(): void {}

/**
 * Buffers of streamed pieces, reused once the kernel has taken them (a fresh allocation outside the heap per
 * piece would make V8 collect garbage far more often; see storage's BufferPool). Kept: at most MAX_FREE_PIECES.
 */
const freePieces: Buffer[] = [];
const MAX_FREE_PIECES = 64;

function takePiece(size: number): Buffer {
  for (let p = freePieces.pop(); p !== undefined; p = freePieces.pop()) if (p.length === size) return p;
  return Buffer.allocUnsafeSlow(size);
}

function givePiece(piece: Buffer): void {
  const whole = Buffer.from(piece.buffer);
  if (freePieces.length < MAX_FREE_PIECES) freePieces.push(whole);
}
