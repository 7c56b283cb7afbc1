// A trainer checkpoint on disk: checkpoint.json (iteration, config, totals, and an index of
// the arrays) and checkpoint.bin (the float32 arrays: networks and both optimisers' moments).
// Restoring it and training on gives the same weights as never having stopped, because every
// random stream is derived from the seed and the iteration (seeds.ts).
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../operator/base/errors.ts';
import { MODEL_OUTPUT_SIZE, ROW_SIZE } from '../../operator/policy/features.ts';
import { LOG_STD_SIZE } from './region-rows.ts';
import type { ActorCriticWeights } from './actor-critic.ts';
import type { AdamState } from './adam.ts';
import { resolvePpoConfig, type PpoConfig } from './config.ts';
import type { MlpWeights } from './mlp-weights.ts';

export const CHECKPOINT_FORMAT = 'meshpilot.ppo-checkpoint/v1';
export const CHECKPOINT_JSON = 'checkpoint.json';
export const CHECKPOINT_BIN = 'checkpoint.bin';

export interface TrainingTotals {
  episodes: number;
  steps: number;
  /** Wall-clock seconds spent training so far, over all sessions of the run. */
  elapsedSec: number;
}

export interface TrainerState {
  /** Iterations completed. */
  iteration: number;
  config: PpoConfig;
  variants: string[];
  totals: TrainingTotals;
  weights: ActorCriticWeights;
  actorOptimizer: AdamState;
  criticOptimizer: AdamState;
}

interface ArrayEntry {
  name: string;
  /** Element offset into checkpoint.bin (float32 elements). */
  offset: number;
  length: number;
}

interface CheckpointJson {
  format: string;
  iteration: number;
  config: PpoConfig;
  variants: string[];
  totals: TrainingTotals;
  optimizerSteps: { actor: number; critic: number };
  arrays: ArrayEntry[];
}

function namedArrays(s: TrainerState): [string, Float32Array][] {
  const mlp = (prefix: string, w: MlpWeights) =>
    w.layers.flatMap((l, i): [string, Float32Array][] => [
      [`${prefix}.${i}.kernel`, l.kernel],
      [`${prefix}.${i}.bias`, l.bias],
    ]);
  const adam = (prefix: string, a: AdamState) => [
    ...a.m.map((x, i): [string, Float32Array] => [`${prefix}.m.${i}`, x]),
    ...a.v.map((x, i): [string, Float32Array] => [`${prefix}.v.${i}`, x]),
  ];
  return [
    ...mlp('actor', s.weights.actor),
    ['logStd', s.weights.logStd],
    ...mlp('critic', s.weights.critic),
    ...adam('adam.actor', s.actorOptimizer),
    ...adam('adam.critic', s.criticOptimizer),
  ];
}

/** Writes `state` into `dir` (replacing it whole, so a crash never leaves half a checkpoint). */
export async function saveCheckpoint(dir: string, state: TrainerState): Promise<void> {
  const arrays = namedArrays(state);
  const total = arrays.reduce((n, [, a]) => n + a.length, 0);
  const bin = new Float32Array(total);
  const index: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, a] of arrays) {
    bin.set(a, offset);
    index.push({ name, offset, length: a.length });
    offset += a.length;
  }
  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    iteration: state.iteration,
    config: state.config,
    variants: state.variants,
    totals: state.totals,
    optimizerSteps: { actor: state.actorOptimizer.step, critic: state.criticOptimizer.step },
    arrays: index,
  };
  const tmp = `${dir}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, CHECKPOINT_BIN), new Uint8Array(bin.buffer));
  await writeFile(join(tmp, CHECKPOINT_JSON), `${JSON.stringify(json, null, 2)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

/**
 * Reads a checkpoint. `dir` may be a checkpoint itself, a folder of `iter-N` checkpoints or a
 * training output folder with one (the latest is taken). Throws ConfigError naming the file
 * and field for anything missing, malformed or inconsistent.
 */
export async function loadCheckpoint(dir: string): Promise<TrainerState> {
  const at = await resolveCheckpointDir(dir);
  const jsonPath = join(at, CHECKPOINT_JSON);
  const binPath = join(at, CHECKPOINT_BIN);
  let json: CheckpointJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as CheckpointJson;
  } catch (e) {
    throw new ConfigError(`${jsonPath}: cannot read checkpoint (${(e as Error).message})`, { cause: e });
  }
  const bad = (field: string, why: string) => new ConfigError(`${jsonPath} ${field}: ${why}`);
  if (json.format !== CHECKPOINT_FORMAT) throw bad('format', `${JSON.stringify(json.format)}; expected ${CHECKPOINT_FORMAT}`);
  if (!Number.isInteger(json.iteration) || json.iteration < 0) throw bad('iteration', 'must be an integer ≥ 0');
  if (!Array.isArray(json.variants) || !json.variants.every((v) => typeof v === 'string')) throw bad('variants', 'must be a list of names');
  const totals = json.totals ?? {};
  for (const k of ['episodes', 'steps', 'elapsedSec'] as const) {
    if (typeof totals[k] !== 'number' || !(totals[k] >= 0)) throw bad(`totals.${k}`, 'must be a number ≥ 0');
  }
  const config = resolvePpoConfig(json.config, `${jsonPath} config`);
  const buf = await readFile(binPath).catch((e: unknown) => {
    throw new ConfigError(`${binPath}: cannot read checkpoint data (${(e as Error).message})`, { cause: e });
  });
  if (buf.byteLength % 4 !== 0) throw new ConfigError(`${binPath}: ${buf.byteLength} bytes is not a whole number of float32 values`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const byName = new Map<string, Float32Array>();
  (json.arrays ?? []).forEach((e, i) => {
    if (!Number.isInteger(e.offset) || !Number.isInteger(e.length) || e.offset < 0 || e.offset + e.length > data.length) {
      throw bad(`arrays[${i}] (${e.name})`, `offset ${e.offset} + length ${e.length} is outside ${binPath} (${data.length} values)`);
    }
    byName.set(e.name, data.slice(e.offset, e.offset + e.length));
  });
  const take = (name: string, length: number) => {
    const a = byName.get(name);
    if (!a) throw bad('arrays', `no array ${name}`);
    if (a.length !== length) throw bad(`arrays (${name})`, `${a.length} values; the config's shapes need ${length}`);
    return a;
  };
  const mlpFrom = (prefix: string, sizes: number[]): MlpWeights => ({
    layers: sizes.slice(1).map((outSize, i) => {
      const inSize = sizes[i]!;
      return { inSize, outSize, kernel: take(`${prefix}.${i}.kernel`, inSize * outSize), bias: take(`${prefix}.${i}.bias`, outSize) };
    }),
  });
  const actor = mlpFrom('actor', [ROW_SIZE, ...config.hidden, MODEL_OUTPUT_SIZE]);
  const critic = mlpFrom('critic', [ROW_SIZE, ...config.hidden, 1]);
  const logStd = take('logStd', LOG_STD_SIZE);
  const shapesOf = (w: MlpWeights, extra: Float32Array[]) => [...w.layers.flatMap((l) => [l.kernel.length, l.bias.length]), ...extra.map((x) => x.length)];
  const adamFrom = (prefix: string, step: number, lengths: number[]): AdamState => {
    if (!Number.isInteger(step) || step < 0) throw bad(`optimizerSteps.${prefix}`, 'must be an integer ≥ 0');
    return {
      step,
      m: lengths.map((n, i) => take(`adam.${prefix}.m.${i}`, n)),
      v: lengths.map((n, i) => take(`adam.${prefix}.v.${i}`, n)),
    };
  };
  return {
    iteration: json.iteration,
    config,
    variants: json.variants,
    totals: { episodes: totals.episodes, steps: totals.steps, elapsedSec: totals.elapsedSec },
    weights: { actor, logStd, critic },
    actorOptimizer: adamFrom('actor', json.optimizerSteps?.actor, shapesOf(actor, [logStd])),
    criticOptimizer: adamFrom('critic', json.optimizerSteps?.critic, shapesOf(critic, [])),
  };
}

/** The folder name of the checkpoint after `iteration` iterations (sorts by iteration). */
export function checkpointName(iteration: number): string {
  return `iter-${String(iteration).padStart(6, '0')}`;
}

async function resolveCheckpointDir(dir: string): Promise<string> {
  if (existsSync(join(dir, CHECKPOINT_JSON))) return dir;
  for (const parent of [dir, join(dir, 'checkpoints')]) {
    const names = await readdir(parent).catch(() => [] as string[]);
    const latest = names.filter((n) => /^iter-\d+$/.test(n)).sort().at(-1);
    if (latest && existsSync(join(parent, latest, CHECKPOINT_JSON))) return join(parent, latest);
  }
  throw new ConfigError(`${dir}: no ${CHECKPOINT_JSON} there, nor in an iter-N folder under it or under ${join(dir, 'checkpoints')}`);
}
