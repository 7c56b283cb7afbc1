// Counter increase and rate between two scrapes, with counter-reset detection the way PromQL's
// rate() sees resets: a counter only goes up, so a drop means its process restarted and
// counted again from zero since.

/** One reading of a counter (or of a set of counters) and when it was taken. */
export interface CounterReading {
  value: number;
  atMs: number;
}

/**
 * How much a counter grew from `previous` to `current`. A drop is a reset: the counter
 * restarted from 0, so everything it shows now is new. Undefined when either value is not a
 * finite, non-negative number (NaN, ±Inf and negative counters carry no usable increase).
 */
export function counterIncrease(previous: number, current: number): number | undefined {
  if (!Number.isFinite(previous) || !Number.isFinite(current) || previous < 0 || current < 0) return undefined;
  return current >= previous ? current - previous : current;
}

/**
 * Per-second rate between two readings of one counter, reset-aware like counterIncrease.
 * Undefined when time did not move forward or when counterIncrease is undefined: a rate is
 * never invented.
 */
export function counterRate(previous: CounterReading, current: CounterReading): number | undefined {
  const elapsedMs = current.atMs - previous.atMs;
  if (!(elapsedMs > 0)) return undefined;
  const increase = counterIncrease(previous.value, current.value);
  if (increase === undefined) return undefined;
  const rate = increase / (elapsedMs / 1000);
  // An increase near the top of float64 over a millisecond is no rate at all.
  return Number.isFinite(rate) ? rate : undefined;
}

/**
 * The summed increase of a set of series (series key -> cumulative value) between two
 * scrapes, each series reset-checked on its own as PromQL's sum(increase(...)) does. A series
 * absent from `previous` counts from 0: between two scrapes of a live target it was created,
 * and exporters start new series at 0. Series that disappeared count nothing; an empty
 * `current` gives 0, so a caller that has no series at all must say "no data" itself.
 * Undefined when any series has a value that is not a finite, non-negative number, or when
 * the sum leaves float64.
 */
export function summedIncrease(previous: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): number | undefined {
  let total = 0;
  for (const [key, value] of current) {
    const increase = counterIncrease(previous.get(key) ?? 0, value);
    if (increase === undefined) return undefined;
    total += increase;
  }
  return Number.isFinite(total) ? total : undefined;
}
