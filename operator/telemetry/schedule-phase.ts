// Where in its interval a route's periodic reads happen. Routes are followed in bursts (every
// route at once when the operator starts or takes the lead); reading them all at the same
// instant of every interval would hit Prometheus, and the event loop, with every query at
// once. A stable per-route phase spreads them evenly, and keeps each route on its phase
// across restarts and replicas.
import { hashString } from '../base/random.ts';

/** A stable offset in [0, intervalMs) for `key`. */
export function phaseOf(key: string, intervalMs: number): number {
  return intervalMs > 0 ? hashString(key) % intervalMs : 0;
}

/**
 * The first instant on `key`'s phase that is at least `minGapMs` after `afterMs`: the next
 * round of a route whose last round started at `afterMs`.
 */
export function nextOnPhase(afterMs: number, key: string, intervalMs: number, minGapMs: number): number {
  const phase = phaseOf(key, intervalMs);
  const earliest = afterMs + minGapMs;
  const offset = (((earliest - phase) % intervalMs) + intervalMs) % intervalMs;
  return offset === 0 ? earliest : earliest + intervalMs - offset;
}
