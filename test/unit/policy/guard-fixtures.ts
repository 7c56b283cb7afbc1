// The guard tests' inputs: a spec, and a decision's input built from current and proposed
// percents with a first region busy enough to be evidence to move.
import type { guard, GuardInput } from '../../../operator/policy/guard.ts';
import type { GuardSpec } from '../../../operator/policy/guard-spec.ts';
import type { GuardState } from '../../../operator/policy/guard-state.ts';
import type { RegionObservation } from '../../../operator/policy/features.ts';
import { regionObs, routeObs } from './fixtures.ts';

export const NOW = Date.parse('2026-03-01T12:00:00Z');

export function spec(regions: string[], over: Partial<GuardSpec> = {}): GuardSpec {
  return {
    mode: 'enforce',
    maxWeightStep: 10,
    minWeight: 5,
    failoverEnabled: true,
    decisionIntervalMs: 30_000,
    destinations: regions.map((region) => ({ region, weight: 100, priority: 0 })),
    ...over,
  };
}

/** p99 of the first region unless a test says otherwise: past EVIDENCE_HEADROOM, so the policy is followed. */
export const BUSY_P99 = 190;

/**
 * A guard input: `current` percent per region, `proposed` percent per region. The first
 * region runs at BUSY_P99 (76% of the 250 ms objective), which is evidence to move; the
 * evidence tests pass quiet regions explicitly.
 */
export function input(current: number[], proposed: number[], over: { regions?: Partial<RegionObservation>[]; spec?: Partial<GuardSpec>; state?: GuardState; retries?: number; perTry?: number } = {}): GuardInput {
  const names = ['eu-west', 'us-east', 'ap-south', 'sa-east'].slice(0, current.length);
  const regions = names.map((r, i) => regionObs(r, current[i]!, { ...(i === 0 ? { latencyP99Ms: BUSY_P99 } : {}), ...(over.regions?.[i] ?? {}) }));
  const total = proposed.reduce((a, b) => a + b, 0);
  return {
    proposal: { action: { weights: proposed.map((p) => p / total), retryAttempts: over.retries ?? 2, perTryTimeoutMs: over.perTry ?? 500 }, by: 'model default@v1' },
    observation: routeObs(regions),
    current: { weights: names.map((region, i) => ({ region, weight: current[i]! })), retryAttempts: 2, perTryTimeoutMs: 500 },
    spec: spec(names, over.spec),
    ...(over.state ? { state: over.state } : {}),
    nowMs: NOW,
  };
}

export const weightsOf = (r: ReturnType<typeof guard>) => r.weights.map((w) => w.weight);
