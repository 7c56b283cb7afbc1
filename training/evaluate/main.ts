// `meshpilot evaluate`: every baseline (and the model, given one) on every scenario of a
// directory with several seeds. Progress goes to stderr; stdout carries the table (unless
// --json) and, as its last line, the one JSON object of the result. With --out, the JSON and
// one SVG per scenario (the model, or the best baseline, against the best other policy) are
// also written there.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { booleanValue, flag, integerValue, parseFlags } from '../../operator/base/flags.ts';
import { loadModel } from '../../operator/policy/model/loaded-model.ts';
import { heuristicAction } from '../../operator/policy/heuristic.ts';
import { decodeAction, encodeObservation, OBSERVATION_SIZE, ACTION_SIZE, type PolicyAction, type RouteObservation } from '../../operator/policy/features.ts';
import { baselines } from '../baselines/baselines.ts';
import { GUARDED_HEURISTIC, guardedHeuristicPolicy } from '../baselines/heuristic.ts';
import type { EvalPolicy } from '../policy.ts';
import { loadScenarios } from '../sim/scenario-loader.ts';
import { bestPolicy, evaluatePolicies, type EvaluationResult } from './evaluate.ts';
import { evaluateJson, evaluateTable } from './report.ts';
import { describeSummary, modelSummary } from './model-summary.ts';
import { scenarioSvg } from './svg-plot.ts';
import { failure, processIo, type LineIo } from './cli-io.ts';

const DEFAULT_SCENARIOS = fileURLToPath(new URL('../scenarios', import.meta.url));

export type EvaluateIo = LineIo;

/** `meshpilot evaluate`'s flags (with --decision-log it is the off-policy gate: OPE_FLAGS). */
export const EVALUATE_FLAGS = {
  model: flag(z.string().min(1).optional(), { arg: 'DIR', help: 'a model directory (model.json, weights, meshpilot-model.json) to evaluate against the baselines' }),
  heuristic: flag(booleanValue.default(false), { switch: true, help: "also evaluate the operator's fallback heuristic behind the serving guard, as a route without a model is served" }),
  scenarios: flag(z.string().min(1).default(DEFAULT_SCENARIOS), { arg: 'DIR', help: 'scenario files (*.yaml) to run', defaultText: 'training/scenarios' }),
  seeds: flag(integerValue(1, 1000).prefault('5'), { arg: 'N', help: 'seeds per scenario and policy' }),
  json: flag(booleanValue.default(false), { switch: true, help: 'print only the JSON result on stdout (no table)' }),
  out: flag(z.string().min(1).optional(), { arg: 'DIR', help: 'also write evaluate.json and one SVG plot per scenario there' }),
};

/** The model in `dir` as a policy: one batched forward pass per interval for every seed, the action mean decoded. */
async function modelPolicy(dir: string): Promise<{ policy: EvalPolicy; name: string; dispose: () => void }> {
  const model = await loadModel(resolve(dir));
  const decideBatch = (observations: RouteObservation[]): PolicyAction[] => {
    const batch = new Float32Array(observations.length * OBSERVATION_SIZE);
    const bases = observations.map((o) => heuristicAction(o).action);
    observations.forEach((o, k) => encodeObservation(o, batch, k * OBSERVATION_SIZE, bases[k]));
    const out = model.predict(batch, observations.length);
    return observations.map((o, k) => decodeAction(out.subarray(k * ACTION_SIZE, (k + 1) * ACTION_SIZE), o, bases[k]));
  };
  const policy: EvalPolicy = {
    name: 'model',
    guarded: true,
    start: () => null,
    decide: (o) => decideBatch([o])[0]!,
    decideBatch: (observations) => decideBatch(observations),
  };
  return { policy, name: model.metadata.version, dispose: () => model.dispose() };
}

/** The two policies a scenario's plot compares: the model (or the best baseline) against the best of the others. */
export function plotPair(s: EvaluationResult['scenarios'][number]): string[] {
  const first = 'model' in s.policies ? 'model' : bestPolicy(s);
  const second = first === undefined ? undefined : bestPolicy(s, [first]);
  return [first, second].filter((p): p is string => p !== undefined);
}

/**
 * Runs `meshpilot evaluate` with `args`; resolves to the exit code (0 done, 2 bad arguments,
 * scenarios or model, 1 anything else), having written any error to stderr.
 */
export async function runEvaluate(args: string[], io: EvaluateIo = processIo): Promise<number> {
  let dispose = () => {};
  try {
    const a = parseFlags(EVALUATE_FLAGS, args);
    const scenarios = await loadScenarios(a.scenarios);
    const policies: EvalPolicy[] = baselines();
    let modelName = 'none';
    if (a.heuristic) policies.unshift(guardedHeuristicPolicy);
    if (a.model !== undefined) {
      const m = await modelPolicy(a.model);
      policies.unshift(m.policy);
      modelName = m.name;
      dispose = m.dispose;
    }
    io.stderr(`evaluate: ${scenarios.length} scenarios × ${policies.length} policies (${policies.map((p) => p.name).join(', ')}) × ${a.seeds} seeds`);
    const started = performance.now();
    const result = await evaluatePolicies({
      scenarios,
      seeds: a.seeds,
      policies,
      onProgress: (p) => io.stderr(`evaluate: [${p.done}/${p.total}] ${p.scenario} ${p.policy} (${((performance.now() - started) / 1000).toFixed(1)} s)`),
    });
    const summary = a.model !== undefined ? modelSummary(result, scenarios) : undefined;
    const heuristicSummary = a.heuristic ? modelSummary(result, scenarios, GUARDED_HEURISTIC) : undefined;
    const json = evaluateJson(result, modelName, summary, heuristicSummary);
    if (a.out !== undefined) {
      await mkdir(a.out, { recursive: true });
      await writeFile(join(a.out, 'evaluate.json'), `${JSON.stringify(json, null, 2)}\n`);
      for (const s of result.scenarios) await writeFile(join(a.out, `${s.name}.svg`), scenarioSvg(s, plotPair(s)));
      io.stderr(`evaluate: wrote evaluate.json and ${result.scenarios.length} plots to ${a.out}`);
    }
    if (!a.json) io.stdout(evaluateTable(result));
    if (!a.json && summary) io.stdout(describeSummary(summary));
    if (!a.json && heuristicSummary) io.stdout(describeSummary(heuristicSummary, GUARDED_HEURISTIC));
    io.stdout(JSON.stringify(json));
    return 0;
  } catch (e) {
    return failure(io, e);
  } finally {
    dispose();
  }
}
