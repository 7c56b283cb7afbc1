// Faults on one link between two regions (events kind linkFault): a longer round trip, or a partition.
import { describe, expect, it } from '@jest/globals';
import { MeshSim } from '../../../training/sim/mesh-sim.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';

const scenario = (events: string) =>
  parseScenario(
    'name: x\nepisode: {durationSec: 600, decisionIntervalSec: 10}\nload: {noise: 0}\ntelemetry: {noise: 0}\n' +
      'regions: [{name: a, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.1, clientRps: 100}, {name: b, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.1}, {name: c, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.1}]\n' +
      `network: {defaultRttMs: 40}\nevents:\n${events}`,
    'link.yaml',
  );

/** The interval from 100 s to 110 s with all traffic from a's clients sent to `to`. */
function interval(events: string, to: number) {
  const sim = new MeshSim(scenario(events));
  sim.reset(1, 0);
  const weights = Float64Array.from([0, 0, 0], (_, i) => (i === to ? 1 : 0));
  for (let t = 0; t < 100; t += 10) sim.runInterval(10_000, { weights, retryAttempts: 0, perTryTimeoutMs: 2_000 });
  return sim.runInterval(10_000, { weights, retryAttempts: 0, perTryTimeoutMs: 2_000 });
}

describe('link faults', () => {
  it('add their round trip to the requests that cross that link only, in both directions', () => {
    const slow = '  - {kind: linkFault, region: b, peer: a, startSec: 50, durationSec: 300, addedRttMs: 200}\n';
    const calmB = interval('  - {kind: latencySpike, region: c, startSec: 500, durationSec: 10, addedMs: 1}\n', 1);
    const faultB = interval(slow, 1);
    expect(faultB.p99Ms! - calmB.p99Ms!).toBeGreaterThan(150);
    expect(faultB.p99Ms! - calmB.p99Ms!).toBeLessThan(250);
    // a's clients served by c do not cross the faulty link.
    expect(interval(slow, 2).p99Ms).toBeCloseTo(interval('  - {kind: latencySpike, region: b, startSec: 500, durationSec: 10, addedMs: 1}\n', 2).p99Ms!, 6);
  });

  it('partitioned: every try across the link times out, and none of them loads the far region', () => {
    const r = interval('  - {kind: linkFault, region: a, peer: b, startSec: 50, durationSec: 300, partition: true}\n', 1);
    expect(r.failedRequests / r.requests).toBeCloseTo(1, 9);
    expect(r.regions[1]!.saturation).toBe(0);
    expect(r.regions[1]!.failedTries).toBeCloseTo(r.regions[1]!.tries, 6);
  });

  it('refuse a link to nowhere, to itself, or with nothing wrong with it, naming the field', () => {
    expect(() => scenario('  - {kind: linkFault, region: a, peer: z, startSec: 5, durationSec: 10, addedRttMs: 5}\n')).toThrow('link.yaml: events[0].peer: unknown region "z"');
    expect(() => scenario('  - {kind: linkFault, region: a, peer: a, startSec: 5, durationSec: 10, addedRttMs: 5}\n')).toThrow('events[0].peer: must be another region than region (a link joins two)');
    expect(() => scenario('  - {kind: linkFault, region: a, peer: b, startSec: 5, durationSec: 10}\n')).toThrow('events[0].addedRttMs: must be above 0 unless partition is true');
  });
});
