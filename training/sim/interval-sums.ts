// What one interval of the simulated mesh adds up while its ticks run, tick-seconds weighted:
// per (home h, region r) at h * n + r the requests, tries and their outcomes; per region the
// tries, the log-latency moments (with a second set for tries on pods a partial fault slows),
// and the truth the evaluation reads beside the telemetry. Cleared at each interval's start.

export class IntervalSums {
  // Per (home, region).
  readonly req: Float64Array;
  readonly tries: Float64Array;
  readonly q: Float64Array;
  readonly err: Float64Array;
  readonly pTo: Float64Array;
  readonly failLat: Float64Array;
  readonly errLat: Float64Array;
  /** Round trips summed where a link fault touched the pair (see linkFault). */
  readonly rtt: Float64Array;
  readonly linkFault: Uint8Array;
  // Per region.
  readonly mu: Float64Array;
  readonly mu2: Float64Array;
  readonly slowW: Float64Array;
  readonly slowMu: Float64Array;
  readonly slowMu2: Float64Array;
  readonly regTries: Float64Array;
  readonly regFailed: Float64Array;
  readonly rho: Float64Array;
  readonly truthErr: Float64Array;
  readonly truthMed: Float64Array;
  readonly down: Float64Array;
  readonly #tick: TickState;

  constructor(n: number, tick: TickState) {
    this.#tick = tick;
    const pair = () => new Float64Array(n * n);
    const region = () => new Float64Array(n);
    this.req = pair(); this.tries = pair(); this.q = pair(); this.err = pair(); this.pTo = pair(); this.failLat = pair(); this.errLat = pair(); this.rtt = pair();
    this.linkFault = new Uint8Array(n * n);
    this.mu = region(); this.mu2 = region(); this.slowW = region(); this.slowMu = region(); this.slowMu2 = region();
    this.regTries = region(); this.regFailed = region(); this.rho = region(); this.truthErr = region(); this.truthMed = region(); this.down = region();
  }

  clear(): void {
    for (const a of [this.req, this.tries, this.q, this.err, this.pTo, this.failLat, this.errLat, this.mu, this.mu2, this.regTries, this.regFailed,
      this.rho, this.truthErr, this.truthMed, this.down, this.rtt, this.linkFault, this.slowW, this.slowMu, this.slowMu2]) a.fill(0);
  }

  /** What a tick of pair `i` (home, picked region) saw, for `dt` seconds: read from the simulator's state. */
  addRequests(i: number, dt: number): void {
    const t = this.#tick;
    const req = t.demand[i]! * dt;
    this.req[i]! += req;
    this.q[i]! += req * t.q[i]!;
    this.failLat[i]! += req * t.q[i]! * t.failLat[i]!;
    this.rtt[i]! += req * t.rttNow[i]!;
  }

  /** The `tries` served at pair `i` (home, serving region `r`) over a tick: what the region's telemetry counts. */
  addTries(i: number, r: number, tries: number): void {
    const t = this.#tick;
    this.tries[i]! += tries;
    this.err[i]! += tries * t.err[r]!;
    this.pTo[i]! += tries * t.pTo[i]!;
    this.errLat[i]! += tries * t.errLat[i]!;
    if (t.linkAddedMs[i]! > 0 || t.linkDown[i]! > 0) this.linkFault[i] = 1;
    // Tries lost in a partition load nothing, but the client's upstream telemetry counts them (as timeouts).
    if (t.linkDown[i]) this.regTries[r]! += tries;
    this.regFailed[r]! += tries * t.q[i]!;
    const mu = t.mu[r]!, sigma = t.sig[r]!;
    const slow = tries * t.slowShare[r]!;
    this.mu[r]! += (tries - slow) * mu;
    this.mu2[r]! += (tries - slow) * (mu * mu + sigma * sigma);
    if (slow > 0) {
      const muSlow = t.slowMu[r]!;
      this.slowW[r]! += slow;
      this.slowMu[r]! += slow * muSlow;
      this.slowMu2[r]! += slow * (muSlow * muSlow + sigma * sigma);
    }
  }
}

/**
 * The simulator's state a tick leaves for the sums to read, bound once (no object per tick:
 * these run for every pair of every tick). Per (home, region): demand, try failure and
 * timeout probabilities, failed-try and error latencies, round trips, link faults. Per
 * region: error probability, log-latency parameters, the slowed share and its log-median.
 */
export interface TickState {
  demand: Float64Array;
  q: Float64Array;
  pTo: Float64Array;
  failLat: Float64Array;
  errLat: Float64Array;
  rttNow: Float64Array;
  linkAddedMs: Float64Array;
  linkDown: Uint8Array;
  err: Float64Array;
  mu: Float64Array;
  sig: Float64Array;
  slowShare: Float64Array;
  slowMu: Float64Array;
}
