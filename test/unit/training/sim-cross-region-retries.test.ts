// Cross-region retries (route.retries.crossRegion, Envoy's previous_priorities): retry k of a
// request goes to the k-th next region in failover order instead of the region it picked.
import { describe, expect, it } from '@jest/globals';
import { MeshSim } from '../../../training/sim/mesh-sim.ts';
import { RetryOrder } from '../../../training/sim/retry-order.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';

const scenario = (crossRegion: boolean, events: string, failover = true) =>
  parseScenario(
    'name: x\nepisode: {durationSec: 600, decisionIntervalSec: 10}\nload: {noise: 0}\ntelemetry: {noise: 0}\n' +
      `route: {retries: {crossRegion: ${crossRegion}}, failover: {enabled: ${failover}}}\n` +
      'regions: [{name: a, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.2, clientRps: 200, baseErrorRate: 0}, {name: b, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.2, baseErrorRate: 0}, {name: c, priority: 1, weight: 0, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.2, baseErrorRate: 0}]\n' +
      `network: {defaultRttMs: 80, links: [{between: [a, b], rttMs: 20, cost: 2}]}\nevents:\n${events}`,
    'cross.yaml',
  );

/** The interval from 100 s to 110 s, all traffic on a, with `retryAttempts` retries and a 200 ms per-try timeout. */
function interval(crossRegion: boolean, events: string, retryAttempts = 1) {
  const sim = new MeshSim(scenario(crossRegion, events));
  sim.reset(1, 0);
  const settings = { weights: Float64Array.of(1, 0, 0), retryAttempts, perTryTimeoutMs: 200 };
  for (let t = 0; t < 100; t += 10) sim.runInterval(10_000, settings);
  return sim.runInterval(10_000, settings);
}
const calm = '  - {kind: latencySpike, region: c, startSec: 500, durationSec: 10, addedMs: 1}\n';
const refusing = '  - {kind: outage, region: a, startSec: 50, durationSec: 300}\n';
const blackhole = '  - {kind: outage, region: a, startSec: 50, durationSec: 300, mode: blackhole}\n';

describe('cross-region retries', () => {
  it('walk the failover order from the picked region, and start over once every region was tried', () => {
    const s = scenario(true, calm);
    const order = new RetryOrder(s.regions);
    expect([0, 1, 2, 3].map((k) => order.regionOf(0, k))).toEqual([0, 1, 2, 0]);
    expect([0, 1, 2].map((k) => order.regionOf(1, k))).toEqual([1, 0, 2]);
    expect([0, 1, 2].map((k) => order.regionOf(2, k))).toEqual([2, 0, 1]);
  });

  it('rescue the requests of a region that refuses them, loading the next region and paying its link', () => {
    const same = interval(false, refusing), across = interval(true, refusing);
    expect(same.failedRequests / same.requests).toBeCloseTo(1, 9);
    expect(across.failedRequests / across.requests).toBeLessThan(1e-6);
    // Every request's retry went to b, the next region: as many tries there as requests.
    expect(across.regions[1]!.tries).toBeCloseTo(across.requests, 6);
    expect(same.regions[1]!.tries).toBe(0);
    // The retry crossed the a–b link (cost 2 per try).
    expect(across.crossRegionCostSum).toBeCloseTo(2 * across.requests, 6);
    expect(same.crossRegionCostSum).toBe(0);
  });

  it('cost the client the failed try and the far region\'s round trip', () => {
    // A blackhole holds the first try for the whole 200 ms per-try timeout; the retry pays 20 ms to b.
    const across = interval(true, blackhole);
    expect(across.failedRequests / across.requests).toBeLessThan(1e-6);
    expect(across.p99Ms!).toBeGreaterThan(200 + 20);
    expect(across.p99Ms!).toBeLessThan(200 + 20 + 40);
    // b's telemetry sees tries from a's clients with the link's round trip.
    expect(across.regions[1]!.tries).toBeCloseTo(across.requests, 6);
  });

  it('change nothing while every try succeeds', () => {
    const same = interval(false, calm), across = interval(true, calm);
    expect(across.requests).toBe(same.requests);
    expect(across.failedRequests).toBe(0);
    expect(across.p99Ms).toBeCloseTo(same.p99Ms!, 9);
    expect(across.regions[1]!.tries).toBe(0);
  });

  it('need failover, and are refused without it, naming the field', () => {
    expect(() => scenario(true, calm, false)).toThrow('cross.yaml: route.retries.crossRegion: needs route.failover.enabled');
  });
});
