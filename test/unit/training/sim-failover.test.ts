// spec.failover in scenarios (route.failover.enabled): without failover nothing leaves the primary group.
import { describe, expect, it } from '@jest/globals';
import { heuristicAction } from '../../../operator/policy/heuristic.ts';
import { istioPolicy } from '../../../training/baselines/istio.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';

const scenario = (enabled: boolean) =>
  parseScenario(
    `name: x\nepisode: {durationSec: 600, decisionIntervalSec: 10}\nroute: {failover: {enabled: ${enabled}}}\n` +
      'regions: [{name: home, capacityRps: 1000, medianLatencyMs: 10, clientRps: 100}, {name: far, priority: 1, weight: 0, capacityRps: 1000, medianLatencyMs: 10}]\n' +
      'events: [{kind: outage, region: home, startSec: 60, durationSec: 400}]\n',
    'failover.yaml',
  );

/** The most weight the far region ever got, for the guarded heuristic and for istio, in percent. */
function mostOnFar(enabled: boolean): { heuristic: number; istio: number } {
  const guarded = new MeshSimEnv(scenario(enabled), { guard: 'serving' });
  let o = guarded.reset(1);
  let heuristic = 0;
  for (let k = 0; k < 40; k++) {
    const r = guarded.step(heuristicAction(o).action);
    heuristic = Math.max(heuristic, r.metrics.weights[1]!);
    o = r.observation;
  }
  const bare = new MeshSimEnv(scenario(enabled));
  const istio = istioPolicy();
  const state = istio.start(bare.route);
  let obs = bare.reset(1);
  let most = 0;
  for (let k = 0; k < 40; k++) {
    const r = bare.step(istio.decide(obs, state));
    most = Math.max(most, r.metrics.weights[1]!);
    obs = r.observation;
  }
  return { heuristic, istio: most };
}

describe('failover in scenarios', () => {
  it('is carried to the route: with it the far region takes over in an outage, without it neither serving nor istio ever sends there', () => {
    const on = mostOnFar(true);
    expect(on.heuristic).toBeGreaterThan(50);
    expect(on.istio).toBe(100);
    expect(mostOnFar(false)).toEqual({ heuristic: 0, istio: 0 });
    expect(new MeshSimEnv(scenario(false)).adaptiveRoute.spec.failover.enabled).toBe(false);
  });
});
