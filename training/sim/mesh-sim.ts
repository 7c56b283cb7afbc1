// The physics of one route across regions, one tick at a time, and what a decision interval
// amounts to. Per region: a fluid queue in front of a capacity (a stationary M/M/c wait from
// Sakasegawa's approximation below saturation, a backlog that grows and overflows above it),
// a lognormal service time whose median carries the wait (a mixture of two when a fault hits
// some of its pods only), and errors from the base rate,
// events, saturation and queue overflow. Per (client home, serving region): round-trip time,
// per-try timeouts and retries, whose extra tries load the same region (Envoy retries stay in
// the weighted cluster that was picked), which is how a struggling region drowns in a retry
// storm; or, with cross-region retries, the next regions in failover order (retry-order.ts). A scenario with a recorded trace takes its load and its regions' condition from the
// recording instead (trace-timeline.ts). Nothing here allocates per tick: an episode of
// thousands of ticks takes milliseconds.
import { ConfigError } from '../../operator/base/errors.ts';
import { prng } from '../../operator/base/random.ts';
import { DOWN_BLACKHOLE, DOWN_NONE, DOWN_REFUSE, EventTimeline, newEffects, type Effects } from './events.ts';
import { addPointMass, addShiftedMixture, GRID_SIZE, gridQuantile, mixtureCdf, NEGLIGIBLE, normalSampler, type Mixture } from './math.ts';
import type { ScenarioSpec } from './scenario-schema.ts';
import { TraceTimeline } from './trace-timeline.ts';
import { Autoscaler } from './autoscaler.ts';
import { CrossRegionRetries } from './cross-region-retries.ts';

/** The share of requests allowed above the latency objective (the SLO is on the p99). */
export const SLO_TAIL = 0.01;
/** Utilisation at which saturation errors start, and the span over which they reach their maximum. */
const SATURATION_ERRORS_FROM = 0.9;
const SATURATION_ERRORS_SPAN = 0.2;
/** Above this the stationary wait is held and the backlog takes over. */
const RHO_STATIONARY_MAX = 0.98;
/** Latency of a refused connection beyond the round trip, ms. */
const REFUSE_MS = 1;

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

export class MeshSim {
  readonly n: number;
  readonly tickMs: number;
  readonly #s: ScenarioSpec;
  readonly #regionIndex: Map<string, number>;
  // Static per region.
  readonly #capacity: Float64Array;
  readonly #median: Float64Array;
  readonly #sigma: Float64Array;
  readonly #baseError: Float64Array;
  readonly #clients: Float64Array;
  readonly #servers: Float64Array;
  readonly #loadPhase: Float64Array;
  /** Each home's share of all clients: how a recorded total load is spread. */
  readonly #clientShare: Float64Array;
  readonly #trace: TraceTimeline | undefined;
  // Static per (home h, region r) at h * n + r.
  readonly #rtt: Float64Array;
  /** Round trip per (home, region) this tick, link faults included; and whether a link fault touched the pair this interval. */
  readonly #rttNow: Float64Array;
  readonly #accRtt: Float64Array;
  readonly #accLinkFault: Uint8Array;
  readonly #cost: Float64Array;
  // Dynamic per region.
  readonly #backlog: Float64Array;
  readonly #backlogNext: Float64Array;
  readonly #err: Float64Array;
  readonly #mu: Float64Array;
  readonly #sig: Float64Array;
  readonly #med: Float64Array;
  /** The share of tries on pods a partial fault slows, and their log-median (the same log-sd). */
  readonly #slowShare: Float64Array;
  readonly #slowMu: Float64Array;
  /** Scratch for the service-time mixture of one region (filled by #mixture, never kept). */
  readonly #mix: Mixture = { mu: 0, sigma: 1, share: 0, muSlow: 0, sigmaSlow: 1 };
  readonly #rho: Float64Array;
  readonly #autoscaler: Autoscaler;
  readonly #triesR: Float64Array;
  readonly #healthy: Uint8Array;
  readonly #badForMs: Float64Array;
  readonly #goodForMs: Float64Array;
  readonly #noise: Float64Array;
  // Per tick, per (h, r).
  readonly #demand: Float64Array;
  readonly #pTo: Float64Array;
  readonly #q: Float64Array;
  readonly #tries: Float64Array;
  readonly #failLat: Float64Array;
  readonly #errLat: Float64Array;
  // Interval sums.
  readonly #accReq: Float64Array;
  readonly #accTries: Float64Array;
  readonly #accQ: Float64Array;
  readonly #accErr: Float64Array;
  readonly #accPTo: Float64Array;
  readonly #accFailLat: Float64Array;
  readonly #accErrLat: Float64Array;
  readonly #accMu: Float64Array;
  readonly #accMu2: Float64Array;
  readonly #accSlowW: Float64Array;
  readonly #accSlowMu: Float64Array;
  readonly #accSlowMu2: Float64Array;
  readonly #accRegTries: Float64Array;
  readonly #accRegFailed: Float64Array;
  readonly #accRho: Float64Array;
  readonly #accTruthErr: Float64Array;
  readonly #accTruthMed: Float64Array;
  readonly #accDown: Float64Array;
  readonly #fx: Effects;
  /** Cross-region retries: the requests' paths over the regions (null: retries stay in the picked region). */
  readonly #across: CrossRegionRetries | null;
  readonly #mixtureOf = (r: number): Mixture => this.#mixture(r);
  /** Latency distributions of the last interval, reused: an interval's arrays are valid until the next runInterval. */
  readonly #routeCdf = new Float64Array(GRID_SIZE);
  readonly #regionCdfs: Float64Array[];
  #timeline!: EventTimeline;
  #normal!: () => number;
  #nowMs = 0;

  /** Throws ConfigError for a scenario whose trace was named but not read (see scenario-loader.ts). */
  constructor(scenario: ScenarioSpec) {
    const s = scenario;
    const n = s.regions.length;
    if (s.trace && !s.recorded) throw new ConfigError(`scenario ${s.name}: trace: ${s.trace.file} was not read; load the scenario with loadScenario (or withTrace)`);
    this.#s = s;
    this.n = n;
    this.tickMs = s.episode.tickSec * 1000;
    this.#regionIndex = new Map(s.regions.map((r, i) => [r.name, i]));
    const f = () => new Float64Array(n);
    const g = () => new Float64Array(n * n);
    this.#capacity = Float64Array.from(s.regions, (r) => r.capacityRps);
    this.#median = Float64Array.from(s.regions, (r) => r.medianLatencyMs);
    this.#sigma = Float64Array.from(s.regions, (r) => r.latencySigma);
    this.#baseError = Float64Array.from(s.regions, (r) => r.baseErrorRate);
    this.#clients = Float64Array.from(s.regions, (r) => r.clientRps);
    this.#loadPhase = Float64Array.from(s.regions, (r) => r.loadPhaseSec);
    const clients = s.regions.reduce((sum, r) => sum + r.clientRps, 0);
    this.#clientShare = Float64Array.from(s.regions, (r) => r.clientRps / clients);
    this.#trace = s.recorded ? new TraceTimeline(s.recorded, s.regions) : undefined;
    // Concurrency follows from capacity and mean service time (Little's law at full load).
    this.#servers = Float64Array.from(s.regions, (r) => Math.max(1, (r.capacityRps * r.medianLatencyMs * Math.exp((r.latencySigma * r.latencySigma) / 2)) / 1000));
    this.#rtt = g();
    this.#rttNow = g();
    this.#accRtt = g();
    this.#accLinkFault = new Uint8Array(n * n);
    this.#cost = g();
    for (let h = 0; h < n; h++) {
      for (let r = 0; r < n; r++) {
        if (h === r) continue;
        this.#rtt[h * n + r] = s.network.defaultRttMs;
        this.#cost[h * n + r] = s.network.defaultCost;
      }
    }
    for (const l of s.network.links) {
      const a = this.#regionIndex.get(l.between[0])!, b = this.#regionIndex.get(l.between[1])!;
      this.#rtt[a * n + b] = this.#rtt[b * n + a] = l.rttMs;
      this.#cost[a * n + b] = this.#cost[b * n + a] = l.cost;
    }
    this.#backlog = f(); this.#backlogNext = f(); this.#err = f(); this.#mu = f(); this.#sig = f(); this.#med = f();
    this.#slowShare = f(); this.#slowMu = f(); this.#accSlowW = f(); this.#accSlowMu = f(); this.#accSlowMu2 = f();
    this.#autoscaler = new Autoscaler(s.regions.map((r) => r.autoscale));
    this.#rho = f(); this.#triesR = f(); this.#badForMs = f(); this.#goodForMs = f(); this.#noise = f();
    this.#healthy = new Uint8Array(n);
    this.#demand = g(); this.#pTo = g(); this.#q = g(); this.#tries = g(); this.#failLat = g(); this.#errLat = g();
    this.#accReq = g(); this.#accTries = g(); this.#accQ = g(); this.#accErr = g(); this.#accPTo = g(); this.#accFailLat = g(); this.#accErrLat = g();
    this.#accMu = f(); this.#accMu2 = f(); this.#accRegTries = f(); this.#accRegFailed = f(); this.#accRho = f();
    this.#accTruthErr = f(); this.#accTruthMed = f(); this.#accDown = f();
    this.#fx = newEffects(n);
    this.#across = s.route.retries.crossRegion
      ? new CrossRegionRetries(s.regions, {
        demand: this.#demand, q: this.#q, failLat: this.#failLat, rttNow: this.#rttNow, rtt: this.#rtt, cost: this.#cost, tries: this.#tries,
        accReq: this.#accReq, accTries: this.#accTries, accErr: this.#accErr, accPTo: this.#accPTo, accErrLat: this.#accErrLat, accLinkFault: this.#accLinkFault,
      })
      : null;
    this.#regionCdfs = Array.from({ length: n }, () => new Float64Array(GRID_SIZE));
    this.reset(0, 0);
  }

  get nowMs(): number {
    return this.#nowMs;
  }

  /** Event start times of this episode (after jitter), ms. */
  get eventStartsMs(): number[] {
    return this.#timeline.startsMs;
  }

  /** Starts over at `startMs` with an idle, healthy mesh and the seed's event jitter and noise. */
  reset(seed: number, startMs: number): void {
    const uniform = prng(seed);
    this.#timeline = new EventTimeline(this.#s.events, this.#regionIndex, uniform);
    this.#normal = normalSampler(uniform);
    this.#nowMs = startMs;
    this.#backlog.fill(0);
    this.#noise.fill(0);
    this.#healthy.fill(1);
    this.#badForMs.fill(0);
    this.#goodForMs.fill(0);
    this.#autoscaler.reset();
    this.#slowShare.fill(0);
    for (let r = 0; r < this.n; r++) {
      this.#err[r] = this.#baseError[r]!;
      this.#med[r] = this.#median[r]!;
      this.#mu[r] = Math.log(this.#median[r]!);
      this.#sig[r] = this.#sigma[r]!;
    }
  }

  /**
   * Runs the ticks of one interval of `durationMs` under `settings` and sums them up. The
   * result's latency arrays are the simulator's own and are overwritten by the next call: copy
   * what must outlive it.
   */
  runInterval(durationMs: number, settings: Settings): RouteInterval {
    const n = this.n;
    const startMs = this.#nowMs;
    for (const a of [this.#accReq, this.#accTries, this.#accQ, this.#accErr, this.#accPTo, this.#accFailLat, this.#accErrLat, this.#accMu, this.#accMu2,
      this.#accRegTries, this.#accRegFailed, this.#accRho, this.#accTruthErr, this.#accTruthMed, this.#accDown, this.#accRtt, this.#accLinkFault, this.#accSlowW, this.#accSlowMu, this.#accSlowMu2]) a.fill(0);
    this.#across?.resetInterval();
    let requests = 0, failed = 0, violation = 0, pressure = 0, cost = 0;
    const dt = this.tickMs / 1000;
    const objective = this.#s.route.objectives.latencyP99Ms;
    const maxError = this.#s.route.objectives.maxErrorRate;
    const R = settings.retryAttempts;
    const T = settings.perTryTimeoutMs;
    const ticks = Math.round(durationMs / this.tickMs);
    for (let t = 0; t < ticks; t++) {
      const tickRequests = this.#tick(this.#nowMs, settings, dt);
      // Route-level outcome of this tick: failures after retries, and the share above the objective.
      let tickFailed = 0, within = 0;
      const across = this.#across;
      for (let h = 0; h < n; h++) {
        for (let r = 0; r < n; r++) {
          const i = h * n + r;
          const d = this.#demand[i]!;
          if (d > 0) {
            if (across) {
              tickFailed += d * across.failed(i);
              within += d * across.withinObjective(h, r, objective, R, T, this.#mixtureOf);
              cost += d * dt * across.retryCost(i);
            } else {
              const q = this.#q[i]!;
              const allFail = q ** (R + 1);
              tickFailed += d * allFail;
              within += d * this.#withinObjective(i, r, objective, R, T);
            }
            if (h !== r) cost += d * dt * this.#cost[i]!;
            this.#accumulateRequests(i, dt);
          }
          // Tries reach (h, r) from requests that picked it, and with cross-region retries from others too.
          if (this.#tries[i]! > 0) this.#accumulateTries(i, r, dt);
        }
      }
      for (let r = 0; r < n; r++) {
        this.#accRegTries[r]! += this.#triesR[r]! * dt;
        this.#accRho[r]! += this.#rho[r]! * dt;
        this.#accTruthErr[r]! += this.#err[r]! * dt;
        this.#accTruthMed[r]! += this.#med[r]! * dt;
        this.#accDown[r]! += this.#fx.down[r]! !== DOWN_NONE ? dt : 0;
      }
      if (tickRequests > 0) {
        const tail = Math.max(0, 1 - within / tickRequests);
        const errorRate = tickFailed / tickRequests;
        if (tail > SLO_TAIL + 1e-12 || errorRate > maxError) violation += dt;
        pressure += Math.min(1, tail / SLO_TAIL) * dt;
      }
      requests += tickRequests * dt;
      failed += tickFailed * dt;
      this.#nowMs += this.tickMs;
    }
    return this.#summarise(startMs, requests, failed, violation, pressure, cost, settings);
  }

  /** Advances the world by one tick at `tMs`; returns the client request rate. */
  #tick(tMs: number, settings: Settings, dt: number): number {
    const n = this.n;
    const s = this.#s;
    const fx = this.#fx;
    this.#timeline.apply(tMs, fx);
    for (let i = 0; i < n * n; i++) this.#rttNow[i] = this.#rtt[i]! + fx.linkAddedMs[i]!;
    let total = 0;
    if (this.#trace) {
      // The recorded total, spread over the homes by their clientRps (the shape, not the level).
      // A recording already carries real traffic's wander: no diurnal curve, no added noise.
      const recorded = this.#trace.apply(tMs, fx);
      for (let h = 0; h < n; h++) {
        const lambda = recorded * this.#clientShare[h]! * fx.clientFactor[h]!;
        total += lambda;
        for (let r = 0; r < n; r++) this.#demand[h * n + r] = lambda * settings.weights[r]!;
      }
    } else {
      const d = s.load.diurnal;
      // Load noise is AR(1) so that it wanders like real traffic instead of flickering per tick.
      const keep = 0.95, fresh = Math.sqrt(1 - keep * keep);
      for (let h = 0; h < n; h++) {
        this.#noise[h] = keep * this.#noise[h]! + fresh * this.#normal();
        const diurnal = d ? 1 + d.amplitude * Math.sin((2 * Math.PI * (tMs / 1000 + d.phaseSec + this.#loadPhase[h]!)) / d.periodSec) : 1;
        const lambda = this.#clients[h]! * diurnal * fx.clientFactor[h]! * Math.max(0, 1 + s.load.noise * this.#noise[h]!);
        total += lambda;
        for (let r = 0; r < n; r++) this.#demand[h * n + r] = lambda * settings.weights[r]!;
      }
    }
    // Tries depend on failures and failures on load: one fixed-point pass from the last tick's
    // state, then the retry model again under the new state (a storm builds over ticks, as it does).
    this.#retryModel(settings);
    for (let r = 0; r < n; r++) this.#physics(r, dt);
    this.#retryModel(settings);
    for (let r = 0; r < n; r++) {
      this.#backlog[r] = this.#backlogNext[r]!;
      this.#health(r, dt);
    }
    return total;
  }

  /** Per (home, region): per-try timeout and failure probabilities, tries per request, failed-try latency. */
  #retryModel(settings: Settings): void {
    const n = this.n;
    const R = settings.retryAttempts;
    const T = settings.perTryTimeoutMs;
    const cross = this.#across !== null;
    for (let r = 0; r < n; r++) {
      const down = this.#fx.down[r]!;
      const e = this.#err[r]!;
      for (let h = 0; h < n; h++) {
        const i = h * n + r;
        const rtt = this.#rttNow[i]!;
        const cut = this.#fx.linkDown[i] === 1;
        let pTo: number;
        // Nothing is sent from this home to this region: its timeout share is never read (with
        // cross-region retries, retries of other picks may reach it).
        if (this.#demand[i] === 0 && !cross) pTo = 0;
        else if (down === DOWN_BLACKHOLE || cut) pTo = 1;
        else if (down === DOWN_REFUSE) pTo = 0;
        else pTo = T <= rtt ? 1 : 1 - mixtureCdf(T - rtt, this.#mixture(r));
        const q = Math.min(1, e + (1 - e) * pTo);
        const errLat = rtt + (down === DOWN_REFUSE ? REFUSE_MS : Math.min(Math.max(T - rtt, 0), 0.5 * this.#med[r]!));
        this.#pTo[i] = pTo;
        this.#q[i] = q;
        this.#errLat[i] = errLat;
        this.#failLat[i] = q > 0 ? (e * errLat + (1 - e) * pTo * T) / q : 0;
        if (!cross) {
          const tries = q >= 1 - 1e-12 ? R + 1 : (1 - q ** (R + 1)) / (1 - q);
          this.#tries[i] = this.#demand[i]! * tries;
        }
      }
    }
    this.#across?.tries(R);
    for (let r = 0; r < n; r++) {
      let triesR = 0;
      // Tries lost in a partitioned link never reach the region: no load there.
      for (let h = 0; h < n; h++) if (this.#fx.linkDown[h * n + r] !== 1) triesR += this.#tries[h * n + r]!;
      this.#triesR[r] = triesR;
    }
  }

  /** Queue, wait, latency and errors of region `r` under the tries it is offered this tick. */
  #physics(r: number, dt: number): void {
    const fx = this.#fx;
    const s = this.#s;
    const down = fx.down[r]!;
    const tries = this.#triesR[r]!;
    const baseMedian = this.#median[r]! * fx.serviceFactor[r]!;
    if (down !== DOWN_NONE) {
      // A region that is down serves nothing and keeps nothing queued.
      this.#backlogNext[r] = 0;
      this.#rho[r] = 0;
      this.#err[r] = down === DOWN_REFUSE ? 1 : 0;
      this.#med[r] = baseMedian;
      this.#mu[r] = Math.log(baseMedian);
      this.#sig[r] = this.#sigma[r]!;
      this.#slowShare[r] = 0;
      return;
    }
    // A slower service with the same concurrency also serves fewer requests per second; so do
    // the slower pods of a partial fault, for their share.
    const scale = this.#autoscaler.factor(r);
    const share = fx.partialShare[r]!;
    const partialCapacity = share === 0 ? 1 : 1 - share + share / fx.partialServiceFactor[r]!;
    const capacity = (this.#capacity[r]! * scale * fx.capacityFactor[r]! * partialCapacity) / fx.serviceFactor[r]!;
    const sigma0 = this.#sigma[r]!;
    const meanServiceMs = baseMedian * Math.exp((sigma0 * sigma0) / 2);
    const rho = tries / capacity;
    const b0 = this.#backlog[r]!;
    let b1 = Math.max(0, b0 + (tries - capacity) * dt);
    const limit = (capacity * s.server.queueLimitMs) / 1000;
    const dropped = Math.max(0, b1 - limit);
    b1 -= dropped;
    const dropShare = tries > 0 ? dropped / (tries * dt) : 0;
    const c = this.#servers[r]! * scale;
    const rs = Math.min(rho, RHO_STATIONARY_MAX);
    const stationaryMs = rs > 0 ? (meanServiceMs * rs ** (Math.sqrt(2 * (c + 1)) - 1)) / (c * (1 - rs)) : 0;
    const backlogMs = (((b0 + b1) / 2) / capacity) * 1000;
    const waitMs = stationaryMs + backlogMs;
    const over = Math.min(1, Math.max(0, (rho - SATURATION_ERRORS_FROM) / SATURATION_ERRORS_SPAN));
    const saturationErr = s.server.saturationErrorRate * over * over;
    const err = 1 - (1 - this.#baseError[r]!) * (1 - fx.addedErrorRate[r]!) * (1 - saturationErr) * (1 - dropShare);
    const median = baseMedian + waitMs + fx.addedMs[r]!;
    this.#backlogNext[r] = b1;
    this.#rho[r] = rho;
    this.#autoscaler.observe(r, rho, dt);
    this.#err[r] = err;
    this.#med[r] = median;
    this.#mu[r] = Math.log(median);
    // Stationary queueing waits are roughly exponential and widen the tail as they grow; the
    // wait behind an overload backlog is the same for everyone and only shifts the median.
    this.#sig[r] = Math.min(2, sigma0 + (0.5 * stationaryMs) / median);
    this.#slowShare[r] = share;
    if (share > 0) this.#slowMu[r] = Math.log(baseMedian * fx.partialServiceFactor[r]! + waitMs + fx.addedMs[r]! + fx.partialAddedMs[r]!);
  }

  /** Region `r`'s service time now, in the scratch mixture (valid until the next call). */
  #mixture(r: number): Mixture {
    const m = this.#mix;
    m.mu = this.#mu[r]!;
    m.sigma = m.sigmaSlow = this.#sig[r]!;
    m.share = this.#slowShare[r]!;
    m.muSlow = this.#slowMu[r]!;
    return m;
  }

  /** The health checker: a verdict flips after the condition has held for the configured delay. */
  #health(r: number, dt: number): void {
    const h = this.#s.health;
    const bad = this.#fx.down[r]! !== DOWN_NONE || this.#err[r]! > h.errorRateThreshold;
    const ms = dt * 1000;
    if (bad) {
      this.#badForMs[r]! += ms;
      this.#goodForMs[r] = 0;
    } else {
      this.#goodForMs[r]! += ms;
      this.#badForMs[r] = 0;
    }
    if (this.#healthy[r] && bad && this.#badForMs[r]! >= h.detectionDelaySec * 1000) this.#healthy[r] = 0;
    else if (!this.#healthy[r] && !bad && this.#goodForMs[r]! >= (h.recoveryDelaySec ?? h.detectionDelaySec) * 1000) this.#healthy[r] = 1;
  }

  /** P(client latency <= objective) for requests of pair `i` served by region `r`. */
  #withinObjective(i: number, r: number, objective: number, R: number, T: number): number {
    const q = this.#q[i]!;
    const rtt = this.#rttNow[i]!;
    const F = this.#failLat[i]!;
    const m = this.#mixture(r);
    const norm = T > rtt ? mixtureCdf(T - rtt, m) : 0;
    let p = 0;
    if (q < 1 && norm > 1e-12) {
      let w = 1 - q;
      for (let k = 0; k <= R && w > NEGLIGIBLE; k++, w *= q) {
        const y = Math.min(objective - k * F, T) - rtt;
        if (y <= 0) break;
        p += w * Math.min(1, mixtureCdf(y, m) / norm);
      }
    }
    if ((R + 1) * F <= objective) p += q ** (R + 1);
    return p;
  }

  /** Interval sums of what the requests of pair `i` (home, picked region) saw. */
  #accumulateRequests(i: number, dt: number): void {
    const req = this.#demand[i]! * dt;
    this.#accReq[i]! += req;
    this.#accQ[i]! += req * this.#q[i]!;
    this.#accFailLat[i]! += req * this.#q[i]! * this.#failLat[i]!;
    this.#accRtt[i]! += req * this.#rttNow[i]!;
  }

  /** Interval sums of the tries served at pair `i` (home, serving region `r`): what the region's telemetry counts. */
  #accumulateTries(i: number, r: number, dt: number): void {
    const tries = this.#tries[i]! * dt;
    this.#accTries[i]! += tries;
    this.#accErr[i]! += tries * this.#err[r]!;
    this.#accPTo[i]! += tries * this.#pTo[i]!;
    this.#accErrLat[i]! += tries * this.#errLat[i]!;
    this.#across?.accumulate(i, tries);
    if (this.#fx.linkAddedMs[i]! > 0 || this.#fx.linkDown[i]! > 0) this.#accLinkFault[i] = 1;
    // Tries lost in a partition load nothing, but the client's upstream telemetry counts them (as timeouts).
    if (this.#fx.linkDown[i]) this.#accRegTries[r]! += tries;
    this.#accRegFailed[r]! += tries * this.#q[i]!;
    const mu = this.#mu[r]!, sigma = this.#sig[r]!;
    const slow = tries * this.#slowShare[r]!;
    this.#accMu[r]! += (tries - slow) * mu;
    this.#accMu2[r]! += (tries - slow) * (mu * mu + sigma * sigma);
    if (slow > 0) {
      const muSlow = this.#slowMu[r]!;
      this.#accSlowW[r]! += slow;
      this.#accSlowMu[r]! += slow * muSlow;
      this.#accSlowMu2[r]! += slow * (muSlow * muSlow + sigma * sigma);
    }
  }

  #summarise(startMs: number, requests: number, failed: number, violation: number, pressure: number, cost: number, settings: Settings): RouteInterval {
    const n = this.n;
    const R = settings.retryAttempts;
    const T = settings.perTryTimeoutMs;
    const spanSec = (this.#nowMs - startMs) / 1000;
    const routeCdf = this.#routeCdf.fill(0);
    const regions: RegionInterval[] = [];
    // Per region: one lognormal matching the interval's log-latency moments (ticks mixed by
    // tries), and one more for the tries on slowed pods when a partial fault hit some.
    const mixtures: Mixture[] = [];
    for (let r = 0; r < n; r++) {
      const slow = this.#accSlowW[r]!;
      const w = this.#accRegTries[r]! - slow;
      const m: Mixture = { mu: this.#mu[r]!, sigma: this.#sig[r]!, share: 0, muSlow: 0, sigmaSlow: 1 };
      if (w > 0) {
        m.mu = this.#accMu[r]! / w;
        m.sigma = Math.sqrt(Math.max(1e-6, this.#accMu2[r]! / w - m.mu * m.mu));
      }
      if (slow > 0) {
        m.share = slow / this.#accRegTries[r]!;
        m.muSlow = this.#accSlowMu[r]! / slow;
        m.sigmaSlow = Math.sqrt(Math.max(1e-6, this.#accSlowMu2[r]! / slow - m.muSlow * m.muSlow));
      }
      mixtures.push(m);
    }
    for (let r = 0; r < n; r++) {
      const cdf = this.#regionCdfs[r]!.fill(0);
      for (let h = 0; h < n; h++) {
        const i = h * n + r;
        if (this.#across) {
          this.#across.addTries(cdf, i, mixtures[r]!, T);
          continue;
        }
        const req = this.#accReq[i]!;
        if (req <= 0) continue;
        const tries = this.#accTries[i]!;
        const q = this.#accQ[i]! / req;
        const e = tries > 0 ? this.#accErr[i]! / tries : 0;
        const pTo = tries > 0 ? this.#accPTo[i]! / tries : 0;
        const errLat = tries > 0 ? this.#accErrLat[i]! / tries : 0;
        const F = q > 0 ? this.#accFailLat[i]! / (req * q) : 0;
        // The interval's mean round trip where a link fault changed it (else the link's own, to the bit).
        const rtt = this.#accLinkFault[i] ? this.#accRtt[i]! / req : this.#rtt[i]!;
        // Per try, as the region's upstream telemetry sees it.
        addShiftedMixture(cdf, tries * (1 - q), rtt, mixtures[r]!, T);
        addPointMass(cdf, tries * e, errLat);
        addPointMass(cdf, tries * (1 - e) * pTo, T);
        // Per request, as clients see it: k failed tries, then a success or the last failure.
        let w = req * (1 - q);
        for (let k = 0; k <= R && w > req * NEGLIGIBLE; k++, w *= q) addShiftedMixture(routeCdf, w, rtt + k * F, mixtures[r]!, T + k * F);
        addPointMass(routeCdf, req * q ** (R + 1), (R + 1) * F);
      }
      const tries = this.#accRegTries[r]!;
      regions.push({
        tries,
        failedTries: this.#accRegFailed[r]!,
        latencyCdf: cdf,
        saturation: this.#accRho[r]! / spanSec,
        healthy: this.#healthy[r] === 1,
        telemetry: this.#fx.stale[r]!,
        truth: { errorRate: this.#accTruthErr[r]! / spanSec, medianMs: this.#accTruthMed[r]! / spanSec, down: this.#accDown[r]! > 0 },
      });
    }
    this.#across?.addRequests(routeCdf, mixtures, R, T);
    // Components left out as negligible still count as requests: the CDF's total stays `requests`.
    return {
      startMs,
      endMs: this.#nowMs,
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
}
