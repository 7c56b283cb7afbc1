// Gateway API durations (GEP-2257): one to four <number><unit> pairs, units h, m, s and ms,
// at most five digits each, read with Go's time.ParseDuration semantics ("1m30s", "250ms").
// meshpilot keeps durations as milliseconds in memory and as these strings in the API.

import { ConfigError } from './errors.ts';

/** The pattern the CRDs put on every duration field. */
export const DURATION_PATTERN = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';

const DURATION = new RegExp(DURATION_PATTERN);
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

/** The largest duration formatDuration can write: 99999h59m59s999ms. */
export const MAX_DURATION_MS = 99_999 * UNIT_MS.h + 59 * UNIT_MS.m + 59 * UNIT_MS.s + 999;

/** True when `text` is a Gateway API duration. */
export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/**
 * Milliseconds in `text`, e.g. "1m30s" -> 90000. Throws ConfigError when `text` is not a
 * Gateway API duration, its message starting with `field` when one is given.
 */
export function parseDuration(text: string, field?: string): number {
  if (!DURATION.test(text)) {
    throw new ConfigError(`${field ? `${field}: ` : ''}invalid duration ${JSON.stringify(text)}: expected one to four <number><unit> pairs with units h, m, s, ms, e.g. "1m30s" or "250ms"`);
  }
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) {
    total += Number(digits) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

/**
 * A duration for people, in events and logs: "250 ms", "1.99 s", "2 min 5 s", "1 h 20 min".
 * Not parseable back: specs keep formatDuration's form.
 */
export function durationInWords(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const s = totalSeconds % 60;
    return `${Math.floor(totalSeconds / 60)} min${s ? ` ${s} s` : ''}`;
  }
  const minutes = Math.round(totalSeconds / 60);
  const m = minutes % 60;
  return `${Math.floor(minutes / 60)} h${m ? ` ${m} min` : ''}`;
}

/**
 * The canonical Gateway API duration for `ms`, rounded to the nearest millisecond: "0s" for
 * zero, otherwise its non-zero h, m, s and ms parts ("1h30m", "1s500ms"). parseDuration reads
 * it back to the same number. Throws RangeError for a negative, non-finite or too long
 * duration (beyond MAX_DURATION_MS).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}: must be a finite number >= 0`);
  let rest = Math.round(ms);
  if (rest > MAX_DURATION_MS) throw new RangeError(`cannot format duration ${ms}ms: longer than 99999h59m59s999ms`);
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    rest -= n * UNIT_MS[unit];
    if (n > 0) out += `${n}${unit}`;
  }
  return out;
}
