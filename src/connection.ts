/**
 * One client connection, the transport: size-prefixed frames in, responses
 * out. What a frame asks for is dispatch.ts's business (a frame in, a
 * response, nothing, or a decision to close out); who the client is, and the
 * connection's state, the Session's (session.ts). Here: bytes, framing,
 * budgets, timeouts, back-pressure, response order and writev.
 *
 * Requests on a connection are executed one at a time in arrival order and
 * answered in the same order, as Kafka does (idempotent producers pipeline up
 * to five Produce requests and rely on it); a handler may detach its request
 * once its order-sensitive work is done, and its response still waits for its
 * turn. A frame larger than socket.request.max.bytes closes the connection
 * before anything is allocated for it. Response chunks (record sections
 * included) are written with cork/uncork, never concatenated; responses
 * completed in the same tick share one writev.
 *
 * Responses are written in their turn by the connection's ResponseWriter
 * (response-writer.ts: ordered writes, writev per tick, streamed record
 * sections within gregor.fetch.stream.window.bytes).
 *
 * Back-pressure: the socket is paused (nothing more is read, so the client's
 * TCP window closes) while responses wait for it to drain, while
 * queued.max.requests requests or more than socket.request.max.bytes wait
 * behind the one in progress, and while it is muted for memory.
 *
 * Throttling (client quotas, KIP-219): a request whose client went over a
 * quota is answered at once with its throttle time, then the connection is
 * muted for that time: nothing more is read from it, and requests already
 * read wait, until it has passed (Kafka's throttled channel).
 *
 * Request memory (queued.max.request.bytes, broker-wide, memory-budget.ts in
 * 'fit' order): a request holds the bytes that have arrived, not what its
 * size prefix announces. Bytes read are taken from the budget as they arrive
 * (past the capacity if need be: they are in memory already) and given back
 * once their request has been handled. A read that finds the budget full
 * mutes the connection (Kafka's muted channel): it is not read until the
 * budget has room again for a part of what its request still needs, which it
 * takes ahead (so that the next read lands in it); meanwhile every other
 * connection whose read fits goes on, and a request that stopped arriving
 * holds only what it sent. So the budget is exceeded by at most one socket
 * read per connection reading when it fills, plus, when requests half
 * arrived on muted connections hold all of it (nothing else could free it),
 * the request closest to complete, which is read on past it.
 *
 * A request that has started to arrive must arrive whole within
 * gregor.request.read.timeout.ms (time spent paused by us does not count),
 * else the connection is closed (slowloris); a connection with no traffic at
 * all is closed after connections.max.idle.ms.
 */
import type { Socket } from 'node:net';
import type { ConnectionInfo } from './connection-info.js';
import { dispatch, type Dispatched, type DispatchTarget } from './dispatch.js';
import type { Logger } from './logger.js';
import type { MemoryBudget, Progress } from './memory-budget.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { ResponseWriter, type Outgoing } from './response-writer.js';
import type { BrokerServices } from './services.js';
import type { Session } from './session.js';

export interface ConnectionLimits {
  /** socket.request.max.bytes */
  readonly maxRequestBytes: number;
  /** Queued (received, not yet handled) request bytes above which reading pauses. */
  readonly maxQueuedBytes: number;
  /** queued.max.requests: requests waiting behind the one in progress at which reading pauses. */
  readonly maxQueuedRequests: number;
  /** connections.max.idle.ms */
  readonly idleMs: number;
  /** gregor.request.read.timeout.ms: the longest a started request may take to arrive whole (0: no limit). */
  readonly requestReadTimeoutMs: number;
  /** gregor.fetch.stream.window.bytes: response bytes read from files and not yet taken by the kernel, at most. */
  readonly streamWindowBytes: number;
  /** queued.max.request.bytes: the broker-wide budget of request bytes read and not yet handled ('fit' order). */
  readonly requestMemory: MemoryBudget;
}

interface QueuedFrame {
  readonly frame: Buffer;
  /** performance.now() at its arrival (request queue time). */
  readonly arrivedAt: number;
  /** Bytes it holds of the request budget (its size prefix included). */
  readonly reserved: number;
}

let nextId = 1;

/** What a muted connection asks of the request budget before it is read again: about one socket read. */
const READ_AHEAD_BYTES = 64 * 1024;

export class Connection implements ConnectionInfo {
  readonly id = nextId++;
  readonly remoteAddress: string;
  readonly remotePort: number;

  /** Bytes read and not yet framed. */
  private readonly pending = new ReceiveBuffer();
  private readonly queue: QueuedFrame[] = [];
  private queuedBytes = 0;
  private processing = false;
  private readonly log: Logger;
  /** What dispatch() needs of this connection, for each of its requests. */
  private readonly target: DispatchTarget;
  /** Bytes of the request budget held for the bytes read and not yet framed (at least `pending.length`). */
  private pendingHeld = 0;
  /** What this connection tells the request budget while muted: what it holds that only more reads give back. */
  private readonly progress: Progress = { heldBytes: () => this.pendingHeld, bytesToFinish: () => this.bytesToFinish() };
  /** Cancels the wait for request budget, while muted for memory. */
  private cancelBudgetWait: (() => void) | undefined;
  private awaitingDrain = false;
  /** Fires when a started request has not arrived whole in time (refreshed, never re-created). */
  private readTimer: NodeJS.Timeout | undefined;
  /** A request has started to arrive and the read timer runs for it. */
  private requestArriving = false;
  /** Hooks of the request in progress (afterResponse), and of responses still being written. */
  private responseHooks: Array<() => void> = [];
  private readonly unsentHooks = new Set<Array<() => void>>();
  /** Hooks that run when the connection closes (whenClosed); undefined once it has. */
  private closeHooks: Array<() => void> | undefined = [];
  /** Writes the responses in their turn. */
  private readonly writer: ResponseWriter;
  /** Requests being handled (the one in order and any detached ones). */
  private outstanding = 0;
  /** Lets processQueue go on while the request in order runs (detach()). */
  private detachCurrent: (() => void) | undefined;
  /** Turn of the next request (its response is written in that turn). */
  private nextTurn = 0;
  /** Why the connection closes once the response in progress is written (closeAfterResponse); nothing more is read or handled. */
  private closingAfterResponse: string | undefined;
  /** Muted for a client quota until this time (performance.now()), and the timer that ends it. */
  private throttledUntil = 0;
  private throttleTimer: NodeJS.Timeout | undefined;

  /**
   * `session` was created when the server accepted the socket; its state is the connection's: closing once
   * closed, by either side.
   */
  constructor(
    private readonly socket: Socket,
    services: BrokerServices,
    readonly session: Session,
    private readonly limits: ConnectionLimits,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.log = services.logger.child({ conn: this.id, remote: `${this.remoteAddress}:${this.remotePort}` });
    this.target = { services, session, connection: this, log: this.log };
    this.writer = new ResponseWriter(socket, limits.streamWindowBytes, this.log, () => this.closed, (reason) => this.close(reason));
    socket.setNoDelay(true);
    if (limits.idleMs > 0) {
      socket.setTimeout(limits.idleMs, () => this.onIdle());
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.on('close', () => {
      session.close();
      this.releaseAll();
      this.onClose(this);
      const hooks = this.closeHooks ?? [];
      this.closeHooks = undefined;
      for (const hook of hooks) hook();
    });
  }

  /** No bytes either way for connections.max.idle.ms: closed, unless it is the broker that keeps it waiting. */
  private onIdle(): void {
    if (this.closed) return;
    const waitingOnBroker =
      (this.processing && !this.awaitingDrain) || this.outstanding > 0 || this.queue.length > 0 || this.cancelBudgetWait !== undefined || this.throttled;
    if (waitingOnBroker) {
      this.socket.setTimeout(this.limits.idleMs);
      return;
    }
    this.log.debug({ idleMs: this.limits.idleMs }, 'idle connection; closing it');
    this.close('idle timeout');
  }

  afterResponse(done: () => void): void {
    if (this.closed) done();
    else this.responseHooks.push(done);
  }

  whenClosed(done: () => void): void {
    if (this.closeHooks === undefined) done();
    else this.closeHooks.push(done);
  }

  detach(): void {
    const go = this.detachCurrent;
    this.detachCurrent = undefined;
    go?.();
  }

  /** Closed, by us or by the client. */
  private get closed(): boolean {
    return this.session.state === 'closing';
  }

  /** Closes the connection (Kafka's answer to a request it cannot parse or serve). */
  close(reason: string): void {
    if (this.closed) return;
    this.session.close();
    this.log.debug({ reason }, 'closing connection');
    this.socket.destroy();
  }

  closeAfterResponse(reason: string): void {
    if (this.closed || this.closingAfterResponse !== undefined) return;
    this.closingAfterResponse = reason;
    this.updateFlow();
    this.afterResponse(() => this.close(reason));
  }

  /** Requests read and not yet answered besides the one handled in order: queued, or detached and finishing. */
  private get waitingRequests(): number {
    return this.queue.length + Math.max(0, this.outstanding - 1);
  }

  /** Requests received and not yet answered (metrics). */
  get inFlight(): number {
    return this.queue.length + this.outstanding;
  }

  /** Resolves once the requests in progress (if any) have been answered. */
  async idle(): Promise<void> {
    while (this.processing || this.outstanding > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.pending.push(chunk);
    // the bytes are in memory already: they are counted whether or not they fit
    const unheld = this.pending.length - this.pendingHeld;
    if (unheld > 0) {
      this.limits.requestMemory.force(unheld);
      this.pendingHeld += unheld;
    }
    this.readFrames();
    if (this.limits.requestMemory.full) this.muteForMemory();
  }

  /**
   * The budget is full: not read until it has room for a part of what the request arriving still needs
   * (see the top of this file). Granted bytes are held for the reads to come.
   */
  private muteForMemory(): void {
    if (this.closed || this.cancelBudgetWait !== undefined) return;
    const budget = this.limits.requestMemory;
    let waiting = true;
    const cancel = budget.enqueue(
      Math.min(READ_AHEAD_BYTES, this.bytesToFinish()),
      (taken) => {
        waiting = false;
        this.cancelBudgetWait = undefined;
        if (this.closed) {
          budget.release(taken);
          return;
        }
        this.pendingHeld += taken;
        this.readFrames();
      },
      true,
      this.progress,
    );
    if (waiting) {
      this.cancelBudgetWait = cancel;
      this.updateFlow();
    }
  }

  /** Bytes the request arriving still needs before it is whole (its size prefix, first). */
  private bytesToFinish(): number {
    const n = this.pending.length;
    if (n < 4) return 4 - n;
    return Math.max(1, 4 + this.pending.peekInt32() - n);
  }

  /** Frames what has arrived, then lets the queue run. */
  private readFrames(): void {
    if (!this.extractFramesSafely()) return;
    this.updateFlow();
    void this.processQueue();
  }

  /** extractFrames, where a bug costs this connection, not the broker; false when it closed the connection. */
  private extractFramesSafely(): boolean {
    try {
      this.extractFrames();
      return true;
    } catch (err) {
      this.log.error({ err }, 'reading a request failed; closing connection');
      this.close('framing failure');
      return false;
    }
  }

  /** Moves whole frames from the bytes read to the queue, while it holds fewer than queued.max.requests. */
  private extractFrames(): void {
    while (this.pending.length >= 4 && !this.closed && this.waitingRequests < this.limits.maxQueuedRequests) {
      const size = this.pending.peekInt32();
      // while a SASL exchange goes on, sasl.server.max.receive.size bounds a frame instead (Kafka's authenticator)
      const max = this.session.sasl?.maxReceiveBytes ?? this.limits.maxRequestBytes;
      if (size < 0 || size > max) {
        this.log.warn({ size, max }, 'request size out of bounds; closing connection');
        this.close('request size out of bounds');
        return;
      }
      if (this.pending.length < 4 + size) break;
      this.pending.take(4);
      const frame = this.pending.take(size);
      this.requestArriving = false;
      // its bytes move from what is pending to the frame, which gives them back once handled
      this.pendingHeld -= 4 + size;
      this.queue.push({ frame, arrivedAt: performance.now(), reserved: 4 + size });
      this.queuedBytes += frame.length;
    }
    if (this.pending.length === 0 && this.pendingHeld > 0 && this.cancelBudgetWait === undefined) {
      // nothing is arriving: bytes taken ahead for reads go back
      this.limits.requestMemory.release(this.pendingHeld);
      this.pendingHeld = 0;
    }
    if (this.pending.length > 0 && !this.requestArriving) {
      this.requestArriving = true;
      this.armReadTimer();
    }
  }

  /** Muted for a client quota (see the top of this file). */
  private get throttled(): boolean {
    return this.throttleTimer !== undefined;
  }

  /** Mutes the connection for `ms` (a client quota's throttle time), or longer if it is muted for longer already. */
  private throttle(ms: number): void {
    const until = performance.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = undefined;
      this.updateFlow();
      void this.processQueue();
    }, ms);
    this.updateFlow();
  }

  /** Pauses or resumes reading, by the back-pressure rules (see the top of this file). */
  private updateFlow(): void {
    if (this.closed) return;
    const hold =
      this.closingAfterResponse !== undefined ||
      this.throttled ||
      this.awaitingDrain ||
      this.cancelBudgetWait !== undefined ||
      this.waitingRequests >= this.limits.maxQueuedRequests ||
      this.queuedBytes > this.limits.maxQueuedBytes;
    if (hold && !this.socket.isPaused()) this.socket.pause();
    else if (!hold && this.socket.isPaused()) {
      this.socket.resume();
      // the time spent paused does not count against the request read timeout
      if (this.pending.length > 0) this.armReadTimer();
    }
  }

  /** (Re)starts the request read timeout (for the request now arriving, or after a pause). */
  private armReadTimer(): void {
    const ms = this.limits.requestReadTimeoutMs;
    if (ms <= 0) return;
    if (this.readTimer) this.readTimer.refresh();
    else {
      this.readTimer = setTimeout(() => this.onReadTimeout(), ms);
      this.readTimer.unref();
    }
  }

  private onReadTimeout(): void {
    if (this.closed || !this.requestArriving) return;
    if (this.socket.isPaused()) {
      this.readTimer?.refresh();
      return;
    }
    this.log.info({ pendingBytes: this.pending.length, timeoutMs: this.limits.requestReadTimeoutMs }, 'request not received whole in time; closing connection');
    this.close('request read timeout');
  }

  /** Gives back every budget this connection holds and runs its response hooks (the socket has closed). */
  private releaseAll(): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    clearTimeout(this.throttleTimer);
    this.throttleTimer = undefined;
    this.cancelBudgetWait?.();
    this.cancelBudgetWait = undefined;
    // the frame in progress gives its bytes back when its handler returns
    let held = this.pendingHeld;
    for (const q of this.queue) held += q.reserved;
    this.limits.requestMemory.release(held);
    this.pendingHeld = 0;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.pending.clear();
    this.writer.clear();
    for (const hooks of this.unsentHooks) runHooks(hooks);
    this.unsentHooks.clear();
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.closed && this.closingAfterResponse === undefined && !this.throttled) {
        const item = this.queue.shift()!;
        this.queuedBytes -= item.frame.length;
        const started = this.startFrame(item);
        // frames already read but left out of the full queue come in now
        if (this.pending.length > 0) this.extractFramesSafely();
        this.updateFlow();
        await started;
        if (this.writer.busy && !this.closed) {
          this.awaitingDrain = true;
          this.updateFlow();
          await this.writer.drained();
          this.awaitingDrain = false;
          this.updateFlow();
        }
      }
    } finally {
      this.processing = false;
    }
  }

  /**
   * Handles a frame; resolves when it is done, or earlier when its handler detaches. Its response (if any)
   * is written in its turn: after the responses of every earlier request.
   */
  private startFrame(item: QueuedFrame): Promise<void> {
    const turn = this.nextTurn++;
    const hooks: Array<() => void> = [];
    this.responseHooks = hooks;
    this.outstanding++;
    return new Promise<void>((resolve) => {
      this.detachCurrent = resolve;
      dispatch(item.frame, item.arrivedAt, this.target)
        .catch((err: unknown): Dispatched => {
          this.log.error({ err }, 'handling a request failed; closing connection');
          return { kind: 'close', reason: 'request failure' };
        })
        .then((out) => {
          this.outstanding--;
          this.limits.requestMemory.release(item.reserved);
          if (out.kind === 'close') this.close(out.reason);
          else if (out.throttleMs !== undefined && out.throttleMs > 0 && !this.closed) this.throttle(out.throttleMs);
          if (out.kind !== 'respond' || this.closed) {
            // hooks of a request that got no response (send() takes those of one that did)
            runHooks(hooks);
            this.writer.inTurn(turn, undefined);
          } else {
            if (hooks.length > 0) this.unsentHooks.add(hooks);
            this.writer.inTurn(turn, () => this.send(out, hooks));
          }
          if (this.detachCurrent === resolve) this.detachCurrent = undefined;
          resolve();
          // a detached request that finishes makes room under queued.max.requests: read on
          if (this.outstanding > 0 || this.socket.isPaused()) this.readFrames();
        });
    });
  }

  /**
   * Writes a response in its turn; `onSent` and the request's afterResponse hooks run once the kernel has
   * taken all of it (or the write failed, or the socket closed first).
   */
  private send(out: Outgoing, hooks: Array<() => void>): void {
    if (this.closed) return;
    if (hooks.length === 0) {
      this.writer.write(out.chunks, out.onSent);
      return;
    }
    // (in unsentHooks since the request finished: a close before its turn runs them)
    this.writer.write(out.chunks, () => {
      this.unsentHooks.delete(hooks);
      runHooks(hooks);
      out.onSent?.();
    });
  }
}

/** Runs and removes each hook once; a failing hook does not stop the others. */
function runHooks(hooks: Array<() => void>): void {
  for (const hook of hooks.splice(0)) {
    try {
      hook();
    } catch {
      // hooks release memory; nothing to report to the client
    }
  }
}
