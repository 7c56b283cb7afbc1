// `meshpilot evaluate --decision-log FILE --model DIR --routes FILE`: off-policy evaluation of
// a model on what the running policy decided, and the gate it must pass to replace it. The
// routes file gives the AdaptiveRoutes the log's decisions were made for (the log does not
// carry them; replay rebuilds observations from them). Words go to stderr; the last stdout
// line is one JSON object: {"ope":{…}}.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../operator/api/errors.ts';
import { parseYamlDocuments } from '../../operator/api/manifests.ts';
import { formatIssue } from '../../operator/api/schema/validate.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../operator/api/validate.ts';
import { loadModel } from '../../operator/policy/model.ts';
import { readDecisionLog } from '../sim/replay.ts';
import { evaluateOffPolicy, gate, onPolicyValue, type Estimate } from './ope.ts';
import { modelTarget, routeFeatures, samplesFromReplay } from './ope-targets.ts';
import { failure, processIo, type LineIo } from './cli-io.ts';

export const OPE_USAGE = `usage: meshpilot evaluate --decision-log FILE --model DIR --routes FILE [options]
  --decision-log FILE    JSONL of meshpilot.decision/v1 and meshpilot.decision-outcome/v1 records
  --model DIR            the candidate model directory
  --routes FILE          the AdaptiveRoute manifests (YAML) the decisions were made for
  --max-weight W         clip importance weights at W (default: no clipping)
  --min-improvement X    reward per decision the candidate must gain (default 0)
  --confidence C         one-sided level of the gate's lower bound (default 0.95)
  --seed N               bootstrap seed (default 1)
  exit code: 0 the candidate may replace the running policy, 3 it may not, 2 bad input, 1 other errors`;

export type OpeIo = LineIo;

interface Args {
  decisionLog: string;
  model: string;
  routes: string;
  maxWeight: number | undefined;
  minImprovement: number;
  confidence: number;
  seed: number;
}

function parse(args: string[]): Args {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'decision-log': { type: 'string' },
        model: { type: 'string' },
        routes: { type: 'string' },
        'max-weight': { type: 'string' },
        'min-improvement': { type: 'string' },
        confidence: { type: 'string' },
        seed: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n${OPE_USAGE}`);
  }
  for (const required of ['decision-log', 'model', 'routes'] as const) {
    if (values[required] === undefined) throw new ConfigError(`--${required}: required\n${OPE_USAGE}`);
  }
  const number = (flag: string, text: string | undefined, fallback: number, ok: (x: number) => boolean, what: string) => {
    if (text === undefined) return fallback;
    const x = Number(text);
    if (text.trim() === '' || !ok(x)) throw new ConfigError(`--${flag}: must be ${what}, got ${JSON.stringify(text)}`);
    return x;
  };
  return {
    decisionLog: values['decision-log']!,
    model: values.model!,
    routes: values.routes!,
    maxWeight: values['max-weight'] === undefined ? undefined : number('max-weight', values['max-weight'], 0, (x) => x > 0 && Number.isFinite(x), 'a number > 0'),
    minImprovement: number('min-improvement', values['min-improvement'], 0, (x) => Number.isFinite(x) && x >= 0, 'a number ≥ 0'),
    confidence: number('confidence', values.confidence, 0.95, (x) => x > 0 && x < 1, 'a number between 0 and 1'),
    seed: number('seed', values.seed, 1, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer'),
  };
}

/** The AdaptiveRoutes of a manifest file, validated and defaulted; other kinds are skipped. */
async function readRoutes(file: string): Promise<AdaptiveRoute[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  const routes: AdaptiveRoute[] = [];
  parseYamlDocuments(text, file).forEach((doc, i) => {
    if ((doc as { kind?: unknown }).kind !== 'AdaptiveRoute') return;
    const r = validateAdaptiveRoute(doc);
    if (!r.ok) throw new ConfigError(`${file}: document ${i + 1}: ${r.issues.map(formatIssue).join('; ')}`);
    routes.push(r.value);
  });
  if (routes.length === 0) throw new ConfigError(`${file}: no AdaptiveRoute manifests`);
  return routes;
}

const brief = (e: Estimate) => ({ value: e.value, lower: e.lower, upper: e.upper });

/**
 * Runs the off-policy gate with `args`; resolves to the exit code (see OPE_USAGE), having
 * written any error to stderr.
 */
export async function runOpe(args: string[], io: OpeIo = processIo): Promise<number> {
  let dispose = () => {};
  try {
    const a = parse(args);
    const routes = await readRoutes(a.routes);
    const replay = await readDecisionLog(a.decisionLog, routes);
    const { samples, skipped } = samplesFromReplay(replay);
    if (samples.length === 0) throw new ConfigError(`${a.decisionLog}: no usable decisions (skipped: ${JSON.stringify(skipped)}); off-policy evaluation needs applied model decisions with their outcomes and action probabilities`);
    const model = await loadModel(resolve(a.model));
    dispose = () => model.dispose();
    const target = modelTarget(model, samples.map((s) => s.x));
    io.stderr(`ope: ${samples.length} decisions of ${replay.routes.size} routes (skipped ${JSON.stringify(skipped)})`);
    const report = evaluateOffPolicy(samples, target, { features: routeFeatures, maxWeight: a.maxWeight, seed: a.seed, confidence: a.confidence });
    const current = onPolicyValue(samples, { seed: a.seed, confidence: a.confidence });
    const verdict = gate(report, current, { minImprovement: a.minImprovement, confidence: a.confidence });
    for (const reason of verdict.reasons) io.stderr(`ope: ${reason}`);
    io.stdout(
      JSON.stringify({
        ope: {
          model: model.metadata.version,
          decisionLog: a.decisionLog,
          samples: samples.length,
          skipped,
          current: brief(current),
          ips: brief(report.ips),
          snips: brief(report.snips),
          dr: brief(report.dr),
          effectiveSampleSize: report.effectiveSampleSize,
          clippedWeights: report.clipped,
          gate: { accept: verdict.accept, lowerBound: verdict.candidateLowerBound, reasons: verdict.reasons },
        },
      }),
    );
    return verdict.accept ? 0 : 3;
  } catch (e) {
    return failure(io, e);
  } finally {
    dispose();
  }
}
