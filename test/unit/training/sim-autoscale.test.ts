// Capacity that scales up after a delay (regions[].autoscale), as a HorizontalPodAutoscaler does.
import { describe, expect, it } from '@jest/globals';
import { MeshSim } from '../../../training/sim/mesh-sim.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';

const scenario = (autoscale: string) =>
  parseScenario(
    'name: x\nepisode: {durationSec: 1200, decisionIntervalSec: 10}\nload: {noise: 0}\n' +
      `regions: [{name: a, capacityRps: 100, medianLatencyMs: 10, clientRps: 150${autoscale}}]\n`,
    'autoscale.yaml',
  );

/** Mean saturation per decision interval over the first `seconds`. */
function saturations(autoscale: string, seconds: number): number[] {
  const sim = new MeshSim(scenario(autoscale));
  sim.reset(1, 0);
  const out: number[] = [];
  for (let t = 0; t < seconds; t += 10) out.push(sim.runInterval(10_000, { weights: Float64Array.of(1), retryAttempts: 0, perTryTimeoutMs: 10_000 }).regions[0]!.saturation);
  return out;
}

describe('autoscaling regions', () => {
  it('grow capacity by a step after utilisation stays above target for the delay, up to maxFactor', () => {
    const fixed = saturations('', 300);
    const scaled = saturations(', autoscale: {targetUtilization: 0.7, delaySec: 60, stepFactor: 1.5, maxFactor: 3}', 300);
    // 150 tries/s on 100 of capacity: overloaded while the autoscaler waits, as without one.
    expect(scaled[2]).toBeCloseTo(fixed[2]!, 9);
    expect(fixed.at(-1)).toBeCloseTo(1.5, 6);
    // 60 s later × 1.5 (still above 0.7), 60 s after that × 2.25: 150 / 225 ≈ 0.67, where it stays.
    expect(scaled[8]).toBeCloseTo(1, 6);
    expect(scaled.at(-1)).toBeCloseTo(150 / 225, 6);
  });

  it('refuses impossible settings, naming the field', () => {
    expect(() => scenario(', autoscale: {stepFactor: 1}')).toThrow('autoscale.yaml: regions[0].autoscale.stepFactor: must be > 1 and <= 10');
    expect(() => scenario(', autoscale: {stepFactor: 4, maxFactor: 3}')).toThrow('autoscale.yaml: regions[0].autoscale.stepFactor: must be at most maxFactor');
    expect(() => scenario(', autoscale: {targetUtilization: 0}')).toThrow('regions[0].autoscale.targetUtilization: must be > 0 and <= 1');
    expect(() => scenario(', autoscale: {delaySec: -1}')).toThrow('regions[0].autoscale.delaySec');
  });
});
