/**
 * share.auto.offset.reset: where a share-partition starts when the share coordinator has no start
 * offset for it (ReadShareGroupState's StartOffset -1). "latest" (the default) starts at the log's
 * latest offset, "earliest" at the log start offset, "by_duration:<ISO-8601 duration>" at the first
 * record whose timestamp is at most that long ago (Kafka's ShareGroupAutoOffsetResetStrategy; the
 * duration has Java Duration.parse's PnDTnHnMn.nS form).
 */

export type ShareAutoOffsetReset =
  | { readonly type: 'earliest' }
  | { readonly type: 'latest' }
  | { readonly type: 'by_duration'; readonly durationMs: number };

/** The log offsets the reset needs, read by the caller. */
export interface LogOffsets {
  readonly logStartOffset: number;
  /** The offset a new record would get (ListOffsets LATEST). */
  readonly latestOffset: number;
  /** The first offset whose record timestamp is ≥ timestampMs, or undefined when there is none. */
  offsetForTimestamp(timestampMs: number): number | undefined;
}

const DURATION = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i;

/** Java Duration.parse's grammar, in milliseconds; undefined when `text` does not match it. */
export function parseIsoDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (m === null || text.toUpperCase().endsWith('T')) return undefined;
  const [, sign, d, h, min, s, frac] = m;
  if (d === undefined && h === undefined && min === undefined && s === undefined) return undefined;
  const secondsSign = s?.startsWith('-') === true ? -1 : 1;
  const fracMs = frac === undefined || frac === '' ? 0 : Math.trunc(Number(`0.${frac}`) * 1000) * secondsSign;
  const ms =
    Number(d ?? 0) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(min ?? 0) * 60_000 + Number(s ?? 0) * 1000 + fracMs;
  return sign === '-' ? -ms : ms;
}

/** Parses the config value; throws with Kafka's message for a value it does not accept. */
export function parseShareAutoOffsetReset(value: string): ShareAutoOffsetReset {
  const v = value.trim().toLowerCase();
  if (v === 'earliest') return { type: 'earliest' };
  if (v === 'latest') return { type: 'latest' };
  if (v.startsWith('by_duration')) {
    const i = value.indexOf(':');
    if (i < 0) throw new Error('<:duration> part is missing in by_duration auto offset reset strategy.');
    const durationMs = parseIsoDurationMs(value.slice(i + 1).trim());
    if (durationMs === undefined) throw new Error('Unable to parse duration string in by_duration offset reset strategy.');
    if (durationMs < 0) throw new Error('Negative duration is not supported in by_duration offset reset strategy.');
    return { type: 'by_duration', durationMs };
  }
  throw new Error(`Unsupported strategy for ShareGroup: ${value}`);
}

/** The start offset the reset gives, or undefined when by_duration finds no record (Kafka: OFFSET_NOT_AVAILABLE). */
export function resetStartOffset(reset: ShareAutoOffsetReset, log: LogOffsets, nowMs: number): number | undefined {
  switch (reset.type) {
    case 'earliest':
      return log.logStartOffset;
    case 'latest':
      return log.latestOffset;
    case 'by_duration':
      return log.offsetForTimestamp(nowMs - reset.durationMs);
  }
}
