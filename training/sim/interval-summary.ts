// The end of one simulated interval: what the ticks added up (interval-sums.ts) turned into
// what the route's clients and each region's upstream telemetry saw — latency distributions on
// the grid (per try for a region, per request with its retries for the route), errors,
// saturation, health — and the truth beside it for the evaluation.
import type { CrossRegionRetries } from './cross-region-retries.ts';
import type { IntervalSums } from './interval-sums.ts';
import { addPointMass, addShiftedMixture, gridQuantile, NEGLIGIBLE, type Mixture } from './math.ts';

/** What the data plane is doing during an interval. */
export interface Settings {
  /** Fractions per region, summing to 1. */
  weights: Float64Array;
  retryAttempts: number;
  perTryTimeoutMs: number;
}

/** One region over one interval, as its upstream telemetry counts it (per try, not per request). */
export interface RegionInterval {
  tries: number;
  failedTries: number;
  /** Cumulative counts of per-try latency on the latency grid (sums to `tries`). */
  latencyCdf: Float64Array;
  /** Mean utilisation over the interval (offered tries / capacity; above 1: overloaded). */
  saturation: number;
  /** Health verdict at the end of the interval. */
  healthy: boolean;
  /** What became of its telemetry at the end of the interval: TELEMETRY_DELIVERED, _STALE (not delivered) or _MISSING (lost, with what was known). */
  telemetry: number;
  /** Ground truth for tests and plots: mean per-try error probability and latency median, ms. */
  truth: { errorRate: number; medianMs: number; down: boolean };
}

/** The route over one interval, as clients saw it (retries included). */
export interface RouteInterval {
  startMs: number;
  endMs: number;
  requests: number;
  failedRequests: number;
  /** Seconds during which the p99 broke its objective or errors broke their budget. */
  sloViolationSec: number;
  /** Σ over ticks of min(1, share above the objective / SLO_TAIL) × tick seconds: how close the route ran to its SLO. */
  sloPressureSec: number;
  /** Σ cross-region requests × link cost. */
  crossRegionCostSum: number;
  /** Cumulative counts of client latency on the grid (sums to `requests`). */
  latencyCdf: Float64Array;
  p99Ms: number | null;
  regions: RegionInterval[];
}

export interface SummaryInput {
  n: number;
  startMs: number;
  endMs: number;
  settings: Settings;
  /** The route's totals over the interval's ticks. */
  totals: { requests: number; failed: number; violation: number; pressure: number; cost: number };
  sums: IntervalSums;
  /** Each region's log-latency parameters now (used where it served no tries). */
  mu: Float64Array;
  sig: Float64Array;
  /** Round trips per (home, region) without link faults. */
  rtt: Float64Array;
  healthy: Uint8Array;
  telemetry: ArrayLike<number>;
  across: CrossRegionRetries | null;
  /** Arrays the result's distributions are written into (reused from interval to interval). */
  routeCdf: Float64Array;
  regionCdfs: Float64Array[];
}

/** The interval's RouteInterval; its latency arrays are `x.routeCdf` and `x.regionCdfs`, overwritten by the next call. */
export function summariseInterval(x: SummaryInput): RouteInterval {
const { n, startMs, settings, sums: acc, routeCdf: routeCdfOut, regionCdfs, across } = x;
const { requests, failed, violation, pressure, cost } = x.totals;
  const R = settings.retryAttempts;
  const T = settings.perTryTimeoutMs;
  const spanSec = (x.endMs - startMs) / 1000;
  const routeCdf = routeCdfOut.fill(0);
  const regions: RegionInterval[] = [];
  // Per region: one lognormal matching the interval's log-latency moments (ticks mixed by
  // tries), and one more for the tries on slowed pods when a partial fault hit some.
  const mixtures: Mixture[] = [];
  for (let r = 0; r < n; r++) {
    const slow = acc.slowW[r]!;
    const w = acc.regTries[r]! - slow;
    const m: Mixture = { mu: x.mu[r]!, sigma: x.sig[r]!, share: 0, muSlow: 0, sigmaSlow: 1 };
    if (w > 0) {
      m.mu = acc.mu[r]! / w;
      m.sigma = Math.sqrt(Math.max(1e-6, acc.mu2[r]! / w - m.mu * m.mu));
    }
    if (slow > 0) {
      m.share = slow / acc.regTries[r]!;
      m.muSlow = acc.slowMu[r]! / slow;
      m.sigmaSlow = Math.sqrt(Math.max(1e-6, acc.slowMu2[r]! / slow - m.muSlow * m.muSlow));
    }
    mixtures.push(m);
  }
  for (let r = 0; r < n; r++) {
    const cdf = regionCdfs[r]!.fill(0);
    for (let h = 0; h < n; h++) {
      const i = h * n + r;
      if (across) {
        across.addTries(cdf, i, mixtures[r]!, T);
        continue;
      }
      const req = acc.req[i]!;
      if (req <= 0) continue;
      const tries = acc.tries[i]!;
      const q = acc.q[i]! / req;
      const e = tries > 0 ? acc.err[i]! / tries : 0;
      const pTo = tries > 0 ? acc.pTo[i]! / tries : 0;
      const errLat = tries > 0 ? acc.errLat[i]! / tries : 0;
      const F = q > 0 ? acc.failLat[i]! / (req * q) : 0;
      // The interval's mean round trip where a link fault changed it (else the link's own, to the bit).
      const rtt = acc.linkFault[i] ? acc.rtt[i]! / req : x.rtt[i]!;
      // Per try, as the region's upstream telemetry sees it.
      addShiftedMixture(cdf, tries * (1 - q), rtt, mixtures[r]!, T);
      addPointMass(cdf, tries * e, errLat);
      addPointMass(cdf, tries * (1 - e) * pTo, T);
      // Per request, as clients see it: k failed tries, then a success or the last failure.
      let w = req * (1 - q);
      for (let k = 0; k <= R && w > req * NEGLIGIBLE; k++, w *= q) addShiftedMixture(routeCdf, w, rtt + k * F, mixtures[r]!, T + k * F);
      addPointMass(routeCdf, req * q ** (R + 1), (R + 1) * F);
    }
    const tries = acc.regTries[r]!;
    regions.push({
      tries,
      failedTries: acc.regFailed[r]!,
      latencyCdf: cdf,
      saturation: acc.rho[r]! / spanSec,
      healthy: x.healthy[r] === 1,
      telemetry: x.telemetry[r]!,
      truth: { errorRate: acc.truthErr[r]! / spanSec, medianMs: acc.truthMed[r]! / spanSec, down: acc.down[r]! > 0 },
    });
  }
  across?.addRequests(routeCdf, mixtures, R, T);
  // Components left out as negligible still count as requests: the CDF's total stays `requests`.
  return {
    startMs,
    endMs: x.endMs,
    requests,
    failedRequests: failed,
    sloViolationSec: violation,
    sloPressureSec: pressure,
    crossRegionCostSum: cost,
    latencyCdf: routeCdf,
    p99Ms: gridQuantile(routeCdf, requests, 0.99),
    regions,
  };
}
