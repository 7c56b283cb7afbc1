// Property test of scenario files: whatever numbers (and YAML) a file holds, loading it gives
// a ConfigError that names the file, or a scenario the simulator runs to the end, with finite
// observations and rewards.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../../../operator/base/errors.ts';
import { LIMITS } from '../../../training/sim/scenario-schema.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';
import { encodeObservation } from '../../../operator/policy/features.ts';

const number = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1e-300, 5e-324, 0.5, 1, 10, 60, 600, 1e6, 1e12, 1e308, -1, -1e308), weight: 3 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 1200 }), weight: 3 },
);

/** A small valid scenario with any of its numbers replaced. */
const scenario = fc
  .record({
    durationSec: fc.oneof(fc.constant(120), number),
    decisionIntervalSec: fc.oneof(fc.constant(10), number),
    tickSec: fc.oneof(fc.constant(1), number),
    capacityRps: fc.oneof(fc.constant(100), number),
    medianLatencyMs: fc.oneof(fc.constant(20), number),
    clientRps: fc.oneof(fc.constant(50), number),
    loadPhaseSec: fc.oneof(fc.constant(0), number),
    rttMs: fc.oneof(fc.constant(80), number),
    kind: fc.constantFrom('brownout', 'outage', 'latencySpike', 'errorBurst', 'flashCrowd', 'flap', 'staleTelemetry'),
    startSec: fc.oneof(fc.constant(30), number),
    eventDurationSec: fc.oneof(fc.constant(30), number),
    startJitterSec: fc.oneof(fc.constant(0), number),
    extra: number,
  })
  .map((v) => {
    const event: Record<string, unknown> = { kind: v.kind, region: 'a', startSec: v.startSec, durationSec: v.eventDurationSec, startJitterSec: v.startJitterSec };
    if (v.kind === 'brownout') Object.assign(event, { capacityFactor: Math.min(1, Math.abs(v.extra)) || 0.5, latencyFactor: 1 + Math.abs(v.extra) });
    if (v.kind === 'latencySpike') event.addedMs = v.extra;
    if (v.kind === 'errorBurst') event.errorRate = v.extra;
    if (v.kind === 'flashCrowd') Object.assign(event, { factor: v.extra, rampSec: v.extra });
    if (v.kind === 'flap') Object.assign(event, { periodSec: v.extra, downSec: v.extra / 2 });
    return stringify({
      name: 'fuzz',
      episode: { durationSec: v.durationSec, decisionIntervalSec: v.decisionIntervalSec, tickSec: v.tickSec },
      network: { defaultRttMs: v.rttMs },
      regions: [
        { name: 'a', capacityRps: v.capacityRps, medianLatencyMs: v.medianLatencyMs, clientRps: v.clientRps, loadPhaseSec: v.loadPhaseSec },
        { name: 'b', capacityRps: 100, medianLatencyMs: 20, priority: 1 },
      ],
      events: [event],
    });
  });

function run(text: string): void {
  let s;
  try {
    s = parseScenario(text, 'fuzz.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.startsWith('fuzz.yaml: ')).toBe(true);
    return;
  }
  expect(s.episode.durationSec / s.episode.tickSec).toBeLessThanOrEqual(LIMITS.maxTicks);
  // Long episodes are accepted; run at most the first few decisions of them here.
  const env = new MeshSimEnv(s);
  let o = env.reset(1);
  for (let i = 0; i < 12; i++) {
    expect(encodeObservation(o).every(Number.isFinite)).toBe(true);
    const r = env.step({ weights: [0.7, 0.3], retryAttempts: 1, perTryTimeoutMs: 500 });
    expect(Number.isFinite(r.reward)).toBe(true);
    o = r.observation;
    if (r.done) break;
  }
}

describe('scenario files, fuzzed', () => {
  it('load with a ConfigError naming the file, or simulate with finite observations and rewards', () => {
    fc.assert(fc.property(scenario, run), { seed: 20261207, numRuns: 300 });
  });

  it.each([
    ['a recursive alias', 'name: &n [*n]\n', 'fuzz.yaml: name[0]: refers to itself (a recursive YAML alias)'],
    ['a tick of 1e-300 s', 'name: x\nepisode: {durationSec: 60, decisionIntervalSec: 10, tickSec: 1.0e-300}\nregions: [{name: a, capacityRps: 1, medianLatencyMs: 1, clientRps: 1}]\n', 'episode.tickSec: must be from 0.01 to 3600 s'],
    ['an episode of 1e308 s', 'name: x\nepisode: {durationSec: 1.0e+308, decisionIntervalSec: 10}\nregions: [{name: a, capacityRps: 1, medianLatencyMs: 1, clientRps: 1}]\n', 'episode.durationSec: must be at most 604800 s'],
    ['a load phase of 1e308 s', 'name: x\nepisode: {durationSec: 60, decisionIntervalSec: 10}\nregions: [{name: a, capacityRps: 1, medianLatencyMs: 1, clientRps: 1, loadPhaseSec: 1.0e+308}]\n', 'regions[0].loadPhaseSec: must be between'],
  ])('refuses %s, naming the file and field', (_what, text, message) => {
    expect(() => parseScenario(text, 'fuzz.yaml')).toThrow(message);
  });
});
