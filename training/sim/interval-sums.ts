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

  constructor(n: number) {
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

  /** The requests of pair `i` (home, picked region) over a tick: `req` of them, each failing a try with `q`, a failed try taking `failLat`, the round trip `rtt`. */
  addRequests(i: number, req: number, q: number, failLat: number, rtt: number): void {
    this.req[i]! += req;
    this.q[i]! += req * q;
    this.failLat[i]! += req * q * failLat;
    this.rtt[i]! += req * rtt;
  }

  /** The tries served at pair `i` (home, serving region `r`) over a tick: what the region's telemetry counts. */
  addTries(i: number, r: number, tries: number, t: TryOutcome): void {
    this.tries[i]! += tries;
    this.err[i]! += tries * t.err;
    this.pTo[i]! += tries * t.pTo;
    this.errLat[i]! += tries * t.errLat;
    if (t.linkFault) this.linkFault[i] = 1;
    // Tries lost in a partition load nothing, but the client's upstream telemetry counts them (as timeouts).
    if (t.partitioned) this.regTries[r]! += tries;
    this.regFailed[r]! += tries * t.q;
    const { mu, sigma } = t;
    const slow = tries * t.slowShare;
    this.mu[r]! += (tries - slow) * mu;
    this.mu2[r]! += (tries - slow) * (mu * mu + sigma * sigma);
    if (slow > 0) {
      const muSlow = t.slowMu;
      this.slowW[r]! += slow;
      this.slowMu[r]! += slow * muSlow;
      this.slowMu2[r]! += slow * (muSlow * muSlow + sigma * sigma);
    }
  }
}

/** How a try at one pair went this tick. */
export interface TryOutcome {
  /** The serving region's error probability. */
  err: number;
  /** Probability the try times out, its latency when it errs, and that it fails at all. */
  pTo: number;
  errLat: number;
  q: number;
  /** The serving region's log-latency parameters, and the share (and log-median) of tries on slowed pods. */
  mu: number;
  sigma: number;
  slowShare: number;
  slowMu: number;
  /** A link fault touched the pair; the link is down (a partition). */
  linkFault: boolean;
  partitioned: boolean;
}
