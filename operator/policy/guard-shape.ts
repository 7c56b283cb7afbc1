// Where a proposal lands once the guard's bounds apply: closed failover groups emptied, an
// even-by-success spread when every region fails, the floor in the serving group, capacity
// caps and the step bound, fitted to integer percents summing to 100. When the step bound
// limits how much load comes off, it comes off the regions that break an objective first: a
// route's p99 is its slowest percent, so a step that leaves a few percent on a region over the
// objective (a far failover region on the way back home) gains nothing.
import type { CapacityCaps } from './capacity.ts';
import type { Eligibility } from './eligibility.ts';
import type { GuardSpec } from './guard-spec.ts';
import { GUARD_RULES, type GuardRule } from './guard-rules.ts';
import { largestRemainder } from '../base/percent.ts';
import { fitToBounds, normalise, raiseToFloors } from './weights.ts';

/** Spreading when every region fails: the least share of success a region counts with, and the error rate assumed where none is measured. */
const SPREAD_MIN_SUCCESS = 0.02;
const SPREAD_UNKNOWN_ERRORS = 0.5;

/** What the shape reads of each region: its error rate, and whether it breaks an objective now. */
export interface ShapeReadings {
  errorRates: readonly (number | null)[];
  breaking: readonly boolean[];
}

export interface Shaped {
  weights: number[];
  notes: string[];
}

/** The proposal's weights through the groups, the floor, capacity and the step bound, from `base` (which already obeys the health rules). */
export function shape(proposed: readonly number[], base: readonly number[], e: Eligibility, caps: CapacityCaps, spec: GuardSpec, regions: readonly string[], readings: ShapeReadings, rules: Set<GuardRule>): Shaped {
  const { errorRates, breaking } = readings;
  const notes: string[] = [];
  const open = e.allowed.map((a, i) => a && e.groups.open[i]!);
  let wanted = proposed.map((w, i) => (open[i] && Number.isFinite(w) ? Math.max(0, w) : 0));
  const closed = regions.filter((_, i) => e.allowed[i] && !open[i] && (proposed[i]! >= 0.5 || base[i]! > 0));
  if (closed.length > 0) {
    rules.add(GUARD_RULES.failoverClosed);
    notes.push(`no traffic to ${closed.join(', ')} (failover group: the groups before it meet the objectives)`);
  }
  if (!e.healthyExists && e.allowed.some((a) => a)) {
    // Every region looks failing: concentrating on one would collapse it too; spread over all,
    // in proportion to the share of requests each still answers (a dead region gets little).
    rules.add(GUARD_RULES.spread);
    notes.push('every region looks failing: spread over all of them rather than concentrated, by the share of requests each still answers');
    wanted = open.map((a, i) => (a ? Math.max(SPREAD_MIN_SUCCESS, 1 - (errorRates[i] ?? SPREAD_UNKNOWN_ERRORS)) : 0));
  }
  let target = wanted.some((w) => w > 0) ? normalise(wanted) : [...base];
  const floors = e.floored.map((f) => (f ? spec.minWeight : 0));
  const floored = raiseToFloors(target, floors);
  const lifted = regions.filter((_, i) => floors[i]! > 0 && target[i]! < floors[i]! - 0.5);
  if (lifted.length > 0) {
    rules.add(GUARD_RULES.floor);
    notes.push(`kept ${lifted.map((r) => `${r} (proposed ${Math.round(target[regions.indexOf(r)]!)}%)`).join(', ')} at the ${spec.minWeight}% floor`);
  }
  target = floored;
  const step = spec.maxWeightStep;
  const lo = base.map((b, i) => (e.allowed[i] ? Math.max(0, b - step) : 0));
  const stepHi = base.map((b, i) => (e.allowed[i] ? Math.min(100, b + step) : 0));
  const hi = withinCapacity(stepHi, caps.cap).map((h, i) => Math.max(h, lo[i]!));
  const capped = regions.filter((_, i) => target[i]! > hi[i]! + 0.5 && hi[i]! < stepHi[i]! && caps.why[i]);
  if (capped.length > 0) {
    rules.add(GUARD_RULES.capacity);
    notes.push(`capacity: ${capped.map((r) => `${r} held to ${Math.round(hi[regions.indexOf(r)]!)}% (${caps.why[regions.indexOf(r)]})`).join(', ')}`);
  }
  // The floor is a lower bound where the step allows it; if floors and step bounds together
  // ask for more than 100, the floors give way (the step bound never does).
  let loF = lo.map((l, i) => Math.min(Math.max(l, floors[i]!), hi[i]!));
  const over = loF.reduce((a, b) => a + b, 0) - 100;
  if (over > 0) {
    const excess = loF.map((l, i) => l - lo[i]!);
    const total = excess.reduce((a, b) => a + b, 0);
    loF = loF.map((l, i) => l - (excess[i]! * over) / total);
  }
  const fitted = fitToBounds(target, loF, breakersFirst(hi, loF, target, base, breaking));
  let worst = -1, worstMove = 0;
  target.forEach((t, i) => {
    const move = Math.abs(t - base[i]!);
    if (move > step + 0.5 && move > worstMove) {
      worst = i;
      worstMove = move;
    }
  });
  if (worst >= 0) {
    rules.add(GUARD_RULES.stepCapped);
    notes.push(`step capped: ${regions[worst]} would have moved ${Math.round(worstMove)} points, maxWeightStep is ${step}`);
  }
  return { weights: largestRemainder(fitted), notes };
}

/**
 * Upper bounds that send load off the regions breaking an objective first: such a region that
 * is to lose load keeps no more than its target (or what the step bound leaves it), so the
 * others lose only what is still to move. Unchanged when that would leave too little room.
 */
function breakersFirst(hi: readonly number[], lo: readonly number[], target: readonly number[], base: readonly number[], breaking: readonly boolean[]): number[] {
  const first = hi.map((h, i) => (breaking[i] && target[i]! < base[i]! ? Math.min(h, Math.max(lo[i]!, target[i]!)) : h));
  return first.reduce((a, b) => a + b, 0) >= 100 - 1e-9 ? first : [...hi];
}

/**
 * The step's upper bounds cut to capacity, where that leaves room for all the traffic; when
 * it does not (every region near capacity), the capacity caps give way in proportion to the
 * room they took, since the traffic has to go somewhere.
 */
function withinCapacity(stepHi: readonly number[], cap: readonly number[]): number[] {
  const hi = stepHi.map((h, i) => Math.min(h, cap[i]!));
  const short = 100 - hi.reduce((a, b) => a + b, 0);
  if (short <= 0) return hi;
  const taken = stepHi.map((h, i) => h - hi[i]!);
  const total = taken.reduce((a, b) => a + b, 0);
  return total > 0 ? hi.map((h, i) => h + (taken[i]! * Math.min(short, total)) / total) : hi;
}
