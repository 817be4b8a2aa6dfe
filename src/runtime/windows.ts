/**
 * Event-time windows aligned to the epoch (offset 0), tumbling when slide equals
 * size. A window [start, start + size) holds timestamps start..start+size-1, so
 * it fires when the watermark reaches its max timestamp (end - 1), as in Flink.
 * All times in ms since the epoch; negative timestamps are valid.
 */
export interface WindowSpec {
  sizeMs: number;
  slideMs: number;
}

export function validateWindowSpec(spec: WindowSpec): void {
  if (!Number.isInteger(spec.sizeMs) || spec.sizeMs <= 0)
    throw new RangeError('window size must be a positive whole number of ms');
  if (!Number.isInteger(spec.slideMs) || spec.slideMs <= 0)
    throw new RangeError('slide must be a positive whole number of ms');
  if (spec.slideMs > spec.sizeMs)
    throw new RangeError('slide must not exceed the window size (gaps would drop records)');
}

/** Start of the latest window containing ts: ts - ((ts mod slide) made non-negative). */
export function lastWindowStart(ts: number, slideMs: number): number {
  const rem = ts % slideMs;
  return ts - (rem < 0 ? rem + slideMs : rem);
}

/**
 * Starts of every window containing ts, latest first. Only windows whose
 * lateness deadline (maxTimestamp + allowedLateness) is strictly after
 * `lateThreshold` are returned, so passing the current watermark yields the
 * windows a record may still update.
 */
export function assignWindows(
  ts: number,
  spec: WindowSpec,
  allowedLatenessMs = 0,
  lateThreshold = Number.NEGATIVE_INFINITY,
): number[] {
  const out: number[] = [];
  for (let start = lastWindowStart(ts, spec.slideMs); start > ts - spec.sizeMs; start -= spec.slideMs) {
    if (start + spec.sizeMs - 1 + allowedLatenessMs > lateThreshold) out.push(start);
  }
  return out;
}

export function windowMaxTimestamp(start: number, spec: WindowSpec): number {
  return start + spec.sizeMs - 1;
}

/** A window fires once the watermark reaches its max timestamp. */
export function isWindowComplete(start: number, spec: WindowSpec, watermark: number): boolean {
  return start + spec.sizeMs - 1 <= watermark;
}

/** A window's state is dropped, and records for it are late, once the watermark passes its lateness deadline. */
export function isWindowExpired(
  start: number,
  spec: WindowSpec,
  allowedLatenessMs: number,
  watermark: number,
): boolean {
  return start + spec.sizeMs - 1 + allowedLatenessMs <= watermark;
}
