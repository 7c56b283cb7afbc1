import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../operator/base/errors.ts';
import type { DecisionRecord, OutcomeRecord } from '../../../operator/telemetry/decision-log.ts';
import { newEffects } from '../../../training/sim/events.ts';
import type { RouteInterval } from '../../../training/sim/interval-summary.ts';
import { MeshSim } from '../../../training/sim/mesh-sim.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { loadScenario, loadScenarios, validateScenario, withTrace, type Scenario } from '../../../training/sim/scenario-loader.ts';
import { TraceTimeline } from '../../../training/sim/trace-timeline.ts';
import { parseTrace } from '../../../training/sim/trace.ts';
import { makeSnapshot } from '../policy/fixtures.ts';

const EXAMPLES = fileURLToPath(new URL('../../../training/examples', import.meta.url));
const T0 = Date.parse('2026-03-10T09:00:00Z');
const ROUTE = 'shop/checkout';
const REGIONS = ['eu-west', 'eu-central', 'us-east'];
const FILE = 'traces/x.jsonl';

interface Win {
  region: string;
  from: number;
  to: number;
  rps: number;
  errorRate?: number;
  p50?: number;
  route?: string;
}

/** A `window` event over [from, to) seconds after T0, as a Kafka telemetry topic holds it. */
function win({ region, from, to, rps, errorRate = 0.001, p50 = 20, route = ROUTE }: Win): string {
  const requests = rps * (to - from);
  return JSON.stringify({
    schema: 'meshpilot.telemetry/v1',
    type: 'window',
    route,
    region,
    start: new Date(T0 + from * 1000).toISOString(),
    end: T0 + to * 1000,
    requests,
    errors: Math.round(requests * errorRate),
    // A producer has no quantiles of no requests.
    ...(requests > 0 ? { latencyMs: { p50, p90: p50 * 2, p99: p50 * 4 } } : {}),
    saturation: 0.5,
  });
}

/** Windows of `stepSec` for `region` from `from` to `to`, with `over(t)` changing a window's values. */
function windows(region: string, from: number, to: number, stepSec: number, over: (t: number) => Partial<Win> = () => ({})): string[] {
  const lines: string[] = [];
  for (let t = from; t < to; t += stepSec) lines.push(win({ region, from: t, to: t + stepSec, rps: 300, ...over(t) }));
  return lines;
}

function traceError(text: string): string {
  try {
    parseTrace(text, { file: FILE, route: ROUTE, regions: REGIONS });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected the trace to be refused');
}

/** Three regions, clients 3:1 in eu-west and eu-central, no noise; `extra` overrides top-level fields. */
function tracedDoc(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'traced',
    episode: { durationSec: 600, decisionIntervalSec: 10 },
    route: { retries: { attempts: { min: 0, max: 2 }, perTryTimeoutMs: { min: 100, max: 1000 } }, timeoutMs: { min: 1000, max: 3000 } },
    telemetry: { windowSec: 30, staleAfterSec: 60, noise: 0 },
    load: { noise: 0 },
    regions: [
      { name: 'eu-west', weight: 50, capacityRps: 2000, medianLatencyMs: 20, latencySigma: 0.4, clientRps: 300 },
      { name: 'eu-central', weight: 50, capacityRps: 2000, medianLatencyMs: 20, latencySigma: 0.4, clientRps: 100 },
      { name: 'us-east', priority: 1, weight: 0, capacityRps: 2000, medianLatencyMs: 20, latencySigma: 0.4 },
    ],
    network: { defaultRttMs: 80, links: [{ between: ['eu-west', 'eu-central'], rttMs: 10, cost: 0.5 }] },
    trace: { file: FILE, route: ROUTE },
    ...extra,
  };
}

function traced(lines: string[], extra: Record<string, unknown> = {}): Scenario {
  return withTrace(validateScenario(tracedDoc(extra), 'traced.yaml'), lines.join('\n'), FILE);
}

/** A recorded incident: eu-west's p50 ×5 and 20 % errors during [300, 420) s; eu-central healthy; 450 requests per second over 600 s. */
function incident(): string[] {
  return [
    ...windows('eu-west', 0, 600, 20, (t) => (t >= 300 && t < 420 ? { p50: 100, errorRate: 0.2 } : {})),
    ...windows('eu-central', 0, 600, 20, () => ({ rps: 150 })),
  ];
}

const ALL_WEST = Float64Array.of(1, 0, 0);
const SPLIT = Float64Array.of(0.5, 0.5, 0);

/** Every interval of `durationMs` from t = 0 under `weights` (copies, so each outlives the next run). */
function run(s: Scenario, weights: Float64Array, durationMs = 600_000, seed = 1): RouteInterval[] {
  const sim = new MeshSim(s);
  sim.reset(seed, 0);
  const out: RouteInterval[] = [];
  while (sim.nowMs < durationMs) out.push(structuredClone(sim.runInterval(10_000, { weights, retryAttempts: 0, perTryTimeoutMs: 1000 })));
  return out;
}

describe('parseTrace', () => {
  it('takes the route\'s window events, each holding from its start; validates and skips other routes and health events', () => {
    const text = [
      win({ region: 'eu-west', from: 0, to: 10, rps: 100, p50: 30 }),
      win({ region: 'eu-west', from: 0, to: 60, rps: 50, route: 'shop/cart' }),
      '',
      JSON.stringify({ schema: 'meshpilot.telemetry/v1', type: 'health', region: 'eu-west', time: T0 + 5000, healthy: false }),
      win({ region: 'eu-central', from: 0, to: 10, rps: 40 }),
      win({ region: 'eu-west', from: 10, to: 20, rps: 0 }),
    ].join('\n');
    const t = parseTrace(text, { file: FILE, route: ROUTE, regions: REGIONS });
    expect(t.counts).toEqual({ taken: 3, otherRoutes: 1, health: 1 });
    expect(t.firstMs).toBe(T0);
    expect(t.endMs).toBe(T0 + 20_000);
    const west = t.tracks[0]!;
    expect([...west.atMs]).toEqual([T0, T0 + 10_000]);
    expect(west.requestRate[0]).toBe(100);
    expect(west.errorRate[0]).toBeCloseTo(0.001, 6);
    expect(west.latencyP50Ms[0]).toBe(30);
    // No requests: a rate of 0, and no error rate or p50 (not recorded, not 0).
    expect(west.requestRate[1]).toBe(0);
    expect(west.errorRate[1]).toBeNaN();
    expect(west.latencyP50Ms[1]).toBeNaN();
    expect(t.tracks[1]!.requestRate[0]).toBe(40);
    expect(t.tracks[2]!.atMs).toHaveLength(0);
  });

  it('takes decision and outcome records, a region holding from when its newest reading was measured', () => {
    const snapshot = (atMs: number, p50: number) => {
      const s = makeSnapshot(ROUTE, [{ region: 'eu-west', p50, requestRate: 500, errorRate: 0.02 }, { region: 'us-east', requestRate: null, errorRate: null, p50: null, p90: null, p99: null, saturation: null }], atMs);
      s.regions[1]!.newestAgeMs = null;
      return s;
    };
    const decision: DecisionRecord = {
      schema: 'meshpilot.decision/v1',
      id: 'd1',
      route: ROUTE,
      generation: 1,
      time: new Date(T0 + 10_000).toISOString(),
      mode: 'enforce',
      policy: 'model',
      modelVersion: 'v1',
      observation: snapshot(T0 + 10_000, 45),
      action: { weights: [{ region: 'eu-west', weight: 100 }], retryAttempts: 1, perTryTimeoutMs: 300, timeoutMs: 2000 },
      actionProbability: null,
      applied: true,
      reason: 'test',
    };
    const outcome: OutcomeRecord = { schema: 'meshpilot.decision-outcome/v1', decisionId: 'd1', route: ROUTE, time: new Date(T0 + 20_000).toISOString(), observation: snapshot(T0 + 20_000, 90) };
    const t = parseTrace([decision, outcome].map((r) => JSON.stringify(r)).join('\n'), { file: FILE, route: ROUTE, regions: REGIONS });
    expect(t.counts.taken).toBe(2);
    // makeSnapshot's readings are 1 s old.
    expect([...t.tracks[0]!.atMs]).toEqual([T0 + 9_000, T0 + 19_000]);
    expect([...t.tracks[0]!.latencyP50Ms]).toEqual([45, 90]);
    expect(t.tracks[0]!.requestRate[1]).toBe(500);
    expect(t.tracks[0]!.errorRate[1]).toBe(0.02);
    // A region never seen has no records.
    expect(t.tracks[2]!.atMs).toHaveLength(0);
    expect(t.firstMs).toBe(T0 + 9_000);
    expect(t.endMs).toBe(T0 + 20_000);
  });

  it('lets the later of two records of the same instant win', () => {
    const t = parseTrace([win({ region: 'eu-west', from: 0, to: 10, rps: 100 }), win({ region: 'eu-west', from: 0, to: 10, rps: 70 })].join('\n'), { file: FILE, route: ROUTE, regions: REGIONS });
    expect([...t.tracks[0]!.requestRate]).toEqual([70]);
  });

  it('names the file, the line and the field of what it refuses', () => {
    const good = win({ region: 'eu-west', from: 0, to: 10, rps: 100 });
    const bad = good.replace('"p50":20', '"p50":-3');
    expect(traceError(`${good}\n${bad}`)).toBe(`${FILE}:2: latencyMs.p50: must be a finite number >= 0, got -3`);
    expect(traceError(`${good}\n\n${good.replace('"errors":1', '"errors":5000')}`)).toBe(`${FILE}:3: errors: must be a finite number between 0 and requests (1000), got 5000`);
    expect(traceError(good.replace('meshpilot.telemetry/v1', 'meshpilot.metrics/v1'))).toBe(
      `${FILE}:1: schema: must be one of "meshpilot.telemetry/v1", "meshpilot.decision/v1", "meshpilot.decision-outcome/v1", got "meshpilot.metrics/v1"`,
    );
    expect(traceError('{"type":"window"}')).toMatch(/^traces\/x\.jsonl:1: schema: must be one of .*, got nothing$/);
    expect(traceError(good.replace('meshpilot.telemetry/v1', 'meshpilot.telemetry/v2'))).toMatch(/^traces\/x\.jsonl:1: schema: version "meshpilot.telemetry\/v2" is not read/);
    expect(traceError(`${good}\nnot json`)).toMatch(/^traces\/x\.jsonl:2: not JSON/);
    expect(traceError(good.replace('"eu-west"', '"ap-south"'))).toBe(`${FILE}:1: region: "ap-south" is not a region of the scenario (eu-west, eu-central, us-east)`);
    const request = JSON.stringify({ schema: 'meshpilot.telemetry/v1', type: 'request', route: ROUTE, region: 'eu-west', time: T0, latencyMs: 12, status: 200 });
    expect(traceError(`${good}\n${request}`)).toMatch(/^traces\/x\.jsonl:2: type: "request" events are not replayed/);
    expect(traceError(win({ region: 'eu-west', from: 0, to: 10, rps: 100, route: 'shop/cart' }))).toBe(`${FILE}: no window events or decision-log records with data for route ${ROUTE} (it holds records of shop/cart)`);
  });

  it('names the field of a decision-log record it refuses', () => {
    const snapshot = makeSnapshot(ROUTE, [{ region: 'eu-west' }, { region: 'eu-central', errorRate: 1.5 }], T0);
    const outcome = (observation: object) => JSON.stringify({ schema: 'meshpilot.decision-outcome/v1', decisionId: 'd1', route: ROUTE, time: new Date(T0).toISOString(), observation });
    expect(traceError(outcome(snapshot))).toBe(`${FILE}:1: observation.regions[1].signals.errorRate.value: must be a fraction (0 to 1), got 1.5`);
    const unknown = makeSnapshot(ROUTE, [{ region: 'eu-west' }, { region: 'ap-south' }], T0);
    expect(traceError(outcome(unknown))).toBe(`${FILE}:1: observation.regions[1].region: "ap-south" is not a region of the scenario (eu-west, eu-central, us-east)`);
    expect(traceError(outcome({ ...snapshot, atMs: 'soon' }))).toMatch(/^traces\/x\.jsonl:1: observation\.atMs: /);
  });
});

describe('trace scenarios', () => {
  it('aligns the trace\'s start (or startAt) with t = 0, holds each record until the next, and the first before it', () => {
    const lines = [...windows('eu-west', 0, 300, 10, (t) => ({ rps: 100 + t })), ...windows('eu-central', 100, 300, 50, () => ({ rps: 1000, p50: 60 }))];
    const s = traced(lines, { episode: { durationSec: 200, decisionIntervalSec: 10 } });
    const timeline = new TraceTimeline(s.recorded!, s.regions);
    const fx = newEffects(3);
    const at = (tMs: number) => {
      fx.serviceFactor.fill(1);
      fx.addedErrorRate.fill(0);
      return timeline.apply(tMs, fx);
    };
    expect(at(0)).toBe(100);
    expect(at(9_999)).toBe(100);
    expect(at(10_000)).toBe(110);
    // The warm-up before t = 0 sees the first records.
    expect(at(-30_000)).toBe(100);
    // eu-central has no records before 100 s: nominal, and no load of its own until then.
    expect(at(99_000)).toBe(190);
    expect(fx.serviceFactor[1]).toBe(1);
    expect(at(100_000)).toBe(200 + 1000);
    expect(fx.serviceFactor[1]).toBe(3);
    // The last records hold to the end of the trace.
    expect(at(299_999)).toBe(390 + 1000);
    const later = traced(lines, { episode: { durationSec: 200, decisionIntervalSec: 10 }, trace: { file: FILE, route: ROUTE, startAt: new Date(T0 + 100_000).toISOString() } });
    expect(new TraceTimeline(later.recorded!, later.regions).apply(0, newEffects(3))).toBe(200 + 1000);
    const epochMs = traced(lines, { episode: { durationSec: 200, decisionIntervalSec: 10 }, trace: { file: FILE, route: ROUTE, startAt: T0 + 50_000 } });
    expect(epochMs.recorded!.startMs).toBe(T0 + 50_000);
  });

  it('turns a recorded p50 and error rate into a slowdown and added errors over the base rate', () => {
    const s = traced([win({ region: 'eu-west', from: 0, to: 600, rps: 100, p50: 50, errorRate: 0.1 }), win({ region: 'eu-central', from: 0, to: 600, rps: 100, p50: 10, errorRate: 0 })]);
    const fx = newEffects(3);
    fx.serviceFactor.fill(1);
    fx.addedErrorRate.fill(0);
    new TraceTimeline(s.recorded!, s.regions).apply(0, fx);
    expect(fx.serviceFactor[0]).toBe(2.5);
    // Combined with the base rate (0.0005) as the simulator combines them, the recorded 10 %.
    expect(1 - (1 - 0.0005) * (1 - fx.addedErrorRate[0]!)).toBeCloseTo(0.1, 12);
    // Faster or cleaner than nominal changes nothing: the simulator's own physics stays.
    expect(fx.serviceFactor[1]).toBe(1);
    expect(fx.addedErrorRate[1]).toBe(0);
  });

  it('drives the load by the recorded total, spread over the homes by clientRps', () => {
    const lines = [...windows('eu-west', 0, 600, 20, (t) => ({ rps: t < 300 ? 400 : 900 })), ...windows('eu-central', 0, 600, 20, () => ({ rps: 200 }))];
    const intervals = run(traced(lines), ALL_WEST);
    const rate = (i: RouteInterval) => i.requests / 10;
    expect(rate(intervals[5]!)).toBeCloseTo(600, 6);
    expect(rate(intervals[29]!)).toBeCloseTo(600, 6);
    expect(rate(intervals[30]!)).toBeCloseTo(1100, 6);
    expect(rate(intervals[59]!)).toBeCloseTo(1100, 6);
    // Everything is served in eu-west: only eu-central's clients (100 of 400 clientRps) pay the link's 0.5.
    expect(intervals[40]!.crossRegionCostSum / intervals[40]!.requests).toBeCloseTo(0.25 * 0.5, 9);
  });

  it('makes a recorded brownout raise the region\'s latency and errors during the recorded window, and not outside it', () => {
    const intervals = run(traced(incident()), SPLIT);
    const west = (k: number) => intervals[k]!.regions[0]!;
    const before = west(20), during = west(35), after = west(50);
    expect(during.truth.medianMs).toBeGreaterThan(4 * before.truth.medianMs);
    expect(during.truth.errorRate).toBeGreaterThan(0.19);
    expect(during.failedTries / during.tries).toBeGreaterThan(0.19);
    expect(before.truth.errorRate).toBeLessThan(0.005);
    expect(after.truth.medianMs).toBeCloseTo(before.truth.medianMs, 0);
    expect(after.truth.errorRate).toBeCloseTo(before.truth.errorRate, 6);
    // The other region's condition is its own.
    expect(intervals[35]!.regions[1]!.truth.medianMs).toBeCloseTo(intervals[20]!.regions[1]!.truth.medianMs, 0);
    // Steered away from, the recorded condition touches no client.
    const east = run(traced(incident()), Float64Array.of(0, 1, 0));
    expect(east[35]!.failedRequests / east[35]!.requests).toBeLessThan(0.005);
    expect(east.reduce((sum, i) => sum + i.sloViolationSec, 0)).toBe(0);
    expect(intervals.slice(30, 42).every((i) => i.sloViolationSec > 0)).toBe(true);
  });

  it('combines with events', () => {
    const outage = { events: [{ kind: 'outage', region: 'eu-central', startSec: 100, durationSec: 50 }] };
    const intervals = run(traced(incident(), outage), SPLIT);
    expect(intervals[12]!.regions[1]!.truth.down).toBe(true);
    expect(intervals[12]!.regions[1]!.failedTries).toBeCloseTo(intervals[12]!.regions[1]!.tries, 6);
    expect(intervals[35]!.regions[0]!.truth.errorRate).toBeGreaterThan(0.19);
  });

  it('is deterministic given the seed', () => {
    const a = run(traced(incident()), SPLIT, 600_000, 7);
    const b = run(traced(incident()), SPLIT, 600_000, 7);
    expect(b).toEqual(a);
  });

  it('runs through MeshSimEnv end to end, observed as serving would', () => {
    const s = traced(incident());
    const episode = (seed: number) => {
      const env = new MeshSimEnv(s, { guard: 'serving' });
      let o = env.reset(seed);
      const rates: number[] = [];
      let done = false;
      while (!done) {
        const r = env.step({ weights: [0.5, 0.5, 0], retryAttempts: 1, perTryTimeoutMs: 500 });
        o = r.observation;
        done = r.done;
        rates.push(o.regions.reduce((sum, g) => sum + (g.requestRate ?? 0), 0));
      }
      return { env, rates, totals: env.totals };
    };
    const { env, rates, totals } = episode(3);
    expect(totals.steps).toBe(60);
    expect(env.timeMs).toBe(600_000);
    // The operator sees the recorded load (450 requests per second in all; clientRps adds up to 400).
    expect(rates[10]!).toBeGreaterThan(440);
    expect(rates[10]!).toBeLessThan(470);
    expect(totals.sloViolationSec).toBeGreaterThan(0);
    expect(episode(3).totals).toEqual(totals);
  });

  it('refuses an episode longer than the trace, a startAt outside it, a diurnal load, and a trace that was not read', () => {
    const lines = incident();
    const refused = (extra: Record<string, unknown>) => {
      try {
        traced(lines, extra);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected the scenario to be refused');
    };
    expect(refused({ episode: { durationSec: 610, decisionIntervalSec: 10 } })).toBe(
      `traced.yaml: episode.durationSec: must be at most the 600 s that ${FILE} recorded for ${ROUTE} from 2026-03-10T09:00:00.000Z, got 610`,
    );
    expect(refused({ trace: { file: FILE, route: ROUTE, startAt: '2026-03-10T08:59:00Z' } })).toMatch(/^traced\.yaml: trace\.startAt: must be within what traces\/x\.jsonl recorded for shop\/checkout/);
    expect(refused({ trace: { file: FILE, route: ROUTE, startAt: 'yesterday' } })).toBe('traced.yaml: trace.startAt: must be an RFC 3339 date-time or epoch milliseconds, got "yesterday"');
    expect(refused({ trace: { file: FILE, route: 'checkout' } })).toMatch(/^traced\.yaml: trace\.route: must be "namespace\/name"/);
    expect(refused({ load: { diurnal: { amplitude: 0.2, periodSec: 600 } } })).toBe('traced.yaml: load.diurnal: cannot be combined with trace: the recorded request rate drives the load');
    expect(() => new MeshSim(validateScenario(tracedDoc(), 'traced.yaml'))).toThrow(/trace: traces\/x\.jsonl was not read; load the scenario with loadScenario/);
  });

  it('reads the trace from a path relative to the scenario file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshpilot-trace-'));
    try {
      await mkdir(join(dir, 'traces'));
      await writeFile(join(dir, 'traces', 'x.jsonl'), incident().join('\n'));
      await writeFile(join(dir, 'traced.yaml'), JSON.stringify(tracedDoc()));
      const s = await loadScenario(join(dir, 'traced.yaml'));
      expect(s.recorded!.file).toBe(join(dir, 'traces', 'x.jsonl'));
      expect(s.recorded!.startMs).toBe(T0);
      await writeFile(join(dir, 'traces', 'x.jsonl'), incident().join('\n').replace('"p50":20', '"p50":-1'));
      await expect(loadScenario(join(dir, 'traced.yaml'))).rejects.toThrow(`${join(dir, 'traces', 'x.jsonl')}:1: latencyMs.p50: must be a finite number >= 0, got -1`);
      await rm(join(dir, 'traces', 'x.jsonl'));
      await expect(loadScenario(join(dir, 'traced.yaml'))).rejects.toThrow(`${join(dir, 'traced.yaml')}: trace.file: cannot read ${join(dir, 'traces', 'x.jsonl')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ships an example: a recorded brownout that loads and runs', async () => {
    const [s, ...rest] = await loadScenarios(EXAMPLES);
    expect(rest).toHaveLength(0);
    expect(s!.name).toBe('recorded-incident');
    expect(s!.recorded!.counts).toEqual({ taken: 270, otherRoutes: 60, health: 2 });
    const env = new MeshSimEnv(s!);
    env.reset(1);
    let worst = 0;
    for (let k = 0; k < env.episodeSteps; k++) {
      env.step({ weights: [0.55, 0.35, 0.1], retryAttempts: 0, perTryTimeoutMs: 1000 });
      const west = env.lastInterval!.regions[0]!;
      worst = Math.max(worst, west.truth.medianMs);
      // Before the recorded incident (from 600 s) eu-west runs at its healthy median.
      if (env.timeMs <= 590_000) expect(west.truth.medianMs).toBeLessThan(40);
    }
    expect(worst).toBeGreaterThan(60);
  });
});
