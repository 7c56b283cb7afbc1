// Runs policies on scenarios and sums up what clients lived through. Every policy meets the
// same worlds: seed k of a scenario is the same load, noise and event timing for each of them,
// so the table compares decisions and nothing else. A policy's seeds run in lockstep so a
// batching policy (the model) infers once per interval for all of them.
import { ConfigError } from '../../operator/base/errors.ts';
import type { PolicyAction } from '../../operator/policy/features.ts';
import type { EvalPolicy } from '../policy.ts';
import { GRID_SIZE, gridQuantile } from '../sim/math.ts';
import { MeshSimEnv, type MeshSimEnvOptions } from '../sim/mesh-sim-env.ts';
import type { ScenarioSpec } from '../sim/scenario-schema.ts';

/** One policy on one scenario, over every seed. */
export interface PolicySummary {
  /** Mean over seeds of the episode's SLO-violation seconds. */
  sloViolationSec: number;
  /** p99 of client latency over every request of every seed, ms. */
  p99Ms: number;
  /** Failed requests (after retries) / requests, over every seed. */
  errorRate: number;
  /** Cross-region cost per request, over every seed. */
  crossRegionCost: number;
  /** Mean over seeds of the episode's weight churn, percentage points moved. */
  churn: number;
}

/** One decision interval of the traced seed, for plots. */
export interface TracePoint {
  timeSec: number;
  /** Percent per region, in the scenario's order. */
  weights: number[];
  p99Ms: number;
  errorRate: number;
  sloViolationSec: number;
}

export interface ScenarioEvaluation {
  name: string;
  regions: string[];
  latencyObjectiveMs: number;
  policies: Record<string, PolicySummary>;
  /** The first seed's episode per policy. */
  traces: Record<string, TracePoint[]>;
  /** The traced seed's events (after jitter), for plots. */
  events: { kind: string; region: string; startSec: number; endSec: number }[];
}

export interface EvaluationResult {
  seeds: number[];
  scenarios: ScenarioEvaluation[];
}

export interface EvaluateOptions {
  scenarios: readonly ScenarioSpec[];
  /** A count (seeds 1..n) or the seeds themselves. */
  seeds: number | readonly number[];
  policies: readonly EvalPolicy[];
  env?: MeshSimEnvOptions;
  /** Called after each (scenario, policy) run. */
  onProgress?: (p: { scenario: string; policy: string; done: number; total: number }) => void;
}

/**
 * Runs every policy on every scenario with every seed. Throws ConfigError for no scenarios, no
 * policies, duplicate policy names or bad seeds; whatever a policy throws propagates.
 */
export async function evaluatePolicies(options: EvaluateOptions): Promise<EvaluationResult> {
  const seeds = typeof options.seeds === 'number' ? Array.from({ length: options.seeds }, (_, i) => i + 1) : [...options.seeds];
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new ConfigError(`seeds: need at least one non-negative integer seed, got ${JSON.stringify(options.seeds)}`);
  if (options.scenarios.length === 0) throw new ConfigError('scenarios: none to evaluate');
  if (options.policies.length === 0) throw new ConfigError('policies: none to evaluate');
  const names = options.policies.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ConfigError(`policies: the name "${dup}" is used twice`);
  const total = options.scenarios.length * options.policies.length;
  let done = 0;
  const scenarios: ScenarioEvaluation[] = [];
  for (const scenario of options.scenarios) {
    const result: ScenarioEvaluation = {
      name: scenario.name,
      regions: scenario.regions.map((r) => r.name),
      latencyObjectiveMs: scenario.route.objectives.latencyP99Ms,
      policies: {},
      traces: {},
      events: [],
    };
    for (const policy of options.policies) {
      const env = { ...(options.env ?? {}), ...(policy.guarded ? { guard: 'serving' as const } : {}) };
      const run = await runPolicy(scenario, policy, seeds, env);
      result.policies[policy.name] = run.summary;
      result.traces[policy.name] = run.trace;
      result.events = run.events;
      options.onProgress?.({ scenario: scenario.name, policy: policy.name, done: ++done, total });
    }
    scenarios.push(result);
  }
  return { seeds, scenarios };
}

async function runPolicy(scenario: ScenarioSpec, policy: EvalPolicy, seeds: number[], envOptions: MeshSimEnvOptions) {
  const envs = seeds.map(() => new MeshSimEnv(scenario, envOptions));
  let observations = envs.map((env, k) => env.reset(seeds[k]!));
  const states = envs.map((env) => policy.start(env.route));
  const trace: TracePoint[] = [];
  const steps = envs[0]!.episodeSteps;
  for (let t = 0; t < steps; t++) {
    let actions: PolicyAction[];
    if (policy.decideBatch) {
      actions = await policy.decideBatch(observations, states);
      if (actions.length !== envs.length) throw new ConfigError(`policy ${policy.name}: decideBatch returned ${actions.length} actions for ${envs.length} observations`);
    } else {
      actions = [];
      for (let k = 0; k < envs.length; k++) actions.push(await policy.decide(observations[k]!, states[k]));
    }
    observations = envs.map((env, k) => {
      const r = env.step(actions[k]!);
      if (k === 0) {
        const m = r.metrics;
        trace.push({ timeSec: m.timeMs / 1000, weights: m.weights, p99Ms: m.p99Ms, errorRate: m.errorRate, sloViolationSec: m.sloViolationSec });
      }
      return r.observation;
    });
  }
  const cdf = new Float64Array(GRID_SIZE);
  let requests = 0, failed = 0, cost = 0, slo = 0, churn = 0;
  for (const env of envs) {
    const t = env.totals;
    requests += t.requests;
    failed += t.failedRequests;
    cost += t.crossRegionCostSum;
    slo += t.sloViolationSec;
    churn += t.churn;
    for (let i = 0; i < GRID_SIZE; i++) cdf[i]! += t.latencyCdf[i]!;
  }
  const summary: PolicySummary = {
    sloViolationSec: slo / envs.length,
    p99Ms: gridQuantile(cdf, requests, 0.99) ?? 0,
    errorRate: requests > 0 ? failed / requests : 0,
    crossRegionCost: requests > 0 ? cost / requests : 0,
    churn: churn / envs.length,
  };
  const starts = envs[0]!.eventStartsMs;
  const events = scenario.events.map((e, i) => ({ kind: e.kind, region: e.region, startSec: starts[i]! / 1000, endSec: starts[i]! / 1000 + e.durationSec }));
  return { summary, trace, events };
}

/** The baseline (any policy but `exclude`) with the fewest SLO-violation seconds; ties go to the lower p99. */
export function bestPolicy(s: ScenarioEvaluation, exclude: readonly string[] = []): string | undefined {
  let best: string | undefined;
  for (const [name, p] of Object.entries(s.policies)) {
    if (exclude.includes(name)) continue;
    const b = best === undefined ? undefined : s.policies[best]!;
    if (!b || p.sloViolationSec < b.sloViolationSec || (p.sloViolationSec === b.sloViolationSec && p.p99Ms < b.p99Ms)) best = name;
  }
  return best;
}
