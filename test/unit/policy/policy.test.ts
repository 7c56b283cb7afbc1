import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Registry, type MetricValue } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { prng } from '../../../operator/base/random.ts';
import { ensureBackend } from '../../../operator/policy/backend.ts';
import { GUARD_RULES } from '../../../operator/policy/guard-rules.ts';
import { heuristicAction } from '../../../operator/policy/heuristic.ts';
import { policyMetrics } from '../../../operator/policy/metrics.ts';
import { loadModel, saveModel, MODEL_WEIGHTS_FILE, type LoadedModel } from '../../../operator/policy/model/loaded-model.ts';
import { ModelRegistry } from '../../../operator/policy/model/registry.ts';
import { actionLogDensity, PolicyService, type Decision, type DecisionRequest } from '../../../operator/policy/policy.ts';
import { ACTION_SIZE, OBSERVATION_SIZE, decodeAction } from '../../../operator/policy/features.ts';
import type { RouteSnapshot } from '../../../operator/telemetry/types.ts';
import { makeRoute, makeSnapshot, metadata, regionObs, routeObs, seededModel, type RegionData } from './fixtures.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const REGIONS = ['eu-west', 'us-east', 'ap-south', 'sa-east', 'af-south', 'me-central', 'eu-north', 'ca-central', 'us-west'];
let root: string;
let registry: ModelRegistry;
let service: PolicyService;

beforeAll(async () => {
  await ensureBackend();
  root = await mkdtemp(join(tmpdir(), 'meshpilot-policy-'));
  for (const [name, seed] of [['default', 1], ['canary', 2], ['broken', 3]] as const) {
    const model = seededModel(seed);
    await saveModel(model, metadata({ name, version: `${name}-seed${seed}` }), join(root, name));
    model.dispose();
  }
  await truncate(join(root, 'broken', MODEL_WEIGHTS_FILE), 100);
  registry = new ModelRegistry({ root });
  service = new PolicyService({ models: registry, clock: new ManualClock(NOW) });
});
afterAll(async () => {
  registry.dispose();
  await rm(root, { recursive: true, force: true });
});

/** A request for a route over `n` regions with the given model (undefined: none), and telemetry drawn from `seed`. */
function request(name: string, n: number, modelRef: string | undefined, seed: number, mode: 'enforce' | 'shadow' | 'static' = 'enforce'): DecisionRequest {
  const regions = REGIONS.slice(0, n);
  const route = makeRoute(name, regions.map((region, i) => ({ region, weight: 100, priority: i === 0 ? 0 : i % 2 })), {
    policy: { mode, ...(modelRef ? { modelRef: { name: modelRef } } : {}) },
  });
  const random = prng(seed);
  const data: RegionData[] = regions.map((region) => ({
    region,
    p50: 20 + random() * 100,
    p90: 60 + random() * 200,
    p99: 100 + random() * 400,
    errorRate: random() * 0.03,
    requestRate: random() * 500,
    saturation: random(),
    rateTrend: random() - 0.5,
    p99Trend: random() - 0.5,
  }));
  const weights = regions.map((region, i) => ({ region, weight: i === 0 ? 100 - 10 * (n - 1) : 10 }));
  return { key: `shop/${name}`, route, snapshot: makeSnapshot(`shop/${name}`, data), current: { weights, retryAttempts: 1, perTryTimeoutMs: 500 } };
}

describe('PolicyService', () => {
  it('decides with the route’s model, and records what it read, its raw action and the density of the decided action', async () => {
    const [d] = await service.decide([request('checkout', 3, 'default', 1)]);
    expect(d!.decidedBy).toBe('model');
    expect(d!.model).toEqual({ name: 'default', version: 'default-seed1' });
    expect(d!.fallback).toBeUndefined();
    expect(d!.reason).toMatch(/^model default@default-seed1: /);
    expect(d!.features).toHaveLength(OBSERVATION_SIZE);
    expect(d!.rawAction).toHaveLength(ACTION_SIZE);
    expect(d!.proposal).toEqual(decodeAction(d!.rawAction!, d!.observation!));
    expect(d!.weights.reduce((a, w) => a + w.weight, 0)).toBe(100);
    expect(d!.applied).toBe(true);
    // The density peaks at the mean: Π 1/(σ√2π) over the route's 3 logits and 2 scalars, σ = 0.5.
    const peak = 5 * (-Math.log(0.5) - 0.5 * Math.log(2 * Math.PI));
    expect(d!.logActionProbability).toBeLessThanOrEqual(peak);
    expect(d!.actionProbability).toBeCloseTo(Math.exp(d!.logActionProbability), 12);
  });

  it('gives the model\'s mean the peak density, whatever common shift its logits carry', () => {
    const observation = routeObs([regionObs('eu-west', 50), regionObs('us-east', 50)]);
    // Logits, then the scalars: 0 gives the heuristic's retries and per-try timeout.
    const mean = Float32Array.from([5.3, 4.8, 9, 9, 9, 9, 9, 9, 0, 0]);
    const std = Array.from({ length: ACTION_SIZE }, (_, i) => (i < 2 ? 0.5 : 0.25));
    const decided = decodeAction(mean, observation);
    const h = heuristicAction(observation).action;
    expect(decided).toMatchObject({ retryAttempts: h.retryAttempts, perTryTimeoutMs: h.perTryTimeoutMs });
    const peak = 2 * (-Math.log(0.5) - 0.5 * Math.log(2 * Math.PI)) + 2 * (-Math.log(0.25) - 0.5 * Math.log(2 * Math.PI));
    expect(actionLogDensity(decided, mean, std, observation)).toBeCloseTo(peak, 5);
    const elsewhere = { ...decided, weights: [0.5, 0.5] };
    expect(actionLogDensity(elsewhere, mean, std, observation)).toBeLessThan(peak - 0.1);
  });

  it('falls back to the heuristic when the model is refused, and says so', async () => {
    const [d] = await service.decide([request('checkout', 2, 'broken', 1)]);
    expect(d!.decidedBy).toBe('heuristic');
    expect(d!.model).toBeUndefined();
    expect(d!.fallback!.reason).toContain('model "broken" refused: ');
    expect(d!.fallback!.reason).toContain(`${join(root, 'broken', MODEL_WEIGHTS_FILE)} (model.json weightsManifest[0].weights)`);
    expect(d!.reason).toMatch(/^heuristic in place of model "broken": /);
    expect(d!.reason).toContain('; fallback: model "broken" refused: ');
    expect(d!.actionProbability).toBe(1);
    expect(d!.logActionProbability).toBe(0);
  });

  it('falls back when the model is missing, or cannot read a route (more regions than the spec has slots)', async () => {
    const [missing, wide] = await service.decide([request('a', 2, 'nowhere', 1), request('b', 9, 'default', 1)]);
    expect(missing!.fallback!.reason).toContain('no such model directory');
    expect(wide!.decidedBy).toBe('heuristic');
    expect(wide!.fallback!.reason).toBe('model "default" cannot read this route\'s observation: observation regions: 9 regions; a policy serves 1 to 8');
    expect(wide!.weights).toHaveLength(9);
  });

  it('falls back when an observation holds NaN, naming the field', async () => {
    const r = request('a', 2, 'default', 1);
    r.snapshot!.regions[1]!.signals.latencyP90.value = Number.NaN;
    const [d] = await service.decide([r]);
    expect(d!.decidedBy).toBe('heuristic');
    expect(d!.fallback!.reason).toBe('model "default" cannot read this route\'s observation: observation regions[1].latencyP90Ms: NaN is not a finite number');
    expect(d!.weights.every((w) => Number.isInteger(w.weight))).toBe(true);
  });

  it('falls back when inference fails or returns non-finite actions', async () => {
    const fake = (predict: LoadedModel['predict']): ModelRegistry =>
      new ModelRegistry({ root, load: async (dir) => ({ dir, metadata: metadata(), predict, dispose: () => undefined }) });
    const throwing = new PolicyService({ models: fake(() => { throw new Error('kernel exploded'); }), clock: new ManualClock(NOW) });
    const [t] = await throwing.decide([request('a', 2, 'default', 1)]);
    expect(t!.fallback!.reason).toBe('model "default" failed: kernel exploded');
    const nan = new PolicyService({ models: fake((_, rows) => new Float32Array(rows * ACTION_SIZE).fill(Number.NaN)), clock: new ManualClock(NOW) });
    const [n] = await nan.decide([request('a', 2, 'default', 1)]);
    expect(n!.fallback!.reason).toBe('model "default" gave an unusable action: action[0]: NaN is not a finite number');
  });

  it('uses the heuristic without a fallback note when no model is referenced, and the spec in static mode', async () => {
    const [h, s] = await service.decide([request('a', 2, undefined, 1), request('b', 2, undefined, 1, 'static')]);
    expect(h!.decidedBy).toBe('heuristic');
    expect(h!.fallback).toBeUndefined();
    expect(h!.reason).toMatch(/^heuristic: /);
    expect(s!.decidedBy).toBe('spec');
    expect(s!.rules).toEqual([GUARD_RULES.static]);
    expect(s!.proposal).toBeUndefined();
  });

  it('reports but does not apply in shadow mode', async () => {
    const [d] = await service.decide([request('a', 3, 'default', 4, 'shadow')]);
    expect(d!.applied).toBe(false);
    expect(d!.state.shadowWeights).toEqual(d!.weights);
  });

  it('decides a shadow model beside the serving policy: guarded in shadow from its own trajectory, never applied', async () => {
    const withShadow = (shadow: string, state?: DecisionRequest['shadowState']): DecisionRequest => {
      const r = request('a', 3, undefined, 4);
      r.route.spec.policy.shadowModelRef = { name: shadow };
      return state ? { ...r, shadowState: state } : r;
    };
    const [d] = await service.decide([withShadow('default')]);
    const [alone] = await service.decide([request('a', 3, undefined, 4)]);
    // The serving decision is the heuristic's, exactly as without a shadow.
    expect({ ...d!, shadow: undefined }).toEqual({ ...alone!, shadow: undefined });
    expect(d!.decidedBy).toBe('heuristic');
    const shadow = d!.shadow!;
    expect(shadow).toMatchObject({ mode: 'shadow', decidedBy: 'model', applied: false, model: { name: 'default', version: 'default-seed1' } });
    expect(shadow.rules).toContain(GUARD_RULES.shadow);
    expect(shadow.state.shadowWeights).toEqual(shadow.weights);
    // The next shadow decision starts from the previous shadow decision, not from what is served.
    const [next] = await service.decide([withShadow('default', shadow.state)]);
    expect(next!.shadow!.state.step).toBe(2);
    // A shadow model that cannot decide: the heuristic's shadow decision, and why.
    const [broken] = await service.decide([withShadow('broken')]);
    expect(broken!.shadow!.fallback?.reason).toMatch(/^model "broken" refused: /);
    expect(broken!.decidedBy).toBe('heuristic');
    expect(broken!.applied).toBe(d!.applied);
  });

  it('holds when there is no telemetry, and when the route cannot be observed', async () => {
    const blind = { ...request('a', 2, 'default', 1), snapshot: undefined };
    const foreign = { ...request('b', 2, 'default', 1), snapshot: makeSnapshot('shop/else', []) as RouteSnapshot };
    const [b, f] = await service.decide([blind, foreign]);
    expect(b!.rules).toEqual([GUARD_RULES.failStatic]);
    expect(b!.applied).toBe(false);
    expect(b!.weights).toEqual(blind.current.weights);
    expect(f!.applied).toBe(false);
    expect(f!.reason).toBe('cannot observe shop/b: snapshot route: "shop/else" is not the route being decided ("shop/b"); holding the current intent');
    expect(f!.weights).toEqual(foreign.current.weights);
  });

  it('decides a batch exactly as it decides each route alone', async () => {
    const requests = Array.from({ length: 40 }, (_, i) => request(`r${i}`, 1 + (i % 8), ['default', 'canary', undefined, 'broken'][i % 4], 100 + i, i % 5 === 0 ? 'shadow' : 'enforce'));
    const together = await service.decide(requests);
    const alone: Decision[] = [];
    for (const r of requests) alone.push(...(await service.decide([r])));
    const strip = (d: (typeof together)[number]) => ({ ...d, rawAction: undefined, features: undefined, logActionProbability: undefined, actionProbability: undefined, proposal: undefined });
    together.forEach((d, i) => {
      const a = alone[i]!;
      expect(strip(d)).toEqual(strip(a));
      d.rawAction?.forEach((v, k) => expect(v).toBeCloseTo(a.rawAction![k]!, 5));
      expect(d.features).toEqual(a.features);
      expect(d.logActionProbability).toBeCloseTo(a.logActionProbability, 3);
    });
    expect(new Set(together.map((d) => d.decidedBy))).toEqual(new Set(['model', 'heuristic']));
  });

  it('runs one forward pass per model for the whole batch', async () => {
    const calls: { dir: string; rows: number }[] = [];
    const counting = new ModelRegistry({
      root,
      load: async (dir) => {
        const m = await loadModel(dir);
        const predict = (b: Float32Array, rows: number) => {
          calls.push({ dir, rows });
          return m.predict(b, rows);
        };
        return { dir, metadata: m.metadata, dispose: () => m.dispose(), predict };
      },
    });
    const svc = new PolicyService({ models: counting, clock: new ManualClock(NOW) });
    const requests = Array.from({ length: 30 }, (_, i) => request(`r${i}`, 3, i % 3 === 0 ? 'canary' : 'default', i));
    await svc.decide(requests);
    expect(calls.map((c) => [c.dir.endsWith('default') ? 'default' : 'canary', c.rows]).sort()).toEqual([['canary', 10], ['default', 20]]);
    counting.dispose();
  });

  it('leaks no tensors, decision after decision', async () => {
    const requests: DecisionRequest[] = Array.from({ length: 20 }, (_, i) => request(`r${i}`, 1 + (i % 8), i % 2 ? 'default' : 'canary', i));
    await service.decide(requests);
    const before = tf.memory().numTensors;
    for (let round = 0; round < 50; round++) {
      const decisions = await service.decide(requests);
      decisions.forEach((d, i) => (requests[i] = { ...requests[i]!, current: { weights: d.weights, retryAttempts: d.retryAttempts, perTryTimeoutMs: d.perTryTimeoutMs }, state: d.state }));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('policy metrics', () => {
  it('counts decisions by decider, guard interventions, fallbacks, forward passes and model loads', async () => {
    const metrics = new Registry();
    const meters = policyMetrics(metrics);
    const models = new ModelRegistry({ root, metrics: meters });
    const counted = new PolicyService({ models, clock: new ManualClock(NOW), metrics: meters });
    const decisions = await counted.decide([
      request('a', 2, 'default', 1),
      request('b', 3, 'default', 2),
      request('c', 2, 'broken', 3),
      request('d', 2, undefined, 4, 'shadow'),
      request('e', 2, undefined, 5, 'static'),
    ]);
    // A histogram's series (name_count, name_sum) are read from its family.
    const value = async (series: string, labels: Record<string, string>) => {
      const family = await (metrics.getSingleMetric(series) ?? metrics.getSingleMetric(series.replace(/_(count|sum)$/, ''))!).get();
      const values = (family.values as (MetricValue<string> & { metricName?: string })[]).filter((v) => (v.metricName ?? family.name) === series);
      return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
    };
    expect(await value('meshpilot_policy_decisions_total', { mode: 'enforce', decided_by: 'model', applied: 'true' })).toBe(2);
    expect(await value('meshpilot_policy_decisions_total', { mode: 'enforce', decided_by: 'heuristic' })).toBe(1);
    expect(await value('meshpilot_policy_decisions_total', { mode: 'shadow', decided_by: 'heuristic', applied: 'false' })).toBe(1);
    expect(await value('meshpilot_policy_decisions_total', { mode: 'static', decided_by: 'spec' })).toBe(1);
    expect(await value('meshpilot_policy_model_fallbacks_total', { model: 'broken' })).toBe(1);
    const rules = decisions.flatMap((d) => d.rules);
    expect(await value('meshpilot_policy_guard_interventions_total', { rule: GUARD_RULES.static })).toBe(rules.filter((r) => r === GUARD_RULES.static).length);
    expect(await value('meshpilot_policy_guard_interventions_total', { rule: GUARD_RULES.shadow })).toBe(1);
    // One forward pass for both routes of "default".
    expect(await value('meshpilot_policy_inference_duration_seconds_count', { model: 'default' })).toBe(1);
    expect(await value('meshpilot_policy_batch_routes_sum', { model: 'default' })).toBe(2);
    expect(await value('meshpilot_policy_model_loads_total', { model: 'default', result: 'loaded' })).toBe(1);
    expect(await value('meshpilot_policy_model_loads_total', { model: 'broken', result: 'refused' })).toBe(1);
    expect(await value('meshpilot_policy_model_info', { model: 'default', version: 'default-seed1' })).toBe(1);
    // Unchanged files are not loaded again; disposing forgets the loaded versions.
    await counted.decide([request('a', 2, 'default', 1)]);
    expect(await value('meshpilot_policy_model_loads_total', { model: 'default', result: 'loaded' })).toBe(1);
    models.dispose();
    expect(await value('meshpilot_policy_model_info', { model: 'default' })).toBe(0);
  });
});
