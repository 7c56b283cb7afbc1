// Faults on some of a region's pods only (an event's `fraction`): a slowdown of the tail, a bad
// pod among several, errors on a share of tries.
import { describe, expect, it } from '@jest/globals';
import { EventTimeline, newEffects } from '../../../training/sim/events.ts';
import { gridQuantile } from '../../../training/sim/math.ts';
import { MeshSim } from '../../../training/sim/mesh-sim.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';
import type { ScenarioEvent } from '../../../training/sim/scenario-schema.ts';

const scenario = (events: string) =>
  parseScenario(
    'name: x\nepisode: {durationSec: 600, decisionIntervalSec: 10}\nload: {noise: 0}\ntelemetry: {noise: 0}\n' +
      'regions: [{name: a, capacityRps: 1000, medianLatencyMs: 20, latencySigma: 0.3, clientRps: 300}]\n' +
      `events:\n${events}`,
    'partial.yaml',
  );

/** The interval from 100 s to 110 s under `retryAttempts` and `perTryTimeoutMs`. */
function interval(events: string, retryAttempts = 0, perTryTimeoutMs = 5_000) {
  const sim = new MeshSim(scenario(events));
  sim.reset(1, 0);
  const settings = { weights: Float64Array.of(1), retryAttempts, perTryTimeoutMs };
  for (let t = 0; t < 100; t += 10) sim.runInterval(10_000, settings);
  return sim.runInterval(10_000, settings);
}
const regionQuantile = (r: ReturnType<typeof interval>, q: number) => gridQuantile(r.regions[0]!.latencyCdf, r.regions[0]!.tries, q)!;
const calm = '  - {kind: latencySpike, region: a, startSec: 500, durationSec: 10, addedMs: 1}\n';

describe('partial faults', () => {
  it('a slowdown of 3% of tries moves the p99 and leaves the median where it was', () => {
    const before = interval(calm);
    const tail = interval('  - {kind: latencySpike, region: a, startSec: 50, durationSec: 300, addedMs: 400, fraction: 0.03}\n');
    const whole = interval('  - {kind: latencySpike, region: a, startSec: 50, durationSec: 300, addedMs: 400}\n');
    expect(regionQuantile(tail, 0.99)).toBeGreaterThan(regionQuantile(before, 0.99) + 300);
    expect(Math.abs(regionQuantile(tail, 0.5) - regionQuantile(before, 0.5))).toBeLessThan(2);
    expect(regionQuantile(whole, 0.5)).toBeGreaterThan(regionQuantile(before, 0.5) + 300);
    // Clients see the same tail.
    expect(tail.p99Ms!).toBeGreaterThan(before.p99Ms! + 300);
  });

  it('a retry after a per-try timeout rescues a request that hit a slow pod, and cannot rescue a slow region', () => {
    const partial = '  - {kind: latencySpike, region: a, startSec: 50, durationSec: 300, addedMs: 2000, fraction: 0.1}\n';
    const whole = '  - {kind: latencySpike, region: a, startSec: 50, durationSec: 300, addedMs: 2000}\n';
    // Per-try timeout 200 ms: a try on a slow pod times out; the retry lands on another pod.
    const partialNoRetry = interval(partial, 0, 200), partialRetry = interval(partial, 2, 200);
    expect(partialNoRetry.failedRequests / partialNoRetry.requests).toBeCloseTo(0.1, 2);
    expect(partialRetry.failedRequests / partialRetry.requests).toBeCloseTo(0.001, 3);
    const wholeRetry = interval(whole, 2, 200);
    expect(wholeRetry.failedRequests / wholeRetry.requests).toBeCloseTo(1, 6);
    // The timed-out tries count at the region as failed tries, and load it.
    expect(partialRetry.regions[0]!.failedTries / partialRetry.regions[0]!.tries).toBeCloseTo(0.1, 2);
    expect(partialRetry.regions[0]!.tries).toBeGreaterThan(partialNoRetry.regions[0]!.tries * 1.1);
  });

  it('a brownout of some pods costs their share of capacity and errors; fraction 1 is the whole region, to the bit', () => {
    const fx = newEffects(1);
    const event = (fraction: number) => ({ kind: 'brownout', region: 'a', startSec: 0, durationSec: 100, startJitterSec: 0, capacityFactor: 0.2, latencyFactor: 4, errorRate: 0.5, rampSec: 0, fraction }) as ScenarioEvent;
    new EventTimeline([event(0.25)], new Map([['a', 0]]), () => 0.5).apply(10_000, fx);
    expect(fx.capacityFactor[0]).toBeCloseTo(1 - 0.25 * 0.8, 12);
    expect(fx.serviceFactor[0]).toBe(1);
    expect([fx.partialShare[0], fx.partialServiceFactor[0]]).toEqual([0.25, 4]);
    expect(fx.addedErrorRate[0]).toBeCloseTo(0.125, 12);
    new EventTimeline([event(1)], new Map([['a', 0]]), () => 0.5).apply(10_000, fx);
    expect([fx.capacityFactor[0], fx.serviceFactor[0], fx.partialShare[0], fx.addedErrorRate[0]]).toEqual([0.2, 4, 0, 0.5]);
    const explicit = interval('  - {kind: brownout, region: a, startSec: 50, durationSec: 300, capacityFactor: 0.5, latencyFactor: 2, fraction: 1}\n');
    const implicit = interval('  - {kind: brownout, region: a, startSec: 50, durationSec: 300, capacityFactor: 0.5, latencyFactor: 2}\n');
    expect(explicit).toEqual(implicit);
  });

  it('partial events in one region hit the same pods: the larger share, their slowdowns added', () => {
    const fx = newEffects(1);
    const spike = (fraction: number, addedMs: number) => ({ kind: 'latencySpike', region: 'a', startSec: 0, durationSec: 100, startJitterSec: 0, addedMs, rampSec: 0, fraction }) as ScenarioEvent;
    new EventTimeline([spike(0.1, 100), spike(0.3, 50)], new Map([['a', 0]]), () => 0.5).apply(10_000, fx);
    expect([fx.partialShare[0], fx.partialAddedMs[0], fx.addedMs[0]]).toEqual([0.3, 150, 0]);
  });

  it('refuses a share outside (0, 1], naming the field', () => {
    expect(() => scenario('  - {kind: latencySpike, region: a, startSec: 5, durationSec: 10, addedMs: 5, fraction: 0}\n')).toThrow('partial.yaml: events[0].fraction: must be > 0 and <= 1 (the share of tries the event hits)');
    expect(() => scenario('  - {kind: errorBurst, region: a, startSec: 5, durationSec: 10, errorRate: 0.5, fraction: 1.5}\n')).toThrow('events[0].fraction: must be > 0 and <= 1');
    expect(() => scenario('  - {kind: outage, region: a, startSec: 5, durationSec: 10, fraction: 0.5}\n')).toThrow('events[0]');
  });
});
