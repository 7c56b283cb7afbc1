// The PPO trainer: owns the networks, both optimisers and the rollout workers, and runs one
// iteration at a time (collect a batch of episodes under the current actor, then update).
// Everything an iteration draws comes from streams derived from the seed and the iteration
// number, so a run is reproducible on one backend, for any worker count, and across a resume.
import { performance } from 'node:perf_hooks';
import { ACTION_SIZE } from '../../operator/policy/features.ts';
import { expandLogStd } from './region-rows.ts';
import { ConfigError } from '../../operator/base/errors.ts';
import { ActorCritic, type ActorCriticWeights } from './actor-critic.ts';
import { Adam } from './adam.ts';
import { buildBatch } from './batch.ts';
import { loadCheckpoint, saveCheckpoint, type TrainerState, type TrainingTotals } from './checkpoint.ts';
import { resolvePpoConfig, type PpoConfig } from './config.ts';
import type { EpisodeTask, Trajectory } from './episode.ts';
import type { EnvSource } from './env-source.ts';
import { ppoUpdate, type UpdateStats } from './ppo-update.ts';
import { startRollouts, type RolloutRunner } from './rollout-pool.ts';
import { streamOf } from './seeds.ts';

export interface VariantStats {
  episodes: number;
  meanReturn: number;
  sloViolationSec: number;
}

/** What one iteration did: what the training log and the progress line show. */
export interface IterationStats {
  /** Iterations completed, this one included. */
  iteration: number;
  episodes: number;
  steps: number;
  /** Mean undiscounted episode return (unscaled rewards). */
  meanReturn: number;
  meanEpisodeSteps: number;
  /** Mean SLO-violation seconds per episode. */
  sloViolationSec: number;
  crossRegionCost: number;
  churn: number;
  /** Mean policy standard deviation over the action entries, after the update. */
  actionStd: number;
  update: UpdateStats;
  byVariant: Record<string, VariantStats>;
  rolloutSec: number;
  updateSec: number;
  /** Environment steps per second of wall-clock during rollouts (all workers together). */
  rolloutStepsPerSec: number;
  totals: TrainingTotals;
}

export interface TrainerOptions {
  envSource: EnvSource;
  /** Rollout worker threads; 0 runs episodes in this thread. */
  workers: number;
  /** Milliseconds, monotonic; for timings only. */
  now?: () => number;
}

const UINT32 = 2 ** 32;

export class PpoTrainer {
  readonly config: PpoConfig;
  readonly variants: string[];
  private readonly model: ActorCritic;
  private readonly actorOptimizer: Adam;
  private readonly criticOptimizer: Adam;
  private readonly rollouts: RolloutRunner;
  private readonly now: () => number;
  private completed: number;
  private totals: TrainingTotals;

  private constructor(config: PpoConfig, rollouts: RolloutRunner, state: Omit<TrainerState, 'config' | 'variants'> | null, now: () => number) {
    this.config = config;
    this.rollouts = rollouts;
    this.variants = rollouts.variants;
    this.now = now;
    this.model = new ActorCritic(state?.weights ?? ActorCritic.initialWeights(config.seed, config.hidden, config.initLogStd));
    const opts = { beta1: 0.9, beta2: 0.999, epsilon: config.adamEpsilon, maxGradNorm: config.maxGradNorm };
    this.actorOptimizer = new Adam(this.model.actorVariables(), opts);
    this.criticOptimizer = new Adam(this.model.criticVariables(), opts);
    if (state) {
      this.actorOptimizer.load(state.actorOptimizer);
      this.criticOptimizer.load(state.criticOptimizer);
    }
    this.completed = state?.iteration ?? 0;
    this.totals = state ? { ...state.totals } : { episodes: 0, steps: 0, elapsedSec: 0 };
  }

  /** A new run. Starts the workers; call close() when done. */
  static async create(config: Partial<PpoConfig>, options: TrainerOptions): Promise<PpoTrainer> {
    const resolved = resolvePpoConfig(config);
    const rollouts = await startRollouts(options.envSource, options.workers);
    return new PpoTrainer(resolved, rollouts, null, options.now ?? (() => performance.now()));
  }

  /**
   * Continues the run checkpointed in `dir` (see loadCheckpoint for what `dir` may be).
   * `overrides` may extend the run (iterations); the environment must offer the same variants.
   */
  static async resume(dir: string, options: TrainerOptions & { overrides?: Partial<PpoConfig> }): Promise<PpoTrainer> {
    const state = await loadCheckpoint(dir);
    const config = resolvePpoConfig({ ...state.config, ...options.overrides });
    if (config.seed !== state.config.seed) throw new ConfigError(`resume ${dir}: seed ${config.seed} differs from the checkpoint's ${state.config.seed}`);
    if (JSON.stringify(config.hidden) !== JSON.stringify(state.config.hidden)) {
      throw new ConfigError(`resume ${dir}: hidden ${config.hidden} differs from the checkpoint's ${state.config.hidden}`);
    }
    const rollouts = await startRollouts(options.envSource, options.workers);
    if (JSON.stringify(rollouts.variants) !== JSON.stringify(state.variants)) {
      await rollouts.close();
      throw new ConfigError(`resume ${dir}: environments [${rollouts.variants.join(', ')}] differ from the checkpoint's [${state.variants.join(', ')}]`);
    }
    return new PpoTrainer(config, rollouts, state, options.now ?? (() => performance.now()));
  }

  /** Iterations completed so far. */
  get iteration(): number {
    return this.completed;
  }

  get workers(): number {
    return this.rollouts.workers;
  }

  /** The episodes of 0-based iteration `k`: which variant and seeds, from the run's seed alone. */
  tasksFor(k: number): EpisodeTask[] {
    const random = streamOf(this.config.seed, 'episodes', k);
    return Array.from({ length: this.config.episodesPerIteration }, (_, index) => ({
      index,
      variant: Math.floor(random() * this.variants.length),
      envSeed: Math.floor(random() * UINT32),
      actionSeed: Math.floor(random() * UINT32),
      maxSteps: this.config.maxEpisodeSteps,
    }));
  }

  /** Collects one batch and updates the networks. */
  async runIteration(): Promise<IterationStats> {
    const k = this.completed;
    const t0 = this.now();
    const trajectories = await this.rollouts.run(this.model.snapshot(), this.tasksFor(k));
    const t1 = this.now();
    const batch = buildBatch(trajectories, (obs, n) => this.model.values(obs, n), this.config);
    const update = ppoUpdate(
      { model: this.model, actorOptimizer: this.actorOptimizer, criticOptimizer: this.criticOptimizer },
      batch,
      this.config,
      k,
    );
    const t2 = this.now();
    this.completed++;
    this.totals = {
      episodes: this.totals.episodes + trajectories.length,
      steps: this.totals.steps + batch.size,
      elapsedSec: this.totals.elapsedSec + (t2 - t0) / 1000,
    };
    const rolloutSec = (t1 - t0) / 1000;
    return {
      iteration: this.completed,
      ...episodeStats(trajectories),
      byVariant: variantStats(trajectories, this.variants),
      actionStd: meanStd(this.model.logStd.dataSync() as Float32Array),
      update,
      rolloutSec,
      updateSec: (t2 - t1) / 1000,
      rolloutStepsPerSec: rolloutSec > 0 ? batch.size / rolloutSec : 0,
      totals: { ...this.totals },
    };
  }

  weights(): ActorCriticWeights {
    return this.model.weights();
  }

  state(): TrainerState {
    return {
      iteration: this.completed,
      config: this.config,
      variants: this.variants,
      totals: { ...this.totals },
      weights: this.model.weights(),
      actorOptimizer: this.actorOptimizer.state(),
      criticOptimizer: this.criticOptimizer.state(),
    };
  }

  async saveCheckpoint(dir: string): Promise<void> {
    await saveCheckpoint(dir, this.state());
  }

  /** Stops the workers and frees the tensors. Idempotent for the workers; call once. */
  async close(): Promise<void> {
    await this.rollouts.close();
    this.actorOptimizer.dispose();
    this.criticOptimizer.dispose();
    this.model.dispose();
  }
}

const returnOf = (t: Trajectory) => t.rewards.reduce((a, b) => a + b, 0);

function episodeStats(ts: Trajectory[]) {
  const n = Math.max(ts.length, 1);
  const steps = ts.reduce((a, t) => a + t.length, 0);
  return {
    episodes: ts.length,
    steps,
    meanReturn: ts.reduce((a, t) => a + returnOf(t), 0) / n,
    meanEpisodeSteps: steps / n,
    sloViolationSec: ts.reduce((a, t) => a + t.sloViolationSec, 0) / n,
    crossRegionCost: ts.reduce((a, t) => a + t.crossRegionCost, 0) / n,
    churn: ts.reduce((a, t) => a + t.churn, 0) / n,
  };
}

function variantStats(ts: Trajectory[], names: string[]): Record<string, VariantStats> {
  const out: Record<string, VariantStats> = {};
  for (const t of ts) {
    const name = names[t.variant] ?? String(t.variant);
    const s = (out[name] ??= { episodes: 0, meanReturn: 0, sloViolationSec: 0 });
    s.episodes++;
    s.meanReturn += returnOf(t);
    s.sloViolationSec += t.sloViolationSec;
  }
  for (const s of Object.values(out)) {
    s.meanReturn /= s.episodes;
    s.sloViolationSec /= s.episodes;
  }
  return out;
}

function meanStd(logStd: Float32Array): number {
  const perEntry = expandLogStd(logStd);
  let s = 0;
  for (let i = 0; i < ACTION_SIZE; i++) s += Math.exp(perEntry[i]!);
  return s / ACTION_SIZE;
}
