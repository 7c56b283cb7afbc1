// Small scenarios for the simulator, baseline and evaluation tests, built as documents and
// validated by the real schema, so a fixture can never be a scenario no file could express.
import type { Scenario } from '../../../training/sim/scenario-loader.ts';
import { validateScenario } from '../../../training/sim/scenario-loader.ts';

type Doc = Record<string, unknown>;

/** One region of `capacityRps`, clients at `clientRps`, no noise, a short episode; `extra` overrides top-level fields. */
export function oneRegion(clientRps: number, extra: Doc = {}, region: Doc = {}): Scenario {
  return validateScenario(
    {
      name: 'one-region',
      episode: { durationSec: 120, decisionIntervalSec: 10 },
      telemetry: { windowSec: 10, staleAfterSec: 30, noise: 0 },
      load: { noise: 0 },
      regions: [{ name: 'eu-west', capacityRps: 1000, medianLatencyMs: 20, latencySigma: 0.4, clientRps, ...region }],
      ...extra,
    },
    'one-region.yaml',
  );
}

/** Two primary regions with clients in the first, and a remote third. */
export function threeRegions(extra: Doc = {}): Scenario {
  return validateScenario(
    {
      name: 'three-regions',
      episode: { durationSec: 300, decisionIntervalSec: 10 },
      route: { retries: { attempts: { min: 0, max: 2 }, perTryTimeoutMs: { min: 100, max: 1000 } }, timeoutMs: { min: 1000, max: 3000 } },
      telemetry: { windowSec: 10, staleAfterSec: 20, noise: 0 },
      health: { detectionDelaySec: 20 },
      load: { noise: 0 },
      regions: [
        { name: 'eu-west', weight: 50, capacityRps: 1000, medianLatencyMs: 20, clientRps: 600 },
        { name: 'eu-central', weight: 50, capacityRps: 1000, medianLatencyMs: 25, clientRps: 0 },
        { name: 'us-east', priority: 1, weight: 0, capacityRps: 1000, medianLatencyMs: 20 },
      ],
      network: { defaultRttMs: 80, links: [{ between: ['eu-west', 'eu-central'], rttMs: 15, cost: 0.5 }] },
      ...extra,
    },
    'three-regions.yaml',
  );
}
