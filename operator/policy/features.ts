// The contract between training and serving: how a route's situation becomes the model's
// input, and how the model's output becomes weights, retries and a per-try timeout. The
// simulator and the reconciler both go through these functions and nothing else, so a model
// trained on one reads the other identically (test/unit/policy/features-golden pins the
// encoding). Any change to a feature, its order or its scaling is a new version: a model
// records the version it was trained on and is refused under another.
//
// v2: the model is one network shared by every region. A route is encoded as one row per
// region (the region's own features, then what every row shares: pooled facts about the
// other regions and the route's features); the model maps each row to a weight logit and two
// votes, and the votes are averaged over the route's regions (poolRegionOutputs). Nothing in
// a row says which slot it is in, so the policy is the same for any number of regions and any
// order of them. And it is a residual on the heuristic: the heuristic's proposal is in every
// row, and the zero output decodes to the heuristic's action, so an untrained or uncertain
// model proposes what the heuristic does and a difference is something the model must mean.
import { ConfigError } from '../base/errors.ts';
import { heuristicAction } from './heuristic.ts';
import type { IntBounds, PolicyAction, RouteObservation } from './observation.ts';
import { breaksObjective } from './slo.ts';

export type { IntBounds, PolicyAction, RegionObservation, RouteObservation } from './observation.ts';

export const POLICY_SPEC_VERSION = 'meshpilot.policy/v2';

/** One route has 1 to MAX_REGIONS regions; a batch lays out MAX_REGIONS rows per route, absent ones zero. */
export const MAX_REGIONS = 8;

/** Per-region features, in row order. */
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
  /** The heuristic's proposed share for the region, and how far that is from its weight now. */
  'heuristicWeight',
  'heuristicStep',
  /** Pooled over the route's other regions: the best p99 among them, and the share of them within the objectives. */
  'othersBestLatencyP99',
  'othersWithinObjectives',
  /** The route's number of regions / MAX_REGIONS. */
  'regionCount',
] as const;

/** Per-route features, after the region's in every row. */
export const ROUTE_FEATURES = [
  'totalRequestRate',
  'totalErrorRate',
  'weightedLatencyP99',
  'requestRateTrend',
  'retryAttempts',
  'perTryTimeout',
  'crossRegionCostWeight',
  'freshShare',
  /** The heuristic's proposed retry attempts and per-try timeout, as positions within the spec's bounds. */
  'heuristicRetryAttempts',
  'heuristicPerTryTimeout',
] as const;

/** What the model reads (one region's row) and writes for it (MODEL_OUTPUTS). */
export const ROW_SIZE = REGION_FEATURES.length + ROUTE_FEATURES.length;
export const MODEL_OUTPUTS = ['weightLogit', 'retryVote', 'perTryVote'] as const;
export const MODEL_OUTPUT_SIZE = MODEL_OUTPUTS.length;

/** One route's encoding: MAX_REGIONS rows, the route's regions first in the spec's order, the rest zeros. */
export const OBSERVATION_SIZE = MAX_REGIONS * ROW_SIZE;

/**
 * Action vector: one weight logit per region slot, then retry attempts and per-try timeout
 * (both squashed into the spec's bounds). All of it is relative to the heuristic's proposal:
 * the zero action decodes to the heuristic's action.
 */
export const ACTION_SIZE = MAX_REGIONS + 2;
export const ACTION_RETRY_INDEX = MAX_REGIONS;
export const ACTION_PER_TRY_INDEX = MAX_REGIONS + 1;

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

/** What the region rows add up to, for the route's features and the pooled ones. */
interface RowTotals {
  totalRate: number;
  rates: number[];
  totalErrors: number;
  weightedP99: number;
  p99Weight: number;
  trend: number;
  trendWeight: number;
  fresh: number;
  /** Each region's p99 (null: not measured). */
  p99s: (number | null)[];
  /** Each region within its objectives and not failing its health check. */
  within: boolean[];
}

/**
 * Encodes `o` into OBSERVATION_SIZE floats (into `out` at `offset` when given, for batches):
 * one ROW_SIZE row per region, then zero rows up to MAX_REGIONS. `base` is the heuristic's
 * action for `o` (computed when not given). Throws ConfigError naming the field for NaN or
 * infinite values, no regions, or too many.
 */
export function encodeObservation(o: RouteObservation, out = new Float32Array(OBSERVATION_SIZE), offset = 0, base?: PolicyAction): Float32Array {
  const n = o.regions.length;
  if (n === 0 || n > MAX_REGIONS) throw new ConfigError(`observation regions: ${n} regions; a policy serves 1 to ${MAX_REGIONS}`);
  const slo = check(o.objectives.latencyP99Ms, 'objectives.latencyP99Ms');
  const maxError = check(o.objectives.maxErrorRate, 'objectives.maxErrorRate');
  if (!slo || slo <= 0) throw new ConfigError('observation objectives.latencyP99Ms: must be > 0');
  const errorBudget = Math.max(maxError ?? 0, 1e-4);
  out.fill(0, offset, offset + OBSERVATION_SIZE);
  const totals = writeRegionFeatures(o, out, offset, slo, errorBudget);
  const proposal = base ?? heuristicAction(o).action;
  const route = routeFeatures(o, totals, proposal, slo, errorBudget);
  writeSharedFeatures(o, out, offset, totals, proposal, route, slo);
  return out;
}

/** Each region's own features (ROW_SIZE slots 0-12), and the totals the other features read. */
function writeRegionFeatures(o: RouteObservation, out: Float32Array, offset: number, slo: number, errorBudget: number): RowTotals {
  const rates = o.regions.map((r, i) => bounded(r.requestRate, `regions[${i}].requestRate`) ?? 0);
  const t: RowTotals = { totalRate: 0, rates, totalErrors: 0, weightedP99: 0, p99Weight: 0, trend: 0, trendWeight: 0, fresh: 0, p99s: [], within: [] };
  for (const rate of rates) t.totalRate += rate;
  o.regions.forEach((r, i) => {
    const at = offset + i * ROW_SIZE;
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
    out[at + 5] = t.totalRate > 0 ? rates[i]! / t.totalRate : 0;
    out[at + 6] = sat === null ? 0 : clip(sat, 0, 2);
    out[at + 7] = clip(weight / 100, 0, 1);
    out[at + 8] = r.healthy === null ? 0 : r.healthy ? 1 : -1;
    out[at + 9] = r.remote ? 1 : 0;
    out[at + 10] = r.fresh ? 1 : 0;
    out[at + 11] = rateTrend === null ? 0 : clip(rateTrend, -1, 1);
    out[at + 12] = p99Trend === null ? 0 : clip(p99Trend, -1, 1);
    t.p99s.push(p99);
    t.within.push(r.healthy !== false && p99 !== null && !breaksObjective(r, o));
    if (err !== null) t.totalErrors += err * rates[i]!;
    if (p99 !== null) {
      t.weightedP99 += p99 * weight;
      t.p99Weight += weight;
    }
    if (rateTrend !== null) {
      t.trend += rateTrend * rates[i]!;
      t.trendWeight += rates[i]!;
    }
    if (r.fresh) t.fresh++;
  });
  return t;
}

/** The ROUTE_FEATURES every row carries: the route's load, errors, p99, trend, retry settings and the heuristic's retries. */
function routeFeatures(o: RouteObservation, t: RowTotals, proposal: PolicyAction, slo: number, errorBudget: number): number[] {
  return [
    clip(Math.log10(1 + t.totalRate) / 4, 0, 2),
    t.totalRate > 0 ? overObjective(t.totalErrors / t.totalRate, errorBudget) : 0,
    t.p99Weight > 0 ? overObjective(t.weightedP99 / t.p99Weight, slo) : 0,
    t.trendWeight > 0 ? clip(t.trend / t.trendWeight, -1, 1) : 0,
    position(check(o.retryAttempts, 'retryAttempts')!, o.retryBounds),
    position(check(o.perTryTimeoutMs, 'perTryTimeoutMs')!, o.perTryBoundsMs),
    clip(check(o.objectives.crossRegionCostWeight, 'objectives.crossRegionCostWeight')!, 0, 1),
    t.fresh / o.regions.length,
    position(proposal.retryAttempts, o.retryBounds),
    position(proposal.perTryTimeoutMs, o.perTryBoundsMs),
  ];
}

/** Each row's slots 13-17 (the heuristic's share and step, the other regions pooled, the region count) and the route's features. */
function writeSharedFeatures(o: RouteObservation, out: Float32Array, offset: number, t: RowTotals, proposal: PolicyAction, route: readonly number[], slo: number): void {
  const n = o.regions.length;
  const R = REGION_FEATURES.length;
  for (let i = 0; i < n; i++) {
    const at = offset + i * ROW_SIZE;
    const proposed = clip(proposal.weights[i] ?? 0, 0, 1);
    let best: number | null = null, othersWithin = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const p = t.p99s[j]!;
      if (p !== null && (best === null || p < best)) best = p;
      if (t.within[j]) othersWithin++;
    }
    out[at + 13] = proposed;
    out[at + 14] = proposed - out[at + 7]!;
    // No other region measured: as bad as the scale goes, not as good (0 would read "instant").
    out[at + 15] = best === null ? 4 : overObjective(best, slo);
    out[at + 16] = n > 1 ? othersWithin / (n - 1) : 0;
    out[at + 17] = n / MAX_REGIONS;
    route.forEach((v, k) => (out[at + R + k] = v));
  }
}

/**
 * Pools the model's per-row outputs into raw action vectors: `outputs` holds MODEL_OUTPUT_SIZE
 * floats for each of MAX_REGIONS rows of each of `routes` routes, `observations` the rows they
 * were computed from (only rows whose 'present' feature is 1 count). A region's weight logit
 * is its row's; the retry and per-try entries are the means of the present rows' votes. Absent
 * slots get 0. Writes routes × ACTION_SIZE floats into `out`.
 */
export function poolRegionOutputs(outputs: ArrayLike<number>, observations: ArrayLike<number>, routes: number, out: Float32Array<ArrayBufferLike> = new Float32Array(routes * ACTION_SIZE)): Float32Array<ArrayBufferLike> {
  for (let r = 0; r < routes; r++) {
    const a = r * ACTION_SIZE;
    let retry = 0, perTry = 0, present = 0;
    for (let i = 0; i < MAX_REGIONS; i++) {
      const row = r * MAX_REGIONS + i;
      if (observations[row * ROW_SIZE] !== 1) {
        out[a + i] = 0;
        continue;
      }
      const y = row * MODEL_OUTPUT_SIZE;
      out[a + i] = outputs[y]!;
      retry += outputs[y + 1]!;
      perTry += outputs[y + 2]!;
      present++;
    }
    out[a + ACTION_RETRY_INDEX] = present > 0 ? retry / present : 0;
    out[a + ACTION_PER_TRY_INDEX] = present > 0 ? perTry / present : 0;
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
/**
 * Every region's share is lifted by this much before the logits are added, so a policy can
 * give a region the heuristic left at 0% a share with a finite logit (log(0) would make that
 * impossible); the lift is taken off again after the softmax, so the zero action decodes to
 * the heuristic's weights exactly.
 */
const WEIGHT_LIFT = 0.01;
/** Keeps a scalar at its bound from needing an infinite logit to move. */
const POSITION_MARGIN = 0.02;

interface Priors {
  weights: number[];
  retry: number;
  perTry: number;
}

/** The logit offsets that make the zero action decode to `base`. */
function priors(o: RouteObservation, base: PolicyAction): Priors {
  const inner = (value: number, b: IntBounds) => logit(clip(position(value, b), POSITION_MARGIN, 1 - POSITION_MARGIN));
  return {
    weights: o.regions.map((_, i) => Math.log(clip(base.weights[i] ?? 0, 0, 1) + WEIGHT_LIFT)),
    retry: inner(base.retryAttempts, o.retryBounds),
    perTry: inner(base.perTryTimeoutMs, o.perTryBoundsMs),
  };
}

/**
 * Decodes a raw action vector (ACTION_SIZE floats, e.g. a Gaussian policy's mean) for the
 * regions of `o`, relative to `base`, the heuristic's action for `o` (computed when not
 * given): a softmax over the present regions' logits added to the log of the base's lifted
 * shares, less the lift; and the two scalars moved from the base's place within the spec's
 * bounds. Throws ConfigError for a short vector or non-finite entries.
 */
export function decodeAction(raw: ArrayLike<number>, o: RouteObservation, base: PolicyAction = heuristicAction(o).action): PolicyAction {
  if (raw.length < ACTION_SIZE) throw new ConfigError(`action: ${raw.length} values; the policy spec has ${ACTION_SIZE}`);
  const n = o.regions.length;
  for (let i = 0; i < ACTION_SIZE; i++) {
    if (!Number.isFinite(raw[i])) throw new ConfigError(`action[${i}]: ${raw[i]} is not a finite number`);
  }
  const prior = priors(o, base);
  const logits = Array.from({ length: n }, (_, i) => raw[i]! + prior.weights[i]!);
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  const lifted = exps.map((e) => Math.max(0, (e / sum) * (1 + n * WEIGHT_LIFT) - WEIGHT_LIFT));
  const total = lifted.reduce((a, b) => a + b, 0);
  // Moves from the base value by the change in the squashed position, so the zero action
  // gives it exactly (even at a bound, which the prior's margin keeps off the sigmoid's ends).
  const moved = (x: number, p: number, from: number, b: IntBounds) =>
    Math.round(clip(from + (sigmoid(x + p) - sigmoid(p)) * (b.max - b.min), b.min, b.max));
  return {
    weights: total > 0 ? lifted.map((w) => w / total) : exps.map((e) => e / sum),
    retryAttempts: moved(raw[ACTION_RETRY_INDEX]!, prior.retry, base.retryAttempts, o.retryBounds),
    perTryTimeoutMs: moved(raw[ACTION_PER_TRY_INDEX]!, prior.perTry, base.perTryTimeoutMs, o.perTryBoundsMs),
  };
}

/** The raw action that decodes to `action` for `o` relative to `base` (the inverse of decodeAction): for tests, action probabilities and behaviour cloning. */
export function encodeAction(action: PolicyAction, o: RouteObservation, base: PolicyAction = heuristicAction(o).action): Float32Array {
  const raw = new Float32Array(ACTION_SIZE);
  const prior = priors(o, base);
  const safeLogit = (p: number) => logit(clip(p, 1e-4, 1 - 1e-4));
  const unmoved = (target: number, p: number, from: number, b: IntBounds) =>
    b.max > b.min ? safeLogit(sigmoid(p) + (target - from) / (b.max - b.min)) - p : 0;
  action.weights.forEach((w, i) => (raw[i] = Math.log(Math.max(w, 0) + WEIGHT_LIFT) - prior.weights[i]!));
  raw[ACTION_RETRY_INDEX] = unmoved(action.retryAttempts, prior.retry, base.retryAttempts, o.retryBounds);
  raw[ACTION_PER_TRY_INDEX] = unmoved(action.perTryTimeoutMs, prior.perTry, base.perTryTimeoutMs, o.perTryBoundsMs);
  return raw;
}
