// Creeping degradations: brownouts, latency spikes and error bursts that grow over rampSec.
import { describe, expect, it } from '@jest/globals';
import { EventTimeline, newEffects } from '../../../training/sim/events.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';
import type { ScenarioEvent } from '../../../training/sim/scenario-schema.ts';

const at = (events: ScenarioEvent[], tSec: number) => {
  const fx = newEffects(1);
  new EventTimeline(events, new Map([['a', 0]]), () => 0.5).apply(tSec * 1000, fx);
  return fx;
};
const base = { region: 'a', startSec: 100, durationSec: 600, startJitterSec: 0, fraction: 1 };

describe('ramped events', () => {
  it('grow a brownout linearly from nothing to full severity over rampSec, then hold it', () => {
    const brownout = { ...base, kind: 'brownout', capacityFactor: 0.4, latencyFactor: 3, errorRate: 0.2, rampSec: 200 } as ScenarioEvent;
    expect(at([brownout], 100).capacityFactor[0]).toBeCloseTo(1, 9);
    const half = at([brownout], 200);
    expect(half.capacityFactor[0]).toBeCloseTo(0.7, 9);
    expect(half.serviceFactor[0]).toBeCloseTo(2, 9);
    expect(half.addedErrorRate[0]).toBeCloseTo(0.1, 9);
    const full = at([brownout], 500);
    expect([full.capacityFactor[0], full.serviceFactor[0]]).toEqual([0.4, 3]);
    expect(full.addedErrorRate[0]).toBeCloseTo(0.2, 12);
  });

  it('ramp latency spikes and error bursts the same way; without rampSec they start at full strength', () => {
    const spike = { ...base, kind: 'latencySpike', addedMs: 300, rampSec: 300 } as ScenarioEvent;
    expect(at([spike], 250).addedMs[0]).toBeCloseTo(150, 9);
    const burst = { ...base, kind: 'errorBurst', errorRate: 0.4, rampSec: 0 } as ScenarioEvent;
    expect(at([burst], 100).addedErrorRate[0]).toBe(0.4);
  });

  it('refuses a ramp longer than its event, naming the field', () => {
    const text = 'name: x\nepisode: {durationSec: 600, decisionIntervalSec: 10}\nregions: [{name: a, capacityRps: 100, medianLatencyMs: 10, clientRps: 50}]\nevents: [{kind: brownout, region: a, startSec: 10, durationSec: 60, capacityFactor: 0.5, rampSec: 120}]\n';
    expect(() => parseScenario(text, 'ramp.yaml')).toThrow('ramp.yaml: events[0].rampSec: must be at most durationSec');
  });
});
