// The messages between the learner and its rollout workers.
import type { ActorSnapshot, EpisodeTask, Trajectory } from './episode.ts';
import type { EnvSource } from './env-source.ts';

export type ToWorker =
  | { type: 'init'; source: EnvSource }
  | { type: 'actor'; actor: ActorSnapshot }
  | { type: 'run'; task: EpisodeTask };

export type FromWorker =
  | { type: 'ready'; variants: string[] }
  | { type: 'trajectory'; trajectory: Trajectory }
  | { type: 'error'; message: string; taskIndex: number | null };
