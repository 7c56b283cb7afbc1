// The contract between training and serving: how a route's situation becomes the model's
// input vector, and how the model's output vector becomes weights, retries and a per-try
// timeout. The simulator and the reconciler both go through these functions and nothing
// else, so a model trained on one reads the other identically (test/unit/policy/spec-golden
// pins the encoding). Any change to a feature, its order or its scaling is a new version:
// a model records the version it was trained on and is refused under another.
import { ConfigError } from '../api/errors.ts';

export const POLICY_SPEC_VERSION = 'meshpilot.policy/v1';

/** One model serves routes with 1 to MAX_REGIONS regions; absent slots are masked. */
export const MAX_REGIONS = 8;

/** Per-region features, in vector order. */
export const REGION_FEATURES = [
  'present',
  'latencyP50',
  'latencyP90',
  'latencyP99',
  'errorRate',
  'loadShare',
  'saturation',
  'weight',
  'health',
  'remote',
  'fresh',
  'requestRateTrend',
  'latencyP99Trend',
] as const;

/** Per-route features, after the regions. */
export const ROUTE_FEATURES = [
  'totalRequestRate',
  'totalErrorRate',
  'weightedLatencyP99',
  'requestRateTrend',
  'retryAttempts',
  'perTryTimeout',
  'crossRegionCostWeight',
  'freshShare',
] as const;

export const OBSERVATION_SIZE = MAX_REGIONS * REGION_FEATURES.length + ROUTE_FEATURES.length;

/**
 * Action vector: one weight logit per region slot, then retry attempts and per-try timeout
 * (both squashed into the spec's bounds). All of it is relative to what is in force: the zero
 * action holds the current weights, retries and timeout, so an untrained or uncertain policy
 * moves nothing, and a change is something the policy must mean.
 */
export const ACTION_SIZE = MAX_REGIONS + 2;
export const ACTION_RETRY_INDEX = MAX_REGIONS;
export const ACTION_PER_TRY_INDEX = MAX_REGIONS + 1;

/** What the policy knows of one region. Absent measurements are null, never 0. */
export interface RegionObservation {
  region: string;
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP99Ms: number | null;
  /** Fraction of failed requests, 0..1. */
  errorRate: number | null;
  /** Requests per second served by the region. */
  requestRate: number | null;
  /** 0..1 (above 1: queueing). */
  saturation: number | null;
  /** Share of the route's traffic the region has now, in percent. */
  weightPercent: number;
  /** null: no health verdict. */
  healthy: boolean | null;
  /** Sending traffic here crosses regions (the region is not one of the route's priority-0 home regions). */
  remote: boolean;
  /** Its telemetry is fresh. */
  fresh: boolean;
  requestRateTrend: number | null;
  latencyP99Trend: number | null;
}

export interface IntBounds {
  min: number;
  max: number;
}

/** What the policy knows of one route. */
export interface RouteObservation {
  /** 1..MAX_REGIONS regions, in the spec's order. */
  regions: RegionObservation[];
  objectives: { latencyP99Ms: number; maxErrorRate: number; crossRegionCostWeight: number };
  retryAttempts: number;
  retryBounds: IntBounds;
  perTryTimeoutMs: number;
  perTryBoundsMs: IntBounds;
}

/** A decoded action: what the route should do next, before the safety guard. */
export interface PolicyAction {
  /** Fractions per region of the observation (same order), summing to 1. */
  weights: number[];
  retryAttempts: number;
  perTryTimeoutMs: number;
}

const clip = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
/** A ratio to an objective on a log scale: 0 → 0, at the objective → 1, 15x over → 4 (the cap). */
const overObjective = (value: number, objective: number) => clip(Math.log2(1 + value / objective), 0, 4);
const position = (value: number, b: IntBounds) => (b.max > b.min ? clip((value - b.min) / (b.max - b.min), 0, 1) : 0);

function check(value: number | null, field: string): number | null {
  if (value === null) return null;
  if (!Number.isFinite(value)) throw new ConfigError(`observation ${field}: ${value} is not a finite number`);
  return value;
}

/**
 * Rates, latencies and trends as the encoder sums and multiplies them: finite inputs near the
 * top of float64 would overflow a sum of eight regions. Every feature saturates long before
 * this bound, so no realistic value is changed by it.
 */
const MAGNITUDE = 1e12;
function bounded(value: number | null, field: string): number | null {
  const v = check(value, field);
  return v === null ? null : clip(v, -MAGNITUDE, MAGNITUDE);
}

/**
 * Encodes `o` into OBSERVATION_SIZE floats (into `out` at `offset` when given, for batches).
 * Throws ConfigError naming the field for NaN or infinite values, no regions, or too many.
 */
export function encodeObservation(o: RouteObservation, out = new Float32Array(OBSERVATION_SIZE), offset = 0): Float32Array {
  const n = o.regions.length;
  if (n === 0 || n > MAX_REGIONS) throw new ConfigError(`observation regions: ${n} regions; a policy serves 1 to ${MAX_REGIONS}`);
  const slo = check(o.objectives.latencyP99Ms, 'objectives.latencyP99Ms');
  const maxError = check(o.objectives.maxErrorRate, 'objectives.maxErrorRate');
  if (!slo || slo <= 0) throw new ConfigError('observation objectives.latencyP99Ms: must be > 0');
  const errorBudget = Math.max(maxError ?? 0, 1e-4);
  out.fill(0, offset, offset + OBSERVATION_SIZE);
  const F = REGION_FEATURES.length;
  let totalRate = 0, totalErrors = 0, weightedP99 = 0, p99Weight = 0, trend = 0, trendWeight = 0, fresh = 0;
  const rates = o.regions.map((r, i) => bounded(r.requestRate, `regions[${i}].requestRate`) ?? 0);
  for (const rate of rates) totalRate += rate;
  o.regions.forEach((r, i) => {
    const at = offset + i * F;
    const field = (name: string) => `regions[${i}].${name}`;
    const p50 = bounded(r.latencyP50Ms, field('latencyP50Ms'));
    const p90 = bounded(r.latencyP90Ms, field('latencyP90Ms'));
    const p99 = bounded(r.latencyP99Ms, field('latencyP99Ms'));
    const err = check(r.errorRate, field('errorRate'));
    const sat = check(r.saturation, field('saturation'));
    const weight = check(r.weightPercent, field('weightPercent'))!;
    const rateTrend = bounded(r.requestRateTrend, field('requestRateTrend'));
    const p99Trend = bounded(r.latencyP99Trend, field('latencyP99Trend'));
    out[at] = 1;
    out[at + 1] = p50 === null ? 0 : overObjective(p50, slo);
    out[at + 2] = p90 === null ? 0 : overObjective(p90, slo);
    out[at + 3] = p99 === null ? 0 : overObjective(p99, slo);
    out[at + 4] = err === null ? 0 : overObjective(err, errorBudget);
    out[at + 5] = totalRate > 0 ? rates[i]! / totalRate : 0;
    out[at + 6] = sat === null ? 0 : clip(sat, 0, 2);
    out[at + 7] = clip(weight / 100, 0, 1);
    out[at + 8] = r.healthy === null ? 0 : r.healthy ? 1 : -1;
    out[at + 9] = r.remote ? 1 : 0;
    out[at + 10] = r.fresh ? 1 : 0;
    out[at + 11] = rateTrend === null ? 0 : clip(rateTrend, -1, 1);
    out[at + 12] = p99Trend === null ? 0 : clip(p99Trend, -1, 1);
    if (err !== null) totalErrors += err * rates[i]!;
    if (p99 !== null) {
      weightedP99 += p99 * weight;
      p99Weight += weight;
    }
    if (rateTrend !== null) {
      trend += rateTrend * rates[i]!;
      trendWeight += rates[i]!;
    }
    if (r.fresh) fresh++;
  });
  const g = offset + MAX_REGIONS * F;
  out[g] = clip(Math.log10(1 + totalRate) / 4, 0, 2);
  out[g + 1] = totalRate > 0 ? overObjective(totalErrors / totalRate, errorBudget) : 0;
  out[g + 2] = p99Weight > 0 ? overObjective(weightedP99 / p99Weight, slo) : 0;
  out[g + 3] = trendWeight > 0 ? clip(trend / trendWeight, -1, 1) : 0;
  out[g + 4] = position(check(o.retryAttempts, 'retryAttempts')!, o.retryBounds);
  out[g + 5] = position(check(o.perTryTimeoutMs, 'perTryTimeoutMs')!, o.perTryBoundsMs);
  out[g + 6] = clip(check(o.objectives.crossRegionCostWeight, 'objectives.crossRegionCostWeight')!, 0, 1);
  out[g + 7] = fresh / n;
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
/**
 * A region at 0% still gets a prior of this share, so a policy can bring it back with a
 * finite logit (log(0) would make that impossible); small enough that holding rounds to 0%.
 */
const WEIGHT_PRIOR_FLOOR = 0.002;
/** Keeps a scalar at its bound from needing an infinite logit to move. */
const POSITION_MARGIN = 0.02;

/** The logit offsets that make the zero action decode to what `o` has in force. */
function priors(o: RouteObservation): { weights: number[]; retry: number; perTry: number } {
  const inner = (value: number, b: IntBounds) => logit(clip(position(value, b), POSITION_MARGIN, 1 - POSITION_MARGIN));
  return {
    weights: o.regions.map((r) => Math.log(clip(r.weightPercent / 100, 0, 1) + WEIGHT_PRIOR_FLOOR)),
    retry: inner(o.retryAttempts, o.retryBounds),
    perTry: inner(o.perTryTimeoutMs, o.perTryBoundsMs),
  };
}

/**
 * Decodes a raw action vector (ACTION_SIZE floats, e.g. a Gaussian policy's mean) for the
 * regions of `o`: a softmax over the present regions' logits added to the log of their current
 * weights, and the two scalars moved from their current place within the spec's bounds.
 * Throws ConfigError for a short vector or non-finite entries.
 */
export function decodeAction(raw: ArrayLike<number>, o: RouteObservation): PolicyAction {
  if (raw.length < ACTION_SIZE) throw new ConfigError(`action: ${raw.length} values; the policy spec has ${ACTION_SIZE}`);
  const n = o.regions.length;
  for (let i = 0; i < ACTION_SIZE; i++) {
    if (!Number.isFinite(raw[i])) throw new ConfigError(`action[${i}]: ${raw[i]} is not a finite number`);
  }
  const prior = priors(o);
  const logits = Array.from({ length: n }, (_, i) => raw[i]! + prior.weights[i]!);
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  // Moves from the current value by the change in the squashed position, so the zero action
  // holds it exactly (even at a bound, which the prior's margin keeps off the sigmoid's ends).
  const moved = (x: number, p: number, current: number, b: IntBounds) =>
    Math.round(clip(current + (sigmoid(x + p) - sigmoid(p)) * (b.max - b.min), b.min, b.max));
  return {
    weights: exps.map((e) => e / sum),
    retryAttempts: moved(raw[ACTION_RETRY_INDEX]!, prior.retry, o.retryAttempts, o.retryBounds),
    perTryTimeoutMs: moved(raw[ACTION_PER_TRY_INDEX]!, prior.perTry, o.perTryTimeoutMs, o.perTryBoundsMs),
  };
}

/** The raw action that decodes to `action` for `o` (the inverse of decodeAction): for tests, action probabilities and behaviour cloning. */
export function encodeAction(action: PolicyAction, o: RouteObservation): Float32Array {
  const raw = new Float32Array(ACTION_SIZE);
  const prior = priors(o);
  const safeLogit = (p: number) => logit(clip(p, 1e-4, 1 - 1e-4));
  const unmoved = (target: number, p: number, current: number, b: IntBounds) =>
    b.max > b.min ? safeLogit(sigmoid(p) + (target - current) / (b.max - b.min)) - p : 0;
  action.weights.forEach((w, i) => (raw[i] = Math.log(Math.max(w, 1e-6)) - prior.weights[i]!));
  raw[ACTION_RETRY_INDEX] = unmoved(action.retryAttempts, prior.retry, o.retryAttempts, o.retryBounds);
  raw[ACTION_PER_TRY_INDEX] = unmoved(action.perTryTimeoutMs, prior.perTry, o.perTryTimeoutMs, o.perTryBoundsMs);
  return raw;
}
