// The tensor backend of the learner. The wasm backend trains these small MLPs about 3× faster
// than tfjs's plain-JS cpu backend; tfjs-node cannot be installed on these machines. Results
// are reproducible on one backend, not across backends.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ERROR_CODES, MeshpilotError } from '../../operator/base/errors.ts';

export const TRAINING_BACKENDS = ['wasm', 'cpu'] as const;
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];

/** Selects `name` (before any tensor is made) and waits for it. Idempotent. */
export async function useTrainingBackend(name: TrainingBackend = 'wasm'): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new MeshpilotError(ERROR_CODES.BACKEND_UNAVAILABLE, `tfjs backend ${name} failed to initialise; choose another with --backend`);
  }
  await tf.ready();
}
