// Per-region telemetry conditions (telemetry.regions[]): late, biased or lost deliveries, whatever the region's health.
import { describe, expect, it } from '@jest/globals';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';
import type { TelemetryDelivery } from '../../../training/sim/telemetry-view.ts';

const scenario = (conditions: string, events = '', noise = 0) =>
  parseScenario(
    'name: x\nepisode: {durationSec: 600, decisionIntervalSec: 10}\nload: {noise: 0}\n' +
      `telemetry: {windowSec: 10, staleAfterSec: 60, noise: ${noise}${conditions}}\n` +
      'regions: [{name: a, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.1, clientRps: 100, weight: 50}, {name: b, capacityRps: 1000, medianLatencyMs: 10, latencySigma: 0.1, weight: 50}]\n' +
      events,
    'telemetry.yaml',
  );

const hold = { weights: [0.5, 0.5], retryAttempts: 0, perTryTimeoutMs: 2_000 };

/** Observations of region b after each of `steps` decisions. */
function observe(conditions: string, steps: number, events = '') {
  const env = new MeshSimEnv(scenario(conditions, events));
  env.reset(1);
  return Array.from({ length: steps }, () => env.step(hold).observation.regions[1]!);
}

describe('per-region telemetry conditions', () => {
  it('bias: latency and errors read off by their factors, the other region untouched', () => {
    const plain = observe('', 3).at(-1)!;
    const biased = observe(', regions: [{region: b, latencyBias: 0.5, errorBias: 3}]', 3).at(-1)!;
    expect(biased.latencyP99Ms!).toBeCloseTo(plain.latencyP99Ms! * 0.5, 9);
    expect(biased.errorRate!).toBeCloseTo(plain.errorRate! * 3, 12);
    expect(biased.requestRate).toBe(plain.requestRate);
  });

  it('delay: what arrives was measured that many intervals ago, and shows its age', () => {
    // A latency spike on b from 100 s: the delayed view sees it 30 s later.
    const spike = 'events: [{kind: latencySpike, region: b, startSec: 100, durationSec: 300, addedMs: 200}]\n';
    const now = observe('', 14, spike).map((r) => r.latencyP99Ms!);
    const late = observe(', regions: [{region: b, delaySec: 30}]', 14, spike).map((r) => r.latencyP99Ms!);
    expect(late.slice(3)).toEqual(now.slice(0, -3));
    const env = new MeshSimEnv(scenario(', regions: [{region: b, delaySec: 30}]'));
    env.reset(1);
    const first = env.step(hold).observation.regions[1]!;
    // The first three intervals deliver nothing new from b; it only ages from before the episode.
    expect(first.latencyP99Ms).toBeNull();
  });

  it('loss: a share of deliveries never arrives, seeded, and the other region\'s measurements are not shifted', () => {
    const deliveries = (conditions: string) => {
      const seen: TelemetryDelivery[] = [];
      const env = new MeshSimEnv(scenario(conditions, '', 0.05), { onTelemetry: (d) => seen.push(d) });
      env.reset(1);
      for (let k = 0; k < 55; k++) env.step(hold);
      return seen;
    };
    const plain = deliveries('');
    const lossy = deliveries(', regions: [{region: b, lossRate: 0.3}]');
    const missed = lossy.filter((d) => Object.keys(d.regions[1]!.values).length === 0).length;
    // Seeded: the same count every run; about 30% of the 56 deliveries.
    expect(missed).toBe(deliveries(', regions: [{region: b, lossRate: 0.3}]').filter((d) => Object.keys(d.regions[1]!.values).length === 0).length);
    expect(missed).toBeGreaterThan(8);
    expect(missed).toBeLessThan(30);
    expect(plain.filter((d) => Object.keys(d.regions[1]!.values).length === 0)).toEqual([]);
    // Region a's measurements (and their noise) are the same with or without b's losses.
    expect(lossy.map((d) => d.regions[0])).toEqual(plain.map((d) => d.regions[0]));
  });

  it('refuses an unknown or repeated region, impossible factors and a delay off the decision grid, naming the field', () => {
    expect(() => scenario(', regions: [{region: z}]')).toThrow('telemetry.yaml: telemetry.regions[0].region: unknown region "z"');
    expect(() => scenario(', regions: [{region: b}, {region: b}]')).toThrow('telemetry.regions[1].region: "b" is listed twice');
    expect(() => scenario(', regions: [{region: b, lossRate: 1}]')).toThrow('telemetry.regions[0].lossRate: must be from 0 to below 1');
    expect(() => scenario(', regions: [{region: b, latencyBias: 0}]')).toThrow('telemetry.regions[0].latencyBias: must be > 0 and <= 10');
    expect(() => scenario(', regions: [{region: b, delaySec: 15}]')).toThrow('telemetry.regions[0].delaySec: must be a whole number of decision intervals (10 s)');
  });
});
