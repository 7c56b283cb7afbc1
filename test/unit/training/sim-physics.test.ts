import type { RouteInterval, Settings } from '../../../training/sim/interval-summary.ts';
import { MeshSim } from '../../../training/sim/mesh-sim.ts';
import type { Scenario } from '../../../training/sim/scenario-loader.ts';
import { oneRegion, threeRegions } from './sim-fixtures.ts';

const ALL_HERE = Float64Array.of(1);

/** The interval after `warmupMs` of steady running under `settings`. */
function steady(s: Scenario, settings: Partial<Settings> = {}, warmupMs = 30_000): RouteInterval {
  const sim = new MeshSim(s);
  sim.reset(1, 0);
  const full: Settings = { weights: ALL_HERE, retryAttempts: 0, perTryTimeoutMs: 5000, ...settings };
  sim.runInterval(warmupMs, full);
  return sim.runInterval(10_000, full);
}

const errorRate = (i: RouteInterval) => i.failedRequests / i.requests;

describe('MeshSim queueing', () => {
  it('raises latency with load, sharply as utilisation approaches 1', () => {
    const p99 = [300, 600, 850, 950, 1000].map((load) => steady(oneRegion(load)).p99Ms!);
    for (let i = 1; i < p99.length; i++) expect(p99[i]!).toBeGreaterThanOrEqual(p99[i - 1]!);
    expect(p99[4]! - p99[3]!).toBeGreaterThan(5 * (p99[1]! - p99[0]! + 1));
    expect(p99[4]!).toBeGreaterThan(4 * p99[0]!);
  });

  it('raises errors with saturation, and sheds what the queue cannot hold', () => {
    const rates = [500, 950, 1100, 1300].map((load) => errorRate(steady(oneRegion(load))));
    expect(rates[0]!).toBeLessThan(0.001);
    expect(rates[1]!).toBeGreaterThan(rates[0]!);
    expect(rates[2]!).toBeGreaterThan(rates[1]!);
    expect(rates[3]!).toBeGreaterThan(rates[2]!);
    // Beyond capacity, roughly the excess is shed: 1 - 1000/1300 of the tries.
    expect(rates[3]!).toBeGreaterThan(0.2);
  });

  it('reports saturation as offered tries over capacity', () => {
    expect(steady(oneRegion(600)).regions[0]!.saturation).toBeCloseTo(0.6, 2);
  });
});

describe('MeshSim retries', () => {
  const failing = (load: number, extra = {}) =>
    oneRegion(load, { events: [{ kind: 'errorBurst', region: 'eu-west', startSec: 0, durationSec: 1000, errorRate: 0.3 }], ...extra }, { capacityRps: 100_000 });

  it('amplifies load by the expected tries per request', () => {
    const none = steady(failing(500));
    const three = steady(failing(500), { retryAttempts: 3 });
    expect(none.regions[0]!.tries / none.requests).toBeCloseTo(1, 3);
    // 1 + q + q² + q³ with q ≈ 0.3 (plus the base error rate).
    expect(three.regions[0]!.tries / three.requests).toBeCloseTo((1 - 0.3 ** 4) / 0.7, 1);
    expect(errorRate(none)).toBeCloseTo(0.3, 2);
    expect(errorRate(three)).toBeLessThan(0.01);
  });

  it('lets a storm outlive its cause when retries overload a deep queue, and not without retries', () => {
    const s = oneRegion(780, {
      episode: { durationSec: 600, decisionIntervalSec: 10 },
      server: { queueLimitMs: 2000 },
      events: [{ kind: 'errorBurst', region: 'eu-west', startSec: 60, durationSec: 120, errorRate: 0.25 }],
    });
    const after = (retryAttempts: number) => {
      const sim = new MeshSim(s);
      sim.reset(1, 0);
      let last!: RouteInterval;
      for (let t = 0; t < 30; t++) last = sim.runInterval(10_000, { weights: ALL_HERE, retryAttempts, perTryTimeoutMs: 600 });
      return last;
    };
    const storm = after(3);
    expect(storm.endMs).toBe(300_000);
    expect(errorRate(storm)).toBeGreaterThan(0.5);
    expect(storm.regions[0]!.saturation).toBeGreaterThan(1.5);
    expect(errorRate(after(0))).toBeLessThan(0.01);
  });

  it('fails a try that runs past the per-try timeout, and retries it', () => {
    const slow = oneRegion(200, {}, { medianLatencyMs: 300, latencySigma: 0.3 });
    const tight = steady(slow, { perTryTimeoutMs: 250, retryAttempts: 2 });
    const loose = steady(slow, { perTryTimeoutMs: 2000, retryAttempts: 2 });
    expect(tight.regions[0]!.failedTries / tight.regions[0]!.tries).toBeGreaterThan(0.5);
    expect(tight.regions[0]!.tries / tight.requests).toBeGreaterThan(2);
    expect(errorRate(loose)).toBeLessThan(0.001);
  });
});

describe('MeshSim regions and the network', () => {
  it('charges the round trip and the link cost to requests served outside their home', () => {
    const s = threeRegions();
    const home = steady(s, { weights: Float64Array.of(1, 0, 0) });
    const near = steady(s, { weights: Float64Array.of(0, 1, 0) });
    const far = steady(s, { weights: Float64Array.of(0, 0, 1) });
    expect(home.crossRegionCostSum).toBe(0);
    expect(near.crossRegionCostSum / near.requests).toBeCloseTo(0.5, 6);
    expect(far.crossRegionCostSum / far.requests).toBeCloseTo(1, 6);
    expect(far.p99Ms!).toBeGreaterThan(home.p99Ms! + 60);
  });

  it('fails every request sent to a region in outage, and flags it unhealthy only after the detection delay', () => {
    const s = threeRegions({ events: [{ kind: 'outage', region: 'eu-west', startSec: 100, durationSec: 100 }] });
    const sim = new MeshSim(s);
    sim.reset(1, 0);
    const half = { weights: Float64Array.of(0.5, 0.5, 0), retryAttempts: 0, perTryTimeoutMs: 1000 };
    const intervals: RouteInterval[] = [];
    for (let t = 0; t < 25; t++) intervals.push(sim.runInterval(10_000, half));
    const at = (sec: number) => intervals.find((i) => i.endMs === sec * 1000)!;
    expect(at(100).regions[0]!.healthy).toBe(true);
    expect(errorRate(at(110))).toBeCloseTo(0.5, 2);
    expect(at(110).regions[0]!.healthy).toBe(true);
    expect(at(120).regions[0]!.healthy).toBe(false);
    expect(at(120).regions[1]!.healthy).toBe(true);
    expect(errorRate(at(250))).toBeLessThan(0.01);
    expect(at(250).regions[0]!.healthy).toBe(true);
  });
});
