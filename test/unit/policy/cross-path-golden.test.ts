// Training and serving must read the same situation as the same 224 numbers (issue 5). The
// simulator's path (TelemetryView → RouteSnapshot → observationFromSnapshot → encodeObservation)
// and serving's (RegionSample / HealthObservation → WindowStore behind the Telemetry facade →
// RouteSnapshot → observationFromSnapshot → encodeObservation) run side by side over whole
// episodes: every value the simulator's telemetry delivers, at its timestamp, is handed to a
// real WindowStore through the sink calls the sources make (recordSample, as the Prometheus and
// scrape sources do; recordHealth, as Kafka health events do), and at every decision point
// both observations are encoded and compared exactly: the encodings bit for bit, and the
// float64 observations under them too. No tolerance: both paths are deterministic functions of
// the same inputs, so any difference, even in the last bit, is a difference in the paths.
//
// The simulator's own encodings of these fixed episodes, at the decision points around each
// case's event, are pinned in sim-observation-golden-v2.json, so that a change in either path
// or in the simulation under them (which shifts what models are trained and evaluated on)
// fails here instead of passing silently. Regenerating it is an explicit act, never a side
// effect of a run:
//
//   UPDATE_GOLDEN=1 npm run jest -- test/unit/policy/cross-path-golden.test.ts
//
// then review the JSON diff and commit it with the change that caused it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { ManualClock } from '../../../operator/base/clock.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { telemetryTarget } from '../../../operator/adaptive-route/telemetry-target.ts';
import { observationFromSnapshot, type CurrentIntent } from '../../../operator/policy/observe.ts';
import {
  encodeObservation,
  OBSERVATION_SIZE,
  POLICY_SPEC_VERSION,
  REGION_FEATURES,
  ROUTE_FEATURES,
  ROW_SIZE,
  type RouteObservation,
} from '../../../operator/policy/features.ts';
import { telemetryMetrics, type TelemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { Telemetry } from '../../../operator/telemetry/telemetry.ts';
import type { RouteTarget } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { staticPolicy } from '../../../training/baselines/static.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { specWeights } from '../../../training/sim/route-view.ts';
import { loadScenario, validateScenario, type Scenario } from '../../../training/sim/scenario-loader.ts';
import type { TelemetryDelivery } from '../../../training/sim/telemetry-view.ts';
import { largestRemainder } from '../../../operator/base/percent.ts';

const GOLDEN = fileURLToPath(new URL('./sim-observation-golden-v2.json', import.meta.url));
const SCENARIOS = fileURLToPath(new URL('../../../training/scenarios/', import.meta.url));
const REGENERATE = 'UPDATE_GOLDEN=1 npm run jest -- test/unit/policy/cross-path-golden.test.ts';

/**
 * Serving's side: a real WindowStore behind the Telemetry facade, following the route as the
 * reconciler does (telemetryTarget of the same AdaptiveRoute), on a clock that reads the
 * simulator's time, so that every sample arrives at the instant it was measured.
 */
class ServingPath {
  readonly metrics: TelemetryMetrics = telemetryMetrics(new Registry());
  readonly #route: AdaptiveRoute;
  readonly #target: RouteTarget;
  readonly #clock: ManualClock;
  readonly #store: WindowStore;
  readonly #telemetry: Telemetry;

  constructor(route: AdaptiveRoute, windowMs: number, startMs: number) {
    this.#route = route;
    this.#target = telemetryTarget(route);
    this.#clock = new ManualClock(startMs);
    // The scenario's telemetry window plays serving's --telemetry-window.
    this.#store = new WindowStore({ clock: this.#clock, metrics: this.metrics, windowMs });
    this.#telemetry = new Telemetry({ store: this.#store, sources: {}, clock: this.#clock, logger: pino({ level: 'silent' }) });
    this.#telemetry.follow(this.#target);
  }

  /** Hands one interval's delivery to the store at its timestamp; each sample and verdict must be kept. */
  async deliver(d: TelemetryDelivery): Promise<void> {
    await this.#clock.advance(d.atMs - this.#clock.now());
    const route = this.#target.key;
    for (const r of d.regions) {
      if (r.lost) {
        // Missing telemetry makes the simulator forget the region, as an operator restart
        // would; the store forgets one region when the route is followed without it.
        this.#telemetry.follow({ ...this.#target, regions: this.#target.regions.filter((t) => t.region !== r.region) });
        this.#telemetry.follow(this.#target);
      }
      if (Object.keys(r.values).length > 0) {
        expect(this.#store.recordSample({ route, region: r.region, atMs: d.atMs, source: 'prometheus', values: r.values })).toBe(1);
      }
      if (r.healthy !== null) {
        // Health verdicts reach serving as Kafka health events: no other source delivers them.
        expect(this.#store.recordHealth({ route, region: r.region, atMs: d.atMs, healthy: r.healthy, source: 'kafka' })).toBe(1);
      }
    }
  }

  async observe(nowMs: number, current: CurrentIntent): Promise<RouteObservation> {
    await this.#clock.advance(nowMs - this.#clock.now());
    return observationFromSnapshot(this.#route, this.#telemetry.snapshot(this.#target.key), current);
  }
}

interface Point {
  /** 0: the observation reset returns; k: the one the k-th step returns. */
  step: number;
  timeMs: number;
  sim: RouteObservation;
  serving: RouteObservation;
}

interface Run {
  env: MeshSimEnv;
  points: Point[];
  /** Values or samples the window store refused (must be none: the simulator delivers only valid data). */
  rejected: number;
}

/**
 * One episode of `scenario` under the static policy (it holds the spec's intent throughout),
 * observed both ways at every decision point. The intent in force is what the policy put
 * there, not read back from the simulator's observation.
 */
async function runBothPaths(scenario: Scenario, seed: number): Promise<Run> {
  const delivered: TelemetryDelivery[] = [];
  const env = new MeshSimEnv(scenario, { onTelemetry: (d) => delivered.push(d) });
  const windowMs = scenario.telemetry.windowSec * 1000;
  // The simulator starts one window before the episode (its warm-up) and so does the store.
  const serving = new ServingPath(env.adaptiveRoute, windowMs, -windowMs);
  const held = staticPolicy.start(env.route);
  const points: Point[] = [];
  const observe = async (step: number, sim: RouteObservation, percents: readonly number[]) => {
    for (const d of delivered.splice(0)) await serving.deliver(d);
    const current: CurrentIntent = {
      weights: env.route.destinations.map((d, i) => ({ region: d.region, weight: percents[i]! })),
      retryAttempts: held.retryAttempts,
      perTryTimeoutMs: held.perTryTimeoutMs,
    };
    points.push({ step, timeMs: env.timeMs, sim, serving: await serving.observe(env.timeMs, current) });
  };
  const first = env.reset(seed);
  // Reset puts the spec's intent in force as the data plane takes it: whole percents.
  await observe(0, first, largestRemainder(specWeights(env.route)));
  for (let step = 1; ; step++) {
    const r = env.step(staticPolicy.decide(points.at(-1)!.sim, held));
    await observe(step, r.observation, r.metrics.weights);
    if (r.done) break;
  }
  const rejected = (await serving.metrics.rejected.get()).values.reduce((a, v) => a + v.value, 0);
  return { env, points, rejected };
}

const F = REGION_FEATURES.length;

/** "eu-west.latencyP99" or "eu-west.totalErrorRate" for index `i` of an encoded observation (one row per region). */
function featureName(i: number, regions: readonly string[]): string {
  const slot = Math.floor(i / ROW_SIZE), k = i % ROW_SIZE;
  return `${regions[slot] ?? `slot ${slot}`}.${k < F ? REGION_FEATURES[k] : ROUTE_FEATURES[k - F]}`;
}

/** Every encoded number on which the two paths disagree, named. */
function encodingMismatches(points: readonly Point[]): string[] {
  const out: string[] = [];
  for (const p of points) {
    const sim = encodeObservation(p.sim), serving = encodeObservation(p.serving);
    const regions = p.sim.regions.map((r) => r.region);
    for (let i = 0; i < OBSERVATION_SIZE; i++) {
      if (sim[i] !== serving[i]) out.push(`step ${p.step} (t=${p.timeMs} ms) ${featureName(i, regions)}: simulator ${sim[i]}, serving ${serving[i]}`);
    }
  }
  return out;
}

/** The scenario's `index`-th event as it fell in this episode (after jitter), ms. */
function eventWindow(run: Run, index: number): { startMs: number; endMs: number } {
  const startMs = run.env.eventStartsMs[index]!;
  return { startMs, endMs: startMs + run.env.scenario.events[index]!.durationSec * 1000 };
}

/**
 * The decision points pinned in the golden file: the first and the last, and around the
 * case's event the last one before it, its first, middle and last, and the first after it.
 */
function pinnedSteps(run: Run, event: number): number[] {
  const { startMs, endMs } = eventWindow(run, event);
  const during = run.points.filter((p) => p.timeMs > startMs && p.timeMs <= endMs).map((p) => p.step);
  const before = run.points.filter((p) => p.timeMs <= startMs).at(-1)!.step;
  const after = run.points.find((p) => p.timeMs > endMs)!.step;
  const steps = [0, before, during[0]!, during[Math.floor(during.length / 2)]!, during.at(-1)!, after, run.points.at(-1)!.step];
  return [...new Set(steps)].sort((a, b) => a - b);
}

interface Case {
  title: string;
  seed: number;
  scenario: () => Promise<Scenario>;
  /** The event whose decision points are pinned. */
  event: number;
  /** What the case claims to cover, checked so that it cannot quietly stop covering it. */
  covers: (run: Run) => void;
}

const region = (p: Point, name: string) => p.sim.regions.find((r) => r.region === name)!;

/** An idle region: it reports a rate of 0, and no error rate or quantiles (undefined over no requests). */
function expectIdle(run: Run, name: string): void {
  for (const p of run.points) {
    const r = region(p, name);
    expect([p.step, r.requestRate, r.errorRate, r.latencyP99Ms, r.fresh]).toEqual([p.step, 0, null, null, true]);
  }
}

const CASES: Case[] = [
  {
    title: 'brownout (shipped), seed 1: through the brownout, with an idle failover region',
    seed: 1,
    scenario: () => loadScenario(`${SCENARIOS}brownout.yaml`),
    event: 0,
    covers: (run) => {
      const { startMs, endMs } = eventWindow(run, 0);
      const during = run.points.filter((p) => p.timeMs > startMs && p.timeMs <= endMs);
      expect(during.length).toBeGreaterThanOrEqual(25);
      // eu-west runs past its halved capacity: its p99 and saturation climb during the brownout.
      const peak = (f: (p: Point) => number) => Math.max(...during.map(f));
      expect(peak((p) => region(p, 'eu-west').saturation!)).toBeGreaterThan(1);
      expect(peak((p) => region(p, 'eu-west').latencyP99Ms!)).toBeGreaterThan(region(run.points[0]!, 'eu-west').latencyP99Ms! * 2);
      expectIdle(run, 'us-east');
    },
  },
  {
    title: 'brownout with stale telemetry from eu-west during it, seed 1: last values kept, aging out of freshness',
    seed: 1,
    scenario: async () => {
      // The shipped brownout, and eu-west's telemetry stalls for 150 s while it browns out.
      const document = parseYaml(readFileSync(`${SCENARIOS}brownout.yaml`, 'utf8')) as { name: string; events: unknown[] };
      document.name = 'brownout-stale-telemetry';
      document.events.push({ kind: 'staleTelemetry', region: 'eu-west', startSec: 700, durationSec: 150, mode: 'stale' });
      return validateScenario(document, 'brownout-stale-telemetry.yaml');
    },
    event: 1,
    covers: (run) => {
      const stale = run.points.filter((p) => !region(p, 'eu-west').fresh);
      // staleAfter is 60 s: fresh for the first 60 s of the stall, then stale with the last values.
      expect(stale.length).toBeGreaterThanOrEqual(8);
      const known = (p: Point) => [region(p, 'eu-west').requestRate, region(p, 'eu-west').latencyP99Ms, region(p, 'eu-west').healthy];
      expect(stale.map(known).filter((values) => values.includes(null))).toEqual([]);
      expect(new Set(stale.map((p) => region(p, 'eu-west').requestRate)).size).toBe(1);
      // A stall longer than the window leaves no points to draw a trend from.
      expect(stale.map((p) => region(p, 'eu-west').requestRateTrend)).toEqual(stale.map(() => null));
      expectIdle(run, 'us-east');
    },
  },
  {
    title: 'mixture-outage-storm (shipped), seed 1: an outage, then its telemetry lost, an error burst, an idle failover region',
    seed: 1,
    scenario: () => loadScenario(`${SCENARIOS}mixture-outage-storm.yaml`),
    event: 2,
    covers: (run) => {
      const north = run.points.map((p) => region(p, 'eu-north'));
      // The blackhole outage: health turns bad; then the telemetry goes missing: nothing known at all.
      expect(north.some((r) => r.healthy === false)).toBe(true);
      const lost = north.filter((r) => r.requestRate === null);
      expect(lost.length).toBeGreaterThanOrEqual(10);
      for (const r of lost) expect([r.fresh, r.healthy, r.latencyP99Ms, r.saturation]).toEqual([false, null, null, null]);
      expect(north.at(-1)!.fresh).toBe(true);
      // The bad deploy: a fifth of eu-west's tries fail.
      expect(Math.max(...run.points.map((p) => region(p, 'eu-west').errorRate!))).toBeGreaterThan(0.1);
      expectIdle(run, 'us-east');
    },
  },
];

const runs = new Map<Case, Promise<Run>>();
/** Each case's episode runs once, for both the cross-path and the golden checks. */
function runOf(c: Case): Promise<Run> {
  let run = runs.get(c);
  if (!run) runs.set(c, (run = c.scenario().then((s) => runBothPaths(s, c.seed))));
  return run;
}

describe('the simulator and serving observe the same situation identically', () => {
  for (const c of CASES) {
    it(c.title, async () => {
      const run = await runOf(c);
      c.covers(run);
      expect(run.rejected).toBe(0);
      expect(encodingMismatches(run.points).slice(0, 20)).toEqual([]);
      // The float64 observations too: the encoding's float32 rounding hides nothing.
      for (const p of run.points) expect({ step: p.step, observation: p.serving }).toEqual({ step: p.step, observation: p.sim });
    });
  }
});

interface PinnedPoint {
  step: number;
  timeMs: number;
  /** The encoding, each float32 as the shortest decimal that reads back as the same float32. */
  vector: number[];
}

interface GoldenFile {
  version: string;
  regenerate: string;
  cases: Record<string, PinnedPoint[]>;
}

/** Nine significant digits read back as the same float32, always. */
const shortest = (x: number) => Number(x.toPrecision(9));

describe('the simulator observations of those episodes', () => {
  it(`match sim-observation-golden-v2.json (${REGENERATE} rewrites it)`, async () => {
    const actual: Record<string, PinnedPoint[]> = {};
    const regionsOf = new Map<string, string[]>();
    for (const c of CASES) {
      const run = await runOf(c);
      const key = `${run.env.scenario.name} seed ${c.seed}`;
      regionsOf.set(key, run.env.route.destinations.map((d) => d.region));
      actual[key] = pinnedSteps(run, c.event).map((step) => {
        const p = run.points[step]!;
        return { step, timeMs: p.timeMs, vector: Array.from(encodeObservation(p.sim), shortest) };
      });
    }
    if (process.env.UPDATE_GOLDEN === '1') {
      const file: GoldenFile = { version: POLICY_SPEC_VERSION, regenerate: REGENERATE, cases: actual };
      // One line per vector, so that a review of the diff reads point by point.
      const text = JSON.stringify(file, null, 1).replace(/\[[-\d.e,\s]*\]/g, (list) => JSON.stringify(JSON.parse(list)).replaceAll(',', ', '));
      writeFileSync(GOLDEN, `${text}\n`);
    }
    if (!existsSync(GOLDEN)) throw new Error(`${GOLDEN} is missing: generate it with ${REGENERATE}`);
    const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as GoldenFile;
    expect(golden.version).toBe(POLICY_SPEC_VERSION);
    expect(Object.keys(golden.cases)).toEqual(Object.keys(actual));
    const differences: string[] = [];
    for (const [key, points] of Object.entries(actual)) {
      const pinned = golden.cases[key]!;
      expect([key, pinned.map((p) => [p.step, p.timeMs])]).toEqual([key, points.map((p) => [p.step, p.timeMs])]);
      points.forEach((p, k) => {
        const want = pinned[k]!.vector;
        expect([key, p.step, want.length]).toEqual([key, p.step, OBSERVATION_SIZE]);
        // Exact on the float32: the episode is a pure function of its seed (no wall clock, a
        // seeded generator, Node pinned by package.json), so any difference is a change.
        p.vector.forEach((v, i) => {
          if (Math.fround(want[i]!) !== Math.fround(v)) differences.push(`${key} step ${p.step} ${featureName(i, regionsOf.get(key)!)}: golden ${want[i]}, now ${v}`);
        });
      });
    }
    expect(differences.slice(0, 20)).toEqual([]);
  });
});
