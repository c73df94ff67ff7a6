/**
 * The timers of one coordinator shard (Kafka's CoordinatorTimer): operations
 * to run later, each under a key ("heartbeat-<group>-<member>",
 * "join-<group>", ...). Scheduling a key that is already scheduled replaces
 * its task; cancelling an unknown key does nothing. When the shard is
 * unloaded the runtime cancels every task, so no task runs against a shard
 * that is gone.
 *
 * A task runs on the event loop like any operation of the shard: to
 * completion, with the shard's state as it is then. Tasks check themselves
 * whether what they were scheduled for still holds (the member may have
 * rejoined meanwhile). A task that throws is logged; the others keep running.
 * Timers never keep the process alive (unref).
 */
import type { Logger } from '../logger.js';

export class CoordinatorTimer {
  private readonly tasks = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  /** Runs `task` after `delayMs`, replacing a task scheduled under the same key. */
  schedule(key: string, delayMs: number, task: () => void): void {
    if (this.closed) return;
    this.cancel(key);
    const handle = setTimeout(() => {
      if (this.tasks.get(key) !== handle) return;
      this.tasks.delete(key);
      this.run(key, task);
    }, delayMs);
    handle.unref();
    this.tasks.set(key, handle);
  }

  /** Runs `task` every `intervalMs` until cancelled (Kafka reschedules such tasks itself, e.g. offset expiration). */
  scheduleRepeating(key: string, intervalMs: number, task: () => void): void {
    const tick = (): void => {
      // rescheduled first: a task that throws still runs next time
      this.schedule(key, intervalMs, tick);
      task();
    };
    this.schedule(key, intervalMs, tick);
  }

  cancel(key: string): void {
    const handle = this.tasks.get(key);
    if (handle === undefined) return;
    clearTimeout(handle);
    this.tasks.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.tasks.has(key);
  }

  /** Tasks scheduled. */
  get size(): number {
    return this.tasks.size;
  }

  /** Cancels every task and refuses new ones (the shard is unloaded). */
  close(): void {
    this.closed = true;
    for (const handle of this.tasks.values()) clearTimeout(handle);
    this.tasks.clear();
  }

  private run(key: string, task: () => void): void {
    try {
      task();
    } catch (err) {
      this.logger.error({ err, key }, 'coordinator timer task failed');
    }
  }
}
