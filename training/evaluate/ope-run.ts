// The off-policy gate as the commands run it (`meshpilot evaluate --decision-log`, `meshpilot
// promote`): its flags, the evidence it reads (the AdaptiveRoutes and the decision log), and
// the verdict on one loaded model, written as the {"ope":…} line. One implementation, so that
// what promote installs has passed exactly the check evaluate reports.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../operator/base/errors.ts';
import { parseYamlDocuments } from '../../operator/api/manifests.ts';
import { formatIssue } from '../../operator/api/schema/validate.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../operator/api/validate.ts';
import type { LoadedModel } from '../../operator/policy/model.ts';
import { readDecisionLog } from '../sim/replay.ts';
import { evaluateOffPolicy, gate, onPolicyValue, type Estimate } from './ope.ts';
import { modelTarget, routeFeatures, samplesFromReplay, type RouteSample, type SkippedSteps } from './ope-targets.ts';
import type { LineIo } from './cli-io.ts';

/** The gate's flags, as node:util parseArgs options. */
export const GATE_FLAGS = {
  'decision-log': { type: 'string' },
  routes: { type: 'string' },
  'max-weight': { type: 'string' },
  'min-improvement': { type: 'string' },
  confidence: { type: 'string' },
  seed: { type: 'string' },
} as const;

export const GATE_USAGE = `  --decision-log FILE    JSONL of meshpilot.decision/v1 and meshpilot.decision-outcome/v1 records
  --routes FILE          the AdaptiveRoute manifests (YAML) the decisions were made for
  --max-weight W         clip importance weights at W (default: no clipping)
  --min-improvement X    reward per decision the candidate must gain (default 0)
  --confidence C         one-sided level of the gate's lower bound (default 0.95)
  --seed N               bootstrap seed (default 1)`;

export interface GateSettings {
  decisionLog: string;
  routes: string;
  maxWeight: number | undefined;
  minImprovement: number;
  confidence: number;
  seed: number;
}

/**
 * The gate's settings from parsed flag values. Throws ConfigError naming the flag (with
 * `usage` appended for a missing one).
 */
export function gateSettings(values: { [K in keyof typeof GATE_FLAGS]?: string | undefined }, usage: string): GateSettings {
  for (const required of ['decision-log', 'routes'] as const) {
    if (values[required] === undefined) throw new ConfigError(`--${required}: required\n${usage}`);
  }
  const number = (flag: string, text: string | undefined, fallback: number, ok: (x: number) => boolean, what: string) => {
    if (text === undefined) return fallback;
    const x = Number(text);
    if (text.trim() === '' || !ok(x)) throw new ConfigError(`--${flag}: must be ${what}, got ${JSON.stringify(text)}`);
    return x;
  };
  return {
    decisionLog: values['decision-log']!,
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
