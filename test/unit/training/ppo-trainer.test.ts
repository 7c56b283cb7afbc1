// The PPO trainer end to end on the toy environment (ppo-toy-env.ts), whose optimum is known:
// it learns, it is reproducible from its seed (for any worker count, and across a resume from a
// checkpoint), and it leaks no tensors.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../operator/base/errors.ts';
import { ACTION_SIZE, ROW_SIZE } from '../../../operator/policy/features.ts';
import type { ActorCriticWeights } from '../../../training/ppo/actor-critic.ts';
import { useTrainingBackend } from '../../../training/ppo/backend.ts';
import { CHECKPOINT_JSON, loadCheckpoint } from '../../../training/ppo/checkpoint.ts';
import type { PpoConfig } from '../../../training/ppo/config.ts';
import { runEpisode } from '../../../training/ppo/episode.ts';
import type { EnvSource } from '../../../training/ppo/env-source.ts';
import { PpoTrainer } from '../../../training/ppo/trainer.ts';
import { ToyEnv, TOY_SLO_MS } from './ppo-toy-env.ts';

const toySource: EnvSource = {
  module: new URL('./ppo-toy-env.ts', import.meta.url).href,
  exportName: 'createToyEnvs',
  options: {},
};

/** The toy's optimum is myopic, so a short horizon learns it fastest. */
const TOY_CONFIG: Partial<PpoConfig> = {
  seed: 3,
  iterations: 40,
  episodesPerIteration: 32,
  minibatchSize: 64,
  epochs: 8,
  learningRate: 3e-3,
  valueLearningRate: 3e-3,
  gamma: 0.5,
  lambda: 0.9,
  targetKl: null,
};

const EVAL_SEEDS = Array.from({ length: 40 }, (_, i) => 1000 + i);

/** Mean return of the policy's mean action (no exploration) over fixed episodes of both variants. */
function evaluate(w: ActorCriticWeights): number {
  const actor = { mean: w.actor, logStd: new Float32Array(ACTION_SIZE).fill(-30) };
  let total = 0;
  EVAL_SEEDS.forEach((seed, i) => {
    const t = runEpisode(new ToyEnv(2 + (i % 2)), actor, { index: 0, variant: 0, envSeed: seed, actionSeed: 1, maxSteps: 100 });
    total += t.rewards.reduce((a, b) => a + b, 0);
  });
  return total / EVAL_SEEDS.length;
}

/** The same episodes under the known optimum: weights ∝ capacity, no retries. */
function optimum(): number {
  let total = 0;
  EVAL_SEEDS.forEach((seed, i) => {
    const env = new ToyEnv(2 + (i % 2));
    env.reset(seed);
    total += (-env.latency(env.bestWeights()) / TOY_SLO_MS) * env.steps;
  });
  return total / EVAL_SEEDS.length;
}

async function train(config: Partial<PpoConfig>, workers: number, iterations: number): Promise<ActorCriticWeights> {
  const trainer = await PpoTrainer.create(config, { envSource: toySource, workers });
  try {
    for (let i = 0; i < iterations; i++) await trainer.runIteration();
    return trainer.weights();
  } finally {
    await trainer.close();
  }
}

function flat(w: ActorCriticWeights): Float32Array[] {
  return [...w.actor.layers.flatMap((l) => [l.kernel, l.bias]), w.logStd, ...w.critic.layers.flatMap((l) => [l.kernel, l.bias])];
}

let dir: string;
beforeAll(async () => {
  await useTrainingBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'meshpilot-ppo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PpoTrainer', () => {
  it('learns most of the way from the initial policy to the known optimum of the toy environment', async () => {
    const trainer = await PpoTrainer.create(TOY_CONFIG, { envSource: toySource, workers: 0 });
    try {
      const before = evaluate(trainer.weights());
      const best = optimum();
      let last = null;
      while (trainer.iteration < TOY_CONFIG.iterations!) last = await trainer.runIteration();
      const after = evaluate(trainer.weights());
      expect(best).toBeGreaterThan(before + 2); // the toy leaves room to learn
      expect(after - before).toBeGreaterThan(0.6 * (best - before));
      expect(last!.update.explainedVariance).toBeGreaterThan(0.5);
      expect(Object.keys(last!.byVariant).sort()).toEqual(['toy-2', 'toy-3']);
    } finally {
      await trainer.close();
    }
  });

  it('gives the same weights for the same seed and config, and other weights for another seed', async () => {
    const config = { ...TOY_CONFIG, episodesPerIteration: 8 };
    const a = await train(config, 0, 3);
    const b = await train(config, 0, 3);
    const c = await train({ ...config, seed: 4 }, 0, 3);
    expect(flat(b)).toEqual(flat(a));
    expect(flat(c)).not.toEqual(flat(a));
  });

  it('gives the same weights with rollouts in two worker threads as in this thread', async () => {
    const config = { ...TOY_CONFIG, episodesPerIteration: 8 };
    const inline = await train(config, 0, 3);
    const threaded = await train(config, 2, 3);
    expect(flat(threaded)).toEqual(flat(inline));
  });

  it('continues from a checkpoint exactly as the uninterrupted run', async () => {
    const config = { ...TOY_CONFIG, episodesPerIteration: 8, iterations: 4 };
    const checkpoint = join(dir, 'resume', 'iter-000002');
    const straight = await PpoTrainer.create(config, { envSource: toySource, workers: 0 });
    let expected: Float32Array[];
    try {
      await straight.runIteration();
      await straight.runIteration();
      await straight.saveCheckpoint(checkpoint);
      await straight.runIteration();
      await straight.runIteration();
      expected = flat(straight.weights());
    } finally {
      await straight.close();
    }
    const resumed = await PpoTrainer.resume(join(dir, 'resume'), { envSource: toySource, workers: 0 });
    try {
      expect(resumed.iteration).toBe(2);
      await resumed.runIteration();
      await resumed.runIteration();
      expect(flat(resumed.weights())).toEqual(expected);
    } finally {
      await resumed.close();
    }
  });

  it('keeps the number of tensors constant from one iteration to the next', async () => {
    const trainer = await PpoTrainer.create({ ...TOY_CONFIG, episodesPerIteration: 4 }, { envSource: toySource, workers: 0 });
    try {
      await trainer.runIteration();
      const after1 = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) await trainer.runIteration();
      trainer.state();
      expect(tf.memory().numTensors).toBe(after1);
    } finally {
      await trainer.close();
    }
  });

  it('frees every tensor it made when closed', async () => {
    const before = tf.memory().numTensors;
    await train({ ...TOY_CONFIG, episodesPerIteration: 4 }, 0, 1);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoints', () => {
  it('refuses a checkpoint with a bad field or missing data, naming the file and the field', async () => {
    const trainer = await PpoTrainer.create({ ...TOY_CONFIG, episodesPerIteration: 2 }, { envSource: toySource, workers: 0 });
    const at = join(dir, 'bad', 'iter-000001');
    try {
      await trainer.runIteration();
      await trainer.saveCheckpoint(at);
    } finally {
      await trainer.close();
    }
    const file = join(at, CHECKPOINT_JSON);
    const { readFile } = await import('node:fs/promises');
    const good = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...good, config: { ...(good.config as object), gamma: 3 } }));
    await expect(loadCheckpoint(at)).rejects.toThrow(`${file} config gamma: 3 must be in [0, 1]`);
    await writeFile(file, JSON.stringify({ ...good, config: { ...(good.config as object), hidden: [32, 32] } }));
    await expect(loadCheckpoint(at)).rejects.toThrow(
      `${file} arrays (actor.0.kernel): ${ROW_SIZE * 64} values; the config's shapes need ${ROW_SIZE * 32}`,
    );
    await writeFile(file, '{"format": "something else"}');
    await expect(loadCheckpoint(at)).rejects.toThrow(`${file} format: "something else"; expected meshpilot.ppo-checkpoint/v1`);
    await expect(loadCheckpoint(join(dir, 'nowhere'))).rejects.toThrow(ConfigError);
  });

  it('refuses to resume with environments other than the checkpoint was trained on', async () => {
    const trainer = await PpoTrainer.create({ ...TOY_CONFIG, episodesPerIteration: 2 }, { envSource: toySource, workers: 0 });
    try {
      await trainer.runIteration();
      await trainer.saveCheckpoint(join(dir, 'variants', 'iter-000001'));
    } finally {
      await trainer.close();
    }
    const other: EnvSource = { ...toySource, options: { regions: [2, 4] } };
    await expect(PpoTrainer.resume(join(dir, 'variants'), { envSource: other, workers: 0 })).rejects.toThrow(
      "environments [toy-2, toy-4] differ from the checkpoint's [toy-2, toy-3]",
    );
  });
});
