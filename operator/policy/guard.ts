// The safety guard between a policy's proposal and the data plane. Whatever proposed the action
// (a model, the heuristic), the guard decides what is served, by these rules in this order:
//   static mode    the spec's weights (primary priority group), the policy is not consulted;
//   health         (eligibility.ts) no traffic to a region whose health fails (its health check, or a fresh
//                  error rate of FAILING_ERROR_RATE or more) while a healthy eligible one
//                  exists, and none to a remote region (priority > 0) when failover is
//                  disabled; both take effect at once, whatever the step bound says;
//   fail-static    any region's telemetry stale (or no snapshot): keep the current weights;
//   rollback       (enforce mode) the SLO was met when the last decision was made, that
//                  decision changed what is served, and now (within two decision intervals)
//                  the SLO is breached: restore the last weights and retry settings under
//                  which it was met (at once, not step by step), then hold them for
//                  ROLLBACK_HOLD_DECISIONS decisions so the policy cannot undo it at once
//                  (the hold still lets load off a region breaking an objective now:
//                  rollback-hold.ts);
//   spread         when every region looks failing, traffic is spread over all of them
//                  rather than concentrated on one, which would collapse it too;
//   failover       (serving-group.ts) the route is served by its lowest priority group with
//                  a region not failing; a later group is opened only while the groups before
//                  it cannot be relied on (none measured within the objective, or one carrying
//                  traffic past the evidence headroom, saturated or rising); a closed group is
//                  drained by bounded steps;
//   floor          (guard-shape.ts, like spread, failover, capacity and the step bound)
//                  every healthy eligible region of the serving group keeps at least
//                  minWeight percent, so a recovering region keeps being probed; not failover
//                  regions, not a region whose latency alone breaks the objective, and not on
//                  probation: for a while after failing (its health check or its error rate),
//                  doubling with each relapse (probation.ts), so that a flapping region is
//                  not force-fed traffic;
//   return to spec (only with spec.policy.returnToSpecAfter) after that long calm (every
//                  region fresh, well within its objectives, none failing or on probation:
//                  return-to-spec.ts), the spec's weights replace the proposal's, so a
//                  recovered region gets its declared share back (by bounded steps, like any
//                  move) and keeps it while the calm lasts; a return that ends the calm
//                  doubles the wait for the next;
//   evidence       (evidence.ts) with every region fresh, well within its objectives,
//                  not saturated, not failing or on probation and nothing rising towards
//                  trouble, there is no reason to move away from the spec: only the part of
//                  a proposal that goes back towards the spec's weights is followed, else the
//                  weights hold (a guess that moves 75-98% onto one region overloads it);
//   capacity       (capacity.ts) no move adds more load to a region than its measured
//                  headroom takes, nor any to one whose p99 climbs or that is on probation
//                  (unless every region carrying traffic breaks an objective: then trying
//                  one back costs nothing); a region that failed recently gets a trickle
//                  (minWeight) until it is measured again: recovery is observed before it is
//                  trusted;
//   bounded step   no region's weight moves more than maxWeightStep points per decision (the
//                  floor yields to this: a region far below it climbs one step at a time);
//                  what comes off comes off the regions breaking an objective first;
//   per-try floor  the per-try timeout is never below the latency objective (within the
//                  spec's bounds): a try cut earlier would have been a good answer, and a
//                  far region whose round trip exceeds the timeout would fail every try;
//   retry budget   (retry-budget.ts) retries are cut to what keeps the expected retries
//                  within 20% of requests + 10/s, and within 1% while a region carrying
//                  traffic is saturated, so retries cannot amplify an overload;
//   shadow mode    all of the above is computed and reported, nothing is applied, and the
//                  next shadow decision starts from this one.
// Weights come out as integer percents summing to exactly 100 (largest remainder); retries and
// the per-try timeout are clamped into the spec's bounds. Pure: time and state come in.
import { formatDuration, isDuration, parseDuration } from '../base/duration.ts';
import type { AdaptiveRoute, PolicyMode, RegionWeight } from '../api/types.ts';
import { describeMove, describeSituation, formatFraction, formatMs, weightList } from './explain.ts';
import type { GuardState } from './guard-state.ts';
import type { CurrentIntent } from './observe.ts';
import { nextProbation, onProbation, probationHolds, recentlyFailed } from './probation.ts';
export { GUARD_RULES, type GuardRule } from './guard-rules.ts';
export { FAILING_ERROR_RATE } from './eligibility.ts';
import { capacityCaps } from './capacity.ts';
import { eligibility, failingRegions, type Eligibility } from './eligibility.ts';
import { GUARD_RULES, type GuardRule } from './guard-rules.ts';
import { shape } from './guard-shape.ts';
import { retryBudget } from './retry-budget.ts';
import { offBreaking } from './rollback-hold.ts';
import { evidenceToMove } from './evidence.ts';
import { calmNeeded, isCalm } from './return-to-spec.ts';
import { breaksObjective, sloStatus, type SloStatus } from './slo.ts';
import type { PolicyAction, RouteObservation } from './observation.ts';
import { largestRemainder } from '../base/percent.ts';
import { primaryGroupWeights } from '../api/priority-groups.ts';
import { fitToBounds } from './weights.ts';

/** A breach later than this many decision intervals after a decision is not blamed on it. */
export const ROLLBACK_WINDOW_INTERVALS = 2;
/** Decisions after a rollback during which proposals are not followed. */
export const ROLLBACK_HOLD_DECISIONS = 2;

/** The bounds the spec sets on the guard. */
export interface GuardSpec {
  mode: PolicyMode;
  /** Percentage points. */
  maxWeightStep: number;
  /** Percent. */
  minWeight: number;
  failoverEnabled: boolean;
  decisionIntervalMs: number;
  /** Calm decisions in a row after which the guard returns to the spec's weights; undefined: never. */
  returnAfterDecisions?: number;
  /** The spec's destinations (weights relative), for static mode. */
  destinations: { region: string; weight: number; priority: number }[];
}

/** The guard's bounds from a validated, defaulted route. Throws ConfigError for an unparsable decision interval. */
export function guardSpecFrom(route: AdaptiveRoute): GuardSpec {
  const { policy, failover, destinations } = route.spec;
  return {
    mode: policy.mode,
    maxWeightStep: policy.maxWeightStep,
    minWeight: policy.minWeight,
    failoverEnabled: failover.enabled,
    decisionIntervalMs: parseDuration(policy.decisionInterval),
    ...(policy.returnToSpecAfter ? { returnAfterDecisions: Math.max(1, Math.ceil(parseDuration(policy.returnToSpecAfter) / parseDuration(policy.decisionInterval))) } : {}),
    destinations: destinations.map((d) => ({ region: d.region, weight: d.weight, priority: d.priority })),
  };
}

export interface Proposal {
  action: PolicyAction;
  /** Who proposed, for the reason: "model default@v3", "heuristic". */
  by: string;
  /** What the proposer says about its choice (the heuristic's reason), if anything. */
  note?: string;
}

export interface GuardInput {
  /** Required unless the mode is static. */
  proposal?: Proposal;
  observation: RouteObservation;
  current: CurrentIntent;
  spec: GuardSpec;
  /** The state the previous decision returned (undefined: the first decision). */
  state?: GuardState;
  nowMs: number;
}

export interface GuardResult {
  /** Percent per region of the observation, in its order; integers summing to 100. */
  weights: RegionWeight[];
  retryAttempts: number;
  perTryTimeoutMs: number;
  /** The result goes to the data plane: false in shadow mode and when the guard held the current intent. */
  applied: boolean;
  /** The rules that changed the outcome. */
  rules: GuardRule[];
  /** What was seen, what was proposed and why the guard did or did not intervene. */
  reason: string;
  /** The route's SLO status at this decision (before it takes effect). */
  slo: SloStatus;
  /** To persist and pass to the next decision. */
  state: GuardState;
}

const clampInt = (v: number, lo: number, hi: number) => Math.round(Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : lo)));
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The spec's weights as served by a static policy: percent over the primary (lowest weighted) priority group. */
export function staticWeights(spec: GuardSpec, regions: readonly string[]): number[] {
  const inPrimary = primaryGroupWeights(spec.destinations);
  const byRegion = new Map(spec.destinations.map((d, i) => [d.region, inPrimary[i]!]));
  const raw = regions.map((r) => byRegion.get(r) ?? 0);
  return raw.some((w) => w > 0) ? largestRemainder(raw) : largestRemainder(regions.map(() => 1));
}

/** `weights` as integer percents in `regions` order (missing regions 0); undefined when all are 0. */
function percentOf(weights: readonly RegionWeight[] | undefined, regions: readonly string[]): number[] | undefined {
  if (!weights) return undefined;
  const byRegion = new Map(weights.map((w) => [w.region, w.weight]));
  const raw = regions.map((r) => {
    const w = byRegion.get(r) ?? 0;
    return Number.isFinite(w) ? Math.max(0, w) : 0;
  });
  return raw.some((w) => w > 0) ? largestRemainder(raw) : undefined;
}

/** `weights` with the disallowed regions' share handed to the allowed ones, in proportion to what they carry (equally if they carry nothing). */
function withoutDisallowed(weights: readonly number[], allowed: readonly boolean[]): number[] {
  const kept = weights.map((w, i) => (allowed[i] ? w : 0));
  if (kept.some((w) => w > 0)) return largestRemainder(kept);
  return largestRemainder(allowed.map((a) => (a ? 1 : 0)));
}

/** Notes (and rules) for what the health and eligibility rules took away from `before` or `wanted`. */
function forcedNotes(regions: readonly string[], e: Eligibility, before: readonly number[], wanted: readonly number[] | undefined, rules: Set<GuardRule>): string[] {
  const notes: string[] = [];
  const touched = (i: number) => (before[i] ?? 0) > 0 || (wanted?.[i] ?? 0) >= 0.5;
  const failing = regions.filter((_, i) => e.failing[i] && !e.allowed[i] && touched(i));
  if (failing.length > 0) {
    rules.add(GUARD_RULES.healthOverride);
    notes.push(`no traffic to ${failing.join(', ')} (health failing while a healthy region exists)`);
  }
  const remote = regions.filter((_, i) => e.ineligible[i] && touched(i));
  if (remote.length > 0) {
    rules.add(GUARD_RULES.failoverDisabled);
    notes.push(`no traffic to ${remote.join(', ')} (remote, and failover is disabled)`);
  }
  if (!e.healthyExists && e.failing.some((f, i) => f && !e.ineligible[i])) notes.push('every region fails its health check: none is singled out');
  return notes;
}

function retryNotes(before: CurrentIntent, attempts: number, perTryMs: number): string[] {
  const notes: string[] = [];
  if (attempts !== before.retryAttempts) notes.push(`retries ${before.retryAttempts}→${attempts}`);
  if (perTryMs !== before.perTryTimeoutMs) notes.push(`per-try timeout ${formatMs(before.perTryTimeoutMs)}→${formatMs(perTryMs)}`);
  return notes;
}

function rollbackDue(state: GuardState, slo: SloStatus, input: GuardInput, regions: readonly string[]): number[] | undefined {
  if (input.spec.mode !== 'enforce' || state.sloBefore !== 'met' || !state.moved || slo.state !== 'breached' || !state.lastGood) return undefined;
  if (state.lastDecisionTime !== undefined) {
    const since = input.nowMs - Date.parse(state.lastDecisionTime);
    if (!(since <= ROLLBACK_WINDOW_INTERVALS * input.spec.decisionIntervalMs)) return undefined;
  }
  const names = new Set(state.lastGood.weights.map((w) => w.region));
  if (names.size !== regions.length || !regions.every((r) => names.has(r))) return undefined;
  return percentOf(state.lastGood.weights, regions);
}

function sloWords(slo: SloStatus): string {
  const parts: string[] = [];
  if (slo.p99Ms !== null) parts.push(`p99 ${formatMs(slo.p99Ms)} of ${formatMs(slo.objectiveP99Ms)}`);
  if (slo.errorRate !== null) parts.push(`errors ${formatFraction(slo.errorRate)} of ${formatFraction(slo.maxErrorRate)}`);
  return parts.join(', ');
}

/**
 * Applies the guard's rules (see the module comment) to `input`. Pure and deterministic;
 * throws TypeError when a non-static mode comes without a proposal.
 */
export function guard(input: GuardInput): GuardResult {
  const { observation: o, spec, current } = input;
  const state = input.state ?? { step: 0 };
  const regions = o.regions.map((r) => r.region);
  const slo = sloStatus(o);
  const step = state.step + 1;
  const served = percentOf(current.weights, regions) ?? staticWeights(spec, regions);
  const clampRetries = (n: number) => clampInt(n, o.retryBounds.min, o.retryBounds.max);
  const clampPerTry = (ms: number) => clampInt(ms, o.perTryBoundsMs.min, o.perTryBoundsMs.max);
  const rules = new Set<GuardRule>();
  const notes: string[] = [];
  let weights: number[];
  let attempts = clampRetries(current.retryAttempts);
  let perTryMs = clampPerTry(current.perTryTimeoutMs);
  let applied = spec.mode !== 'shadow';
  let head: string;
  let holdUntilStep = state.holdUntilStep !== undefined && step < state.holdUntilStep ? state.holdUntilStep : undefined;
  let calm = 0;
  const after = spec.returnAfterDecisions;
  let needed = after === undefined ? undefined : (state.calmNeeded ?? after);
  let returning = false;

  const failingNow = failingRegions(o, served);
  // Probation's records after this decision: read by the rules below and persisted in the state.
  const records = nextProbation(state.probation, regions, failingNow, step);

  if (spec.mode === 'static') {
    rules.add(GUARD_RULES.static);
    weights = staticWeights(spec, regions);
    head = `static mode: serving the spec's weights (${weightList(regions, weights)}); no policy is consulted`;
  } else {
    const proposal = input.proposal;
    if (!proposal) throw new TypeError(`guard: mode ${spec.mode} needs a proposal`);
    const shadowBase = spec.mode === 'shadow' ? percentOf(state.shadowWeights, regions) : undefined;
    const before = shadowBase ?? served;
    const probation = onProbation(records, regions, step);
    const e = eligibility(o, spec, failingNow, probation);
    const probed = regions.filter((_, i) => probation[i] && e.allowed[i] && !e.failing[i]);
    if (probed.length > 0) {
      rules.add(GUARD_RULES.probation);
      notes.push(`${probed.join(', ')} on probation after failing its health check: not held at the ${spec.minWeight}% floor`);
    }
    const base = withoutDisallowed(before, e.allowed);
    const home = after === undefined ? undefined : staticWeights(spec, regions);
    const calmNow = isCalm(o, e.failing) && !probation.some((p) => p);
    const quiet = !evidenceToMove(o, e.failing, probation);
    if (home && after !== undefined) {
      calm = calmNow ? (state.calm ?? 0) + 1 : 0;
      needed = calmNeeded(after, state.calmNeeded, state.returning === true, calmNow, same(home, base));
    }
    const wanted = proposal.action.weights.map((w) => w * 100);
    head = `${proposal.by}: ${describeSituation(o)}`;
    const forced = forcedNotes(regions, e, before, wanted, rules);
    const rollbackTo = rollbackDue(state, slo, input, regions);
    const stale = o.regions.some((r) => !r.fresh);
    const holding = holdUntilStep !== undefined && spec.mode === 'enforce';
    // What a hold lets through: load taken off regions that break an objective (rollback-hold.ts).
    const released = holding ? offBreaking(o, base, wanted) : wanted;
    if (stale) {
      rules.add(GUARD_RULES.failStatic);
      weights = base;
      notes.push(`fail-static: telemetry is stale, the current weights stay (${proposal.by} not followed)`, ...forced);
      applied = applied && !same(weights, served);
    } else if (rollbackTo) {
      rules.add(GUARD_RULES.rollback);
      weights = withoutDisallowed(rollbackTo, e.allowed);
      const good = state.lastGood!;
      attempts = clampRetries(good.retryAttempts);
      perTryMs = isDuration(good.perTryTimeout) ? clampPerTry(parseDuration(good.perTryTimeout)) : perTryMs;
      holdUntilStep = step + 1 + ROLLBACK_HOLD_DECISIONS;
      notes.push(
        `rollback: the SLO was met before the last decision and is breached now (${sloWords(slo)}): back to the last good weights, ` +
          `held for ${ROLLBACK_HOLD_DECISIONS} decisions`,
        ...forced,
      );
    } else if (holding && !released.some((t, i) => Math.abs(t - base[i]!) >= 0.5)) {
      rules.add(GUARD_RULES.rollbackHold);
      weights = base;
      notes.push(`holding the rolled-back weights until decision ${holdUntilStep} (${proposal.by} not followed)`, ...forced);
      applied = !same(weights, served);
    } else {
      if (proposal.note) head += `; ${proposal.note}`;
      let target = released;
      if (holding) {
        rules.add(GUARD_RULES.rollbackHold);
        notes.push(`holding the rolled-back weights until decision ${holdUntilStep}, but for load taken off regions that break an objective`);
      }
      if (quiet) {
        // Evidence before moves: with every region fresh and within its objectives nothing
        // asks for a change, and a move away from the spec made anyway is a guess that can
        // overload a region. A move back towards the spec's weights (the user's intent) is
        // followed: each region stays between what it has and what the spec gives it.
        const declared = staticWeights(spec, regions);
        const towards = fitToBounds(wanted, base.map((b, i) => Math.min(b, declared[i]!)), base.map((b, i) => Math.max(b, declared[i]!)));
        if (towards.some((t, i) => Math.abs(t - wanted[i]!) >= 0.5)) {
          rules.add(GUARD_RULES.noEvidence);
          const what = towards.some((t, i) => Math.abs(t - base[i]!) >= 0.5) ? 'only the part of the move back towards the spec is followed' : 'the weights hold';
          notes.push(`no evidence to move: every region is within its objectives, so ${what} (${proposal.by} proposed ${weightList(regions, wanted.map((w) => Math.round(w)))})`);
        }
        target = towards;
      }
      if (home && needed !== undefined && calm >= needed) {
        const away = wanted.some((w, i) => Math.abs(w - home[i]!) >= 0.5);
        if (!same(home, base) || away) {
          rules.add(GUARD_RULES.returnToSpec);
          const doing = same(home, base) ? 'holding' : 'returning towards';
          notes.push(`calm for ${calm} decisions: ${doing} the spec's weights (${weightList(regions, home)}) instead of ${proposal.by}'s`);
        }
        target = home;
        returning = !same(home, base);
      }
      const breaking = o.regions.map((r) => breaksObjective(r, o));
      const servingWell = o.regions.some((_, i) => base[i]! > 0 && !probation[i] && !e.failing[i] && !breaking[i]);
      const held = probationHolds(probation, e.healthyExists, servingWell);
      const caps = capacityCaps(o, base, { onProbation: held, recovering: recentlyFailed(records, regions) }, spec.minWeight);
      const readings = { errorRates: o.regions.map((r) => r.errorRate), breaking };
      const shaped = shape(target, base, e, caps, spec, regions, readings, rules);
      weights = shaped.weights;
      notes.push(...forced, ...shaped.notes);
      attempts = clampRetries(proposal.action.retryAttempts);
      perTryMs = clampPerTry(proposal.action.perTryTimeoutMs);
      if (attempts !== Math.round(proposal.action.retryAttempts) || perTryMs !== Math.round(proposal.action.perTryTimeoutMs)) {
        rules.add(GUARD_RULES.retriesClamped);
        notes.push('retries clamped into the spec bounds');
      }
      const floorMs = clampPerTry(o.objectives.latencyP99Ms);
      if (perTryMs < floorMs) {
        // A try cut before the latency objective would have been a good answer; and a region
        // whose round trip alone exceeds the timeout fails every try it gets.
        rules.add(GUARD_RULES.perTryFloor);
        notes.push(`per-try timeout ${formatMs(perTryMs)}→${formatMs(floorMs)} (not below the ${formatMs(o.objectives.latencyP99Ms)} objective)`);
        perTryMs = floorMs;
      }
      const budget = retryBudget(o, weights);
      if (attempts > budget.maxAttempts) {
        rules.add(GUARD_RULES.retryBudget);
        notes.push(`retry budget: ${attempts}→${budget.maxAttempts} attempts (${budget.why})`);
        attempts = budget.maxAttempts;
      }
      if (notes.length === 0) notes.push('the guard did not intervene');
    }
    if (spec.mode === 'shadow') {
      rules.add(GUARD_RULES.shadow);
      applied = false;
    }
  }

  const move = describeMove(regions, spec.mode === 'shadow' ? (percentOf(state.shadowWeights, regions) ?? served) : served, weights);
  const change = [move, ...retryNotes(current, attempts, perTryMs)].join(', ');
  const body = spec.mode === 'static' ? head : `${head}; ${change}; ${notes.join('; ')}`;
  const reason = spec.mode === 'shadow' ? `shadow mode, nothing applied: ${body}` : body;

  const result: RegionWeight[] = regions.map((region, i) => ({ region, weight: weights[i]! }));
  const next: GuardState = {
    step,
    lastDecisionTime: new Date(input.nowMs).toISOString(),
    sloBefore: slo.state,
    moved: applied && (!same(weights, served) || attempts !== current.retryAttempts || perTryMs !== current.perTryTimeoutMs),
  };
  const lastGood = slo.state === 'met'
    ? { weights: regions.map((region, i) => ({ region, weight: served[i]! })), retryAttempts: clampRetries(current.retryAttempts), perTryTimeout: formatDuration(clampPerTry(current.perTryTimeoutMs)) }
    : state.lastGood;
  if (lastGood) next.lastGood = lastGood;
  if (holdUntilStep !== undefined && spec.mode === 'enforce') next.holdUntilStep = holdUntilStep;
  if (calm > 0) next.calm = calm;
  if (needed !== undefined && needed !== after) next.calmNeeded = needed;
  if (returning && applied) next.returning = true;
  if (spec.mode === 'shadow') next.shadowWeights = result.map((w) => ({ ...w }));
  if (records.length > 0) next.probation = records;
  return { weights: result, retryAttempts: attempts, perTryTimeoutMs: perTryMs, applied, rules: [...rules], reason, slo, state: next };
}
