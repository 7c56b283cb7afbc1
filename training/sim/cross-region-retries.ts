// The request paths of cross-region retries (route.retries.crossRegion): try k of a request
// that picked region r is served by the k-th region of r's retry order (retry-order.ts). The
// simulator keeps per (home h, region s) what one try there does (its failure probability,
// its failed-try latency, its round trip); this module walks each request's tries through
// those pairs, for the tries each region is offered, the share of requests that fail after all
// of them, the latency clients see, and the cost their retries pay. Indices are h × n + s.
import { addPointMass, addShiftedMixture, mixtureCdf, NEGLIGIBLE, type Mixture } from './math.ts';
import { RetryOrder } from './retry-order.ts';
import type { ScenarioRegion } from './scenario-schema.ts';

/** The simulator's per-pair arrays this module reads (and `tries`, which it writes); the same arrays for the simulator's life. */
export interface PairArrays {
  demand: Float64Array;
  q: Float64Array;
  failLat: Float64Array;
  rttNow: Float64Array;
  rtt: Float64Array;
  cost: Float64Array;
  tries: Float64Array;
  /** Interval sums: requests of a pair (as picked), and tries served at a pair. */
  accReq: Float64Array;
  accTries: Float64Array;
  accErr: Float64Array;
  accPTo: Float64Array;
  accErrLat: Float64Array;
  accLinkFault: Uint8Array;
}

export class CrossRegionRetries {
  readonly #n: number;
  readonly #order: RetryOrder;
  readonly #p: PairArrays;
  /** Per (home, picked region): the share of requests whose every try failed, and the link cost their retries paid. */
  readonly #pathFail: Float64Array;
  readonly #pathRetryCost: Float64Array;
  /** Per (home, serving region), tries-weighted interval sums of the per-try failure, failed-try latency and round trip. */
  readonly #accQ: Float64Array;
  readonly #accF: Float64Array;
  readonly #accRtt: Float64Array;

  constructor(regions: readonly ScenarioRegion[], pairs: PairArrays) {
    const n = regions.length;
    this.#n = n;
    this.#order = new RetryOrder(regions);
    this.#p = pairs;
    this.#pathFail = new Float64Array(n * n);
    this.#pathRetryCost = new Float64Array(n * n);
    this.#accQ = new Float64Array(n * n);
    this.#accF = new Float64Array(n * n);
    this.#accRtt = new Float64Array(n * n);
  }

  /** The share of pair `i`'s requests that fail after every try, this tick. */
  failed(i: number): number {
    return this.#pathFail[i]!;
  }

  /** The link cost per request of pair `i` that its retries pay, this tick. */
  retryCost(i: number): number {
    return this.#pathRetryCost[i]!;
  }

  /** Fills `tries` per (home, serving region) for this tick's demand and failure probabilities, with `R` retries. */
  tries(R: number): void {
    const n = this.#n, p = this.#p;
    p.tries.fill(0);
    for (let h = 0; h < n; h++) {
      for (let r = 0; r < n; r++) {
        const i = h * n + r;
        const d = p.demand[i]!;
        let reach = 1, retryCost = 0;
        for (let k = 0; k <= R; k++) {
          const j = h * n + this.#order.regionOf(r, k);
          p.tries[j]! += d * reach;
          if (k > 0) retryCost += reach * p.cost[j]!;
          reach *= p.q[j]!;
        }
        this.#pathFail[i] = reach;
        this.#pathRetryCost[i] = retryCost;
      }
    }
  }

  /** P(client latency <= objective) for a request from home `h` that picked `r`; `mixture(s)` is region s's service time now. */
  withinObjective(h: number, r: number, objective: number, R: number, T: number, mixture: (s: number) => Mixture): number {
    const n = this.#n, p = this.#p;
    let within = 0, reach = 1, failed = 0;
    for (let k = 0; k <= R && reach > NEGLIGIBLE; k++) {
      const s = this.#order.regionOf(r, k);
      const j = h * n + s;
      const q = p.q[j]!, rtt = p.rttNow[j]!;
      const y = Math.min(objective - failed, T) - rtt;
      if (q < 1 && y > 0) {
        const m = mixture(s);
        const norm = mixtureCdf(T - rtt, m);
        if (norm > 1e-12) within += reach * (1 - q) * Math.min(1, mixtureCdf(y, m) / norm);
      }
      failed += p.failLat[j]!;
      reach *= q;
    }
    if (failed <= objective) within += reach;
    return within;
  }

  /** Starts the interval's sums over. */
  resetInterval(): void {
    this.#accQ.fill(0);
    this.#accF.fill(0);
    this.#accRtt.fill(0);
  }

  /** Adds `tries` served at pair `i` this tick to the interval's sums. */
  accumulate(i: number, tries: number): void {
    const p = this.#p;
    this.#accQ[i]! += tries * p.q[i]!;
    this.#accF[i]! += tries * p.q[i]! * p.failLat[i]!;
    this.#accRtt[i]! += tries * p.rttNow[i]!;
  }

  /** The per-try latency of pair `i` (home, region `m`'s region) on the region's telemetry, from the interval's sums. */
  addTries(cdf: Float64Array, i: number, m: Mixture, T: number): void {
    const p = this.#p;
    const tries = p.accTries[i]!;
    if (tries <= 0) return;
    const q = this.#accQ[i]! / tries;
    const e = p.accErr[i]! / tries;
    const pTo = p.accPTo[i]! / tries;
    const rtt = p.accLinkFault[i] ? this.#accRtt[i]! / tries : p.rtt[i]!;
    addShiftedMixture(cdf, tries * (1 - q), rtt, m, T);
    addPointMass(cdf, tries * e, p.accErrLat[i]! / tries);
    addPointMass(cdf, tries * (1 - e) * pTo, T);
  }

  /** Each pair's requests over the interval as clients saw them, their tries walking the retry order. */
  addRequests(routeCdf: Float64Array, mixtures: readonly Mixture[], R: number, T: number): void {
    const n = this.#n, p = this.#p;
    for (let h = 0; h < n; h++) {
      for (let r = 0; r < n; r++) {
        const req = p.accReq[h * n + r]!;
        if (req <= 0) continue;
        let w = req, failed = 0;
        for (let k = 0; k <= R && w > req * NEGLIGIBLE; k++) {
          const s = this.#order.regionOf(r, k);
          const j = h * n + s;
          const tries = p.accTries[j]!;
          // A region no try reached this interval (a share too small to reach it) stands as failing at once.
          const q = tries > 0 ? this.#accQ[j]! / tries : 1;
          const F = tries > 0 && q > 0 ? this.#accF[j]! / (tries * q) : 0;
          const rtt = p.accLinkFault[j] ? (tries > 0 ? this.#accRtt[j]! / tries : p.rttNow[j]!) : p.rtt[j]!;
          addShiftedMixture(routeCdf, w * (1 - q), rtt + failed, mixtures[s]!, T + failed);
          failed += F;
          w *= q;
        }
        addPointMass(routeCdf, w, failed);
      }
    }
  }
}
