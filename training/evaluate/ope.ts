// Off-policy evaluation: what a target policy π would have earned on the decisions a logging
// policy μ made, from (context, action, log μ(a|x), reward) samples alone, and the gate a new
// model must pass before it replaces the running one.
//
// - IPS: mean(w·r) with w = π(a|x)/μ(a|x). Unbiased when μ covers π; high variance.
// - SNIPS: Σw·r / Σw. Slightly biased, much steadier when weights are large.
// - DR: mean(q̂(x,π) + w·(r − q̂(x,a))), q̂ a ridge reward model (ope-ridge.ts). Unbiased when
//   either the weights or q̂ are right; lower variance than IPS when q̂ is good. q̂(x,π) is a
//   Monte Carlo average of q̂ over actions drawn from π (seeded).
// - Weights may be clipped at `maxWeight` (bias traded for variance); the effective sample size
//   (Σw)²/Σw² says how many samples the estimate really rests on.
// - Each estimate carries a percentile bootstrap over samples (seeded prng). The DR bootstrap
//   resamples the per-sample terms with q̂ held fixed: it leaves out q̂'s own fitting noise.
// Densities may be densities, not probabilities (Gaussian policies): only their ratio matters,
// so both must be over the same action encoding.
import { prng } from '../../operator/base/random.ts';
import { fitRidge, type RewardModel } from './ope-ridge.ts';

/** One logged decision. */
export interface OpeSample<X, A> {
  x: X;
  a: A;
  /** log μ(a|x) under the policy that decided (a log density is fine). */
  logPropensity: number;
  reward: number;
}

/** A policy to evaluate. */
export interface TargetPolicy<X, A> {
  name: string;
  /** log π(a|x), over the same action encoding as the logged propensities. */
  logDensity(x: X, a: A): number;
  /** An action drawn from π(·|x) (for DR's q̂(x, π)). */
  sample(x: X, random: () => number): A;
}

export interface Estimate {
  value: number;
  /** Two-sided percentile bootstrap interval at OpeOptions.confidence. */
  lower: number;
  upper: number;
  /** The bootstrap replicates, sorted ascending (for other confidence levels, see lowerBound). */
  replicates: number[];
}

export interface OpeReport {
  policy: string;
  samples: number;
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
  /** (Σw)²/Σw², after clipping. */
  effectiveSampleSize: number;
  /** Largest weight before clipping, and how many weights were clipped. */
  maxRawWeight: number;
  clipped: number;
  confidence: number;
}

export interface OpeOptions<X, A> {
  /** Reward-model features of (x, a). */
  features: (x: X, a: A) => number[];
  /** Clip importance weights at this value (default: no clipping). */
  maxWeight?: number;
  /** Two-sided level of the reported intervals (default 0.95). */
  confidence?: number;
  /** Bootstrap resamples (default 500). */
  resamples?: number;
  /** Actions drawn from π per sample for q̂(x, π) (default 32). */
  policySamples?: number;
  /** Ridge penalty of q̂ (default 1e-3). */
  lambda?: number;
  seed?: number;
}

/** The importance weights of `samples` for `target`, clipped at `maxWeight`. Pure. */
export function importanceWeights<X, A>(samples: readonly OpeSample<X, A>[], target: TargetPolicy<X, A>, maxWeight = Infinity): { weights: number[]; maxRaw: number; clipped: number } {
  if (!(maxWeight > 0)) throw new RangeError(`maxWeight: must be > 0, got ${maxWeight}`);
  let maxRaw = 0, clipped = 0;
  const weights = samples.map((s) => {
    const w = Math.exp(target.logDensity(s.x, s.a) - s.logPropensity);
    if (Number.isNaN(w)) throw new RangeError(`importance weight is NaN (logPropensity ${s.logPropensity})`);
    maxRaw = Math.max(maxRaw, w);
    if (w > maxWeight) {
      clipped++;
      return maxWeight;
    }
    return w;
  });
  return { weights, maxRaw, clipped };
}

/** (Σw)²/Σw²: n for equal weights, 1 when one weight dominates. Pure. */
export function effectiveSampleSize(weights: readonly number[]): number {
  let s = 0, s2 = 0;
  for (const w of weights) {
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

const quantile = (sorted: readonly number[], q: number) => {
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
};

/** The one-sided lower bound of `e` at `confidence` (e.g. 0.95: the 5th percentile of its bootstrap). */
export function lowerBound(e: Estimate, confidence: number): number {
  return quantile(e.replicates, 1 - confidence);
}

/**
 * A statistic of per-sample numbers with a percentile bootstrap: `stat(indices)` is evaluated
 * on the full sample and on `resamples` resamples drawn with `random`.
 */
function bootstrap(n: number, stat: (idx: ArrayLike<number>) => number, resamples: number, confidence: number, random: () => number): Estimate {
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const idx = new Uint32Array(n);
  const replicates: number[] = [];
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(random() * n);
    replicates.push(stat(idx));
  }
  replicates.sort((p, q) => p - q);
  const tail = (1 - confidence) / 2;
  return { value: stat(all), lower: quantile(replicates, tail), upper: quantile(replicates, 1 - tail), replicates };
}

function checkOptions(samples: number, confidence: number, resamples: number): void {
  if (samples === 0) throw new RangeError('off-policy evaluation needs at least one sample');
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence: must be in (0, 1), got ${confidence}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples: must be a positive integer, got ${resamples}`);
}

/**
 * The mean logged reward with its bootstrap interval: the value of the logging policy itself
 * (what the gate compares a candidate with when the running policy logged the data). Pure.
 */
export function onPolicyValue(samples: readonly OpeSample<unknown, unknown>[], options: { confidence?: number; resamples?: number; seed?: number } = {}): Estimate {
  const confidence = options.confidence ?? 0.95, resamples = options.resamples ?? 500;
  checkOptions(samples.length, confidence, resamples);
  const r = samples.map((s) => s.reward);
  const mean = (idx: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += r[idx[i]!]!;
    return s / idx.length;
  };
  return bootstrap(r.length, mean, resamples, confidence, prng(options.seed ?? 1));
}

/**
 * IPS, SNIPS and DR estimates of `target`'s mean reward per decision on `samples`, with
 * bootstrap intervals. Deterministic for a given seed. Throws RangeError for no samples,
 * bad options, or a NaN weight.
 */
export function evaluateOffPolicy<X, A>(samples: readonly OpeSample<X, A>[], target: TargetPolicy<X, A>, options: OpeOptions<X, A>): OpeReport {
  const confidence = options.confidence ?? 0.95, resamples = options.resamples ?? 500, draws = options.policySamples ?? 32;
  checkOptions(samples.length, confidence, resamples);
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`policySamples: must be a positive integer, got ${draws}`);
  const seed = options.seed ?? 1;
  const { weights: w, maxRaw, clipped } = importanceWeights(samples, target, options.maxWeight);
  const r = samples.map((s) => s.reward);

  const q: RewardModel = fitRidge(samples.map((s) => options.features(s.x, s.a)), r, options.lambda);
  const random = prng(seed ^ 0x5bd1e995);
  const dr = samples.map((s, i) => {
    let qPi = 0;
    for (let k = 0; k < draws; k++) qPi += q.predict(options.features(s.x, target.sample(s.x, random))) / draws;
    return qPi + w[i]! * (r[i]! - q.predict(options.features(s.x, s.a)));
  });

  const meanOf = (v: readonly number[]) => (idx: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += v[idx[i]!]!;
    return s / idx.length;
  };
  const wr = r.map((x, i) => x * w[i]!);
  const snips = (idx: ArrayLike<number>) => {
    let num = 0, den = 0;
    for (let i = 0; i < idx.length; i++) {
      num += wr[idx[i]!]!;
      den += w[idx[i]!]!;
    }
    return den > 0 ? num / den : 0;
  };
  // One stream per estimator, so adding one never shifts another's interval.
  return {
    policy: target.name,
    samples: samples.length,
    ips: bootstrap(samples.length, meanOf(wr), resamples, confidence, prng(seed)),
    snips: bootstrap(samples.length, snips, resamples, confidence, prng(seed + 1)),
    dr: bootstrap(samples.length, meanOf(dr), resamples, confidence, prng(seed + 2)),
    effectiveSampleSize: effectiveSampleSize(w),
    maxRawWeight: maxRaw,
    clipped,
    confidence,
  };
}

export interface GateOptions {
  /** How much better (in reward per decision) the candidate's DR lower bound must be. */
  minImprovement: number;
  /** One-sided level of the candidate's lower bound, e.g. 0.95. */
  confidence: number;
  /** Below this effective sample size the evidence is too thin to replace anything (default 10). */
  minEffectiveSampleSize?: number;
}

export interface GateVerdict {
  accept: boolean;
  /** Why, in words; the first reason decides. */
  reasons: string[];
  candidateLowerBound: number;
  currentValue: number;
}

const fmt = (x: number) => (Math.abs(x) >= 100 || x === 0 ? x.toFixed(1) : x.toPrecision(3));

/**
 * Whether `candidate` may replace the running policy, whose value is `current` (onPolicyValue
 * when the running policy logged the data): the candidate's DR lower bound at
 * `options.confidence` must be at least current.value + minImprovement, on an effective sample
 * size of at least minEffectiveSampleSize. Pure.
 */
export function gate(candidate: OpeReport, current: Estimate, options: GateOptions): GateVerdict {
  if (!(options.confidence > 0 && options.confidence < 1)) throw new RangeError(`confidence: must be in (0, 1), got ${options.confidence}`);
  const minEss = options.minEffectiveSampleSize ?? 10;
  const bound = lowerBound(candidate.dr, options.confidence);
  const needed = current.value + options.minImprovement;
  const pct = `${Math.round(options.confidence * 100)}%`;
  const reasons: string[] = [];
  const thin = candidate.effectiveSampleSize < minEss;
  const beats = bound >= needed;
  const doublyRobust = `${candidate.policy}'s doubly robust estimate is ${fmt(candidate.dr.value)} per decision, its ${pct} lower bound ${fmt(bound)}`;
  const comparison = `the current policy's value is ${fmt(current.value)}, so the bar (with a required improvement of ${fmt(options.minImprovement)}) is ${fmt(needed)}`;
  if (thin) reasons.push(`rejected: the effective sample size is ${candidate.effectiveSampleSize.toFixed(1)} of ${candidate.samples} decisions, below ${minEss}; the logged decisions say too little about ${candidate.policy}`);
  else if (beats) reasons.push(`accepted: ${doublyRobust}, which clears the bar of ${fmt(needed)} by ${fmt(bound - needed)}`);
  else reasons.push(`rejected: ${doublyRobust}, short of the bar of ${fmt(needed)} by ${fmt(needed - bound)}`);
  reasons.push(comparison);
  reasons.push(`IPS ${fmt(candidate.ips.value)}, SNIPS ${fmt(candidate.snips.value)}; ${candidate.clipped} of ${candidate.samples} weights clipped, largest raw weight ${fmt(candidate.maxRawWeight)}`);
  return { accept: !thin && beats, reasons, candidateLowerBound: bound, currentValue: current.value };
}
