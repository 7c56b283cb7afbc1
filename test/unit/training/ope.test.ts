import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from '../../../operator/base/random.ts';
import type { DecisionRecord } from '../../../operator/telemetry/decision-log.ts';
import { evaluateOffPolicy, gate, importanceWeights, onPolicyValue, type OpeSample, type TargetPolicy } from '../../../training/evaluate/ope.ts';
import { runOpe } from '../../../training/evaluate/ope-main.ts';
import { outcomeReward } from '../../../training/evaluate/ope-reward.ts';
import { makeRoute, makeSnapshot, regionObs, routeObs } from '../policy/fixtures.ts';

// A one-dimensional contextual bandit whose values are known in closed form:
// x ~ U(−1, 1), reward r = −(a − x)² + N(0, 0.1²).
// Logging policy μ: a ~ N(0, 1), value −(E[x²] + 1) = −4/3.
// Target N(θx, σ²) has value −((θ − 1)² E[x²] + σ²), E[x²] = 1/3.
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const logNormal = (a: number, mean: number, std: number) => -0.5 * ((a - mean) / std) ** 2 - Math.log(std) - LOG_SQRT_2PI;
const gaussian = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

function banditLog(n: number, seed: number): OpeSample<number, number>[] {
  const random = prng(seed);
  return Array.from({ length: n }, () => {
    const x = 2 * random() - 1;
    const a = gaussian(random);
    return { x, a, logPropensity: logNormal(a, 0, 1), reward: -((a - x) ** 2) + 0.1 * gaussian(random) };
  });
}

function linearGaussian(name: string, theta: number, std: number): TargetPolicy<number, number> & { trueValue: number } {
  return {
    name,
    logDensity: (x, a) => logNormal(a, theta * x, std),
    sample: (x, random) => theta * x + std * gaussian(random),
    trueValue: -(((theta - 1) ** 2) / 3 + std * std),
  };
}

// q̂ can represent the true reward exactly with these features ("q̂ is good").
const features = (x: number, a: number) => [x, a, a * a, a * x, x * x];
const good = linearGaussian('good', 1, 0.5);
const worse = linearGaussian('worse', -1, 0.5);
const samples = banditLog(2000, 7);

describe('evaluateOffPolicy', () => {
  const report = evaluateOffPolicy(samples, good, { features, seed: 3, resamples: 300 });

  it('estimates a target policy value without bias (IPS, SNIPS and DR within tolerance of the analytic value)', () => {
    expect(good.trueValue).toBeCloseTo(-0.25, 10);
    expect(Math.abs(report.ips.value - good.trueValue)).toBeLessThan(0.08);
    expect(Math.abs(report.snips.value - good.trueValue)).toBeLessThan(0.08);
    expect(Math.abs(report.dr.value - good.trueValue)).toBeLessThan(0.03);
    for (const e of [report.ips, report.snips, report.dr]) {
      expect(e.lower).toBeLessThanOrEqual(good.trueValue);
      expect(e.upper).toBeGreaterThanOrEqual(good.trueValue);
    }
    const off = evaluateOffPolicy(samples, worse, { features, seed: 3, resamples: 100 });
    expect(Math.abs(off.dr.value - worse.trueValue)).toBeLessThan(0.08);
  });

  it('gives DR a tighter interval than IPS when the reward model is good', () => {
    const width = (e: { lower: number; upper: number }) => e.upper - e.lower;
    expect(width(report.dr)).toBeLessThan(width(report.ips) * 0.7);
  });

  it('is reproducible from its seed', () => {
    const again = evaluateOffPolicy(samples, good, { features, seed: 3, resamples: 300 });
    expect(again.dr).toEqual(report.dr);
    expect(again.ips).toEqual(report.ips);
  });

  it('reports the effective sample size, below n when weights are unequal', () => {
    expect(report.effectiveSampleSize).toBeGreaterThan(100);
    expect(report.effectiveSampleSize).toBeLessThan(samples.length);
    expect(report.clipped).toBe(0);
  });
});

describe('importanceWeights', () => {
  it('bounds every weight by maxWeight and counts the clipped ones', () => {
    const raw = importanceWeights(samples, good);
    const clippedAt = 1.5;
    const clipped = importanceWeights(samples, good, clippedAt);
    expect(raw.maxRaw).toBeGreaterThan(clippedAt);
    expect(Math.max(...clipped.weights)).toBe(clippedAt);
    expect(clipped.clipped).toBe(raw.weights.filter((w) => w > clippedAt).length);
    expect(clipped.clipped).toBeGreaterThan(0);
    clipped.weights.forEach((w, i) => expect(w).toBe(Math.min(raw.weights[i]!, clippedAt)));
    expect(() => importanceWeights(samples, good, 0)).toThrow(RangeError);
  });
});

describe('gate', () => {
  const current = onPolicyValue(samples, { seed: 5 });

  it('takes the logging policy value from the logged rewards', () => {
    expect(Math.abs(current.value - -4 / 3)).toBeLessThan(0.1);
  });

  it('accepts a clearly better policy and says why', () => {
    const verdict = gate(evaluateOffPolicy(samples, good, { features, seed: 1, resamples: 200 }), current, { minImprovement: 0.5, confidence: 0.95 });
    expect(verdict.accept).toBe(true);
    expect(verdict.reasons[0]).toMatch(/^accepted: good's doubly robust estimate is .* its 95% lower bound .* clears the bar/);
  });

  it('rejects a worse policy, and a better one that misses the required margin', () => {
    const worseVerdict = gate(evaluateOffPolicy(samples, worse, { features, seed: 1, resamples: 200 }), current, { minImprovement: 0, confidence: 0.95 });
    expect(worseVerdict.accept).toBe(false);
    expect(worseVerdict.reasons[0]).toMatch(/^rejected: worse's doubly robust estimate .* short of the bar/);
    const margin = gate(evaluateOffPolicy(samples, good, { features, seed: 1, resamples: 200 }), current, { minImprovement: 2, confidence: 0.95 });
    expect(margin.accept).toBe(false);
  });

  it('rejects when the log says too little about the candidate (effective sample size)', () => {
    const few = evaluateOffPolicy(samples.slice(0, 8), good, { features: (x, a) => [x, a], seed: 1, resamples: 50 });
    const verdict = gate(few, current, { minImprovement: 0, confidence: 0.9 });
    expect(verdict.accept).toBe(false);
    expect(verdict.reasons[0]).toMatch(/effective sample size/);
  });
});

describe('outcomeReward', () => {
  it('costs only cross-region traffic when the SLO holds, and a full second per second when the p99 breaks', () => {
    const objectives = { latencyP99Ms: 250, maxErrorRate: 0.01, crossRegionCostWeight: 0.4 };
    const calm = routeObs([regionObs('a', 50, { errorRate: 0 }), regionObs('b', 50, { remote: true, errorRate: 0 })], { objectives });
    // p99 120 ms against 250 ms: a negligible tail above the objective.
    expect(outcomeReward(calm)).toBeCloseTo(-0.25 * 0.4 * 0.5, 2);
    const slow = routeObs([regionObs('a', 100, { latencyP50Ms: 200, latencyP90Ms: 400, latencyP99Ms: 900, errorRate: 0 })], { objectives });
    expect(outcomeReward(slow)).toBeCloseTo(-(1 + 0.25), 5);
    const failing = routeObs([regionObs('a', 100, { errorRate: 0.2 })], { objectives });
    expect(outcomeReward(failing)).toBeLessThan(-1.4);
  });
});

describe('runOpe', () => {
  it('refuses a malformed decision-log line, naming the file and the line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshpilot-ope-'));
    try {
      const route = makeRoute('checkout', [{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }]);
      const routes = join(dir, 'routes.yaml');
      await writeFile(routes, JSON.stringify(route));
      const record: DecisionRecord = {
        schema: 'meshpilot.decision/v1',
        id: 'd1',
        route: 'shop/checkout',
        generation: 1,
        time: '2026-01-01T00:00:00Z',
        mode: 'enforce',
        policy: 'model',
        modelVersion: 'v1',
        observation: makeSnapshot('shop/checkout', [{ region: 'eu-west' }, { region: 'us-east' }]),
        action: { weights: [{ region: 'eu-west', weight: 50 }, { region: 'us-east', weight: 50 }], retryAttempts: 1, perTryTimeoutMs: 300, timeoutMs: 2000 },
        actionProbability: 0.5,
        applied: true,
        reason: 'test',
      };
      const log = join(dir, 'decisions.jsonl');
      await writeFile(log, `${JSON.stringify(record)}\n{"schema":"meshpilot.decision/v1","id":\n`);
      const err: string[] = [];
      const code = await runOpe(['--decision-log', log, '--model', join(dir, 'no-model'), '--routes', routes], { stdout: () => {}, stderr: (l) => err.push(l) });
      expect(code).toBe(2);
      expect(err.join('\n')).toContain(`${log}:2: not JSON`);
      expect(await runOpe(['--decision-log', log], { stdout: () => {}, stderr: () => {} })).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
