// How a model fares against the baselines over a whole set of scenarios, in the figures issue
// 12 judges a policy by: SLO seconds summed against the best baseline of each scenario, the
// distribution of (model - best) per scenario, how often and how badly it loses, and, on calm
// scenarios (no incident), whether it costs more than doing nothing (static routing).
import { BASELINE_NAMES } from '../baselines/baselines.ts';
import type { ScenarioSpec } from '../sim/scenario-schema.ts';
import type { EvaluationResult } from './evaluate.ts';

export interface ModelSummary {
  scenarios: number;
  modelSloSec: number;
  bestBaselineSloSec: number;
  /** 100 × (1 - model / best): positive is better than the baselines. */
  fewerPct: number;
  /** Per scenario, model SLO seconds minus the best baseline's. */
  modelMinusBest: { median: number; p90: number; worst: number };
  /** Losses as issue 12 counts them: by more than 5 % and 10 s, and by more than 60 s. */
  worseByMoreThan5pctAnd10s: number;
  worseByMoreThan60s: number;
  worseThanStatic: number;
  /** Scenarios with no incident: SLO seconds above static's plus 1 % of the episode, cost above 1.1 × static's. */
  calm: { scenarios: number; sloAboveStaticPlus1pct: number; costAbove1_1xStatic: number };
  /** The largest losses, worst first (at most 10): scenario, model, best baseline and its name. */
  losses: { scenario: string; model: number; best: number; baseline: string }[];
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * The summary of policy `model` in `result` over `scenarios` (matched by name), against the
 * policies named in `baselineNames` (other candidates, such as the guarded heuristic, are not
 * baselines); undefined when the result has no such policy or no baseline to compare with. Pure.
 */
export function modelSummary(result: EvaluationResult, scenarios: readonly ScenarioSpec[], model = 'model', baselineNames: readonly string[] = BASELINE_NAMES): ModelSummary | undefined {
  const specs = new Map(scenarios.map((s) => [s.name, s]));
  let modelSlo = 0, best = 0, big = 0, over60 = 0, worseStatic = 0, calmN = 0, calmSlo = 0, calmCost = 0;
  const diffs: number[] = [];
  const losses: ModelSummary['losses'] = [];
  for (const s of result.scenarios) {
    const m = s.policies[model];
    const baselines = Object.entries(s.policies).filter(([name]) => name !== model && baselineNames.includes(name));
    if (!m || baselines.length === 0) return undefined;
    const [bestName, bestPolicy] = baselines.reduce((a, b) => (b[1].sloViolationSec < a[1].sloViolationSec ? b : a));
    const b = bestPolicy.sloViolationSec;
    modelSlo += m.sloViolationSec;
    best += b;
    diffs.push(m.sloViolationSec - b);
    if (m.sloViolationSec > b * 1.05 && m.sloViolationSec > b + 10) {
      big++;
      losses.push({ scenario: s.name, model: round1(m.sloViolationSec), best: round1(b), baseline: bestName });
    }
    if (m.sloViolationSec > b + 60) over60++;
    const stat = s.policies.static;
    if (stat && m.sloViolationSec > stat.sloViolationSec) worseStatic++;
    const spec = specs.get(s.name);
    if (spec && stat && spec.events.length === 0 && !spec.trace) {
      calmN++;
      if (m.sloViolationSec > stat.sloViolationSec + 0.01 * spec.episode.durationSec) calmSlo++;
      if (m.crossRegionCost > 1.1 * stat.crossRegionCost + 1e-9) calmCost++;
    }
  }
  diffs.sort((x, y) => x - y);
  const at = (q: number) => round1(diffs[Math.min(diffs.length - 1, Math.floor(q * diffs.length))] ?? 0);
  losses.sort((x, y) => y.model - y.best - (x.model - x.best));
  return {
    scenarios: result.scenarios.length,
    modelSloSec: round1(modelSlo),
    bestBaselineSloSec: round1(best),
    fewerPct: best > 0 ? round1(100 * (1 - modelSlo / best)) : 0,
    modelMinusBest: { median: at(0.5), p90: at(0.9), worst: round1(diffs.at(-1) ?? 0) },
    worseByMoreThan5pctAnd10s: big,
    worseByMoreThan60s: over60,
    worseThanStatic: worseStatic,
    calm: { scenarios: calmN, sloAboveStaticPlus1pct: calmSlo, costAbove1_1xStatic: calmCost },
    losses: losses.slice(0, 10),
  };
}

/** The summary in a few lines for a person. */
export function describeSummary(s: ModelSummary, who = 'model'): string {
  const verdict = s.fewerPct >= 0 ? `${s.fewerPct}% fewer` : `${-s.fewerPct}% more`;
  return [
    `${who} over ${s.scenarios} scenarios: ${s.modelSloSec} SLO-violation seconds against ${s.bestBaselineSloSec} for the best baseline of each (${verdict})`,
    `  ${who} minus best per scenario: median ${s.modelMinusBest.median} s, p90 ${s.modelMinusBest.p90} s, worst ${s.modelMinusBest.worst} s`,
    `  worse by >5% and 10 s: ${s.worseByMoreThan5pctAnd10s}; by >60 s: ${s.worseByMoreThan60s}; worse than static: ${s.worseThanStatic}`,
    `  calm scenarios: ${s.calm.scenarios}; above static + 1% of the episode: ${s.calm.sloAboveStaticPlus1pct}; cost above 1.1x static: ${s.calm.costAbove1_1xStatic}`,
    ...s.losses.slice(0, 5).map((l) => `  loses on ${l.scenario}: ${l.model} s against ${l.baseline} ${l.best} s`),
  ].join('\n');
}
