// Builders for the promote tests: constant-output policy models (their action mean does not
// depend on the observation, so what they would decide is known exactly) and a decision log
// of one route whose reward depends only on how much traffic crosses regions, logged by such
// a model. A candidate that keeps more traffic home is better on that log, one that sends
// more away is worse, and the off-policy gate can tell them apart with a few hundred
// decisions.
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { prng } from '../../../operator/base/random.ts';
import { observationFromSnapshot, type CurrentIntent } from '../../../operator/policy/observe.ts';
import { saveModel } from '../../../operator/policy/model/loaded-model.ts';
import { actionLogDensity } from '../../../operator/policy/policy.ts';
import { ACTION_PER_TRY_INDEX, ACTION_RETRY_INDEX, ACTION_SIZE, decodeAction, MODEL_OUTPUT_SIZE, REGION_FEATURES, ROW_SIZE } from '../../../operator/policy/features.ts';
import type { DecisionRecord } from '../../../operator/telemetry/decision-log.ts';
import { makeRoute, makeSnapshot, metadata } from '../policy/fixtures.ts';

export const ROUTE_KEY = 'shop/checkout';
/** eu-west is home (priority 0); us-east is remote, so traffic sent there costs. */
export const ROUTE = makeRoute('checkout', [{ region: 'eu-west', weight: 50 }, { region: 'us-east', weight: 50, priority: 1 }], {
  objectives: { latencyP99: '250ms', maxErrorRate: 0.01, crossRegionCostWeight: 1 },
});

/**
 * A policy model whose action mean on ROUTE is `mean` (padded with zeros) for every
 * observation: one row per region, so a region's logit comes from its row; the rows differ in
 * their 'remote' feature, which is all the model reads (eu-west's row gets mean[0], us-east's
 * mean[1]), and the retry and per-try votes are constant.
 */
export function constantModel(mean: readonly number[]): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [ROW_SIZE], units: MODEL_OUTPUT_SIZE })] });
  const kernel = new Float32Array(ROW_SIZE * MODEL_OUTPUT_SIZE);
  kernel[REGION_FEATURES.indexOf('remote') * MODEL_OUTPUT_SIZE] = (mean[1] ?? 0) - (mean[0] ?? 0);
  const bias = Float32Array.from([mean[0] ?? 0, mean[ACTION_RETRY_INDEX] ?? 0, mean[ACTION_PER_TRY_INDEX] ?? 0]);
  const values = [tf.tensor2d(kernel, [ROW_SIZE, MODEL_OUTPUT_SIZE]), tf.tensor1d(bias)];
  model.setWeights(values);
  for (const v of values) v.dispose();
  return model;
}

export interface ConstantPolicy {
  version: string;
  mean: number[];
  std: number;
}

/** The policy that logged the decisions: it holds the current weights on average. */
export const LOGGING: ConstantPolicy = { version: 'checkout-v1', mean: [0, 0], std: 0.6 };
/** Keeps more traffic home than the logging policy: better on the log. */
export const BETTER: ConstantPolicy = { version: 'checkout-v2', mean: [0.5, -0.5], std: 0.6 };
/** Sends more traffic away than the logging policy: worse on the log. */
export const WORSE: ConstantPolicy = { version: 'checkout-v3', mean: [-0.5, 0.5], std: 0.6 };

/** Saves `policy` as the model directory `dir` (named `name`). */
export async function saveConstantModel(policy: ConstantPolicy, dir: string, name = 'checkout'): Promise<void> {
  const model = constantModel(policy.mean);
  try {
    await saveModel(model, metadata({ name, version: policy.version, actionStd: new Array<number>(ACTION_SIZE).fill(policy.std) }), dir);
  } finally {
    model.dispose();
  }
}

const gaussian = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/**
 * Writes the route (`routesFile`) and `decisions` decisions `LOGGING` made for it
 * (`logFile`). Before each model decision a heuristic decision resets the weights to 50/50,
 * so every model decision starts from the same intent; the heuristic ones have no outcome
 * and are skipped by the gate. Outcomes carry request rates in the decided proportions.
 */
export async function writeDecisionLog(logFile: string, routesFile: string, decisions = 120, seed = 11): Promise<void> {
  await writeFile(routesFile, JSON.stringify(ROUTE));
  const random = prng(seed);
  const intent: CurrentIntent = { weights: [{ region: 'eu-west', weight: 50 }, { region: 'us-east', weight: 50 }], retryAttempts: 1, perTryTimeoutMs: 300 };
  const std = new Array<number>(ACTION_SIZE).fill(LOGGING.std);
  const mean = Float32Array.from({ length: ACTION_SIZE }, (_, i) => LOGGING.mean[i] ?? 0);
  const lines: string[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < decisions; i++) {
    const at = t0 + i * 20_000;
    const snapshot = makeSnapshot(ROUTE_KEY, [{ region: 'eu-west' }, { region: 'us-east' }], at);
    const base = { schema: 'meshpilot.decision/v1', route: ROUTE_KEY, generation: 1, mode: 'enforce', observation: snapshot, reason: 'test' } as const;
    const reset: DecisionRecord = {
      ...base,
      id: `r${i}`,
      time: new Date(at).toISOString(),
      policy: 'heuristic',
      modelVersion: null,
      action: { weights: intent.weights, retryAttempts: intent.retryAttempts, perTryTimeoutMs: intent.perTryTimeoutMs, timeoutMs: 2000 },
      actionProbability: 1,
      applied: true,
    };
    const o = observationFromSnapshot(ROUTE, snapshot, intent);
    const action = decodeAction(Array.from(mean, (m, k) => m + std[k]! * gaussian(random)), o);
    const decision: DecisionRecord = {
      ...base,
      id: `d${i}`,
      time: new Date(at + 10_000).toISOString(),
      policy: 'model',
      modelVersion: LOGGING.version,
      action: { weights: [{ region: 'eu-west', weight: action.weights[0]! * 100 }, { region: 'us-east', weight: action.weights[1]! * 100 }], retryAttempts: action.retryAttempts, perTryTimeoutMs: action.perTryTimeoutMs, timeoutMs: 2000 },
      actionProbability: Math.exp(actionLogDensity(action, mean, std, o)),
      applied: true,
    };
    const outcome = {
      schema: 'meshpilot.decision-outcome/v1',
      decisionId: decision.id,
      route: ROUTE_KEY,
      time: new Date(at + 19_000).toISOString(),
      observation: makeSnapshot(ROUTE_KEY, [{ region: 'eu-west', requestRate: action.weights[0]! * 100 }, { region: 'us-east', requestRate: action.weights[1]! * 100 }], at + 19_000),
    };
    lines.push(JSON.stringify(reset), JSON.stringify(decision), JSON.stringify(outcome));
  }
  await writeFile(logFile, `${lines.join('\n')}\n`);
}
