// The physics of one route across regions, one tick at a time. Per region: a fluid queue in
// front of a capacity (Sakasegawa's M/M/c wait below saturation, a backlog that grows and
// overflows above it), a lognormal service time whose median carries the wait (a mixture of
// two when a fault hits some pods only), errors from the base rate, events, saturation and
// overflow, and a health checker (health-checker.ts). Per (client home, serving region): round
// trip, per-try timeouts and retries, whose extra tries load the region that was picked (a
// retry storm drowns a struggling region), or with cross-region retries the next regions in
// failover order (cross-region-retries.ts). A recorded trace replaces load and conditions
// (trace-timeline.ts). An interval's ticks add up in interval-sums.ts and become what clients
// and telemetry saw in interval-summary.ts. Nothing here allocates per tick.
import { ConfigError } from '../../operator/base/errors.ts';
import { prng } from '../../operator/base/random.ts';
import { DOWN_BLACKHOLE, DOWN_NONE, DOWN_REFUSE, EventTimeline, newEffects, type Effects } from './events.ts';
import { GRID_SIZE, mixtureCdf, normalSampler, type Mixture } from './math.ts';
import type { ScenarioSpec } from './scenario-schema.ts';
import { TraceTimeline } from './trace-timeline.ts';
import { Autoscaler } from './autoscaler.ts';
import { CrossRegionRetries } from './cross-region-retries.ts';
import { HealthChecker } from './health-checker.ts';
import { IntervalSums } from './interval-sums.ts';
import { networkMatrices } from './network.ts';
import { regionProfiles, type RegionProfiles } from './region-profiles.ts';
import { withinObjective } from './within-objective.ts';
import { summariseInterval, type RouteInterval, type Settings } from './interval-summary.ts';

/** The share of requests allowed above the latency objective (the SLO is on the p99). */
export const SLO_TAIL = 0.01;
/** Utilisation at which saturation errors start, and the span over which they reach their maximum. */
const SATURATION_ERRORS_FROM = 0.9;
const SATURATION_ERRORS_SPAN = 0.2;
/** Above this the stationary wait is held and the backlog takes over. */
const RHO_STATIONARY_MAX = 0.98;
/** Latency of a refused connection beyond the round trip, ms. */
const REFUSE_MS = 1;

export class MeshSim {
  readonly n: number;
  readonly tickMs: number;
  readonly #s: ScenarioSpec;
  readonly #regionIndex: Map<string, number>;
  /** Static per region. */
  readonly #p: RegionProfiles;
  readonly #trace: TraceTimeline | undefined;
  /** Per (home h, region r) at h * n + r: the round trip, and this tick's (link faults included). */
  readonly #rtt: Float64Array;
  readonly #rttNow: Float64Array;
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
  readonly #health: HealthChecker;
  readonly #noise: Float64Array;
  // Per tick, per (h, r).
  readonly #demand: Float64Array;
  readonly #pTo: Float64Array;
  readonly #q: Float64Array;
  readonly #tries: Float64Array;
  readonly #failLat: Float64Array;
  readonly #errLat: Float64Array;
  /** What the current interval adds up. */
  readonly #acc: IntervalSums;
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
    this.#p = regionProfiles(s);
    this.#trace = s.recorded ? new TraceTimeline(s.recorded, s.regions) : undefined;
    ({ rtt: this.#rtt, cost: this.#cost } = networkMatrices(s, this.#regionIndex));
    this.#rttNow = g();
    this.#backlog = f(); this.#backlogNext = f(); this.#err = f(); this.#mu = f(); this.#sig = f(); this.#med = f();
    this.#slowShare = f(); this.#slowMu = f();
    this.#autoscaler = new Autoscaler(s.regions.map((r) => r.autoscale));
    this.#rho = f(); this.#triesR = f(); this.#noise = f();
    this.#health = new HealthChecker(n, s.health);
    this.#demand = g(); this.#pTo = g(); this.#q = g(); this.#tries = g(); this.#failLat = g(); this.#errLat = g();
    this.#fx = newEffects(n);
    this.#acc = new IntervalSums(n, {
      demand: this.#demand, q: this.#q, pTo: this.#pTo, failLat: this.#failLat, errLat: this.#errLat, rttNow: this.#rttNow,
      linkAddedMs: this.#fx.linkAddedMs, linkDown: this.#fx.linkDown,
      err: this.#err, mu: this.#mu, sig: this.#sig, slowShare: this.#slowShare, slowMu: this.#slowMu,
    });
    this.#across = s.route.retries.crossRegion
      ? new CrossRegionRetries(s.regions, {
        demand: this.#demand, q: this.#q, failLat: this.#failLat, rttNow: this.#rttNow, rtt: this.#rtt, cost: this.#cost, tries: this.#tries,
        accReq: this.#acc.req, accTries: this.#acc.tries, accErr: this.#acc.err, accPTo: this.#acc.pTo, accErrLat: this.#acc.errLat, accLinkFault: this.#acc.linkFault,
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
    this.#health.reset();
    this.#autoscaler.reset();
    this.#slowShare.fill(0);
    for (let r = 0; r < this.n; r++) {
      this.#err[r] = this.#p.baseError[r]!;
      this.#med[r] = this.#p.median[r]!;
      this.#mu[r] = Math.log(this.#p.median[r]!);
      this.#sig[r] = this.#p.sigma[r]!;
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
    this.#acc.clear();
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
              within += d * withinObjective(q, this.#rttNow[i]!, this.#failLat[i]!, this.#mixture(r), objective, R, T);
            }
            if (h !== r) cost += d * dt * this.#cost[i]!;
            this.#acc.addRequests(i, dt);
          }
          // Tries reach (h, r) from requests that picked it, and with cross-region retries from others too.
          if (this.#tries[i]! > 0) {
            const tries = this.#tries[i]! * dt;
            across?.accumulate(i, tries);
            this.#acc.addTries(i, r, tries);
          }
        }
      }
      for (let r = 0; r < n; r++) {
        this.#acc.regTries[r]! += this.#triesR[r]! * dt;
        this.#acc.rho[r]! += this.#rho[r]! * dt;
        this.#acc.truthErr[r]! += this.#err[r]! * dt;
        this.#acc.truthMed[r]! += this.#med[r]! * dt;
        this.#acc.down[r]! += this.#fx.down[r]! !== DOWN_NONE ? dt : 0;
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
    return summariseInterval({
      n,
      startMs,
      endMs: this.#nowMs,
      settings,
      totals: { requests, failed, violation, pressure, cost },
      sums: this.#acc,
      mu: this.#mu,
      sig: this.#sig,
      rtt: this.#rtt,
      healthy: this.#health.healthy,
      telemetry: this.#fx.stale,
      across: this.#across,
      routeCdf: this.#routeCdf,
      regionCdfs: this.#regionCdfs,
    });
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
        const lambda = recorded * this.#p.clientShare[h]! * fx.clientFactor[h]!;
        total += lambda;
        for (let r = 0; r < n; r++) this.#demand[h * n + r] = lambda * settings.weights[r]!;
      }
    } else {
      const d = s.load.diurnal;
      // Load noise is AR(1) so that it wanders like real traffic instead of flickering per tick.
      const keep = 0.95, fresh = Math.sqrt(1 - keep * keep);
      for (let h = 0; h < n; h++) {
        this.#noise[h] = keep * this.#noise[h]! + fresh * this.#normal();
        const diurnal = d ? 1 + d.amplitude * Math.sin((2 * Math.PI * (tMs / 1000 + d.phaseSec + this.#p.loadPhase[h]!)) / d.periodSec) : 1;
        const lambda = this.#p.clients[h]! * diurnal * fx.clientFactor[h]! * Math.max(0, 1 + s.load.noise * this.#noise[h]!);
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
      this.#health.observe(r, this.#health.isBad(this.#fx.down[r]! !== DOWN_NONE, this.#err[r]!), dt);
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
    const baseMedian = this.#p.median[r]! * fx.serviceFactor[r]!;
    if (down !== DOWN_NONE) {
      // A region that is down serves nothing and keeps nothing queued.
      this.#backlogNext[r] = 0;
      this.#rho[r] = 0;
      this.#err[r] = down === DOWN_REFUSE ? 1 : 0;
      this.#med[r] = baseMedian;
      this.#mu[r] = Math.log(baseMedian);
      this.#sig[r] = this.#p.sigma[r]!;
      this.#slowShare[r] = 0;
      return;
    }
    // A slower service with the same concurrency also serves fewer requests per second; so do
    // the slower pods of a partial fault, for their share.
    const scale = this.#autoscaler.factor(r);
    const share = fx.partialShare[r]!;
    const partialCapacity = share === 0 ? 1 : 1 - share + share / fx.partialServiceFactor[r]!;
    const capacity = (this.#p.capacity[r]! * scale * fx.capacityFactor[r]! * partialCapacity) / fx.serviceFactor[r]!;
    const sigma0 = this.#p.sigma[r]!;
    const meanServiceMs = baseMedian * Math.exp((sigma0 * sigma0) / 2);
    const rho = tries / capacity;
    const b0 = this.#backlog[r]!;
    let b1 = Math.max(0, b0 + (tries - capacity) * dt);
    const limit = (capacity * s.server.queueLimitMs) / 1000;
    const dropped = Math.max(0, b1 - limit);
    b1 -= dropped;
    const dropShare = tries > 0 ? dropped / (tries * dt) : 0;
    const c = this.#p.servers[r]! * scale;
    const rs = Math.min(rho, RHO_STATIONARY_MAX);
    const stationaryMs = rs > 0 ? (meanServiceMs * rs ** (Math.sqrt(2 * (c + 1)) - 1)) / (c * (1 - rs)) : 0;
    const backlogMs = (((b0 + b1) / 2) / capacity) * 1000;
    const waitMs = stationaryMs + backlogMs;
    const over = Math.min(1, Math.max(0, (rho - SATURATION_ERRORS_FROM) / SATURATION_ERRORS_SPAN));
    const saturationErr = s.server.saturationErrorRate * over * over;
    const err = 1 - (1 - this.#p.baseError[r]!) * (1 - fx.addedErrorRate[r]!) * (1 - saturationErr) * (1 - dropShare);
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
}
