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
import type { RegionWeight } from '../api/types.ts';
import { formatDuration, isDuration, parseDuration } from '../base/duration.ts';
import { largestRemainder } from '../base/percent.ts';
import { capacityCaps } from './capacity.ts';
import { eligibility, failingRegions, type Eligibility } from './eligibility.ts';
import { evidenceToMove } from './evidence.ts';
import { describeMove, describeSituation, weightList } from './explain.ts';
import { GUARD_RULES, type GuardRule } from './guard-rules.ts';
import { clampPerTry, clampRetries, guardRetries, retryNotes } from './guard-retries.ts';
import { shape } from './guard-shape.ts';
import { staticWeights, type GuardSpec } from './guard-spec.ts';
import type { GuardState } from './guard-state.ts';
import type { PolicyAction, RouteObservation } from './observation.ts';
import type { CurrentIntent } from './observe.ts';
import { nextProbation, onProbation, probationHolds, recentlyFailed, type ProbationEntry } from './probation.ts';
import { calmNeeded, isCalm } from './return-to-spec.ts';
import { percentOf, ROLLBACK_HOLD_DECISIONS, rollbackDue, sloWords } from './rollback.ts';
import { offBreaking } from './rollback-hold.ts';
import { breaksObjective, sloStatus, type SloStatus } from './slo.ts';
import { fitToBounds } from './weights.ts';

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

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What every rule reads: the input and what follows from it, computed once. */
interface Context {
  input: GuardInput;
  o: RouteObservation;
  spec: GuardSpec;
  state: GuardState;
  current: CurrentIntent;
  regions: string[];
  slo: SloStatus;
  /** This decision's number. */
  step: number;
  /** What is served now, as integer percents in `regions` order. */
  served: number[];
  failingNow: boolean[];
  /** Probation's records after this decision: read by the rules and persisted in the state. */
  records: ProbationEntry[];
}

/** The decision as the rules build it. */
interface Draft {
  weights: number[];
  attempts: number;
  perTryMs: number;
  applied: boolean;
  head: string;
  holdUntilStep: number | undefined;
  calm: number;
  needed: number | undefined;
  returning: boolean;
  rules: Set<GuardRule>;
  notes: string[];
}

/** What the rules on a proposal read besides the context. */
interface Situation {
  proposal: Proposal;
  /** The weights the decision starts from (in shadow mode, the previous shadow decision's). */
  before: number[];
  /** `before` without the disallowed regions. */
  base: number[];
  e: Eligibility;
  probation: boolean[];
  /** The spec's weights, when the route returns to them after a calm. */
  home: number[] | undefined;
  /** Nothing asks for a move (evidence.ts). */
  quiet: boolean;
  /** The proposal's weights, in percent. */
  wanted: number[];
  /** What a rollback hold lets through of `wanted` (all of it without a hold). */
  released: number[];
  holding: boolean;
  /** Notes of the health and eligibility rules. */
  forced: string[];
}

/**
 * Applies the guard's rules (see the module comment) to `input`. Pure and deterministic;
 * throws TypeError when a non-static mode comes without a proposal.
 */
export function guard(input: GuardInput): GuardResult {
  const c = contextOf(input);
  const { o, spec, state } = c;
  const d: Draft = {
    weights: [],
    attempts: clampRetries(o, c.current.retryAttempts),
    perTryMs: clampPerTry(o, c.current.perTryTimeoutMs),
    applied: spec.mode !== 'shadow',
    head: '',
    holdUntilStep: state.holdUntilStep !== undefined && c.step < state.holdUntilStep ? state.holdUntilStep : undefined,
    calm: 0,
    needed: spec.returnAfterDecisions === undefined ? undefined : (state.calmNeeded ?? spec.returnAfterDecisions),
    returning: false,
    rules: new Set(),
    notes: [],
  };
  if (spec.mode === 'static') {
    d.rules.add(GUARD_RULES.static);
    d.weights = staticWeights(spec, c.regions);
    d.head = `static mode: serving the spec's weights (${weightList(c.regions, d.weights)}); no policy is consulted`;
  } else {
    decideOnProposal(c, d);
    if (spec.mode === 'shadow') {
      d.rules.add(GUARD_RULES.shadow);
      d.applied = false;
    }
  }
  return resultOf(c, d);
}

function contextOf(input: GuardInput): Context {
  const { observation: o, spec, current } = input;
  const state = input.state ?? { step: 0 };
  const regions = o.regions.map((r) => r.region);
  const step = state.step + 1;
  const served = percentOf(current.weights, regions) ?? staticWeights(spec, regions);
  const failingNow = failingRegions(o, served);
  const records = nextProbation(state.probation, regions, failingNow, step);
  return { input, o, spec, state, current, regions, slo: sloStatus(o), step, served, failingNow, records };
}

/** The rules on a proposal, in order: fail-static, rollback, the rollback hold, or following it (shaped). */
function decideOnProposal(c: Context, d: Draft): void {
  const s = situationOf(c, d);
  const { o, spec, state, regions } = c;
  const rollbackTo = rollbackDue(state, c.slo, { mode: spec.mode, nowMs: c.input.nowMs, decisionIntervalMs: spec.decisionIntervalMs }, regions);
  if (o.regions.some((r) => !r.fresh)) {
    d.rules.add(GUARD_RULES.failStatic);
    d.weights = s.base;
    d.notes.push(`fail-static: telemetry is stale, the current weights stay (${s.proposal.by} not followed)`, ...s.forced);
    d.applied = d.applied && !same(d.weights, c.served);
  } else if (rollbackTo) {
    d.rules.add(GUARD_RULES.rollback);
    d.weights = withoutDisallowed(rollbackTo, s.e.allowed);
    const good = state.lastGood!;
    d.attempts = clampRetries(o, good.retryAttempts);
    d.perTryMs = isDuration(good.perTryTimeout) ? clampPerTry(o, parseDuration(good.perTryTimeout)) : d.perTryMs;
    d.holdUntilStep = c.step + 1 + ROLLBACK_HOLD_DECISIONS;
    d.notes.push(
      `rollback: the SLO was met before the last decision and is breached now (${sloWords(c.slo)}): back to the last good weights, ` +
        `held for ${ROLLBACK_HOLD_DECISIONS} decisions`,
      ...s.forced,
    );
  } else if (s.holding && !s.released.some((t, i) => Math.abs(t - s.base[i]!) >= 0.5)) {
    d.rules.add(GUARD_RULES.rollbackHold);
    d.weights = s.base;
    d.notes.push(`holding the rolled-back weights until decision ${d.holdUntilStep} (${s.proposal.by} not followed)`, ...s.forced);
    d.applied = !same(d.weights, c.served);
  } else {
    followProposal(c, d, s);
  }
}

/** What the rules on a proposal read: where the decision starts, who may carry traffic, whether anything asks for a move. */
function situationOf(c: Context, d: Draft): Situation {
  const proposal = c.input.proposal;
  if (!proposal) throw new TypeError(`guard: mode ${c.spec.mode} needs a proposal`);
  const { o, spec, state, regions, step } = c;
  const shadowBase = spec.mode === 'shadow' ? percentOf(state.shadowWeights, regions) : undefined;
  const before = shadowBase ?? c.served;
  const probation = onProbation(c.records, regions, step);
  const e = eligibility(o, spec, c.failingNow, probation);
  const probed = regions.filter((_, i) => probation[i] && e.allowed[i] && !e.failing[i]);
  if (probed.length > 0) {
    d.rules.add(GUARD_RULES.probation);
    d.notes.push(`${probed.join(', ')} on probation after failing its health check: not held at the ${spec.minWeight}% floor`);
  }
  const base = withoutDisallowed(before, e.allowed);
  const after = spec.returnAfterDecisions;
  const home = after === undefined ? undefined : staticWeights(spec, regions);
  if (home && after !== undefined) {
    const calmNow = isCalm(o, e.failing) && !probation.some((p) => p);
    d.calm = calmNow ? (state.calm ?? 0) + 1 : 0;
    d.needed = calmNeeded(after, state.calmNeeded, state.returning === true, calmNow, same(home, base));
  }
  const wanted = proposal.action.weights.map((w) => w * 100);
  d.head = `${proposal.by}: ${describeSituation(o)}`;
  const forced = forcedNotes(regions, e, before, wanted, d.rules);
  const holding = d.holdUntilStep !== undefined && spec.mode === 'enforce';
  // What a hold lets through: load taken off regions that break an objective (rollback-hold.ts).
  const released = holding ? offBreaking(o, base, wanted) : wanted;
  return { proposal, before, base, e, probation, home, quiet: !evidenceToMove(o, e.failing, probation), wanted, released, holding, forced };
}

/** Follows the proposal: its target (after the evidence and return-to-spec rules) shaped by the weight rules, its retries by the retry rules. */
function followProposal(c: Context, d: Draft, s: Situation): void {
  const { o, spec, regions } = c;
  if (s.proposal.note) d.head += `; ${s.proposal.note}`;
  if (s.holding) {
    d.rules.add(GUARD_RULES.rollbackHold);
    d.notes.push(`holding the rolled-back weights until decision ${d.holdUntilStep}, but for load taken off regions that break an objective`);
  }
  const target = targetOf(c, d, s);
  const breaking = o.regions.map((r) => breaksObjective(r, o));
  const servingWell = o.regions.some((_, i) => s.base[i]! > 0 && !s.probation[i] && !s.e.failing[i] && !breaking[i]);
  const held = probationHolds(s.probation, s.e.healthyExists, servingWell);
  const caps = capacityCaps(o, s.base, { onProbation: held, recovering: recentlyFailed(c.records, regions) }, spec.minWeight);
  const readings = { errorRates: o.regions.map((r) => r.errorRate), breaking };
  const shaped = shape(target, s.base, s.e, caps, spec, regions, readings, d.rules);
  d.weights = shaped.weights;
  d.notes.push(...s.forced, ...shaped.notes);
  ({ attempts: d.attempts, perTryMs: d.perTryMs } = guardRetries(o, s.proposal.action, d.weights, d.rules, d.notes));
  if (d.notes.length === 0) d.notes.push('the guard did not intervene');
}

/** Where the proposal may take the weights: what the hold released, back towards the spec when nothing asks for a move, the spec's after a long calm. */
function targetOf(c: Context, d: Draft, s: Situation): number[] {
  const { spec, regions } = c;
  let target = s.released;
  if (s.quiet) {
    // Evidence before moves: with every region fresh and within its objectives nothing
    // asks for a change, and a move away from the spec made anyway is a guess that can
    // overload a region. A move back towards the spec's weights (the user's intent) is
    // followed: each region stays between what it has and what the spec gives it.
    const declared = staticWeights(spec, regions);
    const towards = fitToBounds(s.wanted, s.base.map((b, i) => Math.min(b, declared[i]!)), s.base.map((b, i) => Math.max(b, declared[i]!)));
    if (towards.some((t, i) => Math.abs(t - s.wanted[i]!) >= 0.5)) {
      d.rules.add(GUARD_RULES.noEvidence);
      const what = towards.some((t, i) => Math.abs(t - s.base[i]!) >= 0.5) ? 'only the part of the move back towards the spec is followed' : 'the weights hold';
      d.notes.push(`no evidence to move: every region is within its objectives, so ${what} (${s.proposal.by} proposed ${weightList(regions, s.wanted.map((w) => Math.round(w)))})`);
    }
    target = towards;
  }
  const home = s.home;
  if (home && d.needed !== undefined && d.calm >= d.needed) {
    const away = s.wanted.some((w, i) => Math.abs(w - home[i]!) >= 0.5);
    if (!same(home, s.base) || away) {
      d.rules.add(GUARD_RULES.returnToSpec);
      const doing = same(home, s.base) ? 'holding' : 'returning towards';
      d.notes.push(`calm for ${d.calm} decisions: ${doing} the spec's weights (${weightList(regions, home)}) instead of ${s.proposal.by}'s`);
    }
    target = home;
    d.returning = !same(home, s.base);
  }
  return target;
}

/** The result: the weights and retries, the reason in words, and the state the next decision reads. */
function resultOf(c: Context, d: Draft): GuardResult {
  const { o, spec, state, current, regions, served, slo } = c;
  const move = describeMove(regions, spec.mode === 'shadow' ? (percentOf(state.shadowWeights, regions) ?? served) : served, d.weights);
  const change = [move, ...retryNotes(current, d.attempts, d.perTryMs)].join(', ');
  const body = spec.mode === 'static' ? d.head : `${d.head}; ${change}; ${d.notes.join('; ')}`;
  const reason = spec.mode === 'shadow' ? `shadow mode, nothing applied: ${body}` : body;
  const result: RegionWeight[] = regions.map((region, i) => ({ region, weight: d.weights[i]! }));
  const next: GuardState = {
    step: c.step,
    lastDecisionTime: new Date(c.input.nowMs).toISOString(),
    sloBefore: slo.state,
    moved: d.applied && (!same(d.weights, served) || d.attempts !== current.retryAttempts || d.perTryMs !== current.perTryTimeoutMs),
  };
  const lastGood =
    slo.state === 'met'
      ? { weights: regions.map((region, i) => ({ region, weight: served[i]! })), retryAttempts: clampRetries(o, current.retryAttempts), perTryTimeout: formatDuration(clampPerTry(o, current.perTryTimeoutMs)) }
      : state.lastGood;
  if (lastGood) next.lastGood = lastGood;
  if (d.holdUntilStep !== undefined && spec.mode === 'enforce') next.holdUntilStep = d.holdUntilStep;
  if (d.calm > 0) next.calm = d.calm;
  if (d.needed !== undefined && d.needed !== spec.returnAfterDecisions) next.calmNeeded = d.needed;
  if (d.returning && d.applied) next.returning = true;
  if (spec.mode === 'shadow') next.shadowWeights = result.map((w) => ({ ...w }));
  if (c.records.length > 0) next.probation = c.records;
  return { weights: result, retryAttempts: d.attempts, perTryTimeoutMs: d.perTryMs, applied: d.applied, rules: [...d.rules], reason, slo, state: next };
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
