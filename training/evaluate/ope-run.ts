// The off-policy gate as the commands run it (`meshpilot evaluate --decision-log`, `meshpilot
// promote`): its flags, the evidence it reads (the AdaptiveRoutes and the decision log), and
// the verdict on one loaded model, written as the {"ope":…} line. One implementation, so that
// what promote installs has passed exactly the check evaluate reports.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { flag, numberValue, requiredString } from '../../operator/base/flags.ts';
import { ConfigError } from '../../operator/base/errors.ts';
import { parseYamlDocuments } from '../../operator/api/manifests.ts';
import { formatIssue } from '../../operator/api/schema/validate.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../operator/api/validate.ts';
import type { LoadedModel } from '../../operator/policy/model/loaded-model.ts';
import { readDecisionLog } from '../sim/replay.ts';
import { evaluateOffPolicy, gate, onPolicyValue, type Estimate } from './ope.ts';
import { modelTarget, routeFeatures, samplesFromReplay, type RouteSample, type SkippedSteps } from './ope-targets.ts';
import type { LineIo } from './cli-io.ts';

/** The gate's flags (base/flags.ts), shared by `evaluate --decision-log` and `promote`. */
export const GATE_FLAGS = {
  'decision-log': flag(requiredString(), { arg: 'FILE', help: 'JSONL of meshpilot.decision/v1 and meshpilot.decision-outcome/v1 records' }),
  routes: flag(requiredString(), { arg: 'FILE', help: 'the AdaptiveRoute manifests (YAML) the decisions were made for' }),
  'max-weight': flag(numberValue((x) => x > 0 && Number.isFinite(x), 'a number > 0').optional(), { arg: 'W', help: 'clip importance weights at W', defaultText: 'no clipping' }),
  'min-improvement': flag(numberValue((x) => Number.isFinite(x) && x >= 0, 'a number ≥ 0').prefault('0'), { arg: 'X', help: 'reward per decision the candidate must gain' }),
  confidence: flag(numberValue((x) => x > 0 && x < 1, 'a number between 0 and 1').prefault('0.95'), { arg: 'C', help: "one-sided level of the gate's lower bound" }),
  seed: flag(numberValue((x) => Number.isInteger(x) && x >= 0, 'a non-negative integer').prefault('1'), { arg: 'N', help: 'bootstrap seed' }),
};

export interface GateSettings {
  decisionLog: string;
  routes: string;
  maxWeight: number | undefined;
  minImprovement: number;
  confidence: number;
  seed: number;
}

/** The gate's settings from its parsed flags. */
export function gateSettings(o: z.output<z.ZodObject<typeof GATE_FLAGS>>): GateSettings {
  return { decisionLog: o['decision-log'], routes: o.routes, maxWeight: o['max-weight'], minImprovement: o['min-improvement'], confidence: o.confidence, seed: o.seed };
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

/** The usable logged decisions a candidate is judged on. */
export interface GateEvidence {
  samples: RouteSample[];
  skipped: SkippedSteps;
  routes: number;
}

/**
 * Reads the routes and the decision log of `settings`. Throws ConfigError naming the file (and
 * line and field) for bad input, or when no logged decision is usable.
 */
export async function readGateEvidence(settings: GateSettings): Promise<GateEvidence> {
  const routes = await readRoutes(settings.routes);
  const replay = await readDecisionLog(settings.decisionLog, routes);
  const { samples, skipped } = samplesFromReplay(replay);
  if (samples.length === 0) {
    throw new ConfigError(
      `${settings.decisionLog}: no usable decisions (skipped: ${JSON.stringify(skipped)}); off-policy evaluation needs applied model decisions with their outcomes and action probabilities`,
    );
  }
  return { samples, skipped, routes: replay.routes.size };
}

const brief = (e: Estimate) => ({ value: e.value, lower: e.lower, upper: e.upper });

/**
 * Judges `model` on `evidence`: IPS, SNIPS and DR estimates against the logged policy's own
 * value, and the gate's verdict. Writes the reasons to stderr and the {"ope":…} line to
 * stdout; returns whether the model may replace the running policy. Deterministic for a given
 * seed. The caller keeps ownership of the model.
 */
export function judgeModel(model: LoadedModel, evidence: GateEvidence, settings: GateSettings, io: LineIo): { accept: boolean } {
  const { samples, skipped } = evidence;
  const target = modelTarget(model, samples.map((s) => s.x));
  io.stderr(`ope: ${samples.length} decisions of ${evidence.routes} routes (skipped ${JSON.stringify(skipped)})`);
  const report = evaluateOffPolicy(samples, target, { features: routeFeatures, maxWeight: settings.maxWeight, seed: settings.seed, confidence: settings.confidence });
  const current = onPolicyValue(samples, { seed: settings.seed, confidence: settings.confidence });
  const verdict = gate(report, current, { minImprovement: settings.minImprovement, confidence: settings.confidence });
  for (const reason of verdict.reasons) io.stderr(`ope: ${reason}`);
  io.stdout(
    JSON.stringify({
      ope: {
        model: model.metadata.version,
        decisionLog: settings.decisionLog,
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
  return { accept: verdict.accept };
}
