import { describe, expect, it } from '@jest/globals';
import type { EvaluationResult, PolicySummary } from '../../../training/evaluate/evaluate.ts';
import { describeSummary, modelSummary } from '../../../training/evaluate/model-summary.ts';
import type { ScenarioSpec } from '../../../training/sim/scenario-schema.ts';

const p = (sloViolationSec: number, crossRegionCost = 0.1): PolicySummary => ({ sloViolationSec, p99Ms: 100, errorRate: 0, crossRegionCost, churn: 0 });
const scenario = (name: string, policies: Record<string, PolicySummary>) => ({ name, regions: [], latencyObjectiveMs: 250, policies, traces: {}, events: [] });
const spec = (name: string, incidents: number) => ({ name, episode: { durationSec: 1000 }, events: Array.from({ length: incidents }, () => ({})) }) as unknown as ScenarioSpec;

describe('modelSummary', () => {
  const result: EvaluationResult = {
    seeds: [1],
    scenarios: [
      scenario('win', { model: p(10), static: p(300), istio: p(100) }),
      scenario('small-loss', { model: p(108), static: p(300), istio: p(100) }),
      scenario('big-loss', { model: p(400), static: p(500), istio: p(200) }),
      scenario('calm-harm', { model: p(25, 0.5), static: p(0, 0.1), istio: p(5) }),
    ],
  };
  const s = modelSummary(result, [spec('win', 1), spec('small-loss', 1), spec('big-loss', 2), spec('calm-harm', 0)])!;

  it('sums against the best baseline of each scenario and counts the losses as issue 12 does', () => {
    expect(s).toMatchObject({ scenarios: 4, modelSloSec: 543, bestBaselineSloSec: 400, fewerPct: -35.7, worseByMoreThan5pctAnd10s: 2, worseByMoreThan60s: 1, worseThanStatic: 1 });
    expect(s.modelMinusBest).toEqual({ median: 25, p90: 200, worst: 200 });
    expect(s.losses.map((l) => l.scenario)).toEqual(['big-loss', 'calm-harm']);
  });

  it('judges calm scenarios against doing nothing', () => {
    expect(s.calm).toEqual({ scenarios: 1, sloAboveStaticPlus1pct: 1, costAbove1_1xStatic: 1 });
    expect(describeSummary(s)).toContain('(35.7% more)');
  });

  it('has nothing to say without a model', () => {
    expect(modelSummary({ seeds: [1], scenarios: [scenario('x', { static: p(1) })] }, [])).toBeUndefined();
  });
});
