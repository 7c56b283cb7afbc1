// The evaluation's outputs in words and numbers: the one-line JSON object `meshpilot evaluate`
// ends with (the shape issue 5 fixes) and a table for people.
import type { EvaluationResult, PolicySummary } from './evaluate.ts';
import type { ModelSummary } from './model-summary.ts';

export interface EvaluateJson {
  evaluate: {
    model: string;
    scenarios: { name: string; policies: Record<string, PolicySummary> }[];
    /** With a model: how it fares over the whole set (model-summary.ts). */
    summary?: ModelSummary;
    /** With --heuristic: how the operator's fallback behind the serving guard fares, the same way. */
    heuristicSummary?: ModelSummary;
  };
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

function rounded(p: PolicySummary): PolicySummary {
  return {
    sloViolationSec: round(p.sloViolationSec, 2),
    p99Ms: round(p.p99Ms, 1),
    errorRate: round(p.errorRate, 6),
    crossRegionCost: round(p.crossRegionCost, 4),
    churn: round(p.churn, 1),
  };
}

/** The result as the JSON object evaluation prints last. `model` names the evaluated model ("none" without one). */
export function evaluateJson(result: EvaluationResult, model: string, summary?: ModelSummary, heuristicSummary?: ModelSummary): EvaluateJson {
  return {
    evaluate: {
      model,
      scenarios: result.scenarios.map((s) => ({
        name: s.name,
        policies: Object.fromEntries(Object.entries(s.policies).map(([name, p]) => [name, rounded(p)])),
      })),
      ...(summary ? { summary } : {}),
      ...(heuristicSummary ? { heuristicSummary } : {}),
    },
  };
}

/** A fixed-width table: one row per scenario and policy. */
export function evaluateTable(result: EvaluationResult): string {
  const header = ['scenario', 'policy', 'sloViolationSec', 'p99Ms', 'errorRate', 'crossRegionCost', 'churn'];
  const rows = result.scenarios.flatMap((s) =>
    Object.entries(s.policies).map(([name, p]) => {
      const r = rounded(p);
      return [s.name, name, String(r.sloViolationSec), String(r.p99Ms), String(r.errorRate), String(r.crossRegionCost), String(r.churn)];
    }),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
