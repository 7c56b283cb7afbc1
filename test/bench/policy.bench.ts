// `npm run bench -- policy [--quick]`: how long a policy decision takes when many routes are
// decided together, and whether deciding leaks tensors.
//
// A random-weights model of the policy spec's shape ([ROW_SIZE] → 64 → 64 → [MODEL_OUTPUT_SIZE] per region row,
// tanh) is written with saveModel and read back through ModelRegistry/loadModel, then 1,000
// routes of 2 to 5 regions (test/bench/policy/world.ts) are decided together by PolicyService
// for many rounds: observation → encoding → one batched forward pass → decoding → guard →
// explanation, with fresh telemetry every round (not timed) and the guard state carried from
// round to round (the clock advances one decision interval per round).
//   decisionP99Ms        p99 over rounds of (the round's decide() time / routes): the cost of
//                        one route decision when all are decided together. Goal ≤ 1 ms.
//   batchP99Ms           p99 of the whole decide() call; inferenceBatchP99Ms the forward pass
//                        inside it.
//   leakedTensors        tf.memory().numTensors after the measured rounds minus before them
//                        (after warm-up); leakedTensorsPerDecision divides by the decisions made.
//                        Goal 0.
//
// Flags: --routes N (1000)  --rounds N (200; --quick 20)  --warmup N (5)  --hidden N (64)  --seed N (7)
//
// The last line on stdout is {"bench":"policy","routes":1000,"decisionP99Ms":…,"leakedTensors":…,…}.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ManualClock } from '../../operator/base/clock.ts';
import { prng } from '../../operator/base/random.ts';
import { ensureBackend } from '../../operator/policy/backend.ts';
import { currentSpecShape } from '../../operator/policy/model/format.ts';
import { loadModel, saveModel } from '../../operator/policy/model/loaded-model.ts';
import { ModelRegistry } from '../../operator/policy/model/registry.ts';
import { PolicyService, type Decision, type DecisionRequest } from '../../operator/policy/policy.ts';
import { ACTION_SIZE } from '../../operator/policy/features.ts';
import type { BenchOptions, BenchResult } from './support/types.ts';
import { flagValue, median, quantile, round } from './support/stats.ts';
import { benchRoutes, randomPolicyModel, roundRequests } from './policy/world.ts';

const GOAL_DECISION_P99_MS = 1;
const GOAL_LEAKED_TENSORS = 0;
const MODEL_NAME = 'bench';
const DECISION_INTERVAL_MS = 30_000;

function intFlag(args: readonly string[], name: string, fallback: number): number {
  const raw = flagValue(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got "${raw}"`);
  return n;
}

export async function run(o: BenchOptions): Promise<BenchResult> {
  const routeCount = intFlag(o.args, '--routes', 1000);
  const rounds = intFlag(o.args, '--rounds', o.quick ? 20 : 200);
  const warmup = intFlag(o.args, '--warmup', 5);
  const hidden = intFlag(o.args, '--hidden', 64);
  const seed = intFlag(o.args, '--seed', 7);
  const backend = await ensureBackend();
  o.log(`policy: tfjs backend ${backend}; ${routeCount} routes, ${rounds} rounds (+${warmup} warm-up), model ${hidden}x${hidden}`);

  const root = await mkdtemp(join(tmpdir(), 'meshpilot-policy-bench-'));
  const inferenceMs: number[] = [];
  // Times the forward pass inside decide(); everything else is the real loader.
  const registry = new ModelRegistry({
    root,
    load: async (dir) => {
      const model = await loadModel(dir);
      return {
        dir: model.dir,
        metadata: model.metadata,
        dispose: () => model.dispose(),
        predict: (batch, rows) => {
          const t0 = performance.now();
          const out = model.predict(batch, rows);
          inferenceMs.push(performance.now() - t0);
          return out;
        },
      };
    },
  });
  try {
    const model = randomPolicyModel(seed, hidden);
    await saveModel(
      model,
      {
        ...currentSpecShape(),
        name: MODEL_NAME,
        version: `bench-random-seed${seed}`,
        actionStd: Array.from({ length: ACTION_SIZE }, () => 0.3),
        createdAt: new Date(0).toISOString(),
        seed,
        command: `npm run bench -- policy --seed ${seed} --hidden ${hidden}`,
        scenarios: [],
      },
      join(root, MODEL_NAME),
    );
    model.dispose();

    o.log('policy: building routes');
    const routes = benchRoutes(routeCount, MODEL_NAME, seed);
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const service = new PolicyService({ models: registry, clock });
    const random = prng(seed + 1);
    const states = new Map<string, DecisionRequest['state']>();
    const decidedBy: Record<string, number> = {};
    const rules: Record<string, number> = {};
    let applied = 0;

    const oneRound = async (measure: boolean): Promise<number> => {
      const requests = roundRequests(routes, clock.now(), random, states);
      const t0 = performance.now();
      const decisions: Decision[] = await service.decide(requests);
      const ms = performance.now() - t0;
      for (const d of decisions) {
        states.set(d.key, d.state);
        if (!measure) continue;
        decidedBy[d.decidedBy] = (decidedBy[d.decidedBy] ?? 0) + 1;
        for (const r of d.rules) rules[r] = (rules[r] ?? 0) + 1;
        if (d.applied) applied++;
      }
      await clock.advance(DECISION_INTERVAL_MS);
      return ms;
    };

    for (let i = 0; i < warmup; i++) await oneRound(false);
    inferenceMs.length = 0;
    const tensorsBefore = tf.memory().numTensors;
    const batchMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      o.signal.throwIfAborted();
      batchMs.push(await oneRound(true));
      if ((i + 1) % 50 === 0) o.log(`policy: ${i + 1}/${rounds} rounds, batch p50 ${round(median(batchMs), 2)} ms`);
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    const perRoute = batchMs.map((ms) => ms / routeCount);
    const decisions = rounds * routeCount;
    const decisionP99Ms = round(quantile(perRoute, 0.99), 4);
    o.log(`policy: p99 ${decisionP99Ms} ms per route decision, batch p99 ${round(quantile(batchMs, 0.99), 1)} ms, ${leaked} tensors leaked`);
    return {
      bench: 'policy',
      routes: routeCount,
      decisionP99Ms,
      leakedTensors: leaked,
      leakedTensorsPerDecision: leaked / decisions,
      decisionP50Ms: round(median(perRoute), 4),
      batchP50Ms: round(median(batchMs), 2),
      batchP99Ms: round(quantile(batchMs, 0.99), 2),
      inferenceBatchP50Ms: round(median(inferenceMs), 2),
      inferenceBatchP99Ms: round(quantile(inferenceMs, 0.99), 2),
      forwardPassesPerRound: inferenceMs.length / rounds,
      backend,
      rounds,
      model: `${hidden}x${hidden} tanh MLP, random weights`,
      goals: {
        decisionP99Ms: GOAL_DECISION_P99_MS,
        decisionP99Met: decisionP99Ms !== null && decisionP99Ms <= GOAL_DECISION_P99_MS,
        leakedTensors: GOAL_LEAKED_TENSORS,
        leakedTensorsMet: leaked === GOAL_LEAKED_TENSORS,
      },
      results: [{ decidedBy, rules, appliedShare: round(applied / decisions, 3) }],
    };
  } finally {
    registry.dispose();
    await rm(root, { recursive: true, force: true });
  }
}
