// The flags of `meshpilot train`, parsed and checked once; every error names the flag.
import { parseArgs } from 'node:util';
import { ConfigError } from '../../operator/base/errors.ts';
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

/** Hyper-parameter flags: flag → config field and how to read its value. */
const HYPER: Record<string, [keyof PpoConfig, 'int' | 'float' | 'float|none' | 'list' | 'schedule']> = {
  seed: ['seed', 'int'],
  iterations: ['iterations', 'int'],
  episodes: ['episodesPerIteration', 'int'],
  'max-steps': ['maxEpisodeSteps', 'int'],
  epochs: ['epochs', 'int'],
  minibatch: ['minibatchSize', 'int'],
  lr: ['learningRate', 'float'],
  'value-lr': ['valueLearningRate', 'float'],
  'lr-schedule': ['learningRateSchedule', 'schedule'],
  gamma: ['gamma', 'float'],
  lambda: ['lambda', 'float'],
  clip: ['clipRatio', 'float'],
  'value-clip': ['valueClip', 'float|none'],
  entropy: ['entropyCoef', 'float'],
  'max-grad-norm': ['maxGradNorm', 'float'],
  'target-kl': ['targetKl', 'float|none'],
  hidden: ['hidden', 'list'],
  'init-log-std': ['initLogStd', 'float'],
  'reward-scale': ['rewardScale', 'float'],
};

export const TRAIN_USAGE = `usage: meshpilot train --scenarios DIR --out DIR [options]
  --scenarios DIR        scenario files (*.yaml) to train on, as a mixture
  --generated S:K[:V]    also train on generated meshes 0..K-1 of seed S (generator V, default v3),
                         as \`meshpilot scenarios generate --seed S --count K\` would write them
  --out DIR              model directory to write (model.json, weights, meshpilot-model.json)
  --seed N               run seed (default ${DEFAULT_PPO_CONFIG.seed}); same seed and flags, same model
  --iterations N         PPO iterations (default ${DEFAULT_PPO_CONFIG.iterations})
  --workers N            rollout worker threads (default: CPU count; 0 = in-process); results do not depend on it
  --resume DIR           continue from a checkpoint (or a folder of them)
  --log FILE             append one JSON line per iteration
  --checkpoints DIR      where checkpoints go (default .NAME.checkpoints beside OUT)
  --checkpoint-every N   iterations between checkpoints (default 10)
  --backend wasm|cpu     tfjs backend (default wasm)
  --guard serving|none   pass actions through serving's safety guard in the simulator (default serving)
  --name NAME            model name in the metadata (default: base name of --out)
  hyper-parameters: ${Object.keys(HYPER)
    .filter((k) => k !== 'seed' && k !== 'iterations')
    .map((k) => `--${k}`)
    .join(' ')}`;

function number(flag: string, text: string, integer: boolean): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`--${flag}: ${JSON.stringify(text)} is not ${integer ? 'an integer' : 'a number'}`);
  }
  return v;
}

/** Parses `args` (after "train"). Throws ConfigError naming the flag. */
export function parseTrainArgs(args: string[], cpuCount: number): TrainArgs {
  const options = {
    scenarios: { type: 'string' },
    generated: { type: 'string' },
    out: { type: 'string' },
    workers: { type: 'string' },
    resume: { type: 'string' },
    log: { type: 'string' },
    checkpoints: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    backend: { type: 'string' },
    guard: { type: 'string' },
    name: { type: 'string' },
    ...Object.fromEntries(Object.keys(HYPER).map((k) => [k, { type: 'string' }])),
  } as const;
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new ConfigError(`train: ${(e as Error).message}`, { cause: e });
  }
  if (!values.scenarios) throw new ConfigError('--scenarios: required (a directory of scenario files)');
  if (!values.out) throw new ConfigError('--out: required (the model directory to write)');
  const config: Partial<PpoConfig> = {};
  for (const [flag, [field, kind]] of Object.entries(HYPER)) {
    const text = values[flag];
    if (text === undefined) continue;
    let v: unknown;
    if (kind === 'int') v = number(flag, text, true);
    else if (kind === 'float') v = number(flag, text, false);
    else if (kind === 'float|none') v = text === 'none' ? null : number(flag, text, false);
    else if (kind === 'list') v = text.split(',').map((x) => number(flag, x, true));
    else v = text;
    (config as Record<string, unknown>)[field] = v;
  }
  // Validate the flags now, against the defaults, so that the error names the flag.
  for (const [flag, [field]] of Object.entries(HYPER)) {
    if (!(field in config)) continue;
    try {
      resolvePpoConfig({ [field]: config[field] });
    } catch (e) {
      throw new ConfigError(`--${flag}: ${(e as Error).message.replace(/^trainer config \S+: /, '')}`, { cause: e });
    }
  }
  const backend = (values.backend ?? 'wasm') as TrainingBackend;
  if (!TRAINING_BACKENDS.includes(backend)) throw new ConfigError(`--backend: ${JSON.stringify(values.backend)}; one of ${TRAINING_BACKENDS.join(', ')}`);
  const guard = (values.guard ?? 'serving') as SimGuard;
  if (!SIM_GUARDS.includes(guard)) throw new ConfigError(`--guard: ${JSON.stringify(values.guard)}; one of ${SIM_GUARDS.join(', ')}`);
  const workers = values.workers === undefined ? cpuCount : number('workers', values.workers, true);
  if (workers < 0) throw new ConfigError(`--workers: ${workers}; must be ≥ 0`);
  const checkpointEvery = values['checkpoint-every'] === undefined ? 10 : number('checkpoint-every', values['checkpoint-every'], true);
  if (checkpointEvery < 1) throw new ConfigError(`--checkpoint-every: ${checkpointEvery}; must be ≥ 1`);
  return {
    scenarios: values.scenarios,
    generated: values.generated === undefined ? null : generatedSet(values.generated),
    out: values.out,
    workers,
    resume: values.resume ?? null,
    log: values.log ?? null,
    checkpoints: values.checkpoints ?? null,
    checkpointEvery,
    backend,
    guard,
    name: values.name ?? null,
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
