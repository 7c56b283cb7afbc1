// The policy's metric families (meshpilot_policy_*): what decided and whether it was applied,
// which guard rules intervened, when a referenced model could not decide, how long forward
// passes take and how many routes share one, and which models are loaded or refused. Labels
// are bounded: modes, deciders, rules and model names, never routes (a route's own story is in
// its status, conditions and events).
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram } from '../base/metrics.ts';

/** A model lookup's outcome; the `result` label of model loads. */
export const MODEL_LOAD_RESULTS = { loaded: 'loaded', refused: 'refused' } as const;

/** Forward passes take well under a millisecond per route; a batch of a thousand routes a few ms. */
const INFERENCE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export interface PolicyMetrics {
  /** meshpilot_policy_decisions_total{mode,decided_by,applied}. */
  decisions: Counter<'mode' | 'decided_by' | 'applied'>;
  /** meshpilot_policy_guard_interventions_total{rule}: one per rule per decision it shaped. */
  interventions: Counter<'rule'>;
  /** meshpilot_policy_model_fallbacks_total{model}: decisions of routes whose model could not decide, made by the heuristic. */
  fallbacks: Counter<'model'>;
  /** meshpilot_policy_inference_duration_seconds{model}: one forward pass of a batch. */
  inference: Histogram<'model'>;
  /** meshpilot_policy_batch_routes{model}: routes decided by one forward pass. */
  batch: Histogram<'model'>;
  /** meshpilot_policy_model_loads_total{model,result}: (re)loads after the model's files changed. */
  loads: Counter<'model' | 'result'>;
  /** meshpilot_policy_model_info{model,version}: 1 for each model loaded now. */
  info: Gauge<'model' | 'version'>;
}

export function policyMetrics(registry: Registry): PolicyMetrics {
  return {
    decisions: counter(registry, {
      name: 'meshpilot_policy_decisions_total',
      help: 'Policy decisions, by mode, by what decided (model, heuristic, spec) and whether they were applied',
      labelNames: ['mode', 'decided_by', 'applied'],
    }),
    interventions: counter(registry, {
      name: 'meshpilot_policy_guard_interventions_total',
      help: 'Decisions the safety guard shaped, by rule (StepCapped, MinWeightFloor, HealthOverride, FailStatic, Rollback, ...)',
      labelNames: ['rule'],
    }),
    fallbacks: counter(registry, {
      name: 'meshpilot_policy_model_fallbacks_total',
      help: 'Decisions made by the heuristic because the route’s model could not decide (refused, unreadable observation, failed forward pass)',
      labelNames: ['model'],
    }),
    inference: histogram(registry, {
      name: 'meshpilot_policy_inference_duration_seconds',
      help: 'Duration of one forward pass of a model over a batch of routes',
      labelNames: ['model'],
      buckets: INFERENCE_BUCKETS,
    }),
    batch: histogram(registry, {
      name: 'meshpilot_policy_batch_routes',
      help: 'Routes decided together by one forward pass of a model',
      labelNames: ['model'],
      buckets: BATCH_BUCKETS,
    }),
    loads: counter(registry, {
      name: 'meshpilot_policy_model_loads_total',
      help: 'Model loads after its files changed (or at first use), by model and result (loaded, refused)',
      labelNames: ['model', 'result'],
    }),
    info: gauge(registry, {
      name: 'meshpilot_policy_model_info',
      help: 'The version of each model loaded now; always 1',
      labelNames: ['model', 'version'],
    }),
  };
}
