// How each demo region behaves over time, deterministic from a seed and the clock, so that
// the demo has something to show: every region's latency drifts slowly, and one region has a
// brownout (latency up several-fold, a share of calls failing) for a minute every four, the
// first half a minute after the demo starts (a schedule `meshpilot local` can shorten).
import { hashString, prng } from '../base/random.ts';

/** The demo's regions, their usual latency and their share of the route. */
export const DEMO_REGIONS = [
  { region: 'eu-west', medianLatencyMs: 12, weight: 50 },
  { region: 'us-east', medianLatencyMs: 30, weight: 30 },
  // Far, but well within the route's 250 ms objective even at the top of its drift (p99 about
  // 40 × e^(2.33 × 0.35) × 1.25 ≈ 115 ms): a calm demo must read as calm, so that holding the
  // spec is what the guard shows until the brownout.
  { region: 'ap-south', medianLatencyMs: 40, weight: 20 },
] as const;

/** What a region does to the calls it serves at one instant. */
export interface RegionCondition {
  medianLatencyMs: number;
  /** Spread of the log-normal latency around the median (sigma of its log); 0 is constant. */
  jitter: number;
  /** Share of calls failed on purpose, 0..1. */
  errorFraction: number;
  brownout: boolean;
}

export const BROWNOUT = {
  periodMs: 4 * 60_000,
  durationMs: 60_000,
  latencyFactor: 6,
  errorFraction: 0.3,
} as const;

/** When brownouts happen: the first `firstAfterMs` after the start, then one every `periodMs`, each `durationMs` long. */
export interface BrownoutSchedule {
  periodMs: number;
  durationMs: number;
  firstAfterMs: number;
}

/** Calm first, so that a new user sees the route hold its spec before the first brownout. */
export const DEFAULT_SCHEDULE: BrownoutSchedule = { periodMs: BROWNOUT.periodMs, durationMs: BROWNOUT.durationMs, firstAfterMs: 30_000 };

const BASE_ERROR_FRACTION = 0.002;
const JITTER = 0.35;
/** Latency drifts by up to +-25% over this period. */
const DRIFT_PERIOD_MS = 10 * 60_000;
const DRIFT_AMPLITUDE = 0.25;

/** A latency drawn around `condition`'s median, ms, never below 0. */
export function drawLatencyMs(condition: RegionCondition, random: () => number): number {
  if (condition.jitter === 0) return condition.medianLatencyMs;
  // Box-Muller: a standard normal from two uniforms; 1 - u keeps log away from 0.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(0, condition.medianLatencyMs * Math.exp(condition.jitter * z));
}

/** The demo's script: which region browns out, when, and how every region drifts. Pure. */
export class DemoProfile {
  readonly seed: number;
  readonly brownoutRegion: string;
  readonly schedule: BrownoutSchedule;
  readonly #startMs: number;

  /** The script for `seed`, its brownouts on `schedule` counted from `startMs` (epoch ms). Throws RangeError for a schedule that is not one. */
  constructor(seed = 1, startMs = 0, schedule: BrownoutSchedule = DEFAULT_SCHEDULE) {
    if (!(schedule.durationMs > 0 && schedule.durationMs < schedule.periodMs && schedule.firstAfterMs >= 0)) {
      throw new RangeError(`demo brownout schedule: the duration (${schedule.durationMs} ms) must be above 0 and below the period (${schedule.periodMs} ms)`);
    }
    this.seed = seed;
    this.brownoutRegion = DEMO_REGIONS[Math.floor(prng(seed)() * DEMO_REGIONS.length)]!.region;
    this.schedule = schedule;
    this.#startMs = startMs;
  }

  /** Whether `region` is in a brownout at `nowMs` (epoch ms). */
  inBrownout(region: string, nowMs: number): boolean {
    if (region !== this.brownoutRegion) return false;
    const since = nowMs - this.#startMs - this.schedule.firstAfterMs;
    return since >= 0 && since % this.schedule.periodMs < this.schedule.durationMs;
  }

  /** How `region` treats calls at `nowMs`. Throws RangeError for a region the demo does not have. */
  condition(region: string, nowMs: number): RegionCondition {
    const spec = DEMO_REGIONS.find((r) => r.region === region);
    if (!spec) throw new RangeError(`the demo has no region ${region}`);
    const phase = ((hashString(`${this.seed}/${region}`) % 1000) / 1000) * 2 * Math.PI;
    const drift = 1 + DRIFT_AMPLITUDE * Math.sin((2 * Math.PI * nowMs) / DRIFT_PERIOD_MS + phase);
    const brownout = this.inBrownout(region, nowMs);
    return {
      medianLatencyMs: spec.medianLatencyMs * drift * (brownout ? BROWNOUT.latencyFactor : 1),
      jitter: JITTER,
      errorFraction: brownout ? BROWNOUT.errorFraction : BASE_ERROR_FRACTION,
      brownout,
    };
  }
}
