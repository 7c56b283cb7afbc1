// The signals of one region from two consecutive scrapes of its page: rates and quantiles
// need an interval, so each pair of scrapes gives one measurement, stamped with the later one.
import { LATENCY_QUANTILES, type Signal } from '../types.ts';
import { counterIncrease, summedIncrease } from './counter-rate.ts';
import { bucketQuantile, type Bucket } from './histogram-quantile.ts';
import type { BucketSeries, RegionCounters } from './region-counters.ts';

export interface ScrapeReading {
  atMs: number;
  counters: RegionCounters;
}

/** The increase of every bucket series, summed by bound: the histogram of the interval. */
function intervalBuckets(previous: ReadonlyMap<string, BucketSeries>, current: ReadonlyMap<string, BucketSeries>): Bucket[] | undefined {
  const byLe = new Map<number, number>();
  for (const [key, series] of current) {
    // Per series, as PromQL's sum by (le) (increase(...)) does; a new series counts from 0.
    const increase = counterIncrease(previous.get(key)?.value ?? 0, series.value);
    if (increase === undefined) return undefined;
    const sum = (byLe.get(series.leMs) ?? 0) + increase;
    if (!Number.isFinite(sum)) return undefined;
    byLe.set(series.leMs, sum);
  }
  return [...byLe].map(([le, count]) => ({ le, count }));
}

/**
 * What `current` measured since `previous`: requestRate (per second) whenever both scrapes
 * counted requests; errorRate only when there were requests in the interval; p50/p90/p99 in
 * ms only when the latency histogram grew; saturation as the current gauge ratio. A signal
 * that cannot be measured is left out, never 0 in its place. Empty when the two scrapes do not
 * share an origin or time did not move forward. Pure.
 */
export function regionSignals(previous: ScrapeReading, current: ScrapeReading): Partial<Record<Signal, number>> {
  const values: Partial<Record<Signal, number>> = {};
  const elapsedS = (current.atMs - previous.atMs) / 1000;
  if (!(elapsedS > 0)) return values;
  const before = previous.counters;
  const now = current.counters;
  if (before.origin === now.origin) {
    if (before.requests && now.requests) {
      const requests = summedIncrease(before.requests, now.requests);
      if (requests !== undefined && Number.isFinite(requests / elapsedS)) {
        values.requestRate = requests / elapsedS;
        if (requests > 0 && before.errors && now.errors) {
          const errors = summedIncrease(before.errors, now.errors);
          // Resets of different series can make errors outrun requests; a fraction stays <= 1.
          if (errors !== undefined) values.errorRate = Math.min(1, errors / requests);
        }
      }
    }
    if (before.latency && now.latency) {
      const buckets = intervalBuckets(before.latency, now.latency);
      if (buckets) {
        for (const [signal, q] of Object.entries(LATENCY_QUANTILES) as [keyof typeof LATENCY_QUANTILES, number][]) {
          const ms = bucketQuantile(q, buckets);
          if (ms !== undefined && Number.isFinite(ms) && ms >= 0) values[signal] = ms;
        }
      }
    }
  }
  if (now.saturation !== undefined) values.saturation = now.saturation;
  return values;
}
