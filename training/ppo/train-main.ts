// `meshpilot train`: PPO on a mixture of every scenario in a directory (each episode picks a
// scenario and a seed from the run's seed), checkpoints, a JSON log, progress on stderr, and at
// the end the model directory (operator/policy/model/format.ts) with the command that
// reproduces it. The last line on stdout is one JSON object: {"train":{…}}.
import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../operator/base/errors.ts';
import { currentSpecShape, type ModelMetadata } from '../../operator/policy/model/format.ts';
import { saveModel } from '../../operator/policy/model/loaded-model.ts';
import { useTrainingBackend } from './backend.ts';
import { buildPolicyModel } from './policy-model.ts';
import { expandLogStd } from './region-rows.ts';
import { ProgressReporter, type ProgressStream } from './progress.ts';
import { scenarioEnvSource, trainingScenarios } from './scenario-envs.ts';
import { parseTrainArgs, reproducingFlags, type TrainArgs } from './train-args.ts';
import { TrainLog } from './train-log.ts';
import { trainLoop } from './train-loop.ts';
import { PpoTrainer, type IterationStats } from './trainer.ts';

export const TRAINING_SUMMARY_FILE = 'training-summary.json';

export interface TrainIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  /** Stops the run between iterations (it checkpoints first). Default: SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

const workersText = (n: number) => (n === 0 ? 'episodes in this thread' : `${n} rollout worker${n === 1 ? '' : 's'}`);

/**
 * Beside the model directory, not in it: saving the model replaces that directory whole, and a
 * shipped model should not carry its training state. Hidden, so it is easy to leave out of git.
 */
export function defaultCheckpointDir(out: string): string {
  return join(dirname(resolve(out)), `.${basename(resolve(out))}.checkpoints`);
}

/** Runs `meshpilot train ARGS`. Resolves to the exit code: 0 done, 2 bad input, 130 stopped (checkpointed), 1 failure. */
export async function runTrain(args: string[], io: TrainIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let parsed: TrainArgs;
  try {
    parsed = parseTrainArgs(args, Math.min(availableParallelism(), 8));
  } catch (e) {
    io.stderr.write(`meshpilot train: ${(e as Error).message}\nRun 'meshpilot train --help' for usage.\n`);
    return 2;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signal = io.signal ?? controller.signal;
  if (!io.signal) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  let trainer: PpoTrainer | null = null;
  try {
    await useTrainingBackend(parsed.backend);
    const scenarios = await trainingScenarios(parsed.scenarios, parsed.generated);
    trainer = await startTrainer(parsed);
    const config = trainer.config;
    const checkpointDir = parsed.checkpoints ?? defaultCheckpointDir(parsed.out);
    io.stderr.write(
      `training on ${scenarios.length} scenarios (${trainer.variants.length > 12 ? `${trainer.variants.slice(0, 10).join(', ')}, … ${trainer.variants.at(-1)}` : trainer.variants.join(', ')}), seed ${config.seed}, ` +
        `${config.iterations} iterations of ${config.episodesPerIteration} episodes, ${workersText(trainer.workers)}` +
        `${trainer.iteration > 0 ? `, resuming after iteration ${trainer.iteration}` : ''}; checkpoints in ${checkpointDir}\n`,
    );
    const result = await trainLoop(trainer, {
      checkpointDir,
      checkpointEvery: parsed.checkpointEvery,
      log: parsed.log ? new TrainLog(parsed.log) : undefined,
      progress: new ProgressReporter(io.stderr, config.iterations, trainer.iteration),
      signal,
    });
    if (!result.finished) {
      io.stderr.write(`stopped after iteration ${trainer.iteration}; continue with --resume ${result.checkpoint ?? checkpointDir}\n`);
      return 130;
    }
    const summary = await saveTrained(trainer, parsed, scenarios.map((s) => s.file), result.history.at(-1));
    io.stdout.write(`${JSON.stringify({ train: summary })}\n`);
    return 0;
  } catch (e) {
    io.stderr.write(`train: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await trainer?.close();
  }
}

/** A new trainer for `parsed`, or the one its --resume checkpoint holds. */
async function startTrainer(parsed: TrainArgs): Promise<PpoTrainer> {
  const envSource = scenarioEnvSource({ scenarioDir: resolve(parsed.scenarios), generated: parsed.generated, guard: parsed.guard });
  const options = { envSource, workers: parsed.workers };
  return parsed.resume ? PpoTrainer.resume(parsed.resume, { ...options, overrides: parsed.config }) : PpoTrainer.create(parsed.config, options);
}

/**
 * Writes the trained model to --out (its metadata with the command that reproduces it) and the
 * training summary beside it; returns the summary line's content.
 */
async function saveTrained(trainer: PpoTrainer, parsed: TrainArgs, scenarioFiles: string[], last: IterationStats | undefined): Promise<Record<string, unknown>> {
  const config = trainer.config;
  const name = parsed.name ?? basename(resolve(parsed.out));
  const weights = trainer.weights();
  const createdAt = new Date();
  const metadata: ModelMetadata = {
    ...currentSpecShape(),
    name,
    version: `${name}-${createdAt.toISOString().slice(0, 10)}-seed${config.seed}`,
    actionStd: Array.from(expandLogStd(weights.logStd), (x) => Math.exp(x)),
    createdAt: createdAt.toISOString(),
    seed: config.seed,
    command: [
      'meshpilot', 'train', '--scenarios', parsed.scenarios,
      ...(parsed.generated ? ['--generated', `${parsed.generated.seed}:${parsed.generated.count}:${parsed.generated.generator}`] : []),
      '--out', parsed.out, ...reproducingFlags(config, parsed.guard),
    ].join(' '),
    scenarios: scenarioFiles,
  };
  const model = buildPolicyModel(weights.actor);
  try {
    await saveModel(model, metadata, parsed.out);
  } finally {
    model.dispose();
  }
  const state = trainer.state();
  await writeFile(join(parsed.out, TRAINING_SUMMARY_FILE), `${JSON.stringify({ config, variants: trainer.variants, totals: state.totals, last: last ?? null }, null, 2)}\n`);
  return {
    out: parsed.out,
    version: metadata.version,
    iterations: trainer.iteration,
    episodes: state.totals.episodes,
    steps: state.totals.steps,
    elapsedSec: Math.round(state.totals.elapsedSec * 10) / 10,
    meanReturn: last?.meanReturn ?? null,
    sloViolationSec: last?.sloViolationSec ?? null,
  };
}
