// The trainer's hyper-parameters, their defaults and their validation. A run's config is
// stored in every checkpoint and in the training log, so a resumed run trains on as it began.
import { ConfigError } from '../../operator/base/errors.ts';

export interface PpoConfig {
  seed: number;
  /** Iterations of the run (the learning-rate schedule runs over these). */
  iterations: number;
  /** Hidden layer widths of the actor and of the critic (tanh). */
  hidden: number[];
  /** Episodes collected per iteration (one batch). */
  episodesPerIteration: number;
  /** Step cap per episode; an episode cut here bootstraps from the critic. */
  maxEpisodeSteps: number;
  gamma: number;
  /** GAE λ. */
  lambda: number;
  /** PPO ratio clip ε. */
  clipRatio: number;
  /** Value-function clip around the old value (null: unclipped). In reward units. */
  valueClip: number | null;
  epochs: number;
  minibatchSize: number;
  learningRate: number;
  valueLearningRate: number;
  /** 'linear' anneals both learning rates to 0 at the last iteration. */
  learningRateSchedule: 'constant' | 'linear';
  /** Global gradient-norm clip, per network. */
  maxGradNorm: number;
  entropyCoef: number;
  /** Initial log standard deviation of every action entry. */
  initLogStd: number;
  /** Stop an iteration's epochs once the mean approximate KL exceeds 1.5× this (null: never). */
  targetKl: number | null;
  /** Rewards are multiplied by this before GAE (keeps value targets near unit scale). */
  rewardScale: number;
  /**
   * When true, an environment's done means "time is up" rather than "the world ended", so the
   * last step still bootstraps from the critic: a mesh does not stop existing when a scenario
   * file runs out.
   */
  doneIsTimeLimit: boolean;
  normalizeAdvantages: boolean;
  adamEpsilon: number;
}

export const DEFAULT_PPO_CONFIG: PpoConfig = {
  seed: 1,
  iterations: 400,
  hidden: [64, 64],
  episodesPerIteration: 16,
  maxEpisodeSteps: 1000,
  gamma: 0.97,
  lambda: 0.95,
  clipRatio: 0.2,
  valueClip: null,
  epochs: 8,
  minibatchSize: 512,
  learningRate: 1e-3,
  valueLearningRate: 1e-3,
  learningRateSchedule: 'linear',
  maxGradNorm: 0.5,
  entropyCoef: 0,
  initLogStd: -0.5,
  targetKl: 0.03,
  rewardScale: 1,
  doneIsTimeLimit: true,
  normalizeAdvantages: true,
  adamEpsilon: 1e-5,
};

type Check = (v: unknown) => boolean;
const finite: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const positive: Check = (v) => finite(v) && (v as number) > 0;
const posInt: Check = (v) => Number.isInteger(v) && (v as number) > 0;
const unit: Check = (v) => finite(v) && (v as number) >= 0 && (v as number) <= 1;
const nonNeg: Check = (v) => finite(v) && (v as number) >= 0;

const RULES: { [K in keyof PpoConfig]: [Check, string] } = {
  seed: [(v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32, 'an integer in [0, 2^32)'],
  iterations: [posInt, 'a positive integer'],
  hidden: [(v) => Array.isArray(v) && v.length > 0 && v.every(posInt), 'a non-empty list of positive integers'],
  episodesPerIteration: [posInt, 'a positive integer'],
  maxEpisodeSteps: [posInt, 'a positive integer'],
  gamma: [unit, 'in [0, 1]'],
  lambda: [unit, 'in [0, 1]'],
  clipRatio: [(v) => positive(v) && (v as number) < 1, 'in (0, 1)'],
  valueClip: [(v) => v === null || positive(v), 'null or > 0'],
  epochs: [posInt, 'a positive integer'],
  minibatchSize: [posInt, 'a positive integer'],
  learningRate: [positive, '> 0'],
  valueLearningRate: [positive, '> 0'],
  learningRateSchedule: [(v) => v === 'constant' || v === 'linear', "'constant' or 'linear'"],
  maxGradNorm: [positive, '> 0'],
  entropyCoef: [nonNeg, '≥ 0'],
  initLogStd: [(v) => finite(v) && (v as number) >= -5 && (v as number) <= 2, 'in [-5, 2]'],
  targetKl: [(v) => v === null || positive(v), 'null or > 0'],
  rewardScale: [positive, '> 0'],
  doneIsTimeLimit: [(v) => typeof v === 'boolean', 'true or false'],
  normalizeAdvantages: [(v) => typeof v === 'boolean', 'true or false'],
  adamEpsilon: [positive, '> 0'],
};

/** Defaults overlaid with `overrides`; throws ConfigError naming the first bad field (`source` says where it came from). */
export function resolvePpoConfig(overrides: Partial<PpoConfig> = {}, source = 'trainer config'): PpoConfig {
  const config = { ...DEFAULT_PPO_CONFIG, ...overrides };
  for (const key of Object.keys(config)) {
    const rule = RULES[key as keyof PpoConfig];
    if (!rule) throw new ConfigError(`${source}: unknown field ${key}`);
    const value = config[key as keyof PpoConfig];
    if (!rule[0](value)) throw new ConfigError(`${source} ${key}: ${JSON.stringify(value)} must be ${rule[1]}`);
  }
  return config;
}
