import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../operator/base/errors.ts';
import { ensureBackend } from '../../../operator/policy/backend.ts';
import { saveModel } from '../../../operator/policy/model/loaded-model.ts';
import { metadata, seededModel } from '../policy/fixtures.ts';
import { baselines } from '../../../training/baselines/baselines.ts';
import { bestPolicy, evaluatePolicies } from '../../../training/evaluate/evaluate.ts';
import { runEvaluate, type EvaluateIo } from '../../../training/evaluate/main.ts';
import { evaluateJson } from '../../../training/evaluate/report.ts';
import { scenarioSvg } from '../../../training/evaluate/svg-plot.ts';
import type { EvalPolicy } from '../../../training/policy.ts';
import { threeRegions } from './sim-fixtures.ts';

const outage = threeRegions({ name: 'outage', events: [{ kind: 'outage', region: 'eu-west', startSec: 60, durationSec: 150 }] });
const SCENARIO_FILE = `
name: short-outage
episode: { durationSec: 200, decisionIntervalSec: 10 }
telemetry: { windowSec: 10, staleAfterSec: 30 }
health: { detectionDelaySec: 10 }
regions:
  - { name: a, weight: 50, capacityRps: 1000, medianLatencyMs: 20, clientRps: 500 }
  - { name: b, weight: 50, capacityRps: 1000, medianLatencyMs: 20 }
events:
  - { kind: outage, region: a, startSec: 50, durationSec: 100 }
`;

function capture(): EvaluateIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l) };
}

describe('evaluatePolicies', () => {
  it('runs every policy on every scenario and seed, and sums up what clients lived through', async () => {
    const progress: string[] = [];
    const result = await evaluatePolicies({ scenarios: [outage], seeds: 2, policies: baselines(), onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.policy}`) });
    expect(result.seeds).toEqual([1, 2]);
    expect(progress).toEqual(['1/3 static', '2/3 istio', '3/3 linkerd']);
    const [s] = result.scenarios;
    expect(s!.name).toBe('outage');
    expect(Object.keys(s!.policies)).toEqual(['static', 'istio', 'linkerd']);
    const { static: stat, istio } = s!.policies;
    // Static keeps half the traffic on the dead region for the whole outage.
    expect(stat!.sloViolationSec).toBeGreaterThanOrEqual(140);
    expect(stat!.errorRate).toBeGreaterThan(0.2);
    expect(stat!.churn).toBe(0);
    expect(istio!.sloViolationSec).toBeLessThan(stat!.sloViolationSec / 2);
    expect(istio!.churn).toBeGreaterThan(0);
    expect(s!.traces.static).toHaveLength(30);
    expect(s!.traces.static![0]).toMatchObject({ timeSec: 10, weights: [50, 50, 0] });
    expect(s!.events).toEqual([{ kind: 'outage', region: 'eu-west', startSec: 60, endSec: 210 }]);
    expect(bestPolicy(s!)).not.toBe('static');
  });

  it('shows every policy the same worlds: equal policies score equally', async () => {
    const [a, b] = [staticLike('a'), staticLike('b')];
    const result = await evaluatePolicies({ scenarios: [outage], seeds: [3, 4], policies: [a, b] });
    expect(result.scenarios[0]!.policies.a).toEqual(result.scenarios[0]!.policies.b);
  });

  it('asks a batching policy once per interval for every seed', async () => {
    const calls: number[] = [];
    const batching: EvalPolicy<null> = {
      name: 'batch',
      start: () => null,
      decide: () => {
        throw new Error('decide should not be called');
      },
      decideBatch: async (observations) => {
        calls.push(observations.length);
        return observations.map(() => ({ weights: [1, 1, 0], retryAttempts: 0, perTryTimeoutMs: 500 }));
      },
    };
    await evaluatePolicies({ scenarios: [outage], seeds: 3, policies: [batching] });
    expect(calls).toHaveLength(30);
    expect(new Set(calls)).toEqual(new Set([3]));
  });

  it('refuses what it cannot run', async () => {
    await expect(evaluatePolicies({ scenarios: [], seeds: 1, policies: baselines() })).rejects.toThrow(ConfigError);
    await expect(evaluatePolicies({ scenarios: [outage], seeds: 0, policies: baselines() })).rejects.toThrow(/seeds/);
    await expect(evaluatePolicies({ scenarios: [outage], seeds: 1, policies: [staticLike('x'), staticLike('x')] })).rejects.toThrow(/"x" is used twice/);
  });

  it('reports the JSON shape of meshpilot evaluate, and a plot per scenario', async () => {
    const result = await evaluatePolicies({ scenarios: [outage], seeds: 1, policies: baselines() });
    const json = evaluateJson(result, 'default-v1');
    expect(Object.keys(json)).toEqual(['evaluate']);
    expect(json.evaluate.model).toBe('default-v1');
    expect(json.evaluate.scenarios.map((s) => s.name)).toEqual(['outage']);
    for (const p of Object.values(json.evaluate.scenarios[0]!.policies)) {
      expect(Object.keys(p)).toEqual(['sloViolationSec', 'p99Ms', 'errorRate', 'crossRegionCost', 'churn']);
      for (const v of Object.values(p)) expect(Number.isFinite(v)).toBe(true);
    }
    const svg = scenarioSvg(result.scenarios[0]!, ['istio', 'static']);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // Per policy: one weight line per region and one latency line.
    expect(svg.match(/<path /g)).toHaveLength(2 * (3 + 1));
    expect(svg).toContain('objective 250 ms');
    expect(svg).toContain('outage eu-west');
    expect(() => scenarioSvg(result.scenarios[0]!, ['model'])).toThrow(/no trace for policy "model"/);
  });
});

function staticLike(name: string): EvalPolicy<null> {
  return { name, start: () => null, decide: () => ({ weights: [0.5, 0.5, 0], retryAttempts: 1, perTryTimeoutMs: 500 }) };
}

describe('runEvaluate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshpilot-evaluate-'));
    await writeFile(join(dir, 'short-outage.yaml'), SCENARIO_FILE);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints progress on stderr and the JSON result as the last line, and writes plots', async () => {
    const io = capture();
    const out = join(dir, 'out');
    const code = await runEvaluate(['--scenarios', dir, '--seeds', '2', '--json', '--out', out], io);
    expect(io.err.join('\n')).not.toMatch(/meshpilot evaluate:/);
    expect(code).toBe(0);
    expect(io.out).toHaveLength(1);
    const json = JSON.parse(io.out.at(-1)!);
    expect(json.evaluate.model).toBe('none');
    expect(Object.keys(json.evaluate.scenarios[0].policies)).toEqual(['static', 'istio', 'linkerd']);
    expect(io.err.some((l) => l.includes('[3/3] short-outage linkerd'))).toBe(true);
    expect((await readdir(out)).sort()).toEqual(['evaluate.json', 'short-outage.svg']);
    expect(JSON.parse(await readFile(join(out, 'evaluate.json'), 'utf8'))).toEqual(json);
  });

  it('prints a table before the JSON without --json', async () => {
    const io = capture();
    expect(await runEvaluate(['--scenarios', dir, '--seeds', '1'], io)).toBe(0);
    expect(io.out[0]).toMatch(/^scenario\s+policy\s+sloViolationSec/);
    expect(() => JSON.parse(io.out.at(-1)!)).not.toThrow();
  });

  it('evaluates a model directory next to the baselines, one batched inference per interval', async () => {
    const modelDir = join(dir, 'tiny-model');
    await ensureBackend();
    const model = seededModel(5);
    await saveModel(model, metadata({ version: 'tiny-v1' }), modelDir);
    model.dispose();
    const io = capture();
    expect(await runEvaluate(['--scenarios', dir, '--seeds', '1', '--json', '--model', modelDir], io)).toBe(0);
    const json = JSON.parse(io.out.at(-1)!);
    expect(json.evaluate.model).toBe('tiny-v1');
    expect(Object.keys(json.evaluate.scenarios[0].policies)).toEqual(['model', 'static', 'istio', 'linkerd']);
    expect(json.evaluate.scenarios[0].policies.model.sloViolationSec).toBeGreaterThanOrEqual(0);
  });

  it('evaluates a model whose outputs are all zero exactly as the guarded heuristic: a v2 model is a residual on it', async () => {
    const modelDir = join(dir, 'zero-model');
    await ensureBackend();
    const model = seededModel(5);
    model.setWeights(model.getWeights().map((w, i, all) => (i >= all.length - 2 ? w.mul(0) : w)));
    await saveModel(model, metadata({ version: 'zero-v2' }), modelDir);
    model.dispose();
    const io = capture();
    expect(await runEvaluate(['--scenarios', dir, '--seeds', '2', '--json', '--heuristic', '--model', modelDir], io)).toBe(0);
    const json = JSON.parse(io.out.at(-1)!);
    for (const s of json.evaluate.scenarios) expect(s.policies.model).toEqual(s.policies['heuristic-guarded']);
  });

  it('with --heuristic, also evaluates the operator\'s fallback behind the serving guard, summarised against the baselines only', async () => {
    const io = capture();
    expect(await runEvaluate(['--scenarios', dir, '--seeds', '1', '--heuristic'], io)).toBe(0);
    const json = JSON.parse(io.out.at(-1)!);
    expect(Object.keys(json.evaluate.scenarios[0].policies)).toEqual(['heuristic-guarded', 'static', 'istio', 'linkerd']);
    const s = json.evaluate.heuristicSummary;
    const best = json.evaluate.scenarios.reduce(
      (sum: number, x: { policies: Record<string, { sloViolationSec: number }> }) => sum + Math.min(x.policies.static!.sloViolationSec, x.policies.istio!.sloViolationSec, x.policies.linkerd!.sloViolationSec),
      0,
    );
    expect(s.bestBaselineSloSec).toBeCloseTo(best, 0);
    expect(io.out.join('\n')).toContain('heuristic-guarded over');
  });

  it('exits 2 with a message for bad arguments, scenarios and models', async () => {
    for (const [args, message] of [
      [['--seeds', 'many'], /--seeds: must be an integer/],
      [['--frobnicate'], /Unknown option/],
      [['--scenarios', join(dir, 'absent')], /cannot read the scenario directory/],
      [['--scenarios', dir, '--model', join(dir, 'no-model')], /no-model/],
    ] as const) {
      const io = capture();
      expect(await runEvaluate([...args], io)).toBe(2);
      expect(io.err.join('\n')).toMatch(message);
      expect(io.out).toEqual([]);
    }
  });
});
