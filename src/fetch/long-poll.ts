/**
 * Long poll without a purgatory: a fetch that has not found enough bytes
 * subscribes to the appends of the partitions it reads and re-reads when one
 * of them is appended to, until it is satisfied or its max wait passes (then
 * it reads a last time). Nothing polls on a timer; an idle wait costs one
 * timeout and one listener per partition.
 */

/** Something appends can wake a waiter on (a PartitionLog). */
export interface AppendSource {
  onAppend(listener: () => void): () => void;
}

export interface Attempt<T> {
  /** True when the value is good enough to answer with now. */
  readonly done: boolean;
  readonly value: T;
}

export interface LongPollOptions<T> {
  readonly sources: Iterable<AppendSource>;
  readonly maxWaitMs: number;
  /** Reads; run at once, after each wake-up, and once more when the wait is over. */
  readonly attempt: () => Promise<Attempt<T>>;
  /** Ends the wait early (as if the max wait had passed). */
  readonly signal?: AbortSignal;
  /** Called with true when the request parks (the first attempt was not enough) and false when it stops waiting. */
  readonly onWait?: (waiting: boolean) => void;
}

/** Runs `attempt` until it is done or maxWaitMs has passed; returns the last value. */
export async function longPoll<T>(opts: LongPollOptions<T>): Promise<T> {
  let dirty = false;
  let wake: (() => void) | undefined;
  const onAppend = (): void => {
    dirty = true;
    wake?.();
  };
  // subscribe before the first read, so an append between the read and the wait is not missed
  const unsubscribe = opts.maxWaitMs > 0 ? [...opts.sources].map((s) => s.onAppend(onAppend)) : [];
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => wake?.();
  let parked = false;
  try {
    let result = await opts.attempt();
    if (result.done || unsubscribe.length === 0 || opts.signal?.aborted) return result.value;
    let timedOut = false;
    opts.onWait?.(true);
    parked = true;
    timer = setTimeout(() => {
      timedOut = true;
      wake?.();
    }, opts.maxWaitMs);
    opts.signal?.addEventListener('abort', onAbort);
    for (;;) {
      if (!dirty && !timedOut && !opts.signal?.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      dirty = false;
      result = await opts.attempt();
      if (result.done || timedOut || opts.signal?.aborted) return result.value;
    }
  } finally {
    if (timer) clearTimeout(timer);
    if (parked) opts.onWait?.(false);
    opts.signal?.removeEventListener('abort', onAbort);
    for (const off of unsubscribe) off();
  }
}
