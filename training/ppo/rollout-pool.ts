// Runs an iteration's episodes: in worker threads (each with its own environments and a copy
// of the actor sent at the start of every batch) or inline in this thread when workers is 0.
// Episodes are handed out as workers free up, but results are returned in task order and each
// episode's outcome depends only on its task, so the batch is the same for any worker count.
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../../operator/base/errors.ts';
import { runEpisode, type ActorSnapshot, type EpisodeTask, type Trajectory } from './episode.ts';
import { loadEnvVariants, type EnvSource } from './env-source.ts';
import type { FromWorker, ToWorker } from './rollout-messages.ts';
import { ERROR_CODES, MeshpilotError } from '../../operator/base/errors.ts';

export interface RolloutRunner {
  /** Names of the environment variants, index = EpisodeTask.variant. */
  readonly variants: string[];
  readonly workers: number;
  /** Runs every task under `actor`; rejects with the first episode's error. */
  run(actor: ActorSnapshot, tasks: EpisodeTask[]): Promise<Trajectory[]>;
  /** Stops the workers. Idempotent. */
  close(): Promise<void>;
}

const WORKER_URL = new URL('./rollout-worker.ts', import.meta.url);
/** Tasks queued per worker, so a worker never idles waiting for the next message. */
const IN_FLIGHT_PER_WORKER = 2;

export async function startRollouts(source: EnvSource, workers: number): Promise<RolloutRunner> {
  if (!Number.isInteger(workers) || workers < 0) throw new ConfigError(`workers: ${workers}; must be an integer ≥ 0`);
  return workers === 0 ? startInline(source) : startPool(source, workers);
}

async function startInline(source: EnvSource): Promise<RolloutRunner> {
  const variants = await loadEnvVariants(source);
  return {
    variants: variants.map((v) => v.name),
    workers: 0,
    run: async (actor, tasks) =>
      tasks.map((task) => {
        const variant = variants[task.variant];
        if (!variant) throw new RangeError(`no environment variant ${task.variant}`);
        try {
          return runEpisode(variant.env, actor, task);
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          throw new MeshpilotError(ERROR_CODES.INTERNAL, `episode ${task.index} (${variant.name}, seed ${task.envSeed}): ${message}`, { cause: e });
        }
      }),
    close: async () => {},
  };
}

interface Slot {
  worker: Worker;
  inFlight: number;
  onMessage: (m: FromWorker) => void;
  onError: (e: Error) => void;
}

async function startPool(source: EnvSource, count: number): Promise<RolloutRunner> {
  const slots: Slot[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  };
  const post = (s: Slot, m: ToWorker) => s.worker.postMessage(m);
  let variantNames: string[] = [];
  try {
    const ready = Array.from({ length: count }, () => {
      const worker = new Worker(WORKER_URL);
      const slot: Slot = { worker, inFlight: 0, onMessage: () => {}, onError: () => {} };
      worker.on('message', (m: FromWorker) => slot.onMessage(m));
      worker.on('error', (e: Error) => slot.onError(e));
      worker.on('exit', (code) => {
        if (!closed) slot.onError(new Error(`rollout worker exited with code ${code}`));
      });
      slots.push(slot);
      return new Promise<string[]>((resolve, reject) => {
        slot.onError = reject;
        slot.onMessage = (m) => {
          if (m.type === 'ready') resolve(m.variants);
          else if (m.type === 'error') reject(new ConfigError(m.message));
        };
        post(slot, { type: 'init', source });
      });
    });
    const names = await Promise.all(ready);
    variantNames = names[0]!;
  } catch (e) {
    await close();
    throw e;
  }

  const run = (actor: ActorSnapshot, tasks: EpisodeTask[]) =>
    new Promise<Trajectory[]>((resolve, reject) => {
      if (closed) return reject(new Error('rollout pool is closed'));
      const results: Trajectory[] = new Array(tasks.length);
      let next = 0, received = 0, failed = false;
      // A failed batch leaves episodes in flight whose results would land in the next batch:
      // the pool closes instead of being reused.
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        void close();
        reject(e);
      };
      const dispatch = (s: Slot) => {
        while (!failed && s.inFlight < IN_FLIGHT_PER_WORKER && next < tasks.length) {
          s.inFlight++;
          post(s, { type: 'run', task: { ...tasks[next]!, index: next } });
          next++;
        }
      };
      for (const s of slots) {
        s.inFlight = 0;
        s.onError = fail;
        s.onMessage = (m) => {
          if (m.type === 'error') return fail(new Error(m.message));
          if (m.type !== 'trajectory') return;
          s.inFlight--;
          results[m.trajectory.index] = { ...m.trajectory, index: tasks[m.trajectory.index]!.index };
          if (++received === tasks.length) return resolve(results);
          dispatch(s);
        };
        post(s, { type: 'actor', actor });
      }
      if (tasks.length === 0) return resolve([]);
      for (const s of slots) dispatch(s);
    });

  return { variants: variantNames, workers: count, run, close };
}
