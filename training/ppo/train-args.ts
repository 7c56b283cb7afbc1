// The flags of `meshpilot train`, parsed and checked once; every error names the flag.
import { z } from 'zod';
import { ConfigError } from '../../operator/base/errors.ts';
import { flag, numberValue, oneOf, parseFlags, requiredString } from '../../operator/base/flags.ts';
import { TRAINING_BACKENDS, type TrainingBackend } from './backend.ts';
import { DEFAULT_PPO_CONFIG, resolvePpoConfig, type PpoConfig } from './config.ts';
import { DEFAULT_GENERATOR, GENERATOR_COUNT_MAX, GENERATOR_SEED_MAX, GENERATOR_VERSIONS, type GeneratorVersion } from '../generate/scenario-generator.ts';
import { SIM_GUARDS, type GeneratedSet, type SimGuard } from './scenario-envs.ts';

export interface TrainArgs {
  scenarios: string;
  /** --generated SEED:COUNT[:GENERATOR]: generated meshes trained on besides the directory's. */
  generated: GeneratedSet | null;
  out: string;
  workers: number;
  resume: string | null;
  log: string | null;
  checkpoints: string | null;
  checkpointEvery: number;
  backend: TrainingBackend;
  guard: SimGuard;
  /** Model name (metadata); default: the out directory's base name. */
  name: string | null;
  /** Only the hyper-parameters given on the command line (defaults, or the checkpoint's, fill the rest). */
  config: Partial<PpoConfig>;
}

type HyperKind = 'int' | 'float' | 'float|none' | 'list' | 'schedule';

/** Hyper-parameter flags: flag → config field, how to read its value, and what it is. */
const HYPER: Record<string, [keyof PpoConfig, HyperKind, string]> = {
  seed: ['seed', 'int', 'run seed; same seed and flags, same model'],
  iterations: ['iterations', 'int', 'PPO iterations'],
  episodes: ['episodesPerIteration', 'int', 'episodes collected per iteration'],
  'max-steps': ['maxEpisodeSteps', 'int', 'step cap per episode (the critic bootstraps past it)'],
  epochs: ['epochs', 'int', 'passes over each batch'],
  minibatch: ['minibatchSize', 'int', 'rows per minibatch'],
  lr: ['learningRate', 'float', "the actor's learning rate"],
  'value-lr': ['valueLearningRate', 'float', "the critic's learning rate"],
  'lr-schedule': ['learningRateSchedule', 'schedule', 'constant, or linear to 0 at the last iteration'],
  gamma: ['gamma', 'float', 'discount'],
  lambda: ['lambda', 'float', 'GAE λ'],
  clip: ['clipRatio', 'float', 'PPO ratio clip ε'],
  'value-clip': ['valueClip', 'float|none', 'value clip around the old value, in reward units, or none'],
  entropy: ['entropyCoef', 'float', 'entropy bonus'],
  'max-grad-norm': ['maxGradNorm', 'float', 'global gradient-norm clip per network'],
  'target-kl': ['targetKl', 'float|none', 'stop an iteration\'s epochs past this KL, or none'],
  hidden: ['hidden', 'list', 'hidden layer widths, comma-separated'],
  'init-log-std': ['initLogStd', 'float', "the actor's initial log standard deviation"],
  'reward-scale': ['rewardScale', 'float', 'rewards are multiplied by this'],
};

const anyNumber = numberValue(Number.isFinite, 'a number');
const HYPER_VALUES: Record<HyperKind, z.ZodType> = {
  int: numberValue(Number.isInteger, 'an integer'),
  float: anyNumber,
  'float|none': z.union([z.literal('none').transform(() => null), anyNumber]),
  list: z.string().transform((text, ctx) => {
    const widths = text.split(',').map(Number);
    if (widths.every(Number.isInteger)) return widths;
    ctx.addIssue({ code: 'custom', message: `must be integers separated by commas, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }),
  schedule: z.string(),
};

const show = (v: unknown) => (v === null ? 'none' : Array.isArray(v) ? v.join(',') : String(v));

/** `meshpilot train`'s flags (base/flags.ts); the hyper-parameters last. */
export const TRAIN_FLAGS = {
  scenarios: flag(requiredString(), { arg: 'DIR', help: 'scenario files (*.yaml) to train on, as a mixture' }),
  generated: flag(z.string().optional(), {
    arg: 'S:K[:V]',
    help: 'also train on generated meshes 0..K-1 of seed S (generator V, default v3), as `meshpilot scenarios generate --seed S --count K` would write them',
  }),
  out: flag(requiredString(), { arg: 'DIR', help: 'model directory to write (model.json, weights, meshpilot-model.json)' }),
  workers: flag(numberValue((x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0').optional(), {
    arg: 'N',
    help: 'rollout worker threads (0 = in-process); results do not depend on it',
    defaultText: 'CPU count, at most 8',
  }),
  resume: flag(z.string().optional(), { arg: 'DIR', help: 'continue from a checkpoint (or a folder of them)' }),
  log: flag(z.string().optional(), { arg: 'FILE', help: 'append one JSON line per iteration' }),
  checkpoints: flag(z.string().optional(), { arg: 'DIR', help: 'where checkpoints go', defaultText: '.NAME.checkpoints beside OUT' }),
  'checkpoint-every': flag(numberValue((x) => Number.isInteger(x) && x >= 1, 'an integer ≥ 1').prefault('10'), { arg: 'N', help: 'iterations between checkpoints' }),
  backend: flag(oneOf(TRAINING_BACKENDS).default('wasm'), { arg: 'B', help: `tfjs backend: ${TRAINING_BACKENDS.join('|')}` }),
  guard: flag(oneOf(SIM_GUARDS).default('serving'), { arg: 'G', help: `${SIM_GUARDS.join('|')}: pass actions through serving's safety guard in the simulator, or not` }),
  name: flag(z.string().min(1).optional(), { arg: 'NAME', help: 'model name in the metadata', defaultText: 'base name of --out' }),
  ...Object.fromEntries(
    Object.entries(HYPER).map(([name, [field, kind, help]]) => [name, flag(HYPER_VALUES[kind].optional(), { arg: kind === 'list' ? 'N,N' : kind === 'schedule' ? 'S' : 'X', help, defaultText: show(DEFAULT_PPO_CONFIG[field]) })]),
  ),
};

/** Parses `args` (after "train"). Throws ConfigError naming the flag. */
export function parseTrainArgs(args: string[], cpuCount: number): TrainArgs {
  const o = parseFlags(TRAIN_FLAGS, args) as Record<string, unknown> & z.output<z.ZodObject<typeof TRAIN_FLAGS>>;
  const config: Partial<PpoConfig> = {};
  for (const [flagName, [field]] of Object.entries(HYPER)) {
    if (o[flagName] === undefined) continue;
    (config as Record<string, unknown>)[field] = o[flagName];
    // Validated now, against the defaults, so that the error names the flag.
    try {
      resolvePpoConfig({ [field]: config[field] });
    } catch (e) {
      throw new ConfigError(`--${flagName}: ${(e as Error).message.replace(/^trainer config \S+: /, '')}`, { cause: e });
    }
  }
  return {
    scenarios: o.scenarios,
    generated: o.generated === undefined ? null : generatedSet(o.generated),
    out: o.out,
    workers: o.workers ?? cpuCount,
    resume: o.resume ?? null,
    log: o.log ?? null,
    checkpoints: o.checkpoints ?? null,
    checkpointEvery: o['checkpoint-every'],
    backend: o.backend,
    guard: o.guard,
    name: o.name ?? null,
    config,
  };
}

/** Reads --generated SEED:COUNT[:GENERATOR]; the bounds are `meshpilot scenarios generate`'s. */
function generatedSet(text: string): GeneratedSet {
  const m = /^(\d{1,10}):(\d{1,5})(?::(\w+))?$/.exec(text);
  const seed = Number(m?.[1]), count = Number(m?.[2]), generator = m?.[3] ?? DEFAULT_GENERATOR;
  if (!m) throw new ConfigError(`--generated: ${JSON.stringify(text)} is not SEED:COUNT or SEED:COUNT:GENERATOR (e.g. 5000:150)`);
  if (seed > GENERATOR_SEED_MAX) throw new ConfigError(`--generated: seed ${seed} is not an integer from 0 to ${GENERATOR_SEED_MAX}`);
  if (count < 1 || count > GENERATOR_COUNT_MAX) throw new ConfigError(`--generated: count ${count} is not an integer from 1 to ${GENERATOR_COUNT_MAX}`);
  if (!(GENERATOR_VERSIONS as readonly string[]).includes(generator)) throw new ConfigError(`--generated: generator ${JSON.stringify(generator)} is not one of ${GENERATOR_VERSIONS.join(', ')}`);
  return { seed, count, generator: generator as GeneratorVersion };
}

/** The flags that reproduce a run (only what differs from the defaults; workers never matter). */
export function reproducingFlags(config: PpoConfig, guard: SimGuard): string[] {
  const flags: string[] = guard === 'serving' ? [] : ['--guard', guard];
  for (const [flag, [field]] of Object.entries(HYPER)) {
    const v = config[field], d = DEFAULT_PPO_CONFIG[field];
    if (field !== 'seed' && field !== 'iterations' && JSON.stringify(v) === JSON.stringify(d)) continue;
    const text = v === null ? 'none' : Array.isArray(v) ? v.join(',') : String(v);
    // A negative value must be glued to its flag (`--init-log-std=-1`): parseArgs reads "-1" as an option.
    flags.push(...(text.startsWith('-') ? [`--${flag}=${text}`] : [`--${flag}`, text]));
  }
  return flags;
}
